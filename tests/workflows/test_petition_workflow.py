"""PetitionWorkflow on the time-skipping server, its activities on a real PostgreSQL: each
course of a petition (lapsed, inadmissible, failed below the threshold, answered in time,
breached then answered late, put on the agenda, withdrawn, a threshold the relay missed and
the close found). The tests play the relay: they record a fact in the domain and signal its
log position, as workflows/relay.py does.

The domain application's clock follows the test server's virtual clock (`EnvClock`), so a
signature given in the test falls within the collection the workflow opened at its time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env
from domain.application import Registre
from domain.petition.petition import Petition
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from workflows.petition import PetitionInput, PetitionWorkflow, workflow_id

pytestmark = pytest.mark.integration

DAY = 86400
ADULT = SignerClaims(commune="A", elector=True, birthdate=date(1990, 1, 1))
KIND = {"basis": "absolute", "threshold_absolute": 3, "sponsor_seconds": 10 * DAY,
        "admissibility_seconds": 14 * DAY, "signature_seconds": 30 * DAY,
        "obligation_seconds": 20 * DAY}
KINDS = {
    "interpellation": {**KIND, "obligation": "answer"},
    "parrainee": {**KIND, "sponsors": 2, "obligation": "answer"},
    "initiative": {**KIND, "obligation": "agenda"},
    "consultation": {**KIND, "obligation": "consultation"},
}


class EnvClock:
    """The domain's clock, set from the test server's virtual clock before each act."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Petitions:
    env: WorkflowEnvironment
    app: Registre
    clock: EnvClock
    task_queue: str
    metropolis_id: uuid.UUID
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def sync(self) -> None:
        self.clock.now = await self.env.get_current_time()

    async def start(self, kind: str = "interpellation") -> tuple[uuid.UUID, WorkflowHandle]:
        """Draft a petition and start its workflow (as the relay does on `Drafted`)."""
        await self.sync()
        pid, _ = self.app.draft_petition(self.metropolis_id, "auteur", kind, "Piste cyclable",
                                         "Une piste cyclable rue Haute.")
        handle = await self.env.client.start_workflow(
            PetitionWorkflow.run, PetitionInput(str(pid)), id=workflow_id(str(pid)),
            task_queue=self.task_queue)
        self.handles.append(handle)
        return pid, handle

    async def reach(self, handle: WorkflowHandle, stage: str) -> None:
        """Wait (a bounded number of polls) until the workflow reports `stage` with the
        deadline it waits for: the activity opening the stage has completed (a workflow
        terminated while an activity is pending would stop the server's time skipping)."""
        for _ in range(1200):
            status = await handle.query(PetitionWorkflow.status)
            if status.stage == stage and status.deadline is not None:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"the workflow never reached '{stage}'")

    async def sign(self, pid: uuid.UUID, *refs: str) -> list[int]:
        await self.sync()
        return [self.app.sign_petition(pid, ref, ADULT) for ref in refs]

    async def collecting(self, kind: str = "interpellation"
                         ) -> tuple[uuid.UUID, WorkflowHandle]:
        """A petition admissible by the clerk's silence, collecting signatures."""
        pid, handle = await self.start(kind)
        await self.reach(handle, "admissibility")
        await self.env.sleep(timedelta(days=14, hours=1))
        await self.reach(handle, "collecting")
        return pid, handle

    async def cross(self, pid: uuid.UUID, handle: WorkflowHandle) -> int:
        """Three signatures, and the relay's crossing signal (sent twice: deduplicated)."""
        positions = await self.sign(pid, "s1", "s2", "s3")
        tally = self.app.count_petition(pid, upto=positions[-1])
        assert tally.crossed_at == positions[-1]
        for _ in range(2):
            await handle.signal(PetitionWorkflow.threshold_crossed,
                                args=[tally.crossed_at, tally.count])
        await self.reach(handle, "obligation")
        return tally.crossed_at

    def kinds(self, pid: uuid.UUID) -> list[str]:
        return [type(e).__name__ for e in self.app.events.get(pid)]

    def last(self, pid: uuid.UUID, cls: type) -> object:
        return [e for e in self.app.events.get(pid) if isinstance(e, cls)][-1]


