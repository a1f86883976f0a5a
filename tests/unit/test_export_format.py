"""The export format is strict (docs/export-format.md): the offline verifier refuses a line
with an unknown or a missing field, and a record whose readable fields disagree with its
leaf, naming the position."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from typing import Any

import pytest

from domain.ledger import ed25519, merkle, note
from domain.ledger.leaf import encode_leaf
from domain.ledger.verify import RECORD_FIELDS, verify_export

SEED = hashlib.sha256(b"registre export-format test key").digest()
NAME = "registre.test/ledger"
PUBLIC = ed25519.public_key(SEED)
VKEY = note.vkey(NAME, PUBLIC)
TOPIC = "domain.deliberation.participation:Support.Given"


def export(events: int = 4) -> list[dict[str, Any]]:
    """A well-formed export of `events` stored events at positions 1.. and one checkpoint."""
    records, leaves = [], []
    for i in range(events):
        oid = uuid.UUID(int=i + 1)
        state = json.dumps({"n": i}).encode()
        leaf = encode_leaf(i + 1, oid, 1, TOPIC, state)
        leaves.append(leaf)
        records.append({"kind": "record", "index": i, "notification_id": i + 1,
                        "originator_id": str(oid), "originator_version": 1, "topic": TOPIC,
                        "leaf": base64.b64encode(leaf).decode(),
                        "leaf_hash": merkle.leaf_hash(leaf).hex(),
                        "logged_notification_id": i + 1})
    body = note.checkpoint_body(NAME, events, merkle.root(leaves))
    signed = note.sign_note(body, NAME, lambda m: ed25519.sign(SEED, m), PUBLIC)
    header = {"kind": "header", "format": "registre-export/1", "source": "test",
              "exported_at": "2026-01-01T00:00:00+00:00", "keys": {"ledger": VKEY, "witness": None}}
    return [header, {"kind": "checkpoint", "size": events, "note": signed}, *records]


def errors_of(lines: list[dict[str, Any]]) -> tuple[list[str], int | None]:
    report = verify_export(lines, VKEY)
    return report.errors, report.first_bad_position


def test_a_well_formed_export_verifies_when_untouched() -> None:
    report = verify_export(export(), VKEY)
    assert report.ok, report.errors
    assert (report.records, report.verified_size) == (4, 4)


def test_refuses_a_record_with_an_added_field_naming_its_position() -> None:
    lines = export()
    lines[4]["state"] = {"n": 99}  # a readable copy the leaf does not vouch for
    errors, first = errors_of(lines)
    assert errors == ["position #3 (leaf 2): unknown field(s) 'state'"]
    assert first == 3


@pytest.mark.parametrize("field", sorted(RECORD_FIELDS - {"kind", "leaf"}))
def test_refuses_a_record_with_a_missing_field_naming_its_position(field: str) -> None:
    lines = export()
    del lines[3][field]
    errors, first = errors_of(lines)
    assert any(f"missing field(s) '{field}'" in e for e in errors), errors
    assert any("#2" in e for e in errors), errors
    assert first == 2


@pytest.mark.parametrize(("field", "value"), [
    ("notification_id", 7), ("originator_id", str(uuid.UUID(int=42))),
    ("originator_version", 2), ("originator_version", True), ("topic", "x:Y"),
])
def test_refuses_a_record_whose_readable_field_disagrees_with_its_leaf(
    field: str, value: object,
) -> None:
    lines = export()
    lines[5][field] = value
    errors, first = errors_of(lines)
    assert any(e.startswith("position #4 (leaf 3): its " + field) and "disagrees" in e
               for e in errors), errors
    assert first == 4


def test_refuses_a_record_exported_at_another_index_than_where_it_is_found() -> None:
    lines = export()
    lines[2]["index"] = 5
    errors, first = errors_of(lines)
    assert any("position #1 (leaf 0): exported as leaf 5" in e for e in errors), errors


def test_refuses_a_malformed_leaf_hash_when_checking_a_record() -> None:
    lines = export()
    lines[2]["leaf_hash"] = "zz"
    errors, _ = errors_of(lines)
    assert any("position #1 (leaf 0): its leaf_hash is not 64" in e for e in errors), errors


def test_refuses_unknown_or_missing_fields_in_the_header_and_checkpoints() -> None:
    lines = export()
    lines[0]["comment"] = "ajouté"
    lines[1]["root"] = "00"
    errors, _ = errors_of(lines)
    assert "header: unknown field(s) 'comment'" in errors
    assert "line 2 (checkpoint): unknown field(s) 'root'" in errors
    lines = export()
    del lines[0]["keys"]["witness"]
    assert "header keys: missing field(s) 'witness'" in errors_of(lines)[0]


def test_refuses_a_checkpoint_whose_readable_size_disagrees_with_its_note() -> None:
    lines = export()
    lines[1]["size"] = 3
    errors, _ = errors_of(lines)
    assert any("readable size 3 disagrees" in e for e in errors), errors


def test_refuses_an_export_out_of_its_documented_order() -> None:
    lines = export()
    lines.insert(len(lines), copy.deepcopy(lines.pop(1)))  # the checkpoint after the records
    errors, _ = errors_of(lines)
    assert any("after the records" in e for e in errors), errors
    headless = export()[1:]
    assert "line 1: the export does not begin with its header" in errors_of(headless)[0]


def test_refuses_a_line_of_an_unknown_kind() -> None:
    lines = [*export(), {"kind": "note", "text": "…"}]
    assert "line 7: unknown kind 'note'" in errors_of(lines)[0]
