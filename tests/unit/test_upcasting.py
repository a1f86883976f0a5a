"""Events stored before a field existed still load, with the value they always meant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.persistence import StoredEvent

from domain.governance.charter import Charter
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from tests.unit.helpers import ManualClock, found, in_memory_app


def as_version_1(app, event, *removed: str):
    """`event` as it was written before `removed` fields (and class versions) existed."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    for name in (*removed, "class_version"):
        del state[name]
    return app.mapper.to_domain_event(StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic,
        app.mapper.transcoder.encode(state)))


@pytest.mark.parametrize(("stage", "event_class", "cause"), [
    ("consultation", Proposal.ConsultationOpened, "submitted"),
    ("deliberation", Proposal.DeliberationOpened, "deadline_reached"),
    ("admissibility", Proposal.AdmissibilityOpened, "submitted"),
])
def test_a_stage_opened_before_causes_were_recorded_reads_with_its_one_cause(
    stage: str, event_class: type, cause: str,
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, 3, deliberation_seconds=86400, admissibility_seconds=86400)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_admissibility(pid, clock())
    app.conclude_admissibility(pid, clock() + timedelta(days=1))
    app.open_consultation(pid, clock() + timedelta(days=1))
    app.open_deliberation(pid, clock() + timedelta(days=31))
    event = next(e for e in app.events.get(pid) if isinstance(e, event_class))
    assert event.cause != "" and as_version_1(app, event, "cause").cause == cause


def test_a_charter_amended_before_amendments_named_their_proposal_reads_as_named_by_none() -> None:
    app = in_memory_app(ManualClock())
    mid = found(app, 3)
    app.amend_charter(mid, CharterRules(consultation_seconds=1, vote_seconds=1,
                                        quorum_percent=50))
    amended = list(app.events.get(Charter.create_id(mid)))[-1]
    assert as_version_1(app, amended, "proposal_id").proposal_id is None


def test_a_required_consultation_stored_before_causes_reads_as_required_by_the_guarantor() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    pid, _ = app.submit_proposal(found(app, 3), "auteur", "Titre", "Résumé")
    app.require_consultation(pid, "garant", "Le public doit être consulté.")
    app.open_consultation(pid, clock())
    event = list(app.events.get(pid))[-1]
    assert as_version_1(app, event, "cause").cause == "guarantor_required"
