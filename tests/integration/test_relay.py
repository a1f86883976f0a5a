"""The relay (D4): one workflow per submitted proposal, from the log, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from api.wiring import make_registre, make_relay_tracking
from api.embedded import venv_binary
from tests.integration.helpers import found
from workflows.proposal import workflow_id
from workflows.relay import Relay

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"))
    try:
        yield env
    finally:
        await env.shutdown()


async def run_of(env: WorkflowEnvironment, pid: object) -> str:
    description = await env.client.get_workflow_handle(workflow_id(str(pid))).describe()
    assert description.workflow_type == "ProposalWorkflow"
    return description.run_id


async def test_starts_one_workflow_per_proposal_when_the_log_is_relayed_twice(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = make_registre(settings)
    mid = found(app)
    pids = [app.submit_proposal(mid, f"c{i}", f"Titre {i}", "Résumé")[0] for i in range(3)]
    # No worker: the workflows stay at their first task. On the time-skipping server a task
    # left pending, even of a terminated workflow, stops time from skipping, hence a server of
    # this test's own.
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    try:
        assert await relay.run_once() == 3
        assert await relay.run_once() == 0  # tracked: nothing relayed again
        first_runs = [await run_of(temporal_env, pid) for pid in pids]

        # Tracking lost (e.g. a crash between the start and the tracking write):
        # the repeated starts find the workflows already running.
        forgetful = Relay(app, make_relay_tracking(settings), temporal_env.client,
                          settings.task_queue)
        for pid in pids:
            await forgetful.start_proposal_workflow(str(pid))

        assert [await run_of(temporal_env, pid) for pid in pids] == first_runs
    finally:
        for pid in pids:
            with contextlib.suppress(RPCError):
                await temporal_env.client.get_workflow_handle(workflow_id(str(pid))).terminate()
        app.close()


async def test_signals_the_withdrawal_to_the_workflow_when_relayed(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from api.wiring import build_worker
    from workflows.proposal import ProposalWorkflow

    app = make_registre(settings)
    pid, _ = app.submit_proposal(found(app), "auteur", "Titre", "Résumé")
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with build_worker(temporal_env.client, app, settings.task_queue, executor):
            await relay.run_once()  # starts the workflow
            handle = temporal_env.client.get_workflow_handle(workflow_id(str(pid)))
            while (await handle.query(ProposalWorkflow.get_status)).stage != "consultation":
                await asyncio.sleep(0.05)
            app.withdraw(pid, "auteur")
            assert await relay.run_once() == 1  # the withdrawal, signalled
            assert await handle.result() == "withdrawn"
            assert await relay.run_once() == 0
            history = await handle.fetch_history()
            signals = [e.workflow_execution_signaled_event_attributes.signal_name
                       for e in history.events
                       if e.HasField("workflow_execution_signaled_event_attributes")]
            assert signals == ["withdrawn"]
            timers = [e for e in history.events if e.HasField("timer_fired_event_attributes")]
            assert timers == []  # it ended on the signal, not at the consultation's deadline
    app.close()


async def test_signals_the_vote_that_carries_a_veto_s_override_when_relayed(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from api.wiring import build_worker
    from domain.deliberation.proposal import Proposal
    from domain.rules.charter import CharterRules
    from workflows.proposal import ProposalWorkflow

    app = make_registre(settings)
    mid = app.found_metropolis(
        "relais-veto", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"m{i}", "name": f"M{i}", "role": "mayor" if i == 1 else "councillor",
          "commune": "A"} for i in (1, 2, 3)],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     veto_window_seconds=30 * 86400))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["A"])
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with build_worker(temporal_env.client, app, settings.task_queue, executor):
            await relay.run_once()  # starts the workflow
            handle = temporal_env.client.get_workflow_handle(workflow_id(str(pid)))
            await temporal_env.sleep(timedelta(hours=1, minutes=1))
            for ref in ("m2", "m3"):
                app.cast_vote(pid, ref, "for")
            await temporal_env.sleep(timedelta(hours=1, minutes=1))
            assert (await handle.query(ProposalWorkflow.get_status)).stage == "veto_window"
            app.file_veto(pid, "m1", "A", "La commune A n'a pas été consultée.")
            app.cast_vote(pid, "m2", "for")  # 1 of 3: not carried
            await relay.run_once()
            app.cast_vote(pid, "m3", "for")  # 2 of 3: two thirds of the members
            await relay.run_once()
            assert await handle.result() == "adopted"
            history = await handle.fetch_history()
            signals = [e.workflow_execution_signaled_event_attributes.signal_name
                       for e in history.events
                       if e.HasField("workflow_execution_signaled_event_attributes")]
            assert signals == ["veto_filed", "override_carried"]
            closes = [e for e in app.events.get(pid) if isinstance(e, Proposal.BallotClosed)]
            assert closes[-1].cause == "override_carried"
    app.close()
