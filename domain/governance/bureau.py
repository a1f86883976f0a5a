"""The collegial bureau (bureau collégial): the seats the charter declares and who holds them.

The charter declares the composition (seats per kind: majority mayors, minority
vice-presidents, citizens drawn by lot); each mandate is an event. A charter amendment that
changes the composition recomposes the bureau (or constitutes it) when it comes into force. The draw by lot of the
citizens' seats comes with the sortition work; here a clerk records who holds each seat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NoFreeSeat, NotPermitted, UnknownSeatKind

SEAT_KINDS = ("maires_majoritaires", "vice_presidents_minoritaires", "citoyens_tires_au_sort")


class CollegialBureau(Aggregate):
    """A metropolis' collegial bureau."""

    class Constituted(Aggregate.Created):
        """The bureau was constituted with the composition of the charter version in force."""

        metropolis_id: UUID
        composition: dict[str, int]
        charter_version: int

    class Recomposed(Aggregate.Event):
        """A charter amendment changed the bureau's composition (charter `charter_version`);
        mandates under way run on, new ones follow the new composition."""

        composition: dict[str, int]
        charter_version: int

    class SeatFilled(Aggregate.Event):
        """A holder took a seat of `kind` for a mandate until `mandate_until`."""

        kind: str
        holder_ref: str
        mandate_from: datetime
        mandate_until: datetime

    class SeatVacated(Aggregate.Event):
        """A seat of `kind` was vacated (end of mandate, resignation…)."""

        kind: str
        holder_ref: str
        cause: str

    @staticmethod
    def create_id(metropolis_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"registre:bureau:{metropolis_id}")

    @event(Constituted)
    def __init__(self, metropolis_id: UUID, composition: dict[str, int],
                 charter_version: int) -> None:
        self.metropolis_id = metropolis_id
        self.composition = composition
        self.holders: dict[str, dict[str, Any]] = {}

    @event(Recomposed)
    def recompose(self, composition: dict[str, int], charter_version: int) -> None:
        self.composition = composition

    def fill_seat(self, kind: str, holder_ref: str, holder_role: str | None,
                  mandate_from: datetime, mandate_until: datetime) -> None:
        """Seat a holder; `holder_role` is the holder's role on the council, if seated."""
        if kind not in self.composition:
            raise UnknownSeatKind(f"the bureau has no seats of kind '{kind}'")
        taken = sum(1 for h in self.holders.values() if h["kind"] == kind)
        if taken >= self.composition[kind]:
            raise NoFreeSeat(f"all {self.composition[kind]} seats of '{kind}' are held")
        if holder_ref in self.holders:
            raise NoFreeSeat(f"'{holder_ref}' already holds a seat")
        if kind == "maires_majoritaires" and holder_role != "mayor":
            raise NotPermitted(f"'{holder_ref}' is not a seated mayor")
        if kind == "vice_presidents_minoritaires" and holder_role is None:
            raise NotPermitted(f"'{holder_ref}' holds no seat on the council")
        self._fill(kind, holder_ref, mandate_from, mandate_until)

    @event(SeatFilled)
    def _fill(self, kind: str, holder_ref: str, mandate_from: datetime,
              mandate_until: datetime) -> None:
        self.holders[holder_ref] = {"kind": kind, "mandate_until": mandate_until}

    @event(SeatVacated)
    def vacate(self, kind: str, holder_ref: str, cause: str) -> None:
        self.holders.pop(holder_ref, None)
