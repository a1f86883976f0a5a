"""Ports: what the domain needs of the infrastructure without implementing it (no SQL here).

Adapters are given to `Registre` by the one wiring module (api/wiring.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


Clock = Callable[[], datetime]
"""Where commands take the time from: the wiring gives the system clock, unit tests a clock
moved by hand (domain rules never read the wall clock)."""


class LogPositions(Protocol):
    """Finds the global log position (notification id) of one stored event."""

    def position_of(self, originator_id: UUID, version: int) -> int: ...


class ScannedLogPositions:
    """Scans the log through the recorder's notifications: the default, for the in-memory
    store of unit tests (the PostgreSQL adapter answers with one indexed query)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def position_of(self, originator_id: UUID, version: int) -> int:
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=1000):
            for n in page:
                if n.originator_id == originator_id and n.originator_version == version:
                    return int(n.id)
            start = page[-1].id + 1
        raise LookupError(f"event {originator_id}@{version} is not in the log")
