"""The event store on a real PostgreSQL: persistence and uniqueness of votes (D1, D3)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from api.settings import Settings
from api.wiring import make_registre
from domain.deliberation.ballot import Vote
from domain.errors import VoteAlreadyCast
from tests.conftest import log_size
from tests.integration.helpers import found, to_vote

pytestmark = pytest.mark.integration


def test_reloads_a_proposal_from_postgres_when_read_by_another_process(settings: Settings) -> None:
    writer, reader = make_registre(settings), make_registre(settings)
    pid = to_vote(writer, found(writer))
    proposal = reader.get_proposal(pid)
    assert (proposal.stage, reader.personal_data.open(proposal.title_sealed),
            proposal.charter_version) == (
        "vote", "Pistes cyclables", 1)
    writer.close(), reader.close()


def test_store_refuses_the_second_vote_when_two_api_processes_race(settings: Settings) -> None:
    first, second = make_registre(settings), make_registre(settings)
    pid = to_vote(first, found(first))
    ballot_id = first.get_proposal(pid).ballot_id
    # Both passed their checks; the store's (originator id, version) key decides.
    a = Vote(ballot_id=ballot_id, proposal_id=pid, voter_ref="m1", choice="for")
    b = Vote(ballot_id=ballot_id, proposal_id=pid, voter_ref="m1", choice="against")
    first.save(a)
    size = log_size(settings)
    with pytest.raises(IntegrityError):
        second.save(b)
    assert log_size(settings) == size
    first.close(), second.close()


def test_cast_vote_names_the_rule_when_member_votes_twice(settings: Settings) -> None:
    app = make_registre(settings)
    pid = to_vote(app, found(app))
    app.cast_vote(pid, "m2", "for")
    size = log_size(settings)
    with pytest.raises(VoteAlreadyCast) as error:
        app.cast_vote(pid, "m2", "for")
    assert error.value.rule == "one_vote_per_member"
    assert log_size(settings) == size
    app.close()


def test_decision_cites_the_close_position_when_counted_from_postgres(settings: Settings) -> None:
    app = make_registre(settings)
    pid = to_vote(app, found(app, members=3))
    opened = app.open_vote(pid, app.clock())  # idempotent: returns the recorded stage
    for ref, choice in (("m1", "for"), ("m2", "for"), ("m3", "against")):
        app.cast_vote(pid, ref, choice)
    cutoff = app.close_ballot(pid, app.clock())
    assert cutoff == app.recorder.max_notification_id()
    assert app.decide(pid, opened.position, cutoff) == "adopted"
    decided = list(app.events.get(pid))[-1]
    assert (decided.yes, decided.no, decided.cutoff_position) == (2, 1, cutoff)
    app.close()
