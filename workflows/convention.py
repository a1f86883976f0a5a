"""`ConventionWorkflow`: one per citizens' convention drawn by lot (id `convention-<uuid>`),
driving it from the end of volunteers' registration to the end of its members' term, on the
deadlines its rules fixed (`Convention.Opened`: `registration_closes_at`; then the
commitment's `reveal_by`, the draw's `acceptance_closes_at`, the sitting's `term_ends_at`).

The course, and what the workflow waits on at each step:
1. Registration: `convention_schedule` reads the convention; wait on a durable timer until
   `registration_closes_at` (residents volunteer through the API meanwhile).
2. The commitment: `commit_convention_pool` closes the pool at the current log position,
   computes its panel distribution (the solver the worker passes its activities) and commits
   it with the randomness source. For a `guarantor_secret` convention whose guarantor has not
   committed their secret yet, nothing is recorded and the workflow waits for the relay's
   signal `seed_committed` (sent when a `Convention.SeedCommitted` is stored), rechecking
   every `SECRET_RECHECK` in case that signal was lost (a dead letter), then commits. A pool
   that could not be committed (too small, or quotas no panel meets) has ended the convention
   `failed`: the workflow ends (returns `failed`).
3. The seed: wait for the relay's signal `seed_revealed` (sent when a `Convention.SeedRevealed`
   is stored) until `reveal_by`. A seed still not revealed by then is late: nothing is
   recorded in the domain (the compliance check `convention.late_reveal` flags it from the
   log), and the workflow keeps waiting, with no deadline, for the seed — the panel is drawn
   whenever it comes.
4. The draw: `draw_convention_panel` draws the panel from the committed distribution by the
   seed; wait on a timer until `acceptance_closes_at` (drawn members accept or decline through
   the API, a declined seat goes to an alternate).
5. The sitting: `open_convention_sitting` seats the panel as it stands; wait on a timer until
   `term_ends_at` (sessions and proposals to the council are clerks' acts through the API).
6. The end: `end_convention` ends it `completed` (returns `completed`).

Every wait ends early on the `cancel(reason)` signal: `cancel_convention` ends the convention
`cancelled` with the reason, and the workflow ends (returns `cancelled`). The relay sends it
when a clerk's cancellation is stored; sent directly, the workflow records the cancellation
itself (the command is idempotent: either way one `Ended`). A cancellation recorded before its
signal arrives makes the next activity refuse with rule `convention.ended` (its details: the
outcome), and the workflow ends with that outcome. A cancel arriving once the end has started
is ignored.

Every stage change is an idempotent activity, so a workflow restarted on a convention that has
moved on catches up without recording anything twice (a seed already revealed is not waited
for again); time comes from `workflow.now()`, all I/O happens in activities.

Version: this is v1, the first frozen baseline; its recorded histories are
tests/data/histories/convention-v1-*.json. From now on every change goes through
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
    from workflows.convention_activities import (
        AWAITING_SECRET,
        COMMITTED,
        ENDED_RULE,
        CancelInput,
        ConventionActivities,
        ConventionAt,
        PoolOutcome,
    )

WORKFLOW_ID_PREFIX = "convention-"

T = TypeVar("T")

ACTIVITY_TIMEOUT = timedelta(seconds=60)
# The commitment runs the solver over the whole pool (leximin over thousands of volunteers
# takes minutes with HiGHS).
COMMIT_TIMEOUT = timedelta(minutes=15)
# Domain errors are raised as non-retryable ApplicationErrors by the activities;
# anything else (database restart, network) is retried with backoff.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# Awaiting the guarantor's secret: the commitment is retried on the `seed_committed` signal,
# or after this long should the signal never come.
SECRET_RECHECK = timedelta(hours=6)


def workflow_id(convention_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{convention_id}"


@dataclass
class ConventionInput:
    convention_id: str


@dataclass
class ConventionStatus:
    """What `get_stage` answers: the stage (`registration`, `committed`, `acceptance`,
    `sitting`, `ended`); the deadline the workflow waits for (ISO 8601; none while an activity
    runs, while it awaits the guarantor's secret or a late seed, and once it has ended); what
    it awaits besides a deadline (`secret`: the guarantor's committed secret, `seed`: the
    seed's reveal); `late` once the seed's deadline has passed without it; and the end once
    ended (`completed`, `failed`, `cancelled`)."""

    stage: str
    deadline: str | None
    outcome: str | None
    awaiting: str | None = None
    late: bool = False


class _Ended(Exception):
    """The convention ended (its pool failed, or it was cancelled): the workflow ends with its
    outcome, without another stage."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _refused_for(e: ActivityError, rule: str) -> bool:
    return isinstance(e.cause, ApplicationError) and e.cause.type == rule


@workflow.defn
class ConventionWorkflow:
    """Drives one convention through registration, the pool's commitment, the seed's reveal,
    the draw, acceptance and the sitting, to the end of its term.

    It waits on durable timers (the end of registration, of acceptance, of the term), on the
    signal `seed_committed` while the guarantor's secret is missing, and on the signal
    `seed_revealed` (until `reveal_by`, then without a deadline); every wait ends early on the
    `cancel(reason)` signal.
    """

    @workflow.init
    def __init__(self, input: ConventionInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = ConventionStatus(stage="registration", deadline=None, outcome=None)
        self._cancel_reason: str | None = None
        self._ending = False
        self._secret_signalled = False
        self._seed_revealed = False

    @workflow.run
    async def run(self, input: ConventionInput) -> str:
        try:
            outcome = await self._course(input.convention_id)
        except _Ended as ended:
            outcome = ended.outcome
        self._status = ConventionStatus("ended", None, outcome)
        return outcome

    async def _course(self, convention_id: str) -> str:
        schedule = await self._act(ConventionActivities.convention_schedule,
                                   self._at(convention_id))
        await self._wait_until(convention_id, "registration", schedule.registration_closes_at)

        pool = await self._commit_pool(convention_id)
        if pool.outcome != COMMITTED:
            raise _Ended(pool.outcome)  # `failed`: the convention has ended
        assert pool.reveal_by is not None
        if not pool.revealed:
            await self._await_seed(convention_id, pool.reveal_by)

        self._status = ConventionStatus("committed", None, None)
        panel = await self._act(ConventionActivities.draw_convention_panel,
                                self._at(convention_id))
        await self._wait_until(convention_id, "acceptance", panel.acceptance_closes_at)

        term_ends_at = await self._act(ConventionActivities.open_convention_sitting,
                                       self._at(convention_id))
        await self._wait_until(convention_id, "sitting", term_ends_at)

        self._status = ConventionStatus("sitting", None, None)
        self._ending = True
        return await self._act(ConventionActivities.end_convention, self._at(convention_id))

    async def _commit_pool(self, convention_id: str) -> PoolOutcome:
        """Commit the pool, waiting for the guarantor's secret as long as it is missing."""
        while True:
            self._status = ConventionStatus("registration", None, None)
            # Cleared before each attempt: a signal arriving during it is for a secret the
            # attempt may have missed, and makes the next wait end at once.
            self._secret_signalled = False
            pool = await self._act(ConventionActivities.commit_convention_pool,
                                   self._at(convention_id), timeout=COMMIT_TIMEOUT)
            if pool.outcome != AWAITING_SECRET:
                return pool
            self._status = ConventionStatus("registration", None, None, awaiting="secret")
            try:
                await workflow.wait_condition(
                    lambda: self._secret_signalled or self._cancel_reason is not None,
                    timeout=SECRET_RECHECK)
            except asyncio.TimeoutError:
                pass
            await self._cancel_if_asked(convention_id)

    async def _await_seed(self, convention_id: str, reveal_by: str) -> None:
        """Wait for the seed until `reveal_by`, then on without a deadline (late)."""
        self._status = ConventionStatus("committed", reveal_by, None, awaiting="seed")
        remaining = datetime.fromisoformat(reveal_by) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._seed_revealed or self._cancel_reason is not None,
                    timeout=remaining)
            except asyncio.TimeoutError:
                pass
        if not self._seed_revealed and self._cancel_reason is None:
            # Late: nothing to record (the compliance check reads the lateness from the log).
            self._status = ConventionStatus("committed", None, None, awaiting="seed",
                                            late=True)
            await workflow.wait_condition(
                lambda: self._seed_revealed or self._cancel_reason is not None)
        await self._cancel_if_asked(convention_id)

    # -- signals and queries ------------------------------------------------------------

    @workflow.signal
    def seed_committed(self, position: int) -> None:
        """The guarantor's secret was committed (stored at this log position)."""
        self._secret_signalled = True

    @workflow.signal
    def seed_revealed(self, position: int) -> None:
        """The seed was revealed (stored at this log position): the panel can be drawn."""
        self._seed_revealed = True

    @workflow.signal
    def cancel(self, reason: str) -> None:
        """Cancel the convention with this reason (a clerk's; blank reasons and a cancel once
        the end has started are ignored: the domain would refuse them)."""
        if self._cancel_reason is None and not self._ending and reason.strip():
            self._cancel_reason = reason

    @workflow.query
    def get_stage(self) -> ConventionStatus:
        return self._status

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _at(convention_id: str) -> ConventionAt:
        return ConventionAt(convention_id, workflow.now().isoformat())

    async def _act(self, activity: Callable[[Any, Any], T], arg: object,
                   timeout: timedelta = ACTIVITY_TIMEOUT) -> T:
        """Run one activity method (its name and result type come from its definition)."""
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=timeout, retry_policy=ACTIVITY_RETRY)
        except ActivityError as e:
            # Ended in the log before the signal arrived: the domain refused the stage.
            if _refused_for(e, ENDED_RULE):
                assert isinstance(e.cause, ApplicationError)
                details = e.cause.details
                raise _Ended(str(details[0]) if details and details[0] else "cancelled"
                             ) from None
            raise

    async def _cancel_if_asked(self, convention_id: str) -> None:
        if self._cancel_reason is not None:
            outcome = await self._act(ConventionActivities.cancel_convention, CancelInput(
                convention_id, workflow.now().isoformat(), self._cancel_reason))
            raise _Ended(outcome)

    async def _wait_until(self, convention_id: str, stage: str, deadline: str) -> None:
        """In `stage`, wait for its deadline unless the convention is cancelled first."""
        self._status = ConventionStatus(stage, deadline, None)
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._cancel_reason is not None,
                                              timeout=remaining)
            except asyncio.TimeoutError:
                pass
        await self._cancel_if_asked(convention_id)
