"""`registre audit verify` recounts every budget cycle whose results were published
(domain/ledger/verify.py), from an export of a log the budget commands wrote on the in-memory
store: a genuine export verifies with its cycle recounted (a ballot stored after the close is
not counted); an export whose published results were tampered is refused, naming the
position."""

from __future__ import annotations

import base64
import json
from typing import Any

from domain.budget.ballot import ballot_id
from domain.ledger import ed25519, merkle, note
from domain.ledger.leaf import decode_leaf, encode_leaf
from domain.ledger.verify import verify_export
from tests.unit.test_budget_compliance import reviewed, voted
from tests.unit.test_export_format import NAME, PUBLIC, SEED, VKEY

RESULTS = "domain.budget.cycle:BudgetCycle.ResultsPublished"


def exported(app: Any, edit: Any = None) -> list[dict[str, Any]]:
    """The in-memory log as an export under one signed checkpoint; `edit(topic, state)` may
    change a stored event's fields before its leaf is made (and signed: only the recount can
    catch it)."""
    records, leaves = [], []
    for i, n in enumerate(app.recorder.select_notifications(start=1, limit=100_000)):
        state = n.state
        if edit is not None:
            fields = json.loads(state)
            if edit(n.topic, fields):
                state = json.dumps(fields).encode()
        leaf = encode_leaf(n.id, n.originator_id, n.originator_version, n.topic, state)
        leaves.append(leaf)
        records.append({"kind": "record", "index": i, "notification_id": n.id,
                        "originator_id": str(n.originator_id),
                        "originator_version": n.originator_version, "topic": n.topic,
                        "leaf": base64.b64encode(leaf).decode(),
                        "leaf_hash": merkle.leaf_hash(leaf).hex(),
                        "logged_notification_id": n.id})
    body = note.checkpoint_body(NAME, len(leaves), merkle.root(leaves))
    signed = note.sign_note(body, NAME, lambda m: ed25519.sign(SEED, m), PUBLIC)
    header = {"kind": "header", "format": "registre-export/1", "source": "test",
              "exported_at": "2026-01-01T00:00:00+00:00",
              "keys": {"ledger": VKEY, "witness": None}}
    return [header, {"kind": "checkpoint", "size": len(leaves), "note": signed}, *records]


def tallied():
    app, clock, cid, pids, _ = reviewed()
    voted(app, clock, cid, pids)
    ballot = app.repository.get(ballot_id(cid, "metropolis", "v1"))
    ballot.replace([[pids[0], 1]])  # after the close, past the command: never counted
    app.save(ballot)
    app.tally_budget_cycle(cid, clock())
    return app, cid


def test_verify_recounts_a_cycle_when_the_export_is_genuine() -> None:
    app, _ = tallied()
    report = verify_export(exported(app), VKEY)
    assert report.ok, report.errors
    assert report.budgets_recounted == 1


def test_verify_refuses_an_export_when_the_published_results_were_tampered() -> None:
    app, cid = tallied()

    def tamper(topic: str, fields: dict[str, Any]) -> bool:
        if topic != RESULTS:
            return False
        fields["results"]["metropolis"]["selected"].reverse()
        fields["results"]["metropolis"]["rounds"].reverse()
        return True

    lines = exported(app, tamper)
    position = next(line["notification_id"] for line in lines
                    if line.get("topic") == RESULTS)
    assert decode_leaf(base64.b64decode(lines[-1]["leaf"])) is not None
    report = verify_export(lines, VKEY)
    assert not report.ok and report.budgets_recounted == 0
    assert any(e.startswith(f"position #{position}: budget cycle {cid}: the results published "
                            "for district metropolis differ from the recount")
               for e in report.errors), report.errors
    assert report.first_bad_position == position


def test_verify_refuses_results_computed_up_to_another_position_than_the_close() -> None:
    app, cid = tallied()

    def earlier(topic: str, fields: dict[str, Any]) -> bool:
        if topic == RESULTS:
            fields["close_position"] -= 1
            return True
        return False

    report = verify_export(exported(app, earlier), VKEY)
    assert any("results computed up to position" in e for e in report.errors), report.errors
