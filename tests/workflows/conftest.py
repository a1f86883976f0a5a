"""The deliberation harness of the workflow tests: the time-skipping server, a worker whose
activities run on a real PostgreSQL, and builders."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from api.wiring import build_worker, make_registre
from domain.application import Registre
from domain.rules.charter import CharterRules
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

DAY = 86400


@dataclass
class Deliberation:
    env: WorkflowEnvironment
    app: Registre
    task_queue: str
    handles: list[WorkflowHandle] = field(default_factory=list)

    def found(self, members: int = 7, quorum: int = 50, majority: str = "simple",
              **rules: Any) -> uuid.UUID:
        """m1 is the mayor of commune A; the other members are councillors."""
        return self.app.found_metropolis(
            f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
            [{"code": "A", "name": "Ville A", "population": 1000}],
            [{"ref": f"m{i}", "name": f"Membre {i}", "role": "mayor" if i == 1 else "councillor",
              "commune": "A"} for i in range(1, members + 1)],
            CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY,
                         quorum_percent=quorum, majority=majority, **rules),
        )

    async def start(self, metropolis_id: uuid.UUID,
                    communes: tuple[str, ...] = ()) -> tuple[uuid.UUID, WorkflowHandle]:
        pid, _ = self.app.submit_proposal(metropolis_id, "citoyen-1", "Titre", "Résumé",
                                          communes)
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


