"""The relay and participatory budgets (real PostgreSQL, the Temporal test server): one
`BudgetCycleWorkflow` per opened cycle, exactly once across relay restarts, none for a cycle
imported from a Pabulib file; a clerk's cancellation stored in the log is signalled to the
workflow, which ends `cancelled` with one `Closed` in the log."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import pytest_asyncio
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.embedded import venv_binary
from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env, make_relay_tracking
from domain.application import Registre
from domain.budget.cycle import BudgetCycle
from domain.rules.charter import CharterRules
from projections.followers import dead_letters
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from workflows.budget import BudgetCycleWorkflow, workflow_id
from workflows.relay import RELAY_NAME, Relay

pytestmark = pytest.mark.integration

DAY = 86400


@pytest_asyncio.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    # A server of this module's tests' own: workflows left at their first task (no worker)
    # stop time skipping.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"))
    try:
        yield env
    finally:
        with contextlib.suppress(Exception):
            await env.shutdown()


class EnvClock:
    """The domain's clock, set from the test server's virtual clock."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def registre(settings: Settings, clock: EnvClock) -> Registre:
    return Registre(env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
                    personal_data=lambda recorder: postgres_personal_data(recorder.datastore))


def founded(app: Registre) -> uuid.UUID:
    return app.found_metropolis(
        f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     budget={"submission_seconds": 10 * DAY}))


def opened(app: Registre, mid: uuid.UUID, source: str = "registre") -> uuid.UUID:
    cid, _ = app.open_budget_cycle(mid, "greffe", "Budget", {"metropolis": 1000},
                                   source=source)
    return cid


async def run_of(env: WorkflowEnvironment, cid: uuid.UUID) -> str:
    description = await env.client.get_workflow_handle(workflow_id(str(cid))).describe()
    assert description.workflow_type == "BudgetCycleWorkflow"
    return description.run_id


async def terminate(env: WorkflowEnvironment, *cids: uuid.UUID) -> None:
    for cid in cids:
        with contextlib.suppress(RPCError):
            await env.client.get_workflow_handle(workflow_id(str(cid))).terminate()


async def test_starts_one_workflow_per_cycle_and_none_for_a_pabulib_import_when_relayed_twice(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    mid = founded(app)
    cids = [opened(app, mid) for _ in range(2)]
    imported = opened(app, mid, source=f"pabulib:{'0' * 64}")
    app.close_budget_cycle(imported, app.clock(), outcome="cancelled", reason="Import.")
    # No worker: the workflows stay at their first task (hence a server of this test's own).
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    try:
        assert await relay.run_once() == 4  # three openings, the import's closing
        assert await relay.run_once() == 0  # tracked: nothing relayed again
        first_runs = [await run_of(temporal_env, cid) for cid in cids]

        # Tracking lost (a crash between the start and the tracking write): the repeated
        # starts find the workflows already running.
        forgetful = Relay(app, make_relay_tracking(settings), temporal_env.client,
                          settings.task_queue)
        for cid in cids:
            await forgetful.start_budget_workflow(str(cid))
        assert [await run_of(temporal_env, cid) for cid in cids] == first_runs

        with pytest.raises(RPCError) as raised:
            await run_of(temporal_env, imported)
        assert raised.value.status == RPCStatusCode.NOT_FOUND
        assert dead_letters(make_relay_tracking(settings).datastore, RELAY_NAME) == []
    finally:
        await terminate(temporal_env, *cids)
        app.close()


async def test_a_clerk_s_cancellation_in_the_log_is_signalled_and_ends_the_workflow(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    clock = EnvClock()
    app = registre(settings, clock)
    clock.now = await temporal_env.get_current_time()
    cid = opened(app, founded(app))
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    handle = temporal_env.client.get_workflow_handle(workflow_id(str(cid)))
    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with build_worker(temporal_env.client, app, settings.task_queue, executor):
                assert await relay.run_once() == 1  # started on the opening
                for _ in range(1200):
                    status = await handle.query(BudgetCycleWorkflow.get_stage)
                    if status.deadline is not None:
                        break
                    await asyncio.sleep(0.025)
                assert status.stage == "submission"
                app.close_budget_cycle(cid, clock(), outcome="cancelled",
                                       reason="Budget retiré par le conseil.")
                assert await relay.run_once() == 1  # the cancellation, signalled
                assert await handle.result() == "cancelled"
                assert await relay.run_once() == 0
        history = await handle.fetch_history()
        signalled = [e.workflow_execution_signaled_event_attributes.signal_name
                     for e in history.events
                     if e.HasField("workflow_execution_signaled_event_attributes")]
        assert signalled == ["cancel"]
        closed = [e for e in app.events.get(cid) if isinstance(e, BudgetCycle.Closed)]
        assert [(e.outcome, e.reason) for e in closed] == [
            ("cancelled", "Budget retiré par le conseil.")]
        # No timer fired: the signal, not the submission's end, ended the wait.
        assert not [e for e in history.events if e.HasField("timer_fired_event_attributes")]
    finally:
        await terminate(temporal_env, cid)
        app.close()
