"""`ProposalWorkflow`: one per proposal (id `proposal-<uuid>`), driving its deliberation.

The process: when the charter asks for it, open the clerk's admissibility review and wait
until the clerk rules (a signal from the relay) or the deadline passes (admissible by default);
an inadmissible proposal ends there → open the public consultation → wait on a durable timer
until the consultation's deadline (its length comes from the charter version pinned when the
proposal was submitted) → when the charter has one, the deliberation (councillors table
amendments and vote on each; closing it decides them) → when the guarantor required a public
consultation and none has been held since, open it and wait it out → open the council's
roll-call ballot → wait on a timer until the ballot's deadline → close the ballot (its log
position is the tally's cut-off) → count and record the decision → after an adoption, when the
charter grants mayors a veto over the concerned communes, wait out the veto window (or until the
council's override is carried whatever the votes to come) and record the final outcome → after
the final adoption, when the charter schedules evaluations, implementation, the evaluation steps
at the charter's times, and closing. Until the vote opens, every wait ends early when the author
withdraws (the workflow then ends `withdrawn`).

Council members' votes (and override votes) go straight to the event store (D3), never
through this workflow; domain facts it must react to arrive as signals from the relay (D4).
Every stage change is an idempotent activity, so a retry never records a second event. The
code here must stay deterministic: time comes from `workflow.now()`, all I/O happens in
activities.

Version: this is v1, the first frozen baseline (nothing earlier was ever deployed); its
recorded histories are tests/data/histories/proposal-v1-*.json. From now on every change goes
through `workflow.patched` with a recorded history and a replay test
(tests/workflows/test_replay.py).
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

# Activities and the stage enum are passed through the sandbox: they are not workflow code,
# and re-importing the domain application in every workflow run would only cost time.
with workflow.unsafe.imports_passed_through():
    from domain.deliberation.stages import Stage
    from workflows.activities import (
        DecideInput,
        EvaluationInput,
        ProposalActivities,
        StageInput,
        StageResult,
    )

WORKFLOW_ID_PREFIX = "proposal-"

T = TypeVar("T")


def workflow_id(proposal_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{proposal_id}"


@dataclass
class ProposalInput:
    proposal_id: str


@dataclass
class ProposalStatus:
    stage: Stage
    closes_at: str | None
    outcome: str | None


ACTIVITY_TIMEOUT = timedelta(seconds=60)
# Domain errors are raised as non-retryable ApplicationErrors by the activities;
# anything else (database restart, network) is retried with backoff.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


class _Withdrawn(Exception):
    """The proposal was withdrawn: the workflow ends without another stage."""


def _refused_for(e: ActivityError, rule: str) -> bool:
    """Whether the activity failed because the domain refused it for `rule`."""
    return isinstance(e.cause, ApplicationError) and e.cause.type == rule


@workflow.defn
class ProposalWorkflow:
    """Drives one proposal from submission to its decision (and, once adopted, through
    implementation and evaluation to closing) on the pinned charter's deadlines.

    It waits on durable timers (admissibility review, consultation, deliberation, the
    guarantor's required consultation, ballot, the mayors' veto window after an adoption, the
    evaluation steps) and on signals from the relay: `withdrawn` ends every wait before the vote
    (the workflow ends `withdrawn`), `admissibility_ruled` ends the review early,
    `override_carried` ends the veto window early (the override is counted when the window
    closes). `veto_filed` only updates what `get_veto_position` reports.
    """

    @workflow.init
    def __init__(self, input: ProposalInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = ProposalStatus(stage=Stage.SUBMITTED, closes_at=None, outcome=None)
        self._seen_positions: set[int] = set()
        self._withdrawn = False
        self._veto_position: int | None = None
        self._admissibility_ruled = False
        self._override_carried = False

    @workflow.run
    async def run(self, input: ProposalInput) -> str:
        try:
            return await self._deliberate(input.proposal_id)
        except _Withdrawn:
            self._status = ProposalStatus(Stage.WITHDRAWN, None, "withdrawn")
            return "withdrawn"

    async def _deliberate(self, proposal_id: str) -> str:
        review = await self._act(ProposalActivities.open_admissibility, self._at(proposal_id))
        if review is not None:
            self._status = ProposalStatus(Stage.ADMISSIBILITY, review.closes_at, None)
            await self._wait_until(review.closes_at, lambda: self._admissibility_ruled)
            verdict = await self._act(ProposalActivities.conclude_admissibility,
                                      self._at(proposal_id))
            if verdict == Stage.INADMISSIBLE:
                self._status = ProposalStatus(Stage.INADMISSIBLE, None, "inadmissible")
                return "inadmissible"

        consultation = await self._act(ProposalActivities.open_consultation,
                                       self._at(proposal_id))
        self._status = ProposalStatus(Stage.CONSULTATION, consultation.closes_at, None)
        await self._wait_until(consultation.closes_at)

        deliberation = await self._act(ProposalActivities.open_deliberation,
                                       self._at(proposal_id))
        if deliberation is not None:
            self._status = ProposalStatus(Stage.DELIBERATION, deliberation.closes_at, None)
            await self._wait_until(deliberation.closes_at)
            await self._act(ProposalActivities.close_deliberation, self._at(proposal_id))

        vote = await self._open_vote(proposal_id)
        self._status = ProposalStatus(Stage.VOTE, vote.closes_at, None)
        await self._sleep_until(vote.closes_at)

        cutoff = await self._act(ProposalActivities.close_ballot, self._at(proposal_id))
        self._status = ProposalStatus(Stage.COUNTING, None, None)
        outcome = await self._act(ProposalActivities.decide,
                                  DecideInput(proposal_id, vote.position, cutoff))
        self._status = ProposalStatus(Stage.DECIDED, None, outcome)

        if outcome == "adopted":
            outcome = await self._veto_window(proposal_id, outcome)
        if outcome == "adopted":
            await self._evaluate(proposal_id, outcome)
        return outcome

    async def _open_vote(self, proposal_id: str) -> StageResult:
        """Open the council's ballot, after any public consultation the guarantor required:
        such a consultation opens and is waited out first; a requirement recorded just before
        the vote refuses its opening, and the loop holds the consultation it requires."""
        while True:
            required = await self._act(ProposalActivities.open_required_consultation,
                                       self._at(proposal_id))
            if required is not None:
                self._status = ProposalStatus(Stage.CONSULTATION, required.closes_at, None)
                await self._wait_until(required.closes_at)
                continue
            try:
                return await self._act(ProposalActivities.open_vote, self._at(proposal_id))
            except ActivityError as e:
                if not _refused_for(e, "guarantor.consultation"):
                    raise

    async def _veto_window(self, proposal_id: str, outcome: str) -> str:
        """When a veto applies, wait out the window (or until the override is carried) and
        return the final outcome; else the adoption stands."""
        window = await self._act(ProposalActivities.open_veto_window, self._at(proposal_id))
        if window is None:
            return outcome
        self._status = ProposalStatus(Stage.VETO_WINDOW, window.closes_at, None)
        await self._wait_until(window.closes_at, lambda: self._override_carried)
        try:
            outcome = await self._act(ProposalActivities.close_veto_window,
                                      self._at(proposal_id))
        except ActivityError as e:
            # Refused early (the override not carried after all): the term decides.
            if not _refused_for(e, "wrong_stage"):
                raise
            await self._sleep_until(window.closes_at)
            outcome = await self._act(ProposalActivities.close_veto_window,
                                      self._at(proposal_id))
        self._status = ProposalStatus(Stage.DECIDED, None, outcome)
        return outcome

    async def _evaluate(self, proposal_id: str, outcome: str) -> None:
        """Implementation, the evaluation steps at the charter's times, then closing, when
        the charter schedules evaluations."""
        plan = await self._act(ProposalActivities.open_implementation, self._at(proposal_id))
        if plan is None:
            return
        *steps, closes_at = plan
        self._status = ProposalStatus(Stage.IMPLEMENTATION, steps[0], outcome)
        for step, at in enumerate(steps, start=1):
            await self._sleep_until(at)
            await self._act(ProposalActivities.open_evaluation,
                            EvaluationInput(proposal_id, step, workflow.now().isoformat()))
            following = steps[step] if step < len(steps) else closes_at
            self._status = ProposalStatus(Stage.EVALUATION, following, outcome)
        await self._sleep_until(closes_at)
        await self._act(ProposalActivities.close_process, self._at(proposal_id))
        self._status = ProposalStatus(Stage.CLOSED, None, outcome)

    @workflow.signal
    def withdrawn(self, position: int) -> None:
        """The relay saw the proposal's withdrawal at log `position`."""
        if position not in self._seen_positions:
            self._seen_positions.add(position)
            self._withdrawn = True

    @workflow.signal
    def admissibility_ruled(self, position: int) -> None:
        """The relay saw a clerk's admissibility ruling at log `position`."""
        if position not in self._seen_positions:
            self._seen_positions.add(position)
            self._admissibility_ruled = True

    @workflow.signal
    def veto_filed(self, position: int) -> None:
        """The relay saw a mayor's veto at log `position`."""
        if position not in self._seen_positions:
            self._seen_positions.add(position)
            self._veto_position = position

    @workflow.signal
    def override_carried(self, position: int) -> None:
        """The relay saw the vote at log `position` carry the override of a veto whatever the
        votes to come: the window closes now."""
        if position not in self._seen_positions:
            self._seen_positions.add(position)
            self._override_carried = True

    @workflow.query
    def get_status(self) -> ProposalStatus:
        return self._status

    @workflow.query
    def get_veto_position(self) -> int | None:
        return self._veto_position

    @staticmethod
    def _at(proposal_id: str) -> StageInput:
        return StageInput(proposal_id, workflow.now().isoformat())

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        """Run one activity method (its name and result type come from its definition)."""
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY)
        except ActivityError as e:
            # Withdrawn before the signal arrived: the domain refused the next stage.
            if _refused_for(e, "proposal_withdrawn"):
                raise _Withdrawn from None
            raise

    async def _wait_until(self, deadline: str,
                          done: Callable[[], bool] = lambda: False) -> None:
        """Wait for the deadline, unless the proposal is withdrawn or `done()` first."""
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._withdrawn or done(),
                                              timeout=remaining)
            except asyncio.TimeoutError:
                pass
        if self._withdrawn:
            raise _Withdrawn

    async def _sleep_until(self, deadline: str) -> None:
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining)
