"""The metropolis, its communes and the members seated on its council."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

COUNCIL_ROLES = ("councillor", "mayor")


class Metropolis(Aggregate):
    """A metropolis: its communes (territories) and its council."""

    class Founded(Aggregate.Created):
        """A metropolis was registered with its name, slug and communes
        (each `{"code", "name", "population"}`)."""

        slug: str
        name: str
        communes: list[dict[str, Any]]

    class MemberSeated(Aggregate.Event):
        """A member took a seat on the metropolitan council: a pseudonymous reference, the
        public name of the office holder, the role (`councillor` or `mayor`) and commune."""

        member_ref: str
        name: str
        role: str
        commune: str

    @staticmethod
    def create_id(slug: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"registre:metropolis:{slug}")

    @event(Founded)
    def __init__(self, slug: str, name: str, communes: list[dict[str, Any]]) -> None:
        self.slug = slug
        self.name = name
        self.communes = communes
        self.members: dict[str, dict[str, str]] = {}

    @event(MemberSeated)
    def seat_member(self, member_ref: str, name: str, role: str, commune: str) -> None:
        self.members[member_ref] = {"name": name, "role": role, "commune": commune}

    def is_council_member(self, member_ref: str) -> bool:
        return member_ref in self.members

    @property
    def council_size(self) -> int:
        return len(self.members)
