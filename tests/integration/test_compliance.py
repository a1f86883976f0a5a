"""The guarantor's compliance view on a real PostgreSQL: silent on a process run by its rules,
and naming the rule and the proving events for each kind of breach written to the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from api.wiring import create_api, make_compliance_view, make_registre, projection_runner
from domain.application import Registre
from domain.rules.charter import CharterRules
from projections.compliance import ComplianceProjection, ComplianceView

pytestmark = pytest.mark.integration

HOUR, DAY = 3600, 86400
T0 = datetime.now(timezone.utc) - timedelta(days=3)


@pytest.fixture
def app(settings: Settings) -> Iterator[Registre]:
    app = make_registre(settings)
    yield app
    app.close()


def found(app: Registre) -> UUID:
    return app.found_metropolis(
        "conformite", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": "maire", "name": "Maire", "role": "mayor", "commune": "A"},
         *({"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "A"}
           for i in (1, 2, 3))],
        CharterRules(consultation_seconds=HOUR, vote_seconds=4 * DAY, quorum_percent=50,
                     veto_window_seconds=DAY))


def to_vote(app: Registre, mid: UUID, consultation: float = HOUR) -> tuple[UUID, int]:
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["A"])
    app.open_consultation(pid, T0)
    opened = app.open_vote(pid, T0 + timedelta(seconds=consultation))
    return pid, opened.position


def flags(settings: Settings, app: Registre) -> list[dict]:
    with projection_runner(settings, ComplianceProjection, ComplianceView) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    return make_compliance_view(settings).flags()


def test_view_is_empty_when_every_stage_ran_by_the_pinned_charter(settings, app) -> None:
    mid = found(app)
    pid, opened = to_vote(app, mid)
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 4 * DAY))
    app.decide(pid, opened, cutoff)
    assert flags(settings, app) == []


def test_flags_the_consultation_when_the_vote_opened_before_its_minimum(settings, app) -> None:
    pid, opened = to_vote(app, found(app), consultation=600)  # 10 minutes of 60
    [flag] = flags(settings, app)
    assert (flag["proposal_id"], flag["rule"]) == (pid, "stage.consultation")
    assert "600 s au lieu de 3600 s" in flag["message"]
    assert flag["positions"][-1] == opened and len(flag["positions"]) == 2


def test_flags_the_ballot_when_it_closed_before_its_minimum(settings, app) -> None:
    pid, _ = to_vote(app, found(app))
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 60))
    [flag] = flags(settings, app)
    assert flag["rule"] == "stage.vote" and flag["positions"][-1] == cutoff


def test_flags_an_adoption_without_quorum_when_written_to_the_store(settings, app) -> None:
    pid, opened = to_vote(app, found(app))
    app.cast_vote(pid, "c1", "for")
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 4 * DAY))
    proposal = app.get_proposal(pid)  # a forged decision: 1 of 4 members took part
    proposal.record_decision(outcome="adopted", cause="majority_carried", yes=1, no=0,
                             abstain=0, members=4, quorum_met=True, cutoff_position=cutoff,
                             rules_cited=["quorum", "majority.simple"])
    decided = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("quorum", [decided])


def test_flags_a_veto_filed_after_its_window_when_written_to_the_store(settings, app) -> None:
    pid, opened = to_vote(app, found(app))
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 4 * DAY))
    app.decide(pid, opened, cutoff)
    window = app.open_veto_window(pid, T0)  # closed two days ago
    proposal = app.get_proposal(pid)
    proposal._file_veto("maire", "A", "Hors délai.", pid, 1, "veto.right")  # bypasses the rule
    vetoed = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("veto.window", [window.position, vetoed])


def test_flags_a_rule_citing_a_version_not_in_force_when_written_to_the_store(
    settings, app,
) -> None:
    mid = found(app)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    proposal = app.get_proposal(pid)
    proposal._open_consultation(T0, T0 + timedelta(hours=1), 2, "stage.consultation",
                                "submitted")
    cited = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert flag["rule"] == "charter.version" and flag["positions"][-1] == cited


def test_serves_the_flags_over_http_when_asked(settings, app) -> None:
    pid, _ = to_vote(app, found(app), consultation=60)
    flags(settings, app)
    with TestClient(create_api(settings)) as client:
        body = client.get("/guarantor/compliance", params={"proposal_id": str(pid)}).json()
    assert [f["rule"] for f in body] == ["stage.consultation"]


def test_flags_a_deliberation_closed_before_its_minimum_when_written_to_the_store(
    settings, app,
) -> None:
    mid = app.found_metropolis(
        "deliberation-courte", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=HOUR, vote_seconds=HOUR, quorum_percent=50,
                     deliberation_seconds=DAY))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, T0)
    app.open_deliberation(pid, T0 + timedelta(seconds=HOUR))
    app.close_deliberation(pid, T0 + timedelta(seconds=2 * HOUR))  # 1 hour of 24
    [flag] = flags(settings, app)
    assert flag["rule"] == "stage.deliberation" and "3600 s au lieu de 86400 s" in flag["message"]


def test_flags_a_veto_window_closed_before_its_term_when_written_to_the_store(
    settings, app,
) -> None:
    pid, opened = to_vote(app, found(app))
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 4 * DAY))
    app.decide(pid, opened, cutoff)
    window = app.open_veto_window(pid, datetime.now(timezone.utc))  # open for a day from now
    proposal = app.get_proposal(pid)  # closed at once, bypassing the rule the domain applies
    proposal.close_veto_window(outcome="adopted", cause="no_veto", yes=0, no=0, abstain=0,
                               members=4, cutoff_position=0, rules_cited=["veto.window"])
    app.save(proposal)
    [flag] = flags(settings, app)
    assert flag["rule"] == "veto.window.cut_short" and flag["positions"][0] == window.position


def test_view_is_silent_when_the_window_closed_early_because_the_override_was_carried(
    settings, app,
) -> None:
    pid, opened = to_vote(app, found(app))
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    cutoff = app.close_ballot(pid, T0 + timedelta(seconds=HOUR + 4 * DAY))
    app.decide(pid, opened, cutoff)
    app.open_veto_window(pid, datetime.now(timezone.utc))  # open for a day from now
    app.file_veto(pid, "maire", "A", "La commune n'a pas été consultée.")
    for ref in ("c1", "c2", "c3"):  # 3 of 4 members: two thirds, whatever the mayor does
        app.cast_vote(pid, ref, "for")
    assert app.close_veto_window(pid, datetime.now(timezone.utc)) == "adopted"
    assert flags(settings, app) == []
