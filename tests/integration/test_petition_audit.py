"""`registre audit verify` recounts every petition from an export (real PostgreSQL log,
exported through the API): an intact log verifies with its petition recounted; a count
edited in the export, a count forged in the log, a threshold recorded at another position
and a deadline not the pinned kind's are each caught, naming the position."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.audit import export, verify_file
from api.cli import cli
from api.settings import Settings
from api.wiring import create_api, ledger_key, make_merkle_log, make_registre
from domain.application import Registre
from domain.ledger.leaf import decode_leaf, encode_leaf
from domain.ledger.verify import Report
from projections.ledger import MerkleFollower, issue_checkpoint
from tests.integration.test_petition_views import answered_petition, claims, collecting, found

pytestmark = pytest.mark.integration

CLOSED = "domain.petition.petition:Petition.Closed"


@pytest.fixture
def app(settings: Settings) -> Iterator[Registre]:
    app = make_registre(settings)
    yield app
    app.close()


def exported(settings: Settings, app: Registre, path: Path) -> Path:
    """The log exported through the API, every event covered by a signed checkpoint."""
    log = make_merkle_log(settings)
    MerkleFollower(app.recorder, app.name, log).catch_up()
    assert issue_checkpoint(log, ledger_key(settings)) is not None
    with TestClient(create_api(settings)) as client:
        export(client, path)
    return path


def verified(settings: Settings, path: Path) -> Report:
    return verify_file(path, ledger_key(settings).vkey(), None)


def test_verify_recounts_a_petition_when_the_log_is_intact(settings: Settings, app: Registre,
                                                          tmp_path: Path) -> None:
    answered_petition(app)
    report = verified(settings, exported(settings, app, tmp_path / "export.jsonl"))
    assert report.ok, report.errors
    assert report.petitions_recounted == 1
    printed = CliRunner().invoke(cli, ["audit", "verify", "--export",
                                       str(tmp_path / "export.jsonl")])
    assert printed.exit_code == 0, printed.output
    assert "1 closed petitions recounted" in printed.stdout


def _edit_closed_count(path: Path, count: int) -> int:
    """Rewrite the Closed record's leaf with another count (its hints left as they were)."""
    lines: list[dict[str, Any]] = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        if line.get("kind") == "record" and line["topic"] == CLOSED:
            record = decode_leaf(base64.b64decode(line["leaf"]))
            state = json.loads(record.state)
            state["count"] = count
            leaf = encode_leaf(record.notification_id, record.originator_id,
                               record.originator_version, record.topic,
                               json.dumps(state).encode())
            line["leaf"] = base64.b64encode(leaf).decode()
            path.write_text("".join(json.dumps(x) + "\n" for x in lines))
            return record.notification_id
    raise AssertionError("no Closed record")


