"""A proposal's stages and the rules for votes, on the in-memory recorder."""

from datetime import timedelta

import pytest

from domain.application import Registre
from domain.deliberation.ballot import Vote
from domain.errors import (
    MetropolisAlreadyFounded,
    NotACouncilMember,
    UnknownMetropolis,
    UnknownProposal,
    VoteAfterClose,
    VoteAlreadyCast,
    VoteNotOpen,
)
from domain.governance.metropolis import Metropolis
from tests.unit.helpers import ManualClock, found, in_memory_app


def at_vote(app: Registre, clock: ManualClock, n_members: int = 5):
    mid = found(app, n_members)
    pid, _ = app.submit_proposal(mid, "citoyen-1", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    return pid, opened


def test_pins_the_charter_version_when_submitted() -> None:
    app = in_memory_app()
    mid = found(app)
    pid, position = app.submit_proposal(mid, "citoyen-1", "Titre", "Résumé")
    proposal = app.get_proposal(pid)
    assert (proposal.stage, proposal.charter_version, proposal.author_ref) == (
        "submitted", 1, "citoyen-1")
    assert position == app.recorder.max_notification_id()


def test_refuses_submission_when_metropolis_is_unknown() -> None:
    app = in_memory_app()
    with pytest.raises(UnknownMetropolis):
        app.submit_proposal(Metropolis.create_id("nowhere"), "c", "Titre", "Résumé")


def test_refuses_second_founding_when_slug_is_taken() -> None:
    app = in_memory_app()
    found(app)
    with pytest.raises(MetropolisAlreadyFounded):
        found(app)


def test_consultation_closes_after_the_charter_duration_when_opened() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, consultation_seconds=30 * 86400)
    pid, _ = app.submit_proposal(mid, "c", "Titre", "Résumé")
    opened = app.open_consultation(pid, clock())
    assert opened.closes_at - clock() == timedelta(days=30)


def test_opening_a_stage_twice_records_one_event_when_an_activity_is_retried() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app)
    pid, _ = app.submit_proposal(mid, "c", "Titre", "Résumé")
    first = app.open_consultation(pid, clock())
    size = app.recorder.max_notification_id()
    again = app.open_consultation(pid, clock())
    assert again == first
    assert app.recorder.max_notification_id() == size


def test_refuses_vote_when_ballot_is_not_open_yet() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app)
    pid, _ = app.submit_proposal(mid, "c", "Titre", "Résumé")
    with pytest.raises(VoteNotOpen):
        app.cast_vote(pid, "m1", "for")


def test_refuses_vote_when_voter_holds_no_seat() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = at_vote(app, clock)
    with pytest.raises(NotACouncilMember):
        app.cast_vote(pid, "intrus", "for")


def test_refuses_second_vote_when_member_already_voted() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = at_vote(app, clock)
    app.cast_vote(pid, "m1", "for")
    with pytest.raises(VoteAlreadyCast):
        app.cast_vote(pid, "m1", "against")


def test_vote_id_is_derived_from_ballot_and_voter_when_cast() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = at_vote(app, clock)
    vote_id, _ = app.cast_vote(pid, "m1", "for")
    ballot_id = app.get_proposal(pid).ballot_id
    assert vote_id == Vote.create_id(ballot_id, "m1")


def test_refuses_vote_when_deadline_passed_before_the_workflow_closed_the_ballot() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = at_vote(app, clock)
    clock.advance(days=14)
    with pytest.raises(VoteAfterClose):
        app.cast_vote(pid, "m1", "for")


def test_refuses_vote_when_ballot_closed() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = at_vote(app, clock)
    app.close_ballot(pid, clock())
    with pytest.raises(VoteAfterClose):
        app.cast_vote(pid, "m1", "for")


def test_refuses_vote_when_proposal_is_unknown() -> None:
    app = in_memory_app()
    found(app)
    with pytest.raises(UnknownProposal):
        app.cast_vote(Metropolis.create_id("x"), "m1", "for")


def test_decision_counts_only_votes_before_the_close_position_when_a_vote_races_the_close(
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, opened = at_vote(app, clock, n_members=4)
    app.cast_vote(pid, "m1", "for")
    app.cast_vote(pid, "m2", "for")
    app.cast_vote(pid, "m3", "against")
    cutoff = app.close_ballot(pid, clock())
    # A vote that passed the open-ballot check just before the close but was stored after it.
    ballot_id = app.get_proposal(pid).ballot_id
    app.save(Vote(ballot_id=ballot_id, proposal_id=pid, voter_ref="m4", choice="against"))
    assert app.decide(pid, opened.position, cutoff) == "adopted"
    decided = list(app.events.get(pid))[-1]
    assert (decided.yes, decided.no, decided.cutoff_position) == (2, 1, cutoff)


def test_decision_is_recorded_once_when_decide_is_retried() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, opened = at_vote(app, clock)
    cutoff = app.close_ballot(pid, clock())
    assert app.close_ballot(pid, clock()) == cutoff
    first = app.decide(pid, opened.position, cutoff)
    size = app.recorder.max_notification_id()
    assert app.decide(pid, opened.position, cutoff) == first == "rejected"
    assert app.recorder.max_notification_id() == size
