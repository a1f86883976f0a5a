"""ConventionWorkflow on the time-skipping server, its activities on a real PostgreSQL (the
brute-force `uniform_solver` computing the panel distribution): a convention run to the end of
its term with volunteers, the seed and a seat's acceptance given between the stages; a pool
that fails; a pool waiting for the guarantor's secret; a late seed still drawn from; cancelled
by signal at each wait; cancelled in the log before its signal; a workflow restarted on a
convention that moved on. The tests play the relay and the API: they record a fact in the
domain (and signal the workflow where the relay would).

The domain application's clock follows the test server's virtual clock (`EnvClock`)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env
from domain.application import Registre
from domain.convention.convention import Convention
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from tests.workflows.convention_harness import (
    SECRET,
    SECRET_DIGEST,
    EnvClock,
    found,
    open_convention,
    register_pool,
    uniform_solver,
)
from workflows.convention import (
    ConventionInput,
    ConventionStatus,
    ConventionWorkflow,
    workflow_id,
)

pytestmark = pytest.mark.integration

REASON = "Le conseil a retiré le mandat."


@dataclass
class Conventions:
    env: WorkflowEnvironment
    app: Registre
    clock: EnvClock
    task_queue: str
    metropolis_id: uuid.UUID
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def sync(self) -> None:
        self.clock.now = await self.env.get_current_time()

    async def open(self, secret: bool = True, feasible: bool = True,
                   ) -> tuple[uuid.UUID, WorkflowHandle]:
        """Open a convention and start its workflow (as the relay does on `Opened`); the
        guarantor commits their secret (unless `secret=False`), volunteers register."""
        await self.sync()
        cid = open_convention(self.app, self.metropolis_id)
        handle = await self.start(cid)
        if secret:
            self.app.commit_convention_seed(cid, "garant-1", SECRET_DIGEST)
        register_pool(self.app, cid, feasible=feasible)
        return cid, handle

    async def start(self, cid: uuid.UUID) -> WorkflowHandle:
        handle = await self.env.client.start_workflow(
            ConventionWorkflow.run, ConventionInput(str(cid)), id=workflow_id(str(cid)),
            task_queue=self.task_queue, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        self.handles.append(handle)
        return handle

    async def reach(self, handle: WorkflowHandle,
                    reached: Callable[[ConventionStatus], bool]) -> ConventionStatus:
        """Wait (a bounded number of polls) until the workflow's status is `reached` (the
        activity opening the wait has completed: a workflow terminated while an activity is
        pending would stop the server's time skipping)."""
        for _ in range(1200):
            status = await handle.query(ConventionWorkflow.get_stage)
            if reached(status):
                return status
            await asyncio.sleep(0.025)
        raise AssertionError(f"the workflow never reached the awaited status ({status})")

    async def waiting(self, handle: WorkflowHandle, stage: str) -> ConventionStatus:
        return await self.reach(handle, lambda s: s.stage == stage and s.deadline is not None)

    async def committed(self, handle: WorkflowHandle) -> ConventionStatus:
        """Past registration: the pool committed, the seed awaited until its deadline."""
        await self.waiting(handle, "registration")
        await self.env.sleep(timedelta(days=10, hours=1))
        return await self.reach(handle, lambda s: s.awaiting == "seed" and s.deadline)

    async def reveal(self, handle: WorkflowHandle, cid: uuid.UUID) -> None:
        await self.sync()
        position = self.app.reveal_convention_seed(cid, "garant-1", SECRET)
        await handle.signal(ConventionWorkflow.seed_revealed, position)

    async def acceptance(self, handle: WorkflowHandle, cid: uuid.UUID) -> None:
        await self.committed(handle)
        await self.reveal(handle, cid)
        await self.waiting(handle, "acceptance")

    async def sitting(self, handle: WorkflowHandle, cid: uuid.UUID) -> None:
        await self.acceptance(handle, cid)
        await self.env.sleep(timedelta(days=5, hours=1))
        await self.waiting(handle, "sitting")

    def kinds(self, cid: uuid.UUID) -> list[str]:
        return [type(e).__name__ for e in self.app.events.get(cid)]

    def convention(self, cid: uuid.UUID) -> Convention:
        return self.app.get_convention(cid)