@pytest_asyncio.fixture
async def petitions(temporal_env: WorkflowEnvironment,
                    settings: Settings) -> AsyncIterator[Petitions]:
    clock = EnvClock()
    app = Registre(env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
                   personal_data=lambda recorder: postgres_personal_data(recorder.datastore))
    mid = app.found_metropolis(
        f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
                     petition_kinds=KINDS))
    task_queue = f"test-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with build_worker(temporal_env.client, app, task_queue, executor):
            petitions = Petitions(temporal_env, app, clock, task_queue, mid)
            yield petitions
            # A workflow left running without its worker would freeze the skipped time.
            for handle in petitions.handles:
                with contextlib.suppress(RPCError):
                    await handle.terminate("test finished")
    app.close()


async def test_lapses_when_the_sponsors_are_not_gathered_by_the_period_s_end(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.start("parrainee")
    await petitions.reach(handle, "drafted")  # waiting for sponsors until a deadline
    assert await handle.result() == "lapsed"
    assert petitions.kinds(pid) == ["Drafted", "Closed"]
    assert petitions.last(pid, Petition.Closed).outcome == "lapsed"
    assert (await handle.query(PetitionWorkflow.status)).outcome == "lapsed"


async def test_goes_to_admissibility_when_the_sponsors_gathered_signal_comes(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.start("parrainee")
    await petitions.reach(handle, "drafted")
    await petitions.sync()
    position = petitions.app.sponsor_petition(pid, "soutien", ADULT)
    await handle.signal(PetitionWorkflow.sponsors_gathered, position)
    await petitions.reach(handle, "admissibility")
    assert petitions.kinds(pid) == ["Drafted", "SponsorJoined", "SponsorsGathered",
                                    "AdmissibilityOpened"]


async def test_ends_inadmissible_when_the_clerk_s_ruling_is_signalled(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.start()
    await petitions.reach(handle, "admissibility")
    await petitions.sync()
    position = petitions.app.rule_petition_admissibility(pid, "greffe", False,
                                                         reason="Hors compétence.")
    await handle.signal(PetitionWorkflow.admissibility_ruled, position)
    assert await handle.result() == "inadmissible"
    assert petitions.last(pid, Petition.AdmissibilityRuled).cause == "clerk_ruling"
    assert "CollectionOpened" not in petitions.kinds(pid)
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.HasField("timer_fired_event_attributes")]


async def test_fails_when_the_collection_ends_below_the_threshold(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting()
    assert petitions.last(pid, Petition.AdmissibilityRuled).cause == "deadline"
    await petitions.sign(pid, "s1", "s2")
    assert await handle.result() == "failed"
    closed = petitions.last(pid, Petition.Closed)
    assert closed.outcome == "failed" and closed.count == 2
    assert "ThresholdReached" not in petitions.kinds(pid)


async def test_answered_in_time_closes_once_the_collection_has_ended(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting()
    crossed_at = await petitions.cross(pid, handle)
    reached = petitions.last(pid, Petition.ThresholdReached)
    assert reached.position == crossed_at and reached.count == 3
    await petitions.sync()
    await handle.signal(PetitionWorkflow.obligation_fulfilled,
                        petitions.app.answer_petition(pid, "greffe", "Le conseil répond."))
    await petitions.sign(pid, "s4")  # the collection goes on past the threshold
    status = await handle.query(PetitionWorkflow.status)
    assert status.stage == "obligation" and status.deadline is not None
    assert await handle.result() == "answered"
    kinds = petitions.kinds(pid)
    assert kinds.count("ThresholdReached") == 1 and "ObligationBreached" not in kinds
    assert kinds[-2:] == ["CollectionClosed", "Closed"]
    assert petitions.last(pid, Petition.Answered).late is False
    assert petitions.last(pid, Petition.Closed).count == 4


async def test_breach_at_the_due_date_then_the_late_answer_closes_it(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting()
    await petitions.cross(pid, handle)
    await petitions.env.sleep(timedelta(days=20, hours=1))  # past the due date
    status = await handle.query(PetitionWorkflow.status)
    assert status.stage == "obligation" and status.breached
    assert "ObligationBreached" in petitions.kinds(pid)
    await petitions.env.sleep(timedelta(days=10))  # past the collection's end
    status = await handle.query(PetitionWorkflow.status)
    assert status.stage == "obligation" and status.deadline is None  # the late answer only
    assert "CollectionClosed" in petitions.kinds(pid)
    await petitions.sync()
    await handle.signal(PetitionWorkflow.obligation_fulfilled,
                        petitions.app.answer_petition(pid, "greffe", "Réponse tardive."))
    assert await handle.result() == "answered"
    assert petitions.last(pid, Petition.Answered).late is True
    assert petitions.kinds(pid).count("ObligationBreached") == 1
    assert (await handle.query(PetitionWorkflow.status)).breached


async def test_consultation_report_fulfils_a_consultation_kind(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting("consultation")
    await petitions.cross(pid, handle)
    await petitions.sync()
    position = petitions.app.report_petition_consultation(pid, "garant", "Rapport.")
    await handle.signal(PetitionWorkflow.obligation_fulfilled, position)
    assert await handle.result() == "answered"
    assert "ObligationBreached" not in petitions.kinds(pid)


async def test_agenda_kind_submits_a_proposal_in_the_signers_name(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting("initiative")
    await petitions.cross(pid, handle)
    submitted = petitions.last(pid, Petition.AgendaProposalSubmitted)
    proposal = petitions.app.get_proposal(submitted.proposal_id)
    assert proposal.author_ref == f"petition:{pid}"
    assert await handle.result() == "answered"
    assert petitions.kinds(pid)[-2:] == ["CollectionClosed", "Closed"]


async def test_withdrawal_signalled_during_the_collection_ends_it(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting()
    await petitions.sign(pid, "s1")
    await handle.signal(PetitionWorkflow.withdrawn,
                        petitions.app.withdraw_petition(pid, "auteur"))
    assert await handle.result() == "withdrawn"
    assert petitions.kinds(pid)[-1] == "Withdrawn"
    assert (await handle.query(PetitionWorkflow.status)).outcome == "withdrawn"


async def test_withdrawal_not_yet_signalled_ends_it_at_the_next_activity(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.start()
    await petitions.reach(handle, "admissibility")
    petitions.app.withdraw_petition(pid, "auteur")  # its signal never comes
    assert await handle.result() == "withdrawn"  # concluding the review finds it withdrawn
    assert petitions.kinds(pid) == ["Drafted", "SponsorsGathered", "AdmissibilityOpened",
                                    "Withdrawn"]


async def test_close_records_the_threshold_the_relay_missed(
    petitions: Petitions,
) -> None:
    pid, handle = await petitions.collecting()
    positions = await petitions.sign(pid, "s1", "s2", "s3")  # no crossing signal
    await petitions.env.sleep(timedelta(days=30, hours=1))
    await petitions.reach(handle, "obligation")
    kinds = petitions.kinds(pid)
    assert kinds.index("CollectionClosed") < kinds.index("ThresholdReached")
    assert petitions.last(pid, Petition.ThresholdReached).position == positions[-1]
    # The relay's crossing signal arriving late changes nothing.
    await handle.signal(PetitionWorkflow.threshold_crossed, args=[positions[-1], 3])
    await petitions.sync()
    await handle.signal(PetitionWorkflow.obligation_fulfilled,
                        petitions.app.answer_petition(pid, "greffe", "Réponse."))
    assert await handle.result() == "answered"
    assert petitions.kinds(pid).count("ThresholdReached") == 1
