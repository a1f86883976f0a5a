"""The relay and citizens' conventions (real PostgreSQL, the Temporal test server): one
`ConventionWorkflow` per opened convention, exactly once across relay restarts; the guarantor's
secret committed after registration closed is signalled (`seed_committed`) and the pool is
committed, the revealed seed is signalled (`seed_revealed`) and the panel drawn; a clerk's
cancellation stored in the log is signalled (`cancel`) and ends the workflow with one `Ended`
in the log."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.embedded import venv_binary
from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env, make_relay_tracking
from domain.application import Registre
from domain.convention.convention import Convention
from projections.followers import dead_letters
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
from workflows.convention import ConventionStatus, ConventionWorkflow, workflow_id
from workflows.relay import RELAY_NAME, Relay

pytestmark = pytest.mark.integration


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


def registre(settings: Settings, clock: EnvClock) -> Registre:
    return Registre(env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
                    personal_data=lambda recorder: postgres_personal_data(recorder.datastore))


async def run_of(env: WorkflowEnvironment, cid: uuid.UUID) -> str:
    description = await env.client.get_workflow_handle(workflow_id(str(cid))).describe()
    assert description.workflow_type == "ConventionWorkflow"
    return description.run_id


async def terminate(env: WorkflowEnvironment, *cids: uuid.UUID) -> None:
    for cid in cids:
        with contextlib.suppress(RPCError):
            await env.client.get_workflow_handle(workflow_id(str(cid))).terminate()


async def reach(handle: WorkflowHandle,
                reached: Callable[[ConventionStatus], bool]) -> ConventionStatus:
    for _ in range(1200):
        status = await handle.query(ConventionWorkflow.get_stage)
        if reached(status):
            return status
        await asyncio.sleep(0.025)
    raise AssertionError(f"the workflow never reached the awaited status ({status})")


def signals_of(history: object) -> list[str]:
    return [e.workflow_execution_signaled_event_attributes.signal_name
            for e in history.events  # type: ignore[attr-defined]
            if e.HasField("workflow_execution_signaled_event_attributes")]


async def test_starts_one_workflow_per_convention_when_relayed_twice(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    mid = found(app)
    cids = [open_convention(app, mid) for _ in range(2)]
    # No worker: the workflows stay at their first task (hence a server of this test's own).
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    try:
        assert await relay.run_once() == 2
        assert await relay.run_once() == 0  # tracked: nothing relayed again
        first_runs = [await run_of(temporal_env, cid) for cid in cids]

        # Tracking lost (a crash between the start and the tracking write): the repeated
        # starts find the workflows already running.
        forgetful = Relay(app, make_relay_tracking(settings), temporal_env.client,
                          settings.task_queue)
        for cid in cids:
            await forgetful.start_convention_workflow(str(cid))
        assert [await run_of(temporal_env, cid) for cid in cids] == first_runs
        assert dead_letters(make_relay_tracking(settings).datastore, RELAY_NAME) == []
    finally:
        await terminate(temporal_env, *cids)
        app.close()


async def test_the_secret_the_seed_and_a_clerk_s_cancellation_in_the_log_are_signalled(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    clock = EnvClock()
    app = registre(settings, clock)
    clock.now = await temporal_env.get_current_time()
    cid = open_convention(app, found(app))
    register_pool(app, cid)
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    handle = temporal_env.client.get_workflow_handle(workflow_id(str(cid)))
    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with build_worker(temporal_env.client, app, settings.task_queue, executor,
                                    solver=uniform_solver):
                assert await relay.run_once() == 1  # started on the opening
                await reach(handle, lambda s: s.stage == "registration" and s.deadline)
                await temporal_env.sleep(timedelta(days=10, hours=1))
                await reach(handle, lambda s: s.awaiting == "secret")

                clock.now = await temporal_env.get_current_time()
                app.commit_convention_seed(cid, "garant-1", SECRET_DIGEST)
                assert await relay.run_once() == 1  # the secret, signalled: the pool commits
                await reach(handle, lambda s: s.awaiting == "seed" and s.deadline)
                assert app.get_convention(cid).commitment is not None

                clock.now = await temporal_env.get_current_time()
                app.reveal_convention_seed(cid, "garant-1", SECRET)
                assert await relay.run_once() == 1  # the seed, signalled: the panel is drawn
                await reach(handle, lambda s: s.stage == "acceptance" and s.deadline)
                assert len(app.get_convention(cid).panel) == 4

                clock.now = await temporal_env.get_current_time()
                app.end_convention(cid, clock(), outcome="cancelled",
                                   reason="Mandat retiré par le conseil.")
                assert await relay.run_once() == 1  # the cancellation, signalled
                assert await handle.result() == "cancelled"
                assert await relay.run_once() == 0
        history = await handle.fetch_history()
        assert signals_of(history) == ["seed_committed", "seed_revealed", "cancel"]
        ended = [e for e in app.events.get(cid) if isinstance(e, Convention.Ended)]
        assert [(e.outcome, e.reason) for e in ended] == [
            ("cancelled", "Mandat retiré par le conseil.")]
        assert dead_letters(make_relay_tracking(settings).datastore, RELAY_NAME) == []
    finally:
        await terminate(temporal_env, cid)
        app.close()


async def test_a_workflow_s_own_ending_is_not_signalled_when_relayed(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    clock = EnvClock()
    app = registre(settings, clock)
    clock.now = await temporal_env.get_current_time()
    cid = open_convention(app, found(app))
    app.commit_convention_seed(cid, "garant-1", SECRET_DIGEST)
    register_pool(app, cid, feasible=False)
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    handle = temporal_env.client.get_workflow_handle(workflow_id(str(cid)))
    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with build_worker(temporal_env.client, app, settings.task_queue, executor,
                                    solver=uniform_solver):
                assert await relay.run_once() == 2  # the opening, the secret
                # A handle got by id does not unlock time skipping while awaiting its result.
                await temporal_env.sleep(timedelta(days=10, hours=1))
                assert await handle.result() == "failed"
                assert await relay.run_once() == 1  # the `failed` ending: no signal
        assert signals_of(await handle.fetch_history()) == ["seed_committed"]
        assert dead_letters(make_relay_tracking(settings).datastore, RELAY_NAME) == []
    finally:
        await terminate(temporal_env, cid)
        app.close()
