"""Builders for unit tests of the pure domain (in-memory recorder, a clock we move by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from domain.application import Registre
from domain.rules.charter import CharterRules
from projections.personal_data import in_memory_personal_data

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


class ManualClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def members(n: int) -> list[dict[str, str]]:
    return [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
            for i in range(1, n + 1)]


def found(app: Registre, n_members: int = 5, **rules: object) -> UUID:
    r = {"consultation_seconds": 30 * 86400, "vote_seconds": 14 * 86400,
         "quorum_percent": 50, "majority": "simple"}
    r.update(rules)
    return app.found_metropolis("test", "Métropole test",
                                [{"code": "A", "name": "Ville A", "population": 1000}],
                                members(n_members), CharterRules(**r))


def in_memory_app(clock: ManualClock | None = None) -> Registre:
    """The domain on the in-memory store, sealing personal text under in-memory keys."""
    keys = in_memory_personal_data()
    return Registre(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock or ManualClock(),
                    personal_data=lambda _: keys)
