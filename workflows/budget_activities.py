"""Activities of the participatory budget's workflow: each runs one idempotent domain command
(domain/budget/commands.py), or reads what the workflow needs of the cycle.

Like the petition's (workflows/petition_activities.py) they receive the domain application
through the constructor, run in the worker's thread pool and turn domain errors into
non-retryable Temporal errors naming the broken rule. One more rule is named here: a cycle
already closed in the log (`budget.cycle_closed`) — a clerk's cancellation may be recorded
before its signal reaches the workflow, and the next command then finds the cycle closed; the
activity says so, and the workflow ends with the cycle's outcome rather than failing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.application import Registre
from domain.budget.cycle import CycleStage
from domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

CLOSED_RULE = "budget.cycle_closed"


# One input dataclass per activity (fields can be added compatibly). Times cross the workflow
# boundary as ISO 8601 strings (see workflows/activities.py).


@dataclass
class CycleAt:
    cycle_id: str
    at: str


@dataclass
class CancelInput:
    cycle_id: str
    at: str
    reason: str


@dataclass
class CycleSchedule:
    """What the workflow needs of a cycle when it starts: its stage and when submission ends
    (fixed by the opening, `BudgetCycle.Opened.submission_closes_at`)."""

    stage: str
    submission_closes_at: str


@dataclass
class ResultsPublished:
    """The tally published: the close position it counted up to, and per district the
    projects selected (ids, in their order) and the ballots counted."""

    close_position: int
    selected: dict[str, list[str]]
    ballots: dict[str, int]


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _closed(outcome: str | None) -> ApplicationError:
    return ApplicationError(f"the budget cycle is closed ({outcome})", outcome or "",
                            type=CLOSED_RULE, non_retryable=True)


def _command(fn: F) -> F:
    """Domain errors are final, named by their rule; a refusal because the cycle was closed
    meanwhile is named `budget.cycle_closed` (its details: the outcome)."""

    @functools.wraps(fn)
    def wrapper(self: BudgetActivities, input: Any) -> Any:
        try:
            return fn(self, input)
        except DomainError as e:
            try:
                cycle = self.app.get_budget_cycle(UUID(input.cycle_id))
            except DomainError:
                cycle = None
            if cycle is not None and cycle.stage == CycleStage.CLOSED:
                raise _closed(cycle.outcome) from e
            raise ApplicationError(e.message, type=e.rule, non_retryable=True) from e

    return wrapper  # type: ignore[return-value]


class BudgetActivities:
    """The budget workflow's activities, bound to one domain application."""

    def __init__(self, app: Registre) -> None:
        self.app = app

    @activity.defn
    @_command
    def budget_cycle_schedule(self, input: CycleAt) -> CycleSchedule:
        """The cycle's stage and the end of its submission; a closed cycle is refused with
        rule `budget.cycle_closed`."""
        cycle = self.app.get_budget_cycle(UUID(input.cycle_id))
        if cycle.stage == CycleStage.CLOSED:
            raise _closed(cycle.outcome)
        return CycleSchedule(str(cycle.stage), cycle.submission_closes_at.isoformat())

    @activity.defn
    @_command
    def open_budget_review(self, input: CycleAt) -> str:
        """The review opened (idempotent); its deadline."""
        return self.app.open_budget_review(UUID(input.cycle_id), _time(input.at)).isoformat()

    @activity.defn
    @_command
    def open_budget_voting(self, input: CycleAt) -> str:
        """Voting opened on the eligible projects (idempotent); its end."""
        return self.app.open_budget_voting(UUID(input.cycle_id), _time(input.at)).isoformat()

    @activity.defn
    @_command
    def close_budget_voting(self, input: CycleAt) -> int:
        """Voting closed (idempotent); the close's log position, the tally's cut-off."""
        return self.app.close_budget_voting(UUID(input.cycle_id), _time(input.at))

    @activity.defn
    @_command
    def tally_budget_cycle(self, input: CycleAt) -> ResultsPublished:
        """The results computed and published (idempotent)."""
        results = self.app.tally_budget_cycle(UUID(input.cycle_id), _time(input.at))
        cycle = self.app.get_budget_cycle(UUID(input.cycle_id))
        return ResultsPublished(
            cycle.close_position,
            {d: list(r["selected"]) for d, r in results.items()},
            {d: int(r["ballots"]) for d, r in results.items()})

    @activity.defn
    @_command
    def cancel_budget_cycle(self, input: CancelInput) -> str:
        """The cycle closed `cancelled` with the reason given (idempotent: a cycle already
        closed answers its outcome)."""
        return self.app.close_budget_cycle(UUID(input.cycle_id), _time(input.at),
                                           outcome="cancelled", reason=input.reason)

    def all(self) -> list[Callable[..., Any]]:
        return [self.budget_cycle_schedule, self.open_budget_review, self.open_budget_voting,
                self.close_budget_voting, self.tally_budget_cycle, self.cancel_budget_cycle]
