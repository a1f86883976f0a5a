"""The relay goes on past an event it cannot act on (D13), and never sets aside an event
because Temporal is unreachable."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
import pytest_asyncio
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.embedded import venv_binary
from api.settings import Settings
from api.wiring import make_registre, make_relay_tracking
from domain.deliberation.proposal import Proposal
from domain.topics import stored_topics
from projections.followers import dead_letters
from tests.integration.helpers import found
from workflows.proposal import workflow_id
from workflows.relay import RELAY_NAME, Relay

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    # A server of this test's own: workflows left at their first task stop time skipping.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"))
    try:
        yield env
    finally:
        with contextlib.suppress(Exception):
            await env.shutdown()


def store_raw(settings: Settings, topic: str, state: bytes) -> int:
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO registre_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s) RETURNING notification_id",
            (uuid.uuid4(), topic, state)).fetchone()
    assert row is not None
    return int(row[0])


async def test_relay_records_a_dead_letter_and_goes_on_when_an_event_cannot_be_decoded(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = make_registre(settings)
    mid = found(app)
    broken = store_raw(settings, stored_topics(Proposal.Submitted)[0], b"{not json")
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    tracking = make_relay_tracking(settings)
    relay = Relay(app, tracking, temporal_env.client, settings.task_queue)
    try:
        assert await relay.run_once() == 2
        assert await relay.run_once() == 0  # tracked past both: nothing relayed again
        description = await temporal_env.client.get_workflow_handle(
            workflow_id(str(pid))).describe()
        assert description.workflow_type == "ProposalWorkflow"
        letters = dead_letters(tracking.datastore)
        assert [(d.follower, d.position) for d in letters] == [(RELAY_NAME, broken)]
        assert tracking.max_tracking_id(app.name) == app.recorder.max_notification_id()
    finally:
        with contextlib.suppress(RPCError):
            await temporal_env.client.get_workflow_handle(workflow_id(str(pid))).terminate()
        app.close()


async def test_relay_keeps_the_event_when_temporal_is_unreachable(
    settings: Settings, temporal_env: WorkflowEnvironment,
) -> None:
    app = make_registre(settings)
    app.submit_proposal(found(app), "auteur", "Titre", "Résumé")
    tracking = make_relay_tracking(settings)
    relay = Relay(app, tracking, temporal_env.client, settings.task_queue)
    before = tracking.max_tracking_id(app.name)
    await temporal_env.shutdown()
    with pytest.raises(Exception) as failed:  # noqa: PT011 (whatever the client raises)
        await relay.run_once()
    assert not isinstance(failed.value, AssertionError)
    assert dead_letters(tracking.datastore) == []
    assert tracking.max_tracking_id(app.name) == before
    app.close()
