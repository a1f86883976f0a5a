"""Activities of the citizens' convention's workflow: each runs one idempotent domain command
(domain/convention/commands.py), or reads what the workflow needs of the convention.

Like the budget's (workflows/budget_activities.py) they receive the domain application through
the constructor, and here also the panel solver the pool's commitment computes its
distribution with (the HiGHS adapter api/convention_solver.py `panel_solver`, wired by the
worker; tests pass a small one). They run in the worker's thread pool and turn domain errors
into non-retryable Temporal errors naming the broken rule. One more rule is named here: a
convention already ended in the log (`convention.ended`, its details: the outcome) — a clerk's
cancellation may be recorded before its signal reaches the workflow, and the next command then
finds the convention ended; the activity says so, and the workflow ends with that outcome
rather than failing.

Two facts are answers rather than errors, because the workflow acts on them: the pool's
commitment reports `awaiting_secret` while the guarantor has not committed their secret (the
workflow waits for it), and `failed` when the pool could not be committed (the convention has
ended `failed`).
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
from domain.convention.commands import PanelSolver
from domain.convention.convention import Convention, ConventionStage
from domain.errors import DomainError, WrongStage

F = TypeVar("F", bound=Callable[..., Any])

ENDED_RULE = "convention.ended"

# What `commit_convention_pool` answers besides an outcome the convention ended with.
COMMITTED = "committed"
AWAITING_SECRET = "awaiting_secret"


# One input dataclass per activity (fields can be added compatibly). Times cross the workflow
# boundary as ISO 8601 strings (see workflows/activities.py).


@dataclass
class ConventionAt:
    convention_id: str
    at: str


@dataclass
class CancelInput:
    convention_id: str
    at: str
    reason: str


@dataclass
class ConventionSchedule:
    """What the workflow needs of a convention when it starts: its stage and when
    registration closes (fixed by the opening, `Convention.Opened.registration_closes_at`)."""

    stage: str
    registration_closes_at: str


@dataclass
class PoolOutcome:
    """The pool's commitment: `committed` (its commitment, when the seed is due, and whether
    the seed is already revealed — a restarted workflow does not wait for it again),
    `awaiting_secret` (the guarantor has not committed their secret: nothing recorded), or
    the outcome the convention ended with (`failed`: the pool could not be committed)."""

    outcome: str
    commitment: str | None = None
    reveal_by: str | None = None
    revealed: bool = False


@dataclass
class PanelOutcome:
    """The panel drawn (pseudonyms, in the draw's order) and when acceptance ends."""

    panel: list[str]
    acceptance_closes_at: str


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _ended(outcome: str | None) -> ApplicationError:
    return ApplicationError(f"the convention has ended ({outcome})", outcome or "",
                            type=ENDED_RULE, non_retryable=True)


def _command(fn: F) -> F:
    """Domain errors are final, named by their rule; a refusal because the convention ended
    meanwhile is named `convention.ended` (its details: the outcome)."""

    @functools.wraps(fn)
    def wrapper(self: ConventionActivities, input: Any) -> Any:
        try:
            return fn(self, input)
        except DomainError as e:
            try:
                convention = self.app.get_convention(UUID(input.convention_id))
            except DomainError:
                convention = None
            if convention is not None and convention.stage == ConventionStage.ENDED:
                raise _ended(convention.outcome) from e
            raise ApplicationError(e.message, type=e.rule, non_retryable=True) from e

    return wrapper  # type: ignore[return-value]


def _awaits_secret(convention: Convention) -> bool:
    return (convention.stage == ConventionStage.REGISTRATION
            and convention.convention_rules.randomness == "guarantor_secret"
            and convention.seed_digest is None)


class ConventionActivities:
    """The convention workflow's activities, bound to one domain application and the panel
    solver its pools are committed with."""

    def __init__(self, app: Registre, solver: PanelSolver) -> None:
        self.app = app
        self.solver = solver

    @activity.defn
    @_command
    def convention_schedule(self, input: ConventionAt) -> ConventionSchedule:
        """The convention's stage and the end of its registration; an ended convention is
        refused with rule `convention.ended`."""
        convention = self.app.get_convention(UUID(input.convention_id))
        if convention.stage == ConventionStage.ENDED:
            raise _ended(convention.outcome)
        return ConventionSchedule(str(convention.stage),
                                  convention.registration_closes_at.isoformat())

    @activity.defn
    @_command
    def commit_convention_pool(self, input: ConventionAt) -> PoolOutcome:
        """The pool closed and committed with its distribution (idempotent); or
        `awaiting_secret`; or the outcome the convention ended with (`failed`)."""
        cid = UUID(input.convention_id)
        try:
            commitment = self.app.commit_convention_pool(cid, _time(input.at), self.solver)
        except WrongStage:
            if _awaits_secret(self.app.get_convention(cid)):
                return PoolOutcome(AWAITING_SECRET)
            raise
        convention = self.app.get_convention(cid)
        if commitment is None:
            return PoolOutcome(convention.outcome or "failed")
        assert convention.reveal_by is not None
        return PoolOutcome(COMMITTED, commitment, convention.reveal_by.isoformat(),
                           revealed=convention.seed is not None)

    @activity.defn
    @_command
    def draw_convention_panel(self, input: ConventionAt) -> PanelOutcome:
        """The panel drawn from the committed distribution by the seed (idempotent)."""
        cid = UUID(input.convention_id)
        panel = self.app.draw_convention_panel(cid, _time(input.at))
        convention = self.app.get_convention(cid)
        if convention.stage == ConventionStage.ENDED:  # cancelled, the panel drawn before
            raise _ended(convention.outcome)
        assert convention.acceptance_closes_at is not None
        return PanelOutcome(list(panel), convention.acceptance_closes_at.isoformat())

    @activity.defn
    @_command
    def open_convention_sitting(self, input: ConventionAt) -> str:
        """The panel as it stands sits (idempotent); the end of its term."""
        cid = UUID(input.convention_id)
        term_ends_at = self.app.open_convention_sitting(cid, _time(input.at))
        convention = self.app.get_convention(cid)
        if convention.stage == ConventionStage.ENDED:  # cancelled during the sitting
            raise _ended(convention.outcome)
        return term_ends_at.isoformat()

    @activity.defn
    @_command
    def end_convention(self, input: ConventionAt) -> str:
        """The convention ended `completed` at its term's end (idempotent: an ended
        convention answers its outcome)."""
        return self.app.end_convention(UUID(input.convention_id), _time(input.at))

    @activity.defn
    @_command
    def cancel_convention(self, input: CancelInput) -> str:
        """The convention ended `cancelled` with the reason given (idempotent: an ended
        convention answers its outcome)."""
        return self.app.end_convention(UUID(input.convention_id), _time(input.at),
                                       outcome="cancelled", reason=input.reason)

    def all(self) -> list[Callable[..., Any]]:
        return [self.convention_schedule, self.commit_convention_pool,
                self.draw_convention_panel,
                self.open_convention_sitting, self.end_convention, self.cancel_convention]
