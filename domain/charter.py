"""The charter (pacte de gouvernance): the rules a metropolis decides by, as versioned data (D7).

A `Charter` aggregate holds every version ever adopted. A process pins the version in force at
its start and every rule check cites that version and the rule's id, so an amendment adopted
mid-process never changes a process already running.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCharter

MAJORITIES = ("simple", "absolute", "two_thirds_of_members")


@dataclass(frozen=True)
class CharterRules:
    """The rules of one charter version that the deliberation applies.

    - `consultation_seconds`: length of the public consultation (rule `stage.consultation`).
    - `vote_seconds`: how long the council's roll-call ballot stays open (rule `stage.vote`).
    - `quorum_percent`: share of seated council members who must take part in the ballot,
      abstentions included (rule `quorum`).
    - `majority`: `simple` (more for than against), `absolute` (more than half of those taking
      part) or `two_thirds_of_members` (at least two thirds of the seated members)
      (rule `majority.<kind>`).
    """

    consultation_seconds: int
    vote_seconds: int
    quorum_percent: int
    majority: str = "simple"

    def __post_init__(self) -> None:
        if self.consultation_seconds <= 0 or self.vote_seconds <= 0:
            raise InvalidCharter("stage durations must be positive")
        if not 0 <= self.quorum_percent <= 100:
            raise InvalidCharter("quorum_percent must lie between 0 and 100")
        if self.majority not in MAJORITIES:
            raise InvalidCharter(f"majority must be one of {', '.join(MAJORITIES)}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CharterRules:
        return cls(**data)


class Charter(Aggregate):
    """A metropolis' charter and the history of its versions (version n = n-th adoption)."""

    class Adopted(Aggregate.Created):
        """The first version of a metropolis' charter was adopted with these rules."""

        metropolis_id: UUID
        rules: dict[str, Any]

    class Amended(Aggregate.Event):
        """A new charter version came into force with these rules."""

        rules: dict[str, Any]

    @staticmethod
    def create_id(metropolis_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"registre:charter:{metropolis_id}")

    @event(Adopted)
    def __init__(self, metropolis_id: UUID, rules: dict[str, Any]) -> None:
        self.metropolis_id = metropolis_id
        self.versions: dict[int, dict[str, Any]] = {1: rules}

    @event(Amended)
    def amend(self, rules: dict[str, Any]) -> None:
        self.versions[len(self.versions) + 1] = rules

    @property
    def current_version(self) -> int:
        return len(self.versions)

    def rules(self, version: int | None = None) -> CharterRules:
        """The rules of `version` (the one in force when omitted)."""
        return CharterRules.from_dict(self.versions[version or self.current_version])
