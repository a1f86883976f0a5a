"""The ledger leaf encoding (domain/ledger/leaf.py)."""

from uuid import uuid4

import pytest

from domain.ledger.leaf import LeafError, LogRecord, decode_leaf, decode_state, encode_leaf

STATE = (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-25T17:49:08+00:00"},'
         b'"ballot_id":{"_type_":"uuid_hex","_data_":"d329aff5ea6452abbb3d9dfd3692c815"},'
         b'"voter_ref":"m1","choice":"for"}')


def test_round_trips_every_field_when_encoded_and_decoded() -> None:
    record = LogRecord(281, uuid4(), 3, "domain.deliberation.ballot:Vote.Cast", STATE)
    assert decode_leaf(record.leaf()) == record


def test_decodes_uuids_and_times_when_reading_the_stored_state() -> None:
    fields = decode_state(STATE)
    assert fields["ballot_id"] == "d329aff5-ea64-52ab-bb3d-9dfd3692c815"
    assert fields["timestamp"] == "2026-11-25T17:49:08+00:00"
    assert fields["choice"] == "for"


@pytest.mark.parametrize("cut", [1, 10, 40])
def test_rejects_leaf_when_truncated(cut: int) -> None:
    leaf = encode_leaf(1, uuid4(), 1, "a:B", STATE)
    with pytest.raises(LeafError):
        decode_leaf(leaf[:-cut])


def test_rejects_leaf_when_bytes_are_appended() -> None:
    with pytest.raises(LeafError):
        decode_leaf(encode_leaf(1, uuid4(), 1, "a:B", STATE) + b"x")


def test_different_positions_give_different_leaves_when_content_is_equal() -> None:
    oid = uuid4()
    assert encode_leaf(1, oid, 1, "a:B", STATE) != encode_leaf(2, oid, 1, "a:B", STATE)