@pytest_asyncio.fixture
async def conventions(temporal_env: WorkflowEnvironment,
                      settings: Settings) -> AsyncIterator[Conventions]:
    clock = EnvClock()
    app = Registre(env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
                   personal_data=lambda recorder: postgres_personal_data(recorder.datastore))
    mid = found(app)
    task_queue = f"test-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with build_worker(temporal_env.client, app, task_queue, executor,
                                solver=uniform_solver):
            conventions = Conventions(temporal_env, app, clock, task_queue, mid)
            yield conventions
            # A workflow left running without its worker would freeze the skipped time.
            for handle in conventions.handles:
                with contextlib.suppress(RPCError):
                    await handle.terminate("test finished")
    app.close()


def _timers_fired_after_the_last_signal(history: Any) -> list[Any]:
    signalled = max(e.event_id for e in history.events
                    if e.HasField("workflow_execution_signaled_event_attributes"))
    return [e for e in history.events
            if e.HasField("timer_fired_event_attributes") and e.event_id > signalled]


async def test_ends_completed_when_every_deadline_passes_with_the_seed_revealed_in_time(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open()
    status = await conventions.committed(handle)
    convention = conventions.convention(cid)
    assert status.deadline == convention.reveal_by.isoformat()  # type: ignore[union-attr]
    assert not status.late
    await conventions.reveal(handle, cid)
    await conventions.waiting(handle, "acceptance")
    panel = conventions.convention(cid).panel
    assert len(panel) == 4
    await conventions.sync()
    conventions.app.answer_convention_seat(cid, panel[0], True)

    assert await handle.result() == "completed"
    assert conventions.kinds(cid) == ["Opened", "SeedCommitted", "PoolCommitted",
                                      "SeedRevealed", "PanelDrawn", "SeatAccepted",
                                      "SittingOpened", "Ended"]
    convention = conventions.convention(cid)
    assert (convention.stage, convention.outcome) == ("ended", "completed")
    assert convention.members == panel
    status = await handle.query(ConventionWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("ended", "completed")


async def test_ends_failed_when_no_panel_of_the_pool_meets_the_quotas(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open(feasible=False)

    assert await handle.result() == "failed"
    assert conventions.kinds(cid) == ["Opened", "SeedCommitted", "PoolFailed", "Ended"]
    convention = conventions.convention(cid)
    assert convention.outcome == "failed"
    assert convention.failure is not None and convention.failure["rule"].startswith(
        "sortition.")
    status = await handle.query(ConventionWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("ended", "failed")


async def test_commits_the_pool_once_the_secret_is_signalled_when_it_was_missing_at_the_close(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open(secret=False)
    await conventions.waiting(handle, "registration")
    await conventions.env.sleep(timedelta(days=10, hours=1))
    await conventions.reach(handle, lambda s: s.awaiting == "secret")
    assert conventions.kinds(cid) == ["Opened"]  # nothing recorded while the secret is due
    await conventions.sync()
    position = conventions.app.commit_convention_seed(cid, "garant-1", SECRET_DIGEST)
    await handle.signal(ConventionWorkflow.seed_committed, position)
    await conventions.reach(handle, lambda s: s.awaiting == "seed" and s.deadline)
    assert conventions.kinds(cid) == ["Opened", "SeedCommitted", "PoolCommitted"]
    await conventions.reveal(handle, cid)
    assert await handle.result() == "completed"


async def test_draws_the_panel_when_the_seed_comes_after_its_deadline(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open()
    await conventions.committed(handle)
    await conventions.env.sleep(timedelta(days=2, hours=1))  # reveal_by passes
    status = await conventions.reach(handle, lambda s: s.late)
    assert (status.stage, status.deadline, status.awaiting) == ("committed", None, "seed")
    # Nothing recorded for the lateness: the compliance check reads it from the log.
    assert conventions.kinds(cid) == ["Opened", "SeedCommitted", "PoolCommitted"]
    await conventions.env.sleep(timedelta(days=30))  # still waiting, with no deadline
    await conventions.reveal(handle, cid)
    await conventions.waiting(handle, "acceptance")
    revealed = [e for e in conventions.app.events.get(cid)
                if isinstance(e, Convention.SeedRevealed)]
    assert revealed[0].at > conventions.convention(cid).reveal_by  # type: ignore[operator]

    assert await handle.result() == "completed"
    assert conventions.kinds(cid)[3:] == ["SeedRevealed", "PanelDrawn", "SittingOpened",
                                          "Ended"]


async def _to_registration(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.waiting(handle, "registration")


async def _to_secret(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.waiting(handle, "registration")
    await c.env.sleep(timedelta(days=10, hours=1))
    await c.reach(handle, lambda s: s.awaiting == "secret")


async def _to_seed(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.committed(handle)


async def _to_late_seed(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.committed(handle)
    await c.env.sleep(timedelta(days=2, hours=1))
    await c.reach(handle, lambda s: s.late)


async def _to_acceptance(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.acceptance(handle, cid)


async def _to_sitting(c: Conventions, handle: WorkflowHandle, cid: uuid.UUID) -> None:
    await c.sitting(handle, cid)


WAITS = {"registration": _to_registration, "secret": _to_secret, "seed": _to_seed,
         "late-seed": _to_late_seed, "acceptance": _to_acceptance, "sitting": _to_sitting}


@pytest.mark.parametrize("wait", WAITS)
async def test_cancel_signalled_ends_the_convention_cancelled_when_it_waits(
    conventions: Conventions, wait: str,
) -> None:
    cid, handle = await conventions.open(secret=wait != "secret")
    await WAITS[wait](conventions, handle, cid)
    kinds = conventions.kinds(cid)
    await handle.signal(ConventionWorkflow.cancel, REASON)

    assert await handle.result() == "cancelled"
    assert conventions.kinds(cid) == [*kinds, "Ended"]
    ended = [e for e in conventions.app.events.get(cid) if isinstance(e, Convention.Ended)]
    assert [(e.outcome, e.reason) for e in ended] == [("cancelled", REASON)]
    status = await handle.query(ConventionWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("ended", "cancelled")
    assert _timers_fired_after_the_last_signal(await handle.fetch_history()) == []


async def test_cancel_with_a_blank_reason_is_ignored_when_signalled(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open()
    await conventions.waiting(handle, "registration")
    await handle.signal(ConventionWorkflow.cancel, "  ")
    await conventions.committed(handle)
    await conventions.reveal(handle, cid)
    assert await handle.result() == "completed"


async def test_cancellation_recorded_before_its_signal_ends_it_at_the_next_activity(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open()
    await conventions.acceptance(handle, cid)
    await conventions.sync()
    conventions.app.end_convention(cid, conventions.clock(), outcome="cancelled",
                                   reason=REASON)  # its signal never comes
    assert await handle.result() == "cancelled"  # opening the sitting finds it ended
    assert conventions.kinds(cid)[-2:] == ["PanelDrawn", "Ended"]


async def test_a_restarted_workflow_catches_up_without_recording_twice_when_moved_on(
    conventions: Conventions,
) -> None:
    cid, handle = await conventions.open()
    await conventions.acceptance(handle, cid)
    await handle.terminate("worker lost")  # waiting on the acceptance's end
    restarted = await conventions.start(cid)  # a new run: the seed is not awaited again

    assert await restarted.result() == "completed"
    assert restarted.result_run_id != handle.result_run_id
    assert conventions.kinds(cid) == ["Opened", "SeedCommitted", "PoolCommitted",
                                      "SeedRevealed", "PanelDrawn", "SittingOpened", "Ended"]
