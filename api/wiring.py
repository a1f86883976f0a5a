"""The one wiring module: the only place where adapters are built and put together.

Everything that needs PostgreSQL or Temporal gets it from here, configured by `Settings`.
Long-running processes are built with `CREATE_TABLE=false`; only `registre migrate` creates the
schema (D9: concurrent creation races).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment
from temporalio.client import Client
from temporalio.worker import Worker

from api.convention_solver import panel_solver
from api.settings import Settings
from domain.application import Registre
from domain.convention.commands import PanelSolver
from domain.rules.charter import CharterRules
from domain.errors import MetropolisAlreadyFounded
from domain.governance.metropolis import Metropolis
from projections.budgets import BudgetProjection, BudgetViews
from projections.compliance import ComplianceProjection, ComplianceView
from projections.conventions import ConventionProjection, ConventionViews
from projections.followers import (
    Follower,
    FollowedRegistre,
    create_dead_letters_table,
    going_on,
)
from projections.personal_data import PostgresKeys, postgres_personal_data
from projections.petitions import PetitionProjection, PetitionViews
from projections.positions import PostgresLogPositions
from projections.ledger import MerkleFollower, MerkleLog, issue_checkpoint
from projections.proposals import ProposalProjection, ProposalViews
from workflows.activities import ProposalActivities
from workflows.budget import BudgetCycleWorkflow
from workflows.budget_activities import BudgetActivities
from workflows.convention import ConventionWorkflow
from workflows.convention_activities import ConventionActivities
from workflows.petition import PetitionWorkflow
from workflows.petition_activities import PetitionActivities
from workflows.proposal import ProposalWorkflow
from workflows.relay import RELAY_NAME, Relay, create_petition_counts_table

log = logging.getLogger("registre")


def system_clock() -> datetime:
    """The clock of the running system (UTC)."""
    return datetime.now(timezone.utc)


def eventsourcing_env(settings: Settings, *, create_table: bool = False,
                      pool_size: int = 5) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "CREATE_TABLE": "true" if create_table else "false",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        **settings.postgres_parts(),
    }


def make_registre(settings: Settings, *, create_table: bool = False) -> Registre:
    return Registre(env=eventsourcing_env(settings, create_table=create_table),
                    clock=system_clock, positions=PostgresLogPositions,
                    personal_data=lambda recorder: postgres_personal_data(recorder.datastore))


def _tracking_recorder(settings: Settings, name: str, cls: type, *, create_table: bool) -> Any:
    env = Environment(name, eventsourcing_env(settings, create_table=create_table))
    return InfrastructureFactory.construct(env=env).tracking_recorder(cls)


def make_views(settings: Settings, *, create_table: bool = False) -> ProposalViews:
    views: ProposalViews = _tracking_recorder(
        settings, ProposalProjection.name, ProposalViews, create_table=create_table
    )
    views.personal_data = postgres_personal_data(views.datastore)  # opens sealed text
    return views


def make_petition_views(settings: Settings, *, create_table: bool = False) -> PetitionViews:
    """The petitions' views (projections/petitions.py), opening sealed text when read."""
    views: PetitionViews = _tracking_recorder(
        settings, PetitionProjection.name, PetitionViews, create_table=create_table
    )
    views.personal_data = postgres_personal_data(views.datastore)
    return views


def make_budget_views(settings: Settings, *, create_table: bool = False) -> BudgetViews:
    """The participatory budgets' views (projections/budgets.py), opening sealed text when
    read."""
    views: BudgetViews = _tracking_recorder(
        settings, BudgetProjection.name, BudgetViews, create_table=create_table
    )
    views.personal_data = postgres_personal_data(views.datastore)
    return views


def make_convention_views(settings: Settings, *,
                          create_table: bool = False) -> ConventionViews:
    """The citizens' conventions' views (projections/conventions.py): nothing personal,
    the pool only as committed."""
    return _tracking_recorder(
        settings, ConventionProjection.name, ConventionViews, create_table=create_table
    )


def make_compliance_view(settings: Settings, *, create_table: bool = False) -> ComplianceView:
    return _tracking_recorder(
        settings, ComplianceProjection.name, ComplianceView, create_table=create_table
    )


MERKLE_LOG_NAME = "merkle_log"


def make_merkle_log(settings: Settings, *, create_table: bool = False) -> MerkleLog:
    return _tracking_recorder(settings, MERKLE_LOG_NAME, MerkleLog, create_table=create_table)


def ledger_key(settings: Settings) -> Any:
    """The ledger's checkpoint signing key (created under var/ on first use, embedded mode)."""
    from api.keys import ensure

    return ensure(settings.ledger_key_path, "registre.local/ledger")


def witness_vkey(settings: Settings) -> str | None:
    path = settings.witness_vkey_path
    return path.read_text().strip() if path.exists() else None


def make_relay_tracking(settings: Settings, *, create_table: bool = False) -> Any:
    return _tracking_recorder(
        settings, RELAY_NAME, PostgresTrackingRecorder, create_table=create_table
    )


def migrate(settings: Settings) -> None:
    """Create every table once: the event store, the views, the relay's tracking and its
    petition counts, the pseudonym and personal data keys (outside the log, D10), the
    followers' dead letters."""
    app = make_registre(settings, create_table=True)
    PostgresKeys(app.recorder.datastore).create_tables()
    app.close()
    views = make_views(settings, create_table=True)
    create_dead_letters_table(views.datastore)
    views.datastore.close()
    relay_tracking = make_relay_tracking(settings, create_table=True)
    create_petition_counts_table(relay_tracking.datastore)  # the relay's petition counts
    relay_tracking.datastore.close()
    make_merkle_log(settings, create_table=True).datastore.close()
    make_compliance_view(settings, create_table=True).datastore.close()
    make_petition_views(settings, create_table=True).datastore.close()
    make_budget_views(settings, create_table=True).datastore.close()
    make_convention_views(settings, create_table=True).datastore.close()


