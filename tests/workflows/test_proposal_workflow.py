"""ProposalWorkflow on the Temporal time-skipping server, its activities on a real PostgreSQL.

Timers of weeks pass in moments: the test server skips time while the workflow only waits.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from api.wiring import build_worker, make_registre
from domain.application import Registre
from domain.rules import CharterRules
from domain.proposal import Proposal
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

pytestmark = pytest.mark.integration

DAY = 86400


@dataclass
class Deliberation:
    env: WorkflowEnvironment
    app: Registre
    task_queue: str
    handles: list[WorkflowHandle] = field(default_factory=list)

    def found(self, members: int = 7, quorum: int = 50, majority: str = "simple") -> uuid.UUID:
        return self.app.found_metropolis(
            f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
            [{"code": "A", "name": "Ville A", "population": 1000}],
            [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
             for i in range(1, members + 1)],
            CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY,
                         quorum_percent=quorum, majority=majority),
        )

    async def start(self, metropolis_id: uuid.UUID) -> tuple[uuid.UUID, WorkflowHandle]:
        pid, _ = self.app.submit_proposal(metropolis_id, "citoyen-1", "Titre", "Résumé")
        handle = await self.env.client.start_workflow(
            ProposalWorkflow.run, ProposalInput(str(pid)), id=workflow_id(str(pid)),
            task_queue=self.task_queue,
        )
        self.handles.append(handle)
        return pid, handle


@pytest_asyncio.fixture
async def deliberation(temporal_env: WorkflowEnvironment,
                       settings: Settings) -> AsyncIterator[Deliberation]:
    app = make_registre(settings)
    task_queue = f"test-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with build_worker(temporal_env.client, app, task_queue, executor):
            deliberation = Deliberation(temporal_env, app, task_queue)
            yield deliberation
            # The time-skipping server skips time only when no work is pending anywhere:
            # a workflow left running without its worker would freeze time for later tests.
            for handle in deliberation.handles:
                with contextlib.suppress(RPCError):
                    await handle.terminate("test finished")
    app.close()


async def test_thirty_day_consultation_advances_to_the_vote_by_itself_when_time_passes(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await deliberation.env.sleep(timedelta(days=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "consultation"
    await deliberation.env.sleep(timedelta(days=30))
    status = await handle.query(ProposalWorkflow.get_status)
    assert status.stage == "vote"
    assert deliberation.app.get_proposal(pid).stage == "vote"


@pytest.mark.parametrize(
    ("votes", "outcome", "cause"),
    [
        (["for", "for", "against"], "rejected", "quorum_not_met"),  # 3 of 7 < 50 %
        (["for", "for", "against", "against"], "rejected", "tie"),
        (["for", "for", "for", "against"], "adopted", "majority_carried"),
        (["for", "against", "against", "abstain"], "rejected", "majority_not_reached"),
    ],
    ids=["quorum-missed", "tie", "majority", "minority"],
)
async def test_decides_from_the_votes_cast_when_the_ballot_deadline_passes(
    deliberation: Deliberation, votes: list[str], outcome: str, cause: str,
) -> None:
    pid, handle = await deliberation.start(deliberation.found(members=7))
    await deliberation.env.sleep(timedelta(days=30, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    for i, choice in enumerate(votes, start=1):
        deliberation.app.cast_vote(pid, f"m{i}", choice)

    assert await handle.result() == outcome  # skips the 14-day ballot

    decided = list(deliberation.app.events.get(pid))[-1]
    assert isinstance(decided, Proposal.Decided)
    assert (decided.outcome, decided.cause, decided.members) == (outcome, cause, 7)
    assert decided.yes == votes.count("for") and decided.no == votes.count("against")
    assert decided.charter_version == 1
    assert (await handle.query(ProposalWorkflow.get_status)).outcome == outcome


async def test_records_each_stage_once_when_the_workflow_completes(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await handle.result()
    kinds = [type(e).__name__ for e in deliberation.app.events.get(pid)]
    assert kinds == ["Submitted", "ConsultationOpened", "VoteOpened", "BallotClosed", "Decided"]


async def test_applies_the_pinned_charter_when_amended_during_the_consultation(
    deliberation: Deliberation,
) -> None:
    mid = deliberation.found(members=4, quorum=50)
    pid, handle = await deliberation.start(mid)
    await deliberation.env.sleep(timedelta(days=1))
    deliberation.app.amend_charter(mid, CharterRules(consultation_seconds=DAY, vote_seconds=DAY,
                                                     quorum_percent=100))
    await deliberation.env.sleep(timedelta(days=30))
    deliberation.app.cast_vote(pid, "m1", "for")
    deliberation.app.cast_vote(pid, "m2", "for")
    # Under v2 (quorum 100 %) this would fail; v1 (50 %) pinned at submission carries it.
    assert await handle.result() == "adopted"
