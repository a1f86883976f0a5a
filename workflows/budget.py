"""`BudgetCycleWorkflow`: one per participatory budget cycle (id `budget-<uuid>`), driving it
from the end of project submission to the publication of its results, on the deadlines its
rules fixed at the opening (`BudgetCycle.Opened`: `submission_closes_at`; the rules'
`review_seconds` and `voting_seconds`).

The course, and what the workflow waits on at each step:
1. Submission: `budget_cycle_schedule` reads the cycle; wait on a durable timer until
   `submission_closes_at` (citizens submit projects through the API meanwhile).
2. Review: `open_budget_review` (its deadline: `review_seconds` later); wait on a timer until
   it (clerks rule on projects, authors appeal, the guarantor decides, through the API).
3. Voting: `open_budget_voting` (the projects no clerk ruled on are eligible by silence; its
   end: `voting_seconds` later); wait on a timer until the end. Ballots never pass through
   this workflow (D3): they are written to the store by the group-commit writer.
4. Close and tally: `close_budget_voting` records the close, whose log position is the cut-off
   (a ballot stored after it is never counted), then `tally_budget_cycle` computes and
   publishes each district's results from the log up to that position.
5. Results: the workflow ends once the results are published (returns `results`). The
   winners' implementation takes months or years and has no deadline of the charter's: its
   milestones, and the cycle's closing `completed`, are clerks' acts through the API
   (`record_budget_milestone`, `close_budget_cycle`), with no workflow waiting on them.

Every wait before the tally ends early on the `cancel(reason)` signal: `cancel_budget_cycle`
closes the cycle `cancelled` with the reason, and the workflow ends (returns `cancelled`). The
relay sends it when a clerk's cancellation is stored; sent directly, the workflow records the
cancellation itself (the command is idempotent: either way one `Closed`). A cancellation
recorded before its signal arrives makes the next activity refuse with rule
`budget.cycle_closed` (its details: the cycle's outcome), and the workflow ends with that
outcome. A cancel arriving once the tally has started is
ignored: the results are published, the cycle can no longer be cancelled.

Every stage change is an idempotent activity, so a workflow restarted on a cycle that has
moved on catches up without recording anything twice; time comes from `workflow.now()`, all
I/O happens in activities.

Version: this is v1, the first frozen baseline; its recorded histories are
tests/data/histories/budget-v1-*.json. From now on every change goes through
`workflow.patched` with a recorded history and a replay test (tests/workflows/test_replay.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.budget_activities import (
        CLOSED_RULE,
        BudgetActivities,
        CancelInput,
        CycleAt,
    )

WORKFLOW_ID_PREFIX = "budget-"

T = TypeVar("T")

ACTIVITY_TIMEOUT = timedelta(seconds=60)
# Domain errors are raised as non-retryable ApplicationErrors by the activities;
# anything else (database restart, network) is retried with backoff.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


def workflow_id(cycle_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{cycle_id}"


@dataclass
class BudgetInput:
    cycle_id: str


@dataclass
class BudgetStatus:
    """What `get_stage` answers: the stage (`submission`, `review`, `voting`, `results`,
    `closed`), the deadline the workflow waits for (ISO 8601; none while it reads the cycle,
    closes or counts, and once it has ended), and its end once ended (`results`: published,
    the cycle stays in stage `results` until a clerk closes it; `cancelled`; `completed`
    only for a workflow restarted on a cycle a clerk had already closed)."""

    stage: str
    deadline: str | None
    outcome: str | None


class _Closed(Exception):
    """The cycle was closed (cancelled, or by a clerk after its results on a restarted
    workflow): the workflow ends with its outcome, without another stage."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _refused_for(e: ActivityError, rule: str) -> bool:
    return isinstance(e.cause, ApplicationError) and e.cause.type == rule


@workflow.defn
class BudgetCycleWorkflow:
    """Drives one budget cycle through submission, review and voting on its deadlines, then
    closes the voting and publishes the tally.

    It waits on durable timers only (the end of submission, of the review, of voting), each
    ended early by the `cancel(reason)` signal; it ends once the results are published.
    """

    @workflow.init
    def __init__(self, input: BudgetInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = BudgetStatus(stage="submission", deadline=None, outcome=None)
        self._cancel_reason: str | None = None
        self._tallying = False

    @workflow.run
    async def run(self, input: BudgetInput) -> str:
        try:
            await self._course(input.cycle_id)
        except _Closed as closed:
            self._status = BudgetStatus("closed", None, closed.outcome)
            return closed.outcome
        self._status = BudgetStatus("results", None, "results")
        return "results"

    async def _course(self, cycle_id: str) -> None:
        schedule = await self._act(BudgetActivities.budget_cycle_schedule, self._at(cycle_id))
        await self._wait_until(cycle_id, "submission", schedule.submission_closes_at)

        review_closes_at = await self._act(BudgetActivities.open_budget_review,
                                           self._at(cycle_id))
        await self._wait_until(cycle_id, "review", review_closes_at)

        voting_closes_at = await self._act(BudgetActivities.open_budget_voting,
                                           self._at(cycle_id))
        await self._wait_until(cycle_id, "voting", voting_closes_at)

        self._status = BudgetStatus("voting", None, None)
        await self._act(BudgetActivities.close_budget_voting, self._at(cycle_id))
        await self._cancel_if_asked(cycle_id)  # still before the results: it may be cancelled
        self._tallying = True
        await self._act(BudgetActivities.tally_budget_cycle, self._at(cycle_id))

    # -- signals and queries ------------------------------------------------------------

    @workflow.signal
    def cancel(self, reason: str) -> None:
        """Cancel the cycle with this reason (a clerk's; blank reasons and a cancel once the
        tally has started are ignored: the domain would refuse them)."""
        if self._cancel_reason is None and not self._tallying and reason.strip():
            self._cancel_reason = reason

    @workflow.query
    def get_stage(self) -> BudgetStatus:
        return self._status

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _at(cycle_id: str) -> CycleAt:
        return CycleAt(cycle_id, workflow.now().isoformat())

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        """Run one activity method (its name and result type come from its definition)."""
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY)
        except ActivityError as e:
            # Cancelled in the log before the signal arrived: the domain refused the stage.
            if _refused_for(e, CLOSED_RULE):
                assert isinstance(e.cause, ApplicationError)
                details = e.cause.details
                raise _Closed(str(details[0]) if details and details[0] else "cancelled"
                              ) from None
            raise

    async def _cancel_if_asked(self, cycle_id: str) -> None:
        if self._cancel_reason is not None:
            await self._act(BudgetActivities.cancel_budget_cycle, CancelInput(
                cycle_id, workflow.now().isoformat(), self._cancel_reason))
            raise _Closed("cancelled")

    async def _wait_until(self, cycle_id: str, stage: str, deadline: str) -> None:
        """In `stage`, wait for its deadline unless the cycle is cancelled first."""
        self._status = BudgetStatus(stage, deadline, None)
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._cancel_reason is not None,
                                              timeout=remaining)
            except asyncio.TimeoutError:
                pass
        await self._cancel_if_asked(cycle_id)
