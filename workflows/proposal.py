"""`ProposalWorkflow`: one per proposal (id `proposal-<uuid>`), driving its deliberation.

The process: when the charter asks for it, open the clerk's admissibility review and wait
until the clerk rules (a signal from the relay) or the deadline passes (admissible by default);
an inadmissible proposal ends there → open the public consultation → wait on a durable timer until the consultation's
deadline (its length comes from the charter version pinned when the proposal was submitted),
unless the author withdraws → when the charter has one, the deliberation (councillors table
amendments and vote on each; closing it decides them) → when the guarantor required a public
consultation and none has been held since, open it and wait it out → open the council's
roll-call ballot → wait on a timer until the
ballot's deadline → close the ballot (its log position is the tally's cut-off) → count and
record the decision → after an adoption, when the charter grants mayors a veto over the
concerned communes, wait out the veto window (or until the council's override is carried
whatever the votes to come) and record the final outcome.

Council members' votes (and override votes) go straight to the event store (D3), never
through this workflow; domain facts it must react to arrive as signals from the relay (D4). Every stage change is an idempotent activity, so a retry never
records a second event. The code here must stay deterministic: time comes from
`workflow.now()`, all I/O happens in activities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

WORKFLOW_ID_PREFIX = "proposal-"


def workflow_id(proposal_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{proposal_id}"


@dataclass
class ProposalInput:
    proposal_id: str


# Times cross the workflow boundary as ISO 8601 strings: inside the workflow sandbox
# `datetime.datetime` is a proxied class that the payload converter cannot rebuild.


@dataclass
class StageInput:
    proposal_id: str
    at: str


@dataclass
class StageResult:
    stage: str
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


@dataclass
class ProposalStatus:
    stage: str
    closes_at: str | None
    outcome: str | None


ACTIVITY_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=60),
    # Domain errors are raised as non-retryable ApplicationErrors by the activities;
    # anything else (database restart, network) is retried with backoff.
    "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30)),
}


class _Withdrawn(Exception):
    """The proposal was withdrawn: the workflow ends without another stage."""


@workflow.defn
class ProposalWorkflow:
    """Drives one proposal from submission to its decision (and, once adopted, through
    implementation and evaluation to closing) on the pinned charter's deadlines.

    It waits on durable timers (admissibility review, consultation, deliberation, ballot, the
    mayors' veto window after an adoption, the evaluation steps) and on signals from the relay:
    `withdrawn` ends it early, `admissibility_ruled` ends the review early, `override_carried`
    ends the veto window early (the override is counted when the window closes). `veto_filed`
    only updates what `get_veto_position` reports.
    Changes to this code reach running workflows through `workflow.patched`:
    `withdrawal-signal` (timers that a withdrawal interrupts), `veto-window`, `evaluation`
    (implementation, then the evaluation steps at the charter's times after adoption, then
    closing), `admissibility`, `deliberation`, `withdrawal-in-deliberation` (a withdrawal
    ends the deliberation's wait), `guarantor-consultation` (before the vote,
    the public consultation the guarantor required, when the charter's was already held) and
    `override-carried` (the veto window ends when the override is carried).
    """

    @workflow.init
    def __init__(self, input: ProposalInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = ProposalStatus(stage="submitted", closes_at=None, outcome=None)
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
            self._status = ProposalStatus("withdrawn", None, "withdrawn")
            return "withdrawn"

    async def _deliberate(self, proposal_id: str) -> str:
        if workflow.patched("admissibility"):
            review: StageResult | None = await self._act(
                "open_admissibility", StageInput(proposal_id, workflow.now().isoformat()),
                Optional[StageResult])  # noqa: UP007 - a runtime type for the converter
            if review is not None:
                self._status = ProposalStatus("admissibility", review.closes_at, None)
                await self._wait_until(review.closes_at, lambda: self._admissibility_ruled)
                verdict: str = await self._act(
                    "conclude_admissibility",
                    StageInput(proposal_id, workflow.now().isoformat()), str)
                if verdict == "inadmissible":
                    self._status = ProposalStatus("inadmissible", None, "inadmissible")
                    return "inadmissible"

        consultation: StageResult = await self._act(
            "open_consultation", StageInput(proposal_id, workflow.now().isoformat()),
            StageResult)
        self._status = ProposalStatus("consultation", consultation.closes_at, None)
        await self._wait_until(consultation.closes_at)

        if workflow.patched("deliberation"):
            deliberation: StageResult | None = await self._act(
                "open_deliberation", StageInput(proposal_id, workflow.now().isoformat()),
                Optional[StageResult])  # noqa: UP007 - a runtime type for the converter
            if deliberation is not None:
                self._status = ProposalStatus("deliberation", deliberation.closes_at, None)
                if workflow.patched("withdrawal-in-deliberation"):
                    await self._wait_until(deliberation.closes_at)
                else:
                    await self._sleep_until(deliberation.closes_at)
                await self._act("close_deliberation",
                                StageInput(proposal_id, workflow.now().isoformat()), int)

        vote = await self._open_vote(proposal_id)
        self._status = ProposalStatus("vote", vote.closes_at, None)
        await self._sleep_until(vote.closes_at)

        cutoff: int = await self._act(
            "close_ballot", StageInput(proposal_id, workflow.now().isoformat()), int)
        self._status = ProposalStatus("counting", None, None)
        outcome: str = await self._act(
            "decide", DecideInput(proposal_id, vote.position, cutoff), str)
        self._status = ProposalStatus("decided", None, outcome)

        if outcome == "adopted" and workflow.patched("veto-window"):
            window: StageResult | None = await self._act(
                "open_veto_window", StageInput(proposal_id, workflow.now().isoformat()),
                Optional[StageResult])  # noqa: UP007 - a runtime type for the converter
            if window is not None:
                self._status = ProposalStatus("veto_window", window.closes_at, None)
                if workflow.patched("override-carried"):
                    await self._wait_until(window.closes_at, lambda: self._override_carried)
                    try:
                        outcome = await self._close_veto_window(proposal_id)
                    except ActivityError as e:
                        # Refused early (the override not carried after all): the term decides.
                        if not (isinstance(e.cause, ApplicationError)
                                and e.cause.type == "wrong_stage"):
                            raise
                        await self._sleep_until(window.closes_at)
                        outcome = await self._close_veto_window(proposal_id)
                else:
                    await self._sleep_until(window.closes_at)
                    outcome = await self._close_veto_window(proposal_id)
                self._status = ProposalStatus("decided", None, outcome)

        if outcome == "adopted" and workflow.patched("evaluation"):
            plan: list[str] | None = await self._act(
                "open_implementation", StageInput(proposal_id, workflow.now().isoformat()),
                Optional[list[str]])  # noqa: UP007 - a runtime type for the converter
            if plan is not None:
                *steps, closes_at = plan
                self._status = ProposalStatus("implementation", steps[0], outcome)
                for step, at in enumerate(steps, start=1):
                    await self._sleep_until(at)
                    await self._act("open_evaluation", EvaluationInput(
                        proposal_id, step, workflow.now().isoformat()), type(None))
                    following = steps[step] if step < len(steps) else closes_at
                    self._status = ProposalStatus("evaluation", following, outcome)
                await self._sleep_until(closes_at)
                await self._act("close_process",
                                StageInput(proposal_id, workflow.now().isoformat()), str)
                self._status = ProposalStatus("closed", None, outcome)
        return outcome

    async def _close_veto_window(self, proposal_id: str) -> str:
        return await self._act(  # type: ignore[return-value]
            "close_veto_window", StageInput(proposal_id, workflow.now().isoformat()), str)

    async def _open_vote(self, proposal_id: str) -> StageResult:
        """Open the council's ballot, after any public consultation the guarantor required
        (patch `guarantor-consultation`): such a consultation opens and is waited out first;
        a requirement recorded just before the vote refuses its opening, and the loop holds
        the consultation it requires."""
        while workflow.patched("guarantor-consultation"):
            required: StageResult | None = await self._act(
                "open_required_consultation",
                StageInput(proposal_id, workflow.now().isoformat()),
                Optional[StageResult])  # noqa: UP007 - a runtime type for the converter
            if required is not None:
                self._status = ProposalStatus("consultation", required.closes_at, None)
                await self._wait_until(required.closes_at)
                continue
            try:
                return await self._act("open_vote", StageInput(  # type: ignore[return-value]
                    proposal_id, workflow.now().isoformat()), StageResult)
            except ActivityError as e:
                if not (isinstance(e.cause, ApplicationError)
                        and e.cause.type == "guarantor.consultation"):
                    raise
        return await self._act(  # type: ignore[return-value]
            "open_vote", StageInput(proposal_id, workflow.now().isoformat()), StageResult)

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

    async def _act(self, name: str, arg: object, result_type: object) -> object:
        try:
            return await workflow.execute_activity(
                name, arg, result_type=result_type, **ACTIVITY_OPTIONS)  # type: ignore[call-overload]
        except ActivityError as e:
            # Withdrawn before the signal arrived: the domain refused the next stage.
            if isinstance(e.cause, ApplicationError) and e.cause.type == "proposal_withdrawn":
                raise _Withdrawn from None
            raise

    async def _wait_until(self, deadline: str,
                          done: Callable[[], bool] = lambda: False) -> None:
        """Wait for the deadline, unless the proposal is withdrawn or `done()` first."""
        if not workflow.patched("withdrawal-signal"):
            await self._sleep_until(deadline)
            return
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
