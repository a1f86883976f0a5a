"""Governance commands: found a metropolis with its council and charter v1, amend the charter
(running processes keep their version), fill and vacate the collegial bureau's seats.

A mixin of `Registre` (domain/application.py), which provides the event store (`save`,
`repository`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.errors import (
    InvalidCharter,
    MetropolisAlreadyFounded,
    NoBureau,
    NoCharterInForce,
    NoFreeSeat,
    UnknownCommune,
    UnknownMetropolis,
)
from domain.governance.bureau import CollegialBureau
from domain.governance.charter import Charter
from domain.governance.metropolis import Metropolis
from domain.rules.charter import CharterRules


class GovernanceCommands:
    """The commands on a metropolis, its charter and its bureau."""

    def found_metropolis(
        self,
        slug: str,
        name: str,
        communes: list[dict[str, Any]],
        members: Iterable[dict[str, str]],
        rules: CharterRules,
    ) -> UUID:
        """Register a metropolis with its council and adopt charter version 1, in one save."""
        metropolis = Metropolis(slug=slug, name=name, communes=communes)
        for member in members:
            metropolis.seat_member(
                member["ref"], member["name"], member["role"], member.get("commune", "")
            )
        charter = Charter(metropolis_id=metropolis.id, rules=rules.as_dict())
        bureau = (CollegialBureau(metropolis_id=metropolis.id, composition=rules.bureau_seats,
                                  charter_version=1) if rules.bureau_seats else None)
        try:
            self.save(metropolis, charter, bureau)
        except IntegrityError:
            raise MetropolisAlreadyFounded(f"metropolis '{slug}' is already registered") from None
        return metropolis.id

    def get_metropolis(self, metropolis_id: UUID) -> Metropolis:
        """The metropolis; UnknownMetropolis also when the id is another aggregate's."""
        try:
            metropolis = self.repository.get(metropolis_id)
        except AggregateNotFoundError:
            metropolis = None
        if not isinstance(metropolis, Metropolis):
            raise UnknownMetropolis(f"no metropolis {metropolis_id}")
        return metropolis

    def get_charter(self, metropolis_id: UUID) -> Charter:
        try:
            charter = self.repository.get(Charter.create_id(metropolis_id))
        except AggregateNotFoundError:
            charter = None
        if not isinstance(charter, Charter):
            raise NoCharterInForce(f"metropolis {metropolis_id} has no charter")
        return charter

    def amended_rules(self, metropolis_id: UUID, changes: dict[str, Any]) -> CharterRules:
        """The charter in force with `changes` (rules by name) applied: what an amendment
        proposes; invalid rules are refused (`invalid_charter`)."""
        self.get_metropolis(metropolis_id)
        current = self.get_charter(metropolis_id).rules().as_dict()
        unknown = set(changes) - set(current)
        if unknown:
            raise InvalidCharter(f"the charter has no rule {', '.join(sorted(unknown))}")
        if not changes:
            raise InvalidCharter("a charter amendment changes at least one rule")
        return CharterRules.from_dict({**current, **changes})

    def amend_charter(self, metropolis_id: UUID, rules: CharterRules) -> int:
        """Bring a new charter version into force; running processes keep their version."""
        charter = self.get_charter(metropolis_id)
        charter.amend(rules.as_dict())
        self.save(charter, self._bureau_under(charter))
        return charter.current_version

    @staticmethod
    def _communes_of(metropolis: Metropolis, communes: Iterable[str]) -> list[str]:
        """The communes named, once each, refused if one is not the metropolis'."""
        named = list(dict.fromkeys(communes))
        known = {c["code"] for c in metropolis.communes}
        for code in named:
            if code not in known:
                raise UnknownCommune(f"{metropolis.name} has no commune {code}")
        return named

    def _bureau_under(self, charter: Charter) -> CollegialBureau | None:
        """The bureau as the charter's current version composes it (constituted or
        recomposed), if that changes it; None otherwise."""
        seats = charter.rules().bureau_seats
        try:
            bureau = self.get_bureau(charter.metropolis_id)
        except NoBureau:
            return (CollegialBureau(metropolis_id=charter.metropolis_id, composition=seats,
                                    charter_version=charter.current_version) if seats else None)
        if bureau.composition == seats:
            return None
        bureau.recompose(seats, charter.current_version)
        return bureau

    # -- the collegial bureau ----------------------------------------------------------

    def get_bureau(self, metropolis_id: UUID) -> CollegialBureau:
        try:
            bureau = self.repository.get(CollegialBureau.create_id(metropolis_id))
        except AggregateNotFoundError:
            bureau = None
        if not isinstance(bureau, CollegialBureau):
            raise NoBureau(f"the charter of metropolis {metropolis_id} declares no bureau")
        return bureau

    def fill_bureau_seat(self, metropolis_id: UUID, kind: str, holder_ref: str,
                         mandate_until: datetime) -> int:
        """Record a mandate on the collegial bureau; returns the log position."""
        metropolis = self.get_metropolis(metropolis_id)
        bureau = self.get_bureau(metropolis_id)
        seat = metropolis.members.get(holder_ref)
        bureau.fill_seat(kind, holder_ref, seat["role"] if seat else None, self.clock(),
                         mandate_until)
        return self.save(bureau)[-1].notification.id

    def vacate_bureau_seat(self, metropolis_id: UUID, holder_ref: str, cause: str) -> int:
        bureau = self.get_bureau(metropolis_id)
        held = bureau.holders.get(holder_ref)
        if held is None:
            raise NoFreeSeat(f"'{holder_ref}' holds no seat on the bureau")
        bureau.vacate(held["kind"], holder_ref, cause)
        return self.save(bureau)[-1].notification.id

