"""The charter (pacte de gouvernance): the rules a metropolis decides by, as versioned data (D7).

A `Charter` aggregate holds every version ever adopted. A process pins the version in force at
its start and every rule check cites that version and the rule's id, so an amendment adopted
mid-process never changes a process already running.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.rules.charter import CharterRules

class Charter(Aggregate):
    """A metropolis' charter and the history of its versions (version n = n-th adoption)."""

    class Adopted(Aggregate.Created):
        """The first version of a metropolis' charter was adopted with these rules."""

        metropolis_id: UUID
        rules: dict[str, Any]

    class Amended(Aggregate.Event):
        """A new charter version came into force with these rules, on the final adoption of
        the proposal `proposal_id` amending the charter (None: amended at the boundary, e.g.
        by an operator, or before proposals were named here)."""

        rules: dict[str, Any]
        proposal_id: UUID | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["proposal_id"] = None

    @staticmethod
    def create_id(metropolis_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"registre:charter:{metropolis_id}")

    @event(Adopted)
    def __init__(self, metropolis_id: UUID, rules: dict[str, Any]) -> None:
        self.metropolis_id = metropolis_id
        self.versions: dict[int, dict[str, Any]] = {1: rules}

    @event(Amended)
    def amend(self, rules: dict[str, Any], proposal_id: UUID | None = None) -> None:
        self.versions[len(self.versions) + 1] = rules

    @property
    def current_version(self) -> int:
        return len(self.versions)

    def rules(self, version: int | None = None) -> CharterRules:
        """The rules of `version` (the one in force when omitted)."""
        return CharterRules.from_dict(self.versions[version or self.current_version])
