"""The relay and petitions (real PostgreSQL, the Temporal test server): the workflow started on
the drafting and signalled the petition's facts; the signatures counted from the log into the
relay's own table, in the transaction of its tracking position, so a relay restarted (or
crashed before its commit) never counts a signature twice and signals the crossing at the very
position the domain's recount gives."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
import pytest_asyncio
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.embedded import venv_binary
from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env, make_relay_tracking
from domain.application import Registre
from domain.petition.petition import Petition
from domain.petition.signature import Signature
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from domain.topics import stored_topics
from projections.followers import dead_letters
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from workflows.petition import PetitionWorkflow, workflow_id
from workflows.relay import PETITION_COUNTS_TABLE, RELAY_NAME, CountsOutOfStep, Relay

pytestmark = pytest.mark.integration

DAY = 86400
ADULT = SignerClaims(commune="A", elector=True, birthdate=date(1990, 1, 1))
KINDS = {"interpellation": {"basis": "absolute", "threshold_absolute": 5,
                            "signature_seconds": 30 * DAY, "obligation_seconds": 20 * DAY}}


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
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     petition_kinds=KINDS))


def collecting(app: Registre) -> uuid.UUID:
    """A petition collecting signatures, its stages run by hand (as its workflow would)."""
    pid, _ = app.draft_petition(founded(app), "auteur", "interpellation", "Titre", "Texte")
    app.open_petition_admissibility(pid, app.clock())
    app.rule_petition_admissibility(pid, "greffe", True)
    app.open_collection(pid, app.clock())
    return pid


def stored_count(settings: Settings, pid: uuid.UUID) -> dict[str, Any]:
    with psycopg.connect(settings.postgres_url) as conn:
        row = conn.execute(
            f"SELECT threshold, count, opened_at, closed_at, crossed_at "  # noqa: S608
            f"FROM {PETITION_COUNTS_TABLE} WHERE petition_id = %s", (pid,)).fetchone()
    assert row is not None
    return dict(zip(("threshold", "count", "opened_at", "closed_at", "crossed_at"), row,
                    strict=True))


async def signals(env: WorkflowEnvironment, pid: uuid.UUID) -> list[tuple[str, list[Any]]]:
    """The signals the petition's workflow received (name, arguments), in order."""
    import json

    history = await env.client.get_workflow_handle(workflow_id(str(pid))).fetch_history()
    return [(a.signal_name, [json.loads(p.data) for p in a.input.payloads])
            for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")
            for a in [e.workflow_execution_signaled_event_attributes]]


async def drain(relay: Relay, limit: int) -> None:
    while await relay.run_once(limit=limit):
        pass


async def terminate(env: WorkflowEnvironment, *pids: uuid.UUID) -> None:
    for pid in pids:
        with contextlib.suppress(RPCError):
            await env.client.get_workflow_handle(workflow_id(str(pid))).terminate()


