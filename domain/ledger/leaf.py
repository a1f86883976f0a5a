"""The ledger's leaf: a canonical byte encoding of one stored event, and its decoding.

Every event stored by Registre becomes one leaf of the RFC 9162 Merkle log (`domain.ledger.merkle`), in
notification (global log) order. The leaf is the stored record itself, not a readable copy:

    leaf = b"RGL1"                         4 bytes, format tag (Registre ledger leaf v1)
         || notification_id                uint64, big-endian (the global log position)
         || originator_id                  16 bytes (the aggregate's UUID)
         || originator_version             uint64, big-endian
         || len(topic)  || topic           uint16 big-endian, then UTF-8 (`module:Class`)
         || len(state)  || state           uint32 big-endian, then the stored state bytes

`state` is exactly what the event store holds: eventsourcing's JSON (UTF-8) of the event's
fields, with UUIDs as `{"_type_": "uuid_hex", "_data_": …}` and datetimes as
`{"_type_": "datetime_iso", "_data_": …}`. `decode_state` reads it back with the standard
library only, so a verifier can recount ballots from the leaf bytes alone.

Standard library only: a third party can copy this file with `domain/ledger/merkle.py`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any
from uuid import UUID

TAG = b"RGL1"
_HEAD = struct.Struct(">4sQ16sQH")


# Event modules that moved when the domain became one package per process: events stored
# before the move carry the old module in their topic (the leaf keeps those bytes for ever).
MOVED_MODULES = {
    "domain.metropolis": "domain.governance.metropolis",
    "domain.charter": "domain.governance.charter",
    "domain.bureau": "domain.governance.bureau",
    "domain.proposal": "domain.deliberation.proposal",
    "domain.draft": "domain.deliberation.draft",
    "domain.ballot": "domain.deliberation.ballot",
    "domain.participation": "domain.deliberation.participation",
    "domain.notice": "domain.deliberation.notice",
}


def canonical_topic(topic: str) -> str:
    """The topic of today's event class for a stored topic, old module names included."""
    module, sep, name = topic.partition(":")
    return MOVED_MODULES.get(module, module) + sep + name


class LeafError(ValueError):
    """The bytes are not a well-formed Registre ledger leaf."""


@dataclass(frozen=True)
class LogRecord:
    """One stored event as the leaf encodes it."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def leaf(self) -> bytes:
        return encode_leaf(
            self.notification_id, self.originator_id, self.originator_version, self.topic,
            self.state,
        )

    def fields(self) -> dict[str, Any]:
        return decode_state(self.state)


def encode_leaf(notification_id: int, originator_id: UUID, originator_version: int,
                topic: str, state: bytes) -> bytes:
    """The canonical leaf bytes of one stored event."""
    topic_bytes = topic.encode("utf-8")
    return b"".join((
        _HEAD.pack(TAG, notification_id, originator_id.bytes, originator_version,
                   len(topic_bytes)),
        topic_bytes,
        struct.pack(">I", len(state)),
        bytes(state),
    ))


def decode_leaf(data: bytes) -> LogRecord:
    """Read a leaf back; raises `LeafError` on anything but an exact, complete encoding."""
    if len(data) < _HEAD.size + 4:
        raise LeafError("leaf too short")
    tag, notification_id, originator, version, topic_len = _HEAD.unpack_from(data, 0)
    if tag != TAG:
        raise LeafError(f"unknown leaf format {tag!r}")
    offset = _HEAD.size
    topic_bytes = data[offset:offset + topic_len]
    offset += topic_len
    if len(topic_bytes) != topic_len or len(data) < offset + 4:
        raise LeafError("leaf truncated in its topic")
    (state_len,) = struct.unpack_from(">I", data, offset)
    offset += 4
    state = data[offset:offset + state_len]
    if len(state) != state_len or offset + state_len != len(data):
        raise LeafError("leaf state length does not match")
    try:
        topic = topic_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LeafError("leaf topic is not UTF-8") from e
    return LogRecord(notification_id, UUID(bytes=originator), version, topic, bytes(state))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            kind, data = value["_type_"], value["_data_"]
            if kind == "uuid_hex":
                return str(UUID(hex=data))
            return _plain(data)  # datetime_iso, decimal_str: kept as their text
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def decode_state(state: bytes) -> dict[str, Any]:
    """An event's fields from its stored state: UUIDs as strings, times as ISO 8601 text."""
    try:
        decoded = json.loads(state.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LeafError(f"event state is not JSON: {e}") from e
    if not isinstance(decoded, dict):
        raise LeafError("event state is not a JSON object")
    return _plain(decoded)
