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


ERASED = "contenu effacé"  # what every view shows in place of an erased person's text
CLEAR = "clear:"  # prefix of a text recorded before sealing existed (upcast of old events)


class PersonalData(Protocol):
    """Seals what a private person writes under that person's data key, kept outside the log
    (D10): the log holds only the sealed form; erasing the key makes it unreadable for good.

    `person` is the person's pseudonym within the metropolis; `field` names what the text is
    (`title`, `summary`, `comment`, `referral`, `evaluation`): both are bound to the ciphertext,
    so a sealed text moved to another person or field no longer opens."""

    def seal(self, metropolis_id: UUID, person: str, field: str, text: str) -> str: ...

    def open(self, sealed: str) -> str | None:
        """The clear text; None once the person's key was erased. Raises `ValueError` when
        the sealed form was tampered with."""
        ...


class NoPersonalData:
    """The default when no adapter is wired (e.g. the application a projection runner builds
    to read the log): sealing or opening is then a wiring error, never clear text stored."""

    def seal(self, metropolis_id: UUID, person: str, field: str, text: str) -> str:
        raise RuntimeError("no PersonalData adapter wired: personal text cannot be stored")

    def open(self, sealed: str) -> str | None:
        raise RuntimeError("no PersonalData adapter wired: personal text cannot be read")


class Act(Protocol):
    """One high-volume act (a signature, later a ballot) for a group-commit writer (D11):
    `prepare()` builds the new aggregates assuming the common case (no prior record; it may
    raise a DomainError, failing this act alone); `fallback()` runs the whole command alone in
    its own transaction (it finds the prior record and raises the precise error, or records)
    and returns the log position. A writer saves the prepared aggregates of many acts in one
    transaction and falls back one by one when the store refuses the batch."""

    def prepare(self) -> list[Any]: ...

    def fallback(self) -> int: ...