def load_metropolis_config(settings: Settings) -> list[dict[str, Any]]:
    """Read and validate the metropolises' config file (see deploy/metropolises.yaml)."""
    from api.config import MetropolisesConfig

    return MetropolisesConfig.from_file(settings.config_file).as_domain()


def initialise(settings: Settings) -> list[tuple[str, UUID, bool]]:
    """Found every configured metropolis with its council and charter v1 (idempotent).
    Returns (slug, id, newly founded) for each."""
    app = make_registre(settings)
    results = []
    try:
        for m in load_metropolis_config(settings):
            try:
                mid = app.found_metropolis(
                    m["slug"], m["name"], m["communes"], m["members"],
                    CharterRules(**m["charter"]),
                )
                results.append((m["slug"], mid, True))
            except MetropolisAlreadyFounded:
                results.append((m["slug"], Metropolis.create_id(m["slug"]), False))
    finally:
        app.close()
    return results


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)


def build_worker(client: Client, app: Registre, task_queue: str,
                 executor: ThreadPoolExecutor, solver: PanelSolver = panel_solver) -> Worker:
    """The Temporal worker of every workflow; `solver` computes conventions' panel
    distributions (tests pass a small one)."""
    activities = ProposalActivities(app)
    petition_activities = PetitionActivities(app)
    budget_activities = BudgetActivities(app)
    convention_activities = ConventionActivities(app, solver)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ProposalWorkflow, PetitionWorkflow, BudgetCycleWorkflow,
                   ConventionWorkflow],
        activities=activities.all() + petition_activities.all() + budget_activities.all()
        + convention_activities.all(),
        activity_executor=executor,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """The worker process: the Temporal worker and the relay, until `stop` is set."""
    app = make_registre(settings)
    client = await connect_temporal(settings)
    relay = Relay(app, make_relay_tracking(settings), client, settings.task_queue)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, app, settings.task_queue, executor)
        async with worker:
            log.info("worker and relay running on task queue %s", settings.task_queue)
            await relay.run_forever(stop)
    app.close()


def run_ledger(settings: Settings, stop: threading.Event) -> None:
    """Follow the log into the Merkle tree and sign a checkpoint whenever the log grew and
    `checkpoint_interval` seconds passed, until `stop` is set."""
    app = make_registre(settings)
    store = make_merkle_log(settings)
    key = ledger_key(settings)
    follower = MerkleFollower(app.recorder, app.name, store)
    last = [0.0]

    def checkpoint_when_due() -> None:
        if time.monotonic() - last[0] >= settings.checkpoint_interval:
            last[0] = time.monotonic()
            issue_checkpoint(store, key)

    try:
        follower.run_forever(stop, on_idle=checkpoint_when_due)
    finally:
        app.close()
        store.datastore.close()


PROJECTIONS: tuple[tuple[type, type], ...] = (
    (ProposalProjection, ProposalViews),
    (ComplianceProjection, ComplianceView),
    (PetitionProjection, PetitionViews),
    (BudgetProjection, BudgetViews),
    (ConventionProjection, ConventionViews),
)


def followers() -> tuple[Follower, ...]:
    """Every follower of the log, as /health reports them: the views, the relay, the Merkle
    log (each tracking table is named after the follower, lower-cased)."""
    return (
        *(Follower(p.name, f"{p.name.lower()}_tracking", p.topics) for p, _ in PROJECTIONS),
        Follower(RELAY_NAME, f"{RELAY_NAME.lower()}_tracking", Relay.topics),
        Follower(MERKLE_LOG_NAME, f"{MERKLE_LOG_NAME}_tracking"),
    )


@contextmanager
def projection_runner(settings: Settings, projection: type = ProposalProjection,
                      view: type = ProposalViews) -> Iterator[ProjectionRunner[Any, Any]]:
    """A projection runner: applies each event to one view exactly once (default: the public
    views; see PROJECTIONS for all). An event the view cannot apply, or that cannot be
    decoded, is recorded as a dead letter and the runner goes on (D13)."""
    with ProjectionRunner(
        application_class=FollowedRegistre,
        projection_class=going_on(projection),
        view_class=view,
        env=eventsourcing_env(settings),
    ) as runner:
        yield runner


def create_api(settings: Settings) -> Any:
    """The FastAPI app with its adapters attached, and the group-commit writer of the
    high-volume acts (`app.state.writer`, started and stopped with the app's lifespan)."""
    from api.app import build_app
    from api.group_commit import GroupCommitWriter

    registre = make_registre(settings)
    app = build_app(
        settings=settings,
        registre=registre,
        views=make_views(settings),
        merkle_log=make_merkle_log(settings),
        compliance=make_compliance_view(settings),
        ledger_key=ledger_key(settings),
        witness_vkey=lambda: witness_vkey(settings),
    )
    app.state.followers = followers()
    app.state.writer = GroupCommitWriter(registre)
    app.state.petition_views = make_petition_views(settings)
    app.state.budget_views = make_budget_views(settings)
    app.state.convention_views = make_convention_views(settings)
    # The views a client may wait for after a write (`Prefer: wait-for-views`), with the
    # topics each follows: a write waits for the views that apply its event.
    app.state.read_views = ((app.state.views, ProposalProjection.topics),
                            (app.state.petition_views, PetitionProjection.topics),
                            (app.state.budget_views, BudgetProjection.topics),
                            (app.state.convention_views, ConventionProjection.topics))
    return app
