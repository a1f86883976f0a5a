"""BudgetCycleWorkflow on the time-skipping server, its activities on a real PostgreSQL: a
cycle run to its results with projects, a clerk's ruling and ballots given between the stages;
cancelled by signal during voting; cancelled in the log before its signal; a workflow restarted
on a cycle that moved on; an activity retried after its commit; a ballot stored after the close
left out of the tally. The tests play the relay and the API: they record a fact in the domain
(and signal the workflow where the relay would).

The domain application's clock follows the test server's virtual clock (`EnvClock`), so a
project or a ballot given in the test falls within the stage the workflow opened at its time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio
from eventsourcing.domain import Aggregate
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env
from domain.application import Registre
from domain.budget.cycle import BudgetCycle
from domain.errors import VotingNotOpen
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from workflows.budget import BudgetCycleWorkflow, BudgetInput, workflow_id
from workflows.budget_activities import BudgetActivities, CycleAt

pytestmark = pytest.mark.integration

DAY = 86400
RESIDENT = SignerClaims(commune="A", birthdate=date(1990, 1, 1))
BUDGET = {"rule": "greedy", "submission_seconds": 10 * DAY, "review_seconds": 10 * DAY,
          "voting_seconds": 7 * DAY}


class EnvClock:
    """The domain's clock, set from the test server's virtual clock before each act."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Cycles:
    env: WorkflowEnvironment
    app: Registre
    clock: EnvClock
    task_queue: str
    metropolis_id: uuid.UUID
    executor: ThreadPoolExecutor
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def sync(self) -> None:
        self.clock.now = await self.env.get_current_time()

    async def open(self, task_queue: str | None = None) -> tuple[uuid.UUID, WorkflowHandle]:
        """Open a cycle and start its workflow (as the relay does on `Opened`)."""
        await self.sync()
        cid, _ = self.app.open_budget_cycle(self.metropolis_id, "greffe", "Budget 2027",
                                            {"metropolis": 1000})
        return cid, await self.start(cid, task_queue)

    async def start(self, cid: uuid.UUID, task_queue: str | None = None,
                    ) -> WorkflowHandle:
        handle = await self.env.client.start_workflow(
            BudgetCycleWorkflow.run, BudgetInput(str(cid)), id=workflow_id(str(cid)),
            task_queue=task_queue or self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        self.handles.append(handle)
        return handle

    async def reach(self, handle: WorkflowHandle, stage: str) -> None:
        """Wait (a bounded number of polls) until the workflow reports `stage` with the
        deadline it waits for: the activity opening the stage has completed (a workflow
        terminated while an activity is pending would stop the server's time skipping)."""
        for _ in range(1200):
            status = await handle.query(BudgetCycleWorkflow.get_stage)
            if status.stage == stage and status.deadline is not None:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"the workflow never reached '{stage}'")

    async def submit(self, cid: uuid.UUID, *costs: int) -> list[uuid.UUID]:
        await self.sync()
        return [self.app.submit_budget_project(cid, f"auteur-{i}", RESIDENT, "metropolis",
                                               f"Projet {i}", "Résumé", cost)[0]
                for i, cost in enumerate(costs)]

    async def vote(self, cid: uuid.UUID, ballots: dict[str, list[uuid.UUID]]) -> list[int]:
        await self.sync()
        return [self.app.cast_budget_ballot(cid, voter, RESIDENT, "metropolis",
                                            [(str(p), 1) for p in choice])
                for voter, choice in ballots.items()]

    async def voting(self, handle: WorkflowHandle, cid: uuid.UUID) -> list[uuid.UUID]:
        """Three projects submitted, the review passed in the clerks' silence: voting."""
        pids = await self.submit(cid, 300, 500, 200)
        await self.reach(handle, "submission")
        await self.env.sleep(timedelta(days=10, hours=1))
        await self.reach(handle, "review")
        await self.env.sleep(timedelta(days=10, hours=1))
        await self.reach(handle, "voting")
        return pids

    def kinds(self, cid: uuid.UUID) -> list[str]:
        return [type(e).__name__ for e in self.app.events.get(cid)]

    def cycle(self, cid: uuid.UUID) -> BudgetCycle:
        return self.app.get_budget_cycle(cid)

    @contextlib.asynccontextmanager
    async def worker(self, activities: BudgetActivities) -> AsyncIterator[str]:
        """A worker of the budget workflow alone, with these activities, on a queue of its
        own."""
        queue = f"test-budget-{uuid.uuid4()}"
        async with Worker(self.env.client, task_queue=queue,
                          workflows=[BudgetCycleWorkflow], activities=activities.all(),
                          activity_executor=self.executor):
            yield queue


