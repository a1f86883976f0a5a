"""Activities of the petition workflow: each runs one idempotent domain command
(domain/petition/commands.py), or reads what the workflow needs of the petition.

Like the proposal's (workflows/activities.py) they receive the domain application through the
constructor, run in the worker's thread pool and turn domain errors into non-retryable Temporal
errors naming the broken rule. One more rule is named here: a petition its author withdrew
(`petition.withdrawn`) — the withdrawal may be recorded before its signal reaches the workflow,
and the next command then finds the petition closed; the activity says why, so the workflow
ends `withdrawn` rather than failing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.application import Registre
from domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

WITHDRAWN_RULE = "petition.withdrawn"


# One input dataclass per activity (fields can be added compatibly). Times cross the workflow
# boundary as ISO 8601 strings: inside the workflow sandbox `datetime.datetime` is a proxied
# class that the payload converter cannot rebuild (see workflows/activities.py).


@dataclass
class PetitionAt:
    petition_id: str
    at: str


@dataclass
class ThresholdInput:
    petition_id: str
    position: int  # the log position of the signature that brought the count to the threshold
    count: int
    at: str


@dataclass
class SponsorPeriod:
    closes_at: str  # the end of the sponsor period, counted from `at`
    gathered: bool  # the kind's number of sponsors is already reached


@dataclass
class CollectionOpened:
    closes_at: str
    threshold: int
    position: int


@dataclass
class ObligationOpened:
    obligation: str  # answer | agenda | consultation
    due_at: str


@dataclass
class CollectionClosed:
    position: int  # the cut-off: no signature stored after it counts
    count: int
    crossed_at: int | None
    obligation: ObligationOpened | None  # open when the threshold is (now) recorded


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _command(fn: F) -> F:
    """Domain errors are final, named by their rule; a refusal because the petition was
    withdrawn meanwhile is named `petition.withdrawn`."""

    @functools.wraps(fn)
    def wrapper(self: PetitionActivities, input: Any) -> Any:
        try:
            return fn(self, input)
        except DomainError as e:
            try:
                withdrawn = self._is_withdrawn(input.petition_id)
            except DomainError:
                withdrawn = False
            if withdrawn:
                raise _withdrawn() from e
            raise ApplicationError(e.message, type=e.rule, non_retryable=True) from e

    return wrapper  # type: ignore[return-value]


def _withdrawn() -> ApplicationError:
    return ApplicationError("the petition was withdrawn by its author", type=WITHDRAWN_RULE,
                            non_retryable=True)


class PetitionActivities:
    """The petition workflow's activities, bound to one domain application."""

    def __init__(self, app: Registre) -> None:
        self.app = app

    def _is_withdrawn(self, petition_id: str) -> bool:
        return self.app.get_petition(UUID(petition_id)).outcome == "withdrawn"

    @activity.defn
    @_command
    def sponsor_deadline(self, input: PetitionAt) -> SponsorPeriod:
        """The end of the sponsor period (the kind's `sponsor_seconds` from `at`, when the
        workflow started on the drafting) and whether the sponsors are already gathered."""
        petition = self.app.get_petition(UUID(input.petition_id))
        if petition.outcome == "withdrawn":
            raise _withdrawn()
        closes_at = _time(input.at) + timedelta(seconds=petition.kind_rules.sponsor_seconds)
        return SponsorPeriod(closes_at.isoformat(), bool(getattr(petition, "gathered", False)))

    @activity.defn
    @_command
    def lapse_petition(self, input: PetitionAt) -> str:
        """`lapsed` when closed for want of sponsors; "" when they were gathered after all."""
        outcome = self.app.lapse_petition(UUID(input.petition_id), _time(input.at))
        if outcome == "withdrawn":
            raise _withdrawn()
        return outcome

    @activity.defn
    @_command
    def open_petition_admissibility(self, input: PetitionAt) -> str:
        return self.app.open_petition_admissibility(UUID(input.petition_id),
                                                    _time(input.at)).isoformat()

    @activity.defn
    @_command
    def conclude_petition_admissibility(self, input: PetitionAt) -> bool:
        admissible = self.app.conclude_petition_admissibility(UUID(input.petition_id),
                                                              _time(input.at))
        if not admissible and self._is_withdrawn(input.petition_id):
            raise _withdrawn()
        return admissible

    @activity.defn
    @_command
    def open_collection(self, input: PetitionAt) -> CollectionOpened:
        opened = self.app.open_collection(UUID(input.petition_id), _time(input.at))
        return CollectionOpened(opened.closes_at.isoformat(), opened.threshold, opened.position)

    @activity.defn
    @_command
    def record_threshold(self, input: ThresholdInput) -> ObligationOpened:
        self.app.record_threshold(UUID(input.petition_id), input.position, input.count,
                                  _time(input.at))
        obligation = self._obligation(input.petition_id)
        assert obligation is not None
        return obligation

    @activity.defn
    @_command
    def close_collection(self, input: PetitionAt) -> CollectionClosed:
        closed = self.app.close_collection(UUID(input.petition_id), _time(input.at))
        return CollectionClosed(closed.position, closed.count, closed.crossed_at,
                                self._obligation(input.petition_id))

    @activity.defn
    @_command
    def put_petition_on_agenda(self, input: PetitionAt) -> str:
        return str(self.app.put_petition_on_agenda(UUID(input.petition_id), _time(input.at)))

    @activity.defn
    @_command
    def record_breach(self, input: PetitionAt) -> bool:
        """True when breached; False when the obligation was fulfilled meanwhile."""
        return self.app.record_breach(UUID(input.petition_id), _time(input.at))

    @activity.defn
    @_command
    def close_petition(self, input: PetitionAt) -> str:
        return self.app.close_petition(UUID(input.petition_id), _time(input.at))

    def all(self) -> list[Callable[..., Any]]:
        return [self.sponsor_deadline, self.lapse_petition, self.open_petition_admissibility,
                self.conclude_petition_admissibility, self.open_collection,
                self.record_threshold, self.close_collection, self.put_petition_on_agenda,
                self.record_breach, self.close_petition]

    def _obligation(self, petition_id: str) -> ObligationOpened | None:
        petition = self.app.get_petition(UUID(petition_id))
        if petition.obligation is None or petition.due_at is None:
            return None
        return ObligationOpened(petition.obligation, petition.due_at.isoformat())