def test_verify_names_the_wrong_count_when_the_export_was_edited(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    run = answered_petition(app)
    path = exported(settings, app, tmp_path / "export.jsonl")
    position = _edit_closed_count(path, 99)
    report = verified(settings, path)
    assert not report.ok and report.first_bad_position == position
    assert (f"position #{position}: petition {run.pid}: closed with a count of 99 signatures, "
            "the recount gives 6") in report.errors


def test_verify_names_the_wrong_count_when_the_log_itself_records_it(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    mid = found(app)
    pid = collecting(app, mid)
    for n in range(3):
        app.sign_petition(pid, f"s{n}", claims("A"))
    app.close_collection(pid, app.clock())
    petition = app.get_petition(pid)  # a forged close, past the command's recount
    petition.close(outcome="failed", count=2, at=app.clock())
    position = app.save(petition)[-1].notification.id
    report = verified(settings, exported(settings, app, tmp_path / "export.jsonl"))
    assert report.errors == [f"position #{position}: petition {pid}: closed with a count of 2 "
                             "signatures, the recount gives 3"]


def test_verify_names_a_threshold_recorded_at_another_position_than_the_recounts(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    mid = found(app)
    pid = collecting(app, mid)
    signed = [app.sign_petition(pid, f"s{n}", claims("B")) for n in range(6)]
    app.record_threshold(pid, signed[5], 6, app.clock())  # crossed at the fifth
    reached = next(p for p in range(signed[5] + 1, app.recorder.max_notification_id() + 1)
                   if app.recorder.select_notifications(start=p, limit=1)[0].topic.endswith(
                       "ThresholdReached"))
    report = verified(settings, exported(settings, app, tmp_path / "export.jsonl"))
    assert report.errors == [f"position #{reached}: petition {pid} records its threshold "
                             f"reached at position #{signed[5]}, the recount crosses it at "
                             f"#{signed[4]}"]


def test_verify_names_a_deadline_that_is_not_the_pinned_kinds(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    mid = found(app)
    pid = collecting(app, mid)
    signed = [app.sign_petition(pid, f"s{n}", claims("A")) for n in range(5)]
    petition = app.get_petition(pid)  # a deadline a day short, past the command
    now = app.clock()
    petition.reach_threshold(position=signed[4], count=5)
    petition.open_obligation(obligation="answer", at=now, due_at=now + timedelta(days=9))
    position = app.save(petition)[-1].notification.id
    report = verified(settings, exported(settings, app, tmp_path / "export.jsonl"))
    assert len(report.errors) == 1 and report.first_bad_position == position
    assert report.errors[0].startswith(f"position #{position}: petition {pid}: the "
                                       "obligation is due ")
    assert "864000 s after the threshold" in report.errors[0]


def test_audit_compliance_recomputes_the_petition_flags_from_the_export(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    mid = found(app)
    pid: UUID = collecting(app, mid)
    app.sign_petition(pid, "s0", claims("A"))
    closed = app.close_collection(pid, app.clock()).position
    from domain.petition.signature import Signature

    late = app.save(Signature(petition_id=pid, signer_ref="tard", commune="A",
                              capacity="resident", channel="online",
                              batch_id=None))[-1].notification.id
    path = exported(settings, app, tmp_path / "export.jsonl")
    result = CliRunner().invoke(cli, ["audit", "compliance", "--export", str(path), "--json"])
    flags = json.loads(result.stdout)
    assert [(f["proposal_id"], f["rule"], f["positions"], f["charter_version"])
            for f in flags] == [(str(pid), "petition.late_signature", [closed, late], 1)]


def test_the_compliance_view_finds_the_exports_petition_flags_when_following_the_log(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    from api.wiring import make_compliance_view, projection_runner
    from domain.petition.signature import Signature
    from projections.compliance import ComplianceProjection, ComplianceView

    mid = found(app)
    pid = collecting(app, mid)
    signed = [app.sign_petition(pid, f"s{n}", claims("A")) for n in range(6)]
    app.record_threshold(pid, signed[5], 6, app.clock())  # crossed at the fifth
    app.close_collection(pid, app.clock())
    for n in range(3):
        app.save(Signature(petition_id=pid, signer_ref=f"tard{n}", commune="A",
                           capacity="resident", channel="online", batch_id=None))
    with projection_runner(settings, ComplianceProjection, ComplianceView) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=20)
    served = [(str(f["proposal_id"]), f["rule"], list(f["positions"]))
              for f in make_compliance_view(settings).flags()]
    path = exported(settings, app, tmp_path / "export.jsonl")
    result = CliRunner().invoke(cli, ["audit", "compliance", "--export", str(path), "--json"])
    offline = [(f["proposal_id"], f["rule"], f["positions"]) for f in json.loads(result.stdout)]
    assert served == offline
    assert [rule for _, rule, _ in offline] == ["petition.threshold_position"] + [
        "petition.late_signature"] * 3


def test_audit_compliance_titles_a_petitions_table_in_french_when_not_asked_for_json(
    settings: Settings, app: Registre, tmp_path: Path,
) -> None:
    from domain.petition.signature import Signature

    pid = collecting(app, found(app))
    app.close_collection(pid, app.clock())
    app.save(Signature(petition_id=pid, signer_ref="tard", commune="A", capacity="resident",
                       channel="online", batch_id=None))
    path = exported(settings, app, tmp_path / "export.jsonl")
    table = CliRunner().invoke(cli, ["audit", "compliance", "--export", str(path)]).stdout
    assert f"Pétition {pid}" in table and "petition.late_signature" in table