@pytest_asyncio.fixture
async def cycles(temporal_env: WorkflowEnvironment,
                 settings: Settings) -> AsyncIterator[Cycles]:
    clock = EnvClock()
    app = Registre(env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
                   personal_data=lambda recorder: postgres_personal_data(recorder.datastore))
    mid = app.found_metropolis(
        f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
                     budget=BUDGET))
    task_queue = f"test-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with build_worker(temporal_env.client, app, task_queue, executor):
            cycles = Cycles(temporal_env, app, clock, task_queue, mid, executor)
            yield cycles
            # A workflow left running without its worker would freeze the skipped time.
            for handle in cycles.handles:
                with contextlib.suppress(RPCError):
                    await handle.terminate("test finished")
    app.close()


async def test_publishes_the_results_when_every_deadline_passes_with_acts_between_stages(
    cycles: Cycles,
) -> None:
    cid, handle = await cycles.open()
    await cycles.reach(handle, "submission")
    p0, p1, p2 = await cycles.submit(cid, 300, 500, 200)
    await cycles.env.sleep(timedelta(days=10, hours=1))
    await cycles.reach(handle, "review")
    await cycles.sync()
    cycles.app.rule_budget_project(p2, "greffe", False, reason="Hors compétence.")
    await cycles.env.sleep(timedelta(days=10, hours=1))
    await cycles.reach(handle, "voting")
    assert set(cycles.cycle(cid).ballots["metropolis"]) == {str(p0), str(p1)}
    await cycles.vote(cid, {"v1": [p1], "v2": [p1, p0], "v3": [p0]})

    assert await handle.result() == "results"
    assert cycles.kinds(cid) == ["Opened", "ProjectAdded", "ProjectAdded", "ProjectAdded",
                                 "ReviewOpened", "VotingOpened", "VotingClosed",
                                 "ResultsPublished"]
    cycle = cycles.cycle(cid)
    assert cycle.stage == "results"
    assert cycle.results is not None and cycle.results["metropolis"]["ballots"] == 3
    ballots, close = cycles.app.budget_ballots(cid)
    assert close == cycle.close_position
    assert set(ballots["metropolis"]) == {"v1", "v2", "v3"}
    assert set(cycle.results["metropolis"]["selected"]) <= {str(p0), str(p1)}
    status = await handle.query(BudgetCycleWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("results", "results")
    # Implementation and closing are the clerks' acts, after the workflow's end.
    assert cycles.app.close_budget_cycle(cid, cycles.clock()) == "completed"


async def test_cancel_signalled_during_voting_closes_the_cycle_without_results(
    cycles: Cycles,
) -> None:
    cid, handle = await cycles.open()
    pids = await cycles.voting(handle, cid)
    await cycles.vote(cid, {"v1": pids[:1]})
    await handle.signal(BudgetCycleWorkflow.cancel, "Le conseil a été dissous.")

    assert await handle.result() == "cancelled"
    kinds = cycles.kinds(cid)
    assert kinds[-1] == "Closed" and "VotingClosed" not in kinds
    assert "ResultsPublished" not in kinds
    closed = [e for e in cycles.app.events.get(cid) if isinstance(e, BudgetCycle.Closed)]
    assert [(e.outcome, e.reason) for e in closed] == [("cancelled",
                                                        "Le conseil a été dissous.")]
    status = await handle.query(BudgetCycleWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("closed", "cancelled")
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.HasField("timer_fired_event_attributes")
                and e.event_id > _signal_event_id(history)]


def _signal_event_id(history: Any) -> int:
    return next(e.event_id for e in history.events
                if e.HasField("workflow_execution_signaled_event_attributes"))


async def test_cancel_with_a_blank_reason_is_ignored_when_signalled(cycles: Cycles) -> None:
    cid, handle = await cycles.open()
    await cycles.reach(handle, "submission")
    await handle.signal(BudgetCycleWorkflow.cancel, "  ")
    await cycles.submit(cid, 100)
    assert await handle.result() == "results"
    assert "Closed" not in cycles.kinds(cid)


async def test_cancellation_recorded_before_its_signal_ends_it_at_the_next_activity(
    cycles: Cycles,
) -> None:
    cid, handle = await cycles.open()
    await cycles.reach(handle, "submission")
    await cycles.sync()
    cycles.app.close_budget_cycle(cid, cycles.clock(), outcome="cancelled",
                                  reason="Annulé par délibération.")  # its signal never comes
    assert await handle.result() == "cancelled"  # opening the review finds it closed
    assert cycles.kinds(cid) == ["Opened", "Closed"]


async def test_a_restarted_workflow_catches_up_without_recording_twice_when_moved_on(
    cycles: Cycles,
) -> None:
    cid, handle = await cycles.open()
    pids = await cycles.voting(handle, cid)
    await handle.terminate("worker lost")  # waiting on the voting's end
    await cycles.vote(cid, {"v1": pids[:2]})
    restarted = await cycles.start(cid)  # a new run on a cycle already voting

    assert await restarted.result() == "results"
    assert restarted.result_run_id != handle.result_run_id
    kinds = cycles.kinds(cid)
    for kind in ("ReviewOpened", "VotingOpened", "VotingClosed", "ResultsPublished"):
        assert kinds.count(kind) == 1, kinds
    assert cycles.cycle(cid).results["metropolis"]["ballots"] == 1  # type: ignore[index]


async def test_a_workflow_restarted_on_a_cycle_a_clerk_closed_ends_with_its_outcome(
    cycles: Cycles,
) -> None:
    cid, handle = await cycles.open()
    await cycles.submit(cid, 100)
    assert await handle.result() == "results"
    await cycles.sync()
    cycles.app.close_budget_cycle(cid, cycles.clock())  # completed, after the results
    kinds = cycles.kinds(cid)
    restarted = await cycles.start(cid)
    assert await restarted.result() == "completed"
    assert cycles.kinds(cid) == kinds
    status = await restarted.query(BudgetCycleWorkflow.get_stage)
    assert (status.stage, status.outcome) == ("closed", "completed")


class _FailsOnceAfterCommit(BudgetActivities):
    """`open_budget_voting` records the opening, then fails as a lost connection would before
    the activity's completion reached Temporal: the retry runs the command again."""

    attempts: list[int]

    @activity.defn
    def open_budget_voting(self, input: CycleAt) -> str:
        closes_at = super().open_budget_voting(input)
        self.attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise ConnectionError("connection lost before the completion was reported")
        return closes_at


async def test_an_activity_retried_after_its_commit_records_its_stage_once(
    cycles: Cycles,
) -> None:
    activities = _FailsOnceAfterCommit(cycles.app)
    activities.attempts = []
    async with cycles.worker(activities) as queue:
        cid, handle = await cycles.open(queue)
        pids = await cycles.voting(handle, cid)
        await cycles.vote(cid, {"v1": pids[:1]})
        assert await handle.result() == "results"
    assert activities.attempts == [1, 2]
    assert cycles.kinds(cid).count("VotingOpened") == 1


class _LateBallotAtTheClose(BudgetActivities):
    """`close_budget_voting` closes, then stores a ballot prepared while voting was open (the
    group-commit writer's fast path reads a cached cycle): it lands after the close."""

    late: list[Aggregate]
    stored: list[int]

    @activity.defn
    def close_budget_voting(self, input: CycleAt) -> int:
        position = super().close_budget_voting(input)
        if self.late:
            self.stored.append(self.app.save(*self.late)[0].notification.id)
            self.late = []
        return position


async def test_a_ballot_stored_after_the_close_is_not_counted_when_the_tally_runs(
    cycles: Cycles,
) -> None:
    activities = _LateBallotAtTheClose(cycles.app)
    activities.stored = []
    async with cycles.worker(activities) as queue:
        cid, handle = await cycles.open(queue)
        pids = await cycles.voting(handle, cid)
        await cycles.vote(cid, {"v1": pids[:1], "v2": pids[1:2]})
        activities.late = cycles.app.ballot_act(cid, "tardif", RESIDENT, "metropolis",
                                                [(str(pids[2]), 1)]).prepare()
        assert await handle.result() == "results"
    cycle = cycles.cycle(cid)
    [late_position] = activities.stored
    assert late_position > cycle.close_position
    assert cycle.results is not None and cycle.results["metropolis"]["ballots"] == 2
    ballots, _ = cycles.app.budget_ballots(cid)
    assert "tardif" not in ballots["metropolis"]
    with pytest.raises(VotingNotOpen):  # the command itself refuses after the close
        await cycles.vote(cid, {"encore": pids[:1]})
