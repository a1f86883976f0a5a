"""`ProposalWorkflow`: one per proposal (id `proposal-<uuid>`), driving its deliberation.

The process: open the public consultation → wait on a durable timer until the consultation's
deadline (its length comes from the charter version pinned when the proposal was submitted) →
open the council's roll-call ballot → wait on a timer until the ballot's deadline → close the
ballot (its log position is the tally's cut-off) → count and record the decision.

It waits on nothing but those two timers: council members' votes go straight to the event store
(D3), never through this workflow. Every stage change is an idempotent activity, so a retry never
records a second event. The code here must stay deterministic: time comes from
`workflow.now()`, all I/O happens in activities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

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


@workflow.defn
class ProposalWorkflow:
    """Drives one proposal from consultation to decision on the pinned charter's deadlines."""

    @workflow.init
    def __init__(self, input: ProposalInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = ProposalStatus(stage="submitted", closes_at=None, outcome=None)

    @workflow.run
    async def run(self, input: ProposalInput) -> str:
        consultation: StageResult = await workflow.execute_activity(
            "open_consultation", StageInput(input.proposal_id, workflow.now().isoformat()),
            result_type=StageResult, **ACTIVITY_OPTIONS,
        )
        self._status = ProposalStatus("consultation", consultation.closes_at, None)
        await self._sleep_until(consultation.closes_at)

        vote: StageResult = await workflow.execute_activity(
            "open_vote", StageInput(input.proposal_id, workflow.now().isoformat()),
            result_type=StageResult, **ACTIVITY_OPTIONS,
        )
        self._status = ProposalStatus("vote", vote.closes_at, None)
        await self._sleep_until(vote.closes_at)

        cutoff: int = await workflow.execute_activity(
            "close_ballot", StageInput(input.proposal_id, workflow.now().isoformat()),
            result_type=int, **ACTIVITY_OPTIONS,
        )
        self._status = ProposalStatus("counting", None, None)
        outcome: str = await workflow.execute_activity(
            "decide", DecideInput(input.proposal_id, vote.position, cutoff),
            result_type=str, **ACTIVITY_OPTIONS,
        )
        self._status = ProposalStatus("decided", None, outcome)
        return outcome

    @workflow.query
    def get_status(self) -> ProposalStatus:
        return self._status

    async def _sleep_until(self, deadline: str) -> None:
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining)