async def test_counts_persist_across_a_relay_restart_and_the_crossing_is_signalled_once(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    pid = collecting(app)
    other = collecting(app)  # another petition's signatures interleave in the same pages
    try:
        first = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        await drain(first, limit=500)  # started, sponsors gathered, collections opened
        for i in range(3):
            app.sign_petition(pid, f"s{i}", ADULT)
            app.sign_petition(other, f"s{i}", ADULT)
        app.withdraw_signature(pid, "s0")
        assert await first.run_once(limit=4) == 4  # a page ends inside the run
        assert stored_count(settings, pid)["count"] == 2
        del first  # the relay dies between pages

        app.sign_petition(pid, "s0", ADULT)  # renewed: counts again
        positions = [app.sign_petition(pid, f"s{i}", ADULT) for i in (3, 4, 5)]
        second = Relay(app, make_relay_tracking(settings), temporal_env.client,
                       settings.task_queue)
        await drain(second, limit=3)
        third = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        assert await third.run_once() == 0  # nothing counted again

        recount = app.count_petition(pid, upto=app.recorder.max_notification_id())
        stored = stored_count(settings, pid)
        assert stored["count"] == recount.count == 6
        assert stored["crossed_at"] == recount.crossed_at == positions[1]
        crossings = [args for name, args in await signals(temporal_env, pid)
                     if name == "threshold_crossed"]
        assert crossings == [[recount.crossed_at, 5]]
        assert stored_count(settings, other)["count"] == 3
        assert [n for n, _ in await signals(temporal_env, other)] == [
            "sponsors_gathered", "admissibility_ruled"]  # no crossing: 3 of 5
    finally:
        await terminate(temporal_env, pid, other)
        app.close()


async def test_a_crash_before_the_commit_neither_double_counts_nor_loses_the_crossing(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    pid = collecting(app)
    try:
        relay = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        await drain(relay, limit=500)
        positions = [app.sign_petition(pid, f"s{i}", ADULT) for i in range(6)]

        crashing = Relay(app, make_relay_tracking(settings), temporal_env.client,
                         settings.task_queue)

        def crash(*args: object) -> None:
            raise ConnectionError("the relay's process died before its commit")

        crashing._commit_run = crash  # type: ignore[method-assign]
        with pytest.raises(ConnectionError):
            await crashing.run_once()  # the crossing was signalled, nothing committed
        assert stored_count(settings, pid)["count"] == 0

        restarted = Relay(app, make_relay_tracking(settings), temporal_env.client,
                          settings.task_queue)
        await drain(restarted, limit=500)
        assert stored_count(settings, pid)["count"] == 6
        crossings = [args for name, args in await signals(temporal_env, pid)
                     if name == "threshold_crossed"]
        # Sent again with the same position: the workflow acts on the first only.
        assert crossings == [[positions[4], 5], [positions[4], 5]]
        assert dead_letters(relay.tracking.datastore) == []
    finally:
        await terminate(temporal_env, pid)
        app.close()


async def test_a_relay_whose_position_moved_meanwhile_commits_no_counts(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    pid = collecting(app)
    try:
        relay = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        await drain(relay, limit=500)
        before = relay.tracking.max_tracking_id(app.name)
        for i in range(2):
            app.sign_petition(pid, f"s{i}", ADULT)
        await drain(relay, limit=500)
        assert stored_count(settings, pid)["count"] == 2

        stale = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        stale.tracking.max_tracking_id = lambda name: before  # read before the other commit
        with pytest.raises(CountsOutOfStep):
            await stale.run_once()
        assert stored_count(settings, pid)["count"] == 2
    finally:
        await terminate(temporal_env, pid)
        app.close()


async def test_an_unreadable_signature_is_a_dead_letter_and_the_run_goes_on(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    pid = collecting(app)
    try:
        relay = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        await drain(relay, limit=500)
        app.sign_petition(pid, "s1", ADULT)
        with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO registre_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, %s, %s) RETURNING notification_id",
                (uuid.uuid4(), stored_topics(Signature.Signed)[0], b"{not json")).fetchone()
        assert row is not None
        app.sign_petition(pid, "s2", ADULT)
        await drain(relay, limit=500)
        assert stored_count(settings, pid)["count"] == 2
        letters = dead_letters(relay.tracking.datastore)
        assert [(d.follower, d.position) for d in letters] == [(RELAY_NAME, row[0])]
        assert relay.tracking.max_tracking_id(app.name) == app.recorder.max_notification_id()
    finally:
        await terminate(temporal_env, pid)
        app.close()


async def test_the_close_stops_the_relay_s_count(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = registre(settings, EnvClock())
    pid = collecting(app)
    try:
        relay = Relay(app, make_relay_tracking(settings), temporal_env.client,
                      settings.task_queue)
        app.sign_petition(pid, "s1", ADULT)
        closed = app.close_collection(pid, app.clock())
        await drain(relay, limit=500)
        stored = stored_count(settings, pid)
        assert stored["closed_at"] == closed.position and stored["count"] == 1
        assert stored["opened_at"] == app.open_collection(pid, app.clock()).position
    finally:
        await terminate(temporal_env, pid)
        app.close()


async def test_the_relay_drives_a_petition_from_its_drafting_to_its_answer(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    clock = EnvClock()
    app = registre(settings, clock)
    pid, _ = app.draft_petition(founded(app), "auteur", "interpellation", "Titre", "Texte")
    relay = Relay(app, make_relay_tracking(settings), temporal_env.client, settings.task_queue)
    handle = temporal_env.client.get_workflow_handle(workflow_id(str(pid)))

    async def reach(stage: str) -> None:
        for _ in range(1200):
            await drain(relay, limit=500)
            if (await handle.query(PetitionWorkflow.status)).stage == stage:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"the workflow never reached '{stage}'")

    try:
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with build_worker(temporal_env.client, app, settings.task_queue, executor):
                await reach("admissibility")  # started on the drafting
                clock.now = await temporal_env.get_current_time()
                app.rule_petition_admissibility(pid, "greffe", True)
                await reach("collecting")  # the clerk's ruling, signalled
                clock.now = await temporal_env.get_current_time()
                for i in range(5):
                    app.sign_petition(pid, f"s{i}", ADULT)
                await reach("obligation")  # the relay's count crossed the threshold
                recount = app.count_petition(pid, upto=app.recorder.max_notification_id())
                reached = [e for e in app.events.get(pid)
                           if isinstance(e, Petition.ThresholdReached)]
                assert [(e.position, e.count) for e in reached] == [(recount.crossed_at, 5)]
                clock.now = await temporal_env.get_current_time()
                app.answer_petition(pid, "greffe", "Le conseil répond.")
                await drain(relay, limit=500)  # the answer, signalled
                await temporal_env.sleep(timedelta(days=30, hours=1))
                assert await handle.result() == "answered"
        names = [n for n, _ in await signals(temporal_env, pid)]
        assert names == ["sponsors_gathered", "admissibility_ruled", "threshold_crossed",
                         "obligation_fulfilled"]
    finally:
        await terminate(temporal_env, pid)
        app.close()
