"""Activities of the proposal workflow: each runs one idempotent domain command.

They receive the domain application through the constructor (the wiring module builds it), run
in the worker's thread pool (the eventsourcing application is synchronous), and turn domain
errors into non-retryable Temporal errors naming the broken rule.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.application import Registre
from domain.deliberation.commands import StageOpened
from domain.deliberation.stages import Stage
from domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


# One input dataclass per activity (fields can be added compatibly). Times cross the workflow
# boundary as ISO 8601 strings: inside the workflow sandbox `datetime.datetime` is a proxied
# class that the payload converter cannot rebuild. A `Stage` crosses as its string value.


@dataclass
class StageInput:
    proposal_id: str
    at: str


@dataclass
class StageResult:
    stage: Stage
    closes_at: str
    position: int
    charter_version: int


@dataclass
class DecideInput:
    proposal_id: str
    opened_position: int
    cutoff_position: int


@dataclass
class EvaluationInput:
    proposal_id: str
    step: int
    at: str


def _domain_errors_are_final(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainError as e:
            raise ApplicationError(e.message, type=e.rule, non_retryable=True) from e

    return wrapper  # type: ignore[return-value]


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _result(opened: StageOpened, charter_version: int) -> StageResult:
    return StageResult(
        opened.stage, opened.closes_at.isoformat(), opened.position, charter_version
    )


class ProposalActivities:
    """The proposal workflow's activities, bound to one domain application."""

    def __init__(self, app: Registre) -> None:
        self.app = app

    @activity.defn
    @_domain_errors_are_final
    def open_consultation(self, input: StageInput) -> StageResult:
        opened = self.app.open_consultation(UUID(input.proposal_id), _time(input.at))
        return _result(opened, self._version(input.proposal_id))

    @activity.defn
    @_domain_errors_are_final
    def open_vote(self, input: StageInput) -> StageResult:
        opened = self.app.open_vote(UUID(input.proposal_id), _time(input.at))
        return _result(opened, self._version(input.proposal_id))

    @activity.defn
    @_domain_errors_are_final
    def close_ballot(self, input: StageInput) -> int:
        return self.app.close_ballot(UUID(input.proposal_id), _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def decide(self, input: DecideInput) -> str:
        return self.app.decide(
            UUID(input.proposal_id), input.opened_position, input.cutoff_position
        )

    @activity.defn
    @_domain_errors_are_final
    def open_veto_window(self, input: StageInput) -> StageResult | None:
        opened = self.app.open_veto_window(UUID(input.proposal_id), _time(input.at))
        return None if opened is None else _result(opened, self._version(input.proposal_id))

    @activity.defn
    @_domain_errors_are_final
    def close_veto_window(self, input: StageInput) -> str:
        return self.app.close_veto_window(UUID(input.proposal_id), _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def open_implementation(self, input: StageInput) -> list[str] | None:
        plan = self.app.open_implementation(UUID(input.proposal_id), _time(input.at))
        return None if plan is None else [t.isoformat() for t in plan]

    @activity.defn
    @_domain_errors_are_final
    def open_evaluation(self, input: EvaluationInput) -> None:
        self.app.open_evaluation(UUID(input.proposal_id), input.step, _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def close_process(self, input: StageInput) -> str:
        return self.app.close_process(UUID(input.proposal_id), _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def open_admissibility(self, input: StageInput) -> StageResult | None:
        opened = self.app.open_admissibility(UUID(input.proposal_id), _time(input.at))
        return None if opened is None else _result(opened, self._version(input.proposal_id))

    @activity.defn
    @_domain_errors_are_final
    def conclude_admissibility(self, input: StageInput) -> Stage:
        return self.app.conclude_admissibility(UUID(input.proposal_id), _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def open_deliberation(self, input: StageInput) -> StageResult | None:
        opened = self.app.open_deliberation(UUID(input.proposal_id), _time(input.at))
        return None if opened is None else _result(opened, self._version(input.proposal_id))

    @activity.defn
    @_domain_errors_are_final
    def close_deliberation(self, input: StageInput) -> int:
        return self.app.close_deliberation(UUID(input.proposal_id), _time(input.at))

    @activity.defn
    @_domain_errors_are_final
    def open_required_consultation(self, input: StageInput) -> StageResult | None:
        opened = self.app.open_required_consultation(UUID(input.proposal_id), _time(input.at))
        return None if opened is None else _result(opened, self._version(input.proposal_id))

    def all(self) -> list[Callable[..., Any]]:
        return [self.open_admissibility, self.conclude_admissibility, self.open_consultation,
                self.open_deliberation, self.close_deliberation, self.open_required_consultation,
                self.open_vote, self.close_ballot, self.decide, self.open_veto_window,
                self.close_veto_window, self.open_implementation, self.open_evaluation,
                self.close_process]

    def _version(self, proposal_id: str) -> int:
        return self.app.get_proposal(UUID(proposal_id)).charter_version
