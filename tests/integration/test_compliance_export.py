"""The guarantor reproduces the compliance view offline: on a real PostgreSQL log with stages
cut short by writing to the store, `registre audit compliance --export FILE --json` prints
exactly what `GET /guarantor/compliance` serves, and `registre audit verify` counts the same
flags."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.audit import export
from api.cli import cli
from api.wiring import create_api
from domain.application import Registre
from domain.rules.charter import CharterRules
from tests.integration.test_compliance import DAY, HOUR, T0, app, flags  # noqa: F401

pytestmark = pytest.mark.integration


def found(app: Registre) -> UUID:  # noqa: F811
    return app.found_metropolis(
        "conformite-hors-ligne", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=DAY, vote_seconds=HOUR, quorum_percent=50,
                     admissibility_seconds=DAY, evaluation_after_seconds=(DAY, 2 * DAY)))


def cut_short(app: Registre, mid: UUID) -> UUID:  # noqa: F811
    """The review skipped, then the vote opened 2 h into a day's consultation (through the
    application, as a faulty worker would)."""
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, T0)
    app.open_vote(pid, T0 + timedelta(hours=2))
    return pid


def evaluations_too_early(app: Registre, mid: UUID) -> UUID:  # noqa: F811
    """A proposal adopted by the rules whose implementation schedules both evaluation steps
    an hour after adoption (written to the store, bypassing the charter)."""
    start = datetime.now(timezone.utc) - timedelta(seconds=2 * DAY + HOUR / 2)
    pid, _ = app.submit_proposal(mid, "auteur", "Autre titre", "Résumé")
    app.open_admissibility(pid, start)
    app.conclude_admissibility(pid, start + timedelta(seconds=DAY))
    app.open_consultation(pid, start + timedelta(seconds=DAY))
    opened = app.open_vote(pid, start + timedelta(seconds=2 * DAY))  # open now, for the votes
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    adoption = start + timedelta(seconds=2 * DAY + HOUR)
    app.decide(pid, opened.position, app.close_ballot(pid, adoption))
    proposal = app.get_proposal(pid)
    soon = adoption + timedelta(seconds=HOUR)
    proposal._open_implementation(adoption, [soon, soon], soon + timedelta(seconds=DAY),
                                  1, "evaluation.schedule", "final_adoption")
    app.save(proposal)
    return pid


def exported(client: TestClient, tmp_path: Path) -> Path:
    path = tmp_path / "export.jsonl"
    export(client, path)
    return path


def audit(*args: str) -> str:
    result = CliRunner().invoke(cli, ["audit", *args])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_audit_compliance_prints_the_apis_json_when_a_stage_was_cut_short(
    settings, app, tmp_path,  # noqa: F811
) -> None:
    mid = found(app)
    cut = cut_short(app, mid)
    early = evaluations_too_early(app, mid)
    flags(settings, app)  # the view caught up with the log
    with TestClient(create_api(settings)) as client:
        served = client.get("/guarantor/compliance")
        one = client.get("/guarantor/compliance", params={"proposal_id": str(cut)})
        path = exported(client, tmp_path)
    printed = audit("compliance", "--export", str(path), "--json")
    assert printed.rstrip("\n") == served.text
    assert [(f["proposal_id"], f["rule"]) for f in served.json()] == [
        (str(cut), "stage.admissibility"), (str(cut), "stage.consultation"),
        (str(early), "evaluation.schedule"), (str(early), "evaluation.schedule")]
    only = audit("compliance", "--export", str(path), "--json", "--proposal", str(cut))
    assert only.rstrip("\n") == one.text and len(one.json()) == 2


def test_both_breaches_appear_when_one_event_breaks_a_rule_twice(
    settings, app, tmp_path,  # noqa: F811
) -> None:
    early = evaluations_too_early(app, found(app))
    [first, second] = flags(settings, app)
    assert first["positions"] == second["positions"]
    assert (first["rule"], second["rule"]) == ("evaluation.schedule", "evaluation.schedule")
    assert "évaluation n° 1" in first["message"] and "évaluation n° 2" in second["message"]
    with TestClient(create_api(settings)) as client:
        path = exported(client, tmp_path)
    printed = json.loads(audit("compliance", "--export", str(path), "--json"))
    assert [f["message"] for f in printed] == [first["message"], second["message"]]
    assert {f["proposal_id"] for f in printed} == {str(early)}


def test_audit_verify_counts_the_recomputed_flags_when_verifying_an_export(
    settings, app, tmp_path,  # noqa: F811
) -> None:
    cut_short(app, found(app))
    with TestClient(create_api(settings)) as client:
        path = exported(client, tmp_path)
    assert "2 compliance flag(s) recomputed from the log" in audit("verify", "--export",
                                                                   str(path))


def test_audit_compliance_prints_a_french_table_when_not_asked_for_json(
    settings, app, tmp_path,  # noqa: F811
) -> None:
    cut_short(app, found(app))
    with TestClient(create_api(settings)) as client:
        path = exported(client, tmp_path)
    table = audit("compliance", "--export", str(path))
    assert "Vue de conformité : 2 manquement(s)" in table
    assert "stage.consultation" in table and "Constat" in table


def test_audit_compliance_refuses_when_the_file_is_not_an_export(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("pas un export\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", "compliance", "--export", str(path), "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "is not an export" in result.stderr
