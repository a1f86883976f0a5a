"""The relay (D4): a tracked follower of the notification log that tells Temporal about domain
facts, so request handlers never write to two systems.

A submitted proposal starts its `ProposalWorkflow` (id `proposal-<uuid>`); a withdrawal, a
clerk's admissibility ruling, a mayor's veto, or the vote that carries the council's override of
a veto whatever the votes to come, is signalled to that workflow with the event's log position. The relay's position
is tracked in its own table, recorded after the start or signal succeeded: a start repeated
after a crash finds the workflow already running and is ignored, and a repeated signal carries
a position the workflow has already seen, so each fact acts exactly once.

One event the relay cannot act on (it cannot be decoded, or Temporal refuses the start or
signal as invalid) is recorded as a dead letter with the relay's position, logged, and the
relay goes on (D13). Temporal or PostgreSQL being unreachable is not the event's fault: the
pass fails and is retried from the tracked position.

Petitions: a drafted petition starts its `PetitionWorkflow` (id `petition-<uuid>`); the
sponsors gathered, a clerk's admissibility ruling, the author's withdrawal, and the council's
answer or the guarantor's consultation report (`obligation_fulfilled`) are signalled to it with
the event's log position. Signatures never pass through Temporal (D3): the relay counts them.
It follows each petition's `CollectionOpened` (the threshold), its `CollectionClosed` and every
`Signature.Signed` / `Renewed` (+1) and `Withdrawn` (−1) stored after the opening and up to the
close, the rule `count_petition` recounts by (domain/rules/petition.py: each signer counts
once, which the store guarantees). The counts live in the table `registre_relay_petition_counts`
(the threshold, the count, the positions of the opening, the close and the crossing), written in
the same transaction as the relay's tracking position: after a crash the relay resumes with
counts that are exactly those of its tracked position, and never counts a signature twice. The
signature that first brings a count to the threshold is signalled as `threshold_crossed(position,
count)` before that transaction commits; repeated after a crash, it carries the same position,
which the workflow has already seen. At ~2,000 signatures a second, a run of consecutive
counting events (a page holds up to `PAGE` events) is applied in memory and committed once; a
counting event that cannot be decoded or applied, or whose crossing signal Temporal refuses, is
a dead letter written in that same transaction, and the run goes on. A commit finding the
tracked position moved by another relay meanwhile is refused (`CountsOutOfStep`), and the pass
is retried from the new position.

Participatory budgets: an opened cycle (`BudgetCycle.Opened`) starts its `BudgetCycleWorkflow`
(id `budget-<uuid>`), exactly once as for proposals, unless its `source` is a Pabulib import
(`pabulib:<sha256>`: a past cycle replayed for research, closed by the import itself, with no
deadline to keep). A clerk's cancellation (`BudgetCycle.Closed`, outcome `cancelled`) is
signalled to it as `cancel(reason)`: the workflow's own cancelling is idempotent, and a
workflow that has ended needs no signal. Ballots never pass through Temporal (D3).

Citizens' conventions: an opened convention (`Convention.Opened`) starts its
`ConventionWorkflow` (id `convention-<uuid>`), exactly once as for proposals. The guarantor's
committed secret (`SeedCommitted`) is signalled as `seed_committed(position)` (a pool waiting
for it is committed), the revealed seed (`SeedRevealed`) as `seed_revealed(position)` (the
panel is drawn), and a clerk's cancellation (`Ended`, outcome `cancelled`) as `cancel(reason)`;
a workflow that has ended needs no signal. Volunteers' registrations never pass through
Temporal: the commitment reads the pool from the log.
"""

from __future__ import annotations

import asyncio
import logging

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.application import Registre
from domain.budget.cycle import BudgetCycle
from domain.convention.convention import Convention
from domain.deliberation.ballot import Vote
from domain.deliberation.proposal import Proposal, override_ballot_id
from domain.petition.petition import Petition
from domain.petition.signature import Signature
from domain.rules.petition import SignatureCount
from domain.topics import stored_topics
from projections.followers import (
    DEAD_LETTERS_TABLE,
    describe,
    describe_topic,
    is_transient,
    record_dead_letter,
)
from workflows import budget as budget_workflow
from workflows import convention as convention_workflow
from workflows import petition as petition_workflow
from workflows.budget import BudgetCycleWorkflow, BudgetInput
from workflows.convention import ConventionInput, ConventionWorkflow
from workflows.petition import PetitionInput, PetitionWorkflow
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

log = logging.getLogger(__name__)

RELAY_NAME = "RegistreRelay"

# Refusals that will be the same however often the relay asks: the event is set aside.
# Any other status (unavailable, deadline exceeded, …) is retried.
REFUSED = frozenset({RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION,
                     RPCStatusCode.OUT_OF_RANGE, RPCStatusCode.UNIMPLEMENTED})


# A cycle imported from a Pabulib file (`BudgetCycle.Opened.source`) runs no workflow.
PABULIB_SOURCE = "pabulib:"

PAGE = 500  # events read per pass; a run of counting events among them commits once

PETITION_COUNTS_TABLE = "registre_relay_petition_counts"
PETITION_COUNTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PETITION_COUNTS_TABLE} ("
    "petition_id uuid PRIMARY KEY, threshold bigint NOT NULL, count bigint NOT NULL, "
    "opened_at bigint NOT NULL, closed_at bigint, crossed_at bigint)"
)

# The events the relay counts signatures by (applied in memory, committed once per run).
COUNTING_TOPICS = frozenset(stored_topics(
    Petition.CollectionOpened, Petition.CollectionClosed,
    Signature.Signed, Signature.Renewed, Signature.Withdrawn))


def create_petition_counts_table(datastore: PostgresDatastore) -> None:
    """Create `registre_relay_petition_counts` (by `registre migrate`, D9)."""
    with datastore.transaction(commit=True) as curs:
        curs.execute(PETITION_COUNTS_DDL)


class CountsOutOfStep(Exception):
    """The relay's tracked position moved since this pass read it (another relay ran): the
    counts computed from it are not committed; the pass is retried from the new position."""


def petition_of(event: Any) -> UUID | None:
    """The petition a counting event concerns."""
    if isinstance(event, (Signature.Signed, Signature.Renewed, Signature.Withdrawn)):
        return event.petition_id  # type: ignore[no-any-return]
    if isinstance(event, (Petition.CollectionOpened, Petition.CollectionClosed)):
        return event.originator_id  # type: ignore[no-any-return]
    return None


def count_event(tallies: dict[UUID, SignatureCount], position: int, event: Any) -> bool:
    """Apply one counting event, stored at `position`, to the running counts (keyed by
    petition); True when it is the signature that first brought its petition's count to the
    threshold. A count only knows its number, not its signers: each signer counts once because
    the store refuses a second standing signature (a withdrawal follows a signature, a renewal
    a withdrawal), as `count_petition` relies on too."""
    petition_id = petition_of(event)
    if petition_id is None:
        return False
    if isinstance(event, Petition.CollectionOpened):
        tallies.setdefault(petition_id, SignatureCount(threshold=event.threshold,
                                                       opened_at=position))
        return False
    tally = tallies.get(petition_id)
    if tally is None:  # not a petition collecting signatures since the relay ran
        return False
    if isinstance(event, Petition.CollectionClosed):
        if tally.closed_at is None:
            tally.closed_at = position
        return False
    if not tally.counts(position):
        return False
    if isinstance(event, Signature.Withdrawn):
        tally.count -= 1
        return False
    tally.count += 1
    if tally.crossed_at is None and tally.count >= tally.threshold:
        tally.crossed_at = position
        return True
    return False


def is_the_events_fault(error: BaseException) -> bool:
    """True when relaying this event again would fail again (a dead letter), False when the
    infrastructure failed (retry the pass)."""
    if isinstance(error, RPCError):
        return error.status in REFUSED
    return not is_transient(error)


class Relay:
    """Follows the Registre log from its last tracked position, starts and signals workflows,
    and counts petitions' signatures (see the module's docstring)."""

    topics = stored_topics(Proposal.Submitted, Proposal.Withdrawn, Proposal.VetoFiled,
                           Proposal.AdmissibilityDecided, Vote.Cast,
                           Petition.Drafted, Petition.SponsorsGathered,
                           Petition.AdmissibilityRuled, Petition.Withdrawn, Petition.Answered,
                           Petition.ConsultationReported,
                           Petition.CollectionOpened, Petition.CollectionClosed,
                           Signature.Signed, Signature.Renewed, Signature.Withdrawn,
                           BudgetCycle.Opened, BudgetCycle.Closed,
                           Convention.Opened, Convention.SeedCommitted,
                           Convention.SeedRevealed, Convention.Ended)

    def __init__(
        self, app: Registre, tracking: TrackingRecorder, client: Client, task_queue: str
    ) -> None:
        self.app = app
        self.tracking = tracking
        self.client = client
        self.task_queue = task_queue
        self._tracked: int | None = None  # the tracked position this pass has reached

    async def run_once(self, limit: int = PAGE) -> int:
        """Relay the next page of relevant events; returns how many were relayed. Each run
        of consecutive counting events is applied and committed at once (`count_run`)."""
        last = await asyncio.to_thread(self.tracking.max_tracking_id, self.app.name)
        self._tracked = last
        page = await asyncio.to_thread(
            self.app.recorder.select_notifications,
            start=(last or 0) + 1,
            limit=limit,
            topics=self.topics,
        )
        run: list[Notification] = []
        for notification in page:
            if notification.topic in COUNTING_TOPICS:
                run.append(notification)
                continue
            if run:
                await self.count_run(run)
                run = []
            await self.relay_one(notification)
        if run:
            await self.count_run(run)
        return len(page)

    async def relay_one(self, notification: Notification) -> None:
        """Relay one event and track it (or set it aside as a dead letter)."""
        tracking = Tracking(self.app.name, notification.id)
        try:
            await self.relay(notification)
        except Exception as error:
            if not is_the_events_fault(error):
                raise
            await asyncio.to_thread(record_dead_letter, self.tracking, RELAY_NAME,
                                    tracking, notification.topic, error)
        else:
            await asyncio.to_thread(self.tracking.insert_tracking, tracking)
        self._tracked = notification.id

    async def count_run(self, run: list[Notification]) -> None:
        """Count a run of consecutive counting events from the counts stored at the tracked
        position, signal each crossing, then commit the counts, the dead letters and the
        tracking position (the run's last event) in one transaction."""
        tallies, applied, dead = await asyncio.to_thread(self._apply_run, run)
        for notification, petition_id, count in applied:
            try:
                await self.signal_petition(str(petition_id), PetitionWorkflow.threshold_crossed,
                                           notification.id, count)
            except Exception as error:
                if not is_the_events_fault(error):
                    raise  # nothing committed: the pass is retried, the crossing found again
                dead.append((notification, error))  # counted all the same; the close recounts
        await asyncio.to_thread(self._commit_run, tallies, dead, run[-1].id)
        self._tracked = run[-1].id

    def _apply_run(self, run: list[Notification]) -> tuple[
            dict[UUID, SignatureCount], list[tuple[Notification, UUID, int]],
            list[tuple[Notification, BaseException]]]:
        decoded: list[tuple[Notification, Any]] = []
        dead: list[tuple[Notification, BaseException]] = []
        for notification in run:
            try:
                decoded.append((notification, self.app.mapper.to_domain_event(notification)))
            except Exception as error:
                if not is_the_events_fault(error):
                    raise
                dead.append((notification, error))
        tallies = self._load_counts({p for _, e in decoded if (p := petition_of(e))})
        crossings: list[tuple[Notification, UUID, int]] = []
        for notification, event in decoded:
            try:
                if count_event(tallies, notification.id, event):
                    petition_id = petition_of(event)
                    assert petition_id is not None
                    crossings.append((notification, petition_id, tallies[petition_id].count))
            except Exception as error:
                if not is_the_events_fault(error):
                    raise
                dead.append((notification, error))
        return tallies, crossings, dead

    def _load_counts(self, petition_ids: Iterable[UUID]) -> dict[UUID, SignatureCount]:
        ids = list(petition_ids)
        if not ids:
            return {}
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT petition_id, threshold, count, opened_at, closed_at, "  # noqa: S608
                f"crossed_at FROM {PETITION_COUNTS_TABLE} WHERE petition_id = ANY(%s)", (ids,))
            return {row["petition_id"]: SignatureCount(
                threshold=row["threshold"], opened_at=row["opened_at"],
                closed_at=row["closed_at"], count=row["count"], crossed_at=row["crossed_at"])
                for row in curs.fetchall()}

    def _commit_run(self, tallies: dict[UUID, SignatureCount],
                    dead: list[tuple[Notification, BaseException]], position: int) -> None:
        recorder: Any = self.tracking
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(SQL("SELECT notification_id FROM {}.{} WHERE application_name = %s "
                             "FOR UPDATE").format(Identifier(self._datastore.schema),
                                                  Identifier(recorder.tracking_table_name)),
                         (self.app.name,))
            row = curs.fetchone()
            if (row["notification_id"] if row else None) != self._tracked:
                raise CountsOutOfStep(f"the relay's position moved from #{self._tracked}")
            if tallies:
                curs.executemany(
                    f"INSERT INTO {PETITION_COUNTS_TABLE} "  # noqa: S608
                    "(petition_id, threshold, count, opened_at, closed_at, crossed_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (petition_id) DO UPDATE SET "
                    "threshold = EXCLUDED.threshold, count = EXCLUDED.count, "
                    "opened_at = EXCLUDED.opened_at, closed_at = EXCLUDED.closed_at, "
                    "crossed_at = EXCLUDED.crossed_at",
                    [(pid, t.threshold, t.count, t.opened_at, t.closed_at, t.crossed_at)
                     for pid, t in tallies.items()])
            for notification, error in dead:
                curs.execute(
                    f"INSERT INTO {DEAD_LETTERS_TABLE} "  # noqa: S608
                    "(follower, position, topic, error) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (follower, position) "
                    "DO UPDATE SET topic = EXCLUDED.topic, error = EXCLUDED.error, at = now()",
                    (RELAY_NAME, notification.id, describe_topic(notification.topic),
                     describe(error)))
            recorder._insert_tracking(curs, Tracking(self.app.name, position))  # noqa: SLF001
        for notification, error in dead:
            log.error("%s set event #%s (%s) aside as a dead letter: %s", RELAY_NAME,
                      notification.id, notification.topic, describe(error))

    @property
    def _datastore(self) -> PostgresDatastore:
        return self.tracking.datastore  # type: ignore[attr-defined, no-any-return]

    async def relay(self, notification: Notification) -> None:
        """Start or signal the workflow this stored event concerns, if any."""
        event = self.app.mapper.to_domain_event(notification)
        if isinstance(event, Proposal.Submitted):
            await self.start_proposal_workflow(str(event.originator_id))
        elif isinstance(event, Proposal.Withdrawn):
            await self.signal(str(event.originator_id), ProposalWorkflow.withdrawn,
                              notification.id)
        elif isinstance(event, Proposal.AdmissibilityDecided):
            if event.cause == "clerk_ruling":  # the workflow's own conclusion needs no signal
                await self.signal(str(event.originator_id),
                                  ProposalWorkflow.admissibility_ruled, notification.id)
        elif isinstance(event, Proposal.VetoFiled):
            await self.signal(str(event.originator_id), ProposalWorkflow.veto_filed,
                              notification.id)
        elif isinstance(event, Vote.Cast):
            # A vote on an override ballot may carry the override before the window ends.
            if event.ballot_id == override_ballot_id(event.proposal_id) and (
                    await asyncio.to_thread(self.app.override_carried, event.proposal_id)):
                await self.signal(str(event.proposal_id), ProposalWorkflow.override_carried,
                                  notification.id)
        elif isinstance(event, Petition.Drafted):
            await self.start_petition_workflow(str(event.originator_id))
        elif isinstance(event, Petition.SponsorsGathered):
            await self.signal_petition(str(event.originator_id),
                                       PetitionWorkflow.sponsors_gathered, notification.id)
        elif isinstance(event, Petition.AdmissibilityRuled):
            if event.cause == "clerk_ruling":  # the workflow's own conclusion needs no signal
                await self.signal_petition(str(event.originator_id),
                                           PetitionWorkflow.admissibility_ruled, notification.id)
        elif isinstance(event, Petition.Withdrawn):
            await self.signal_petition(str(event.originator_id), PetitionWorkflow.withdrawn,
                                       notification.id)
        elif isinstance(event, (Petition.Answered, Petition.ConsultationReported)):
            # AgendaProposalSubmitted is the workflow's own act: no signal.
            await self.signal_petition(str(event.originator_id),
                                       PetitionWorkflow.obligation_fulfilled, notification.id)

        elif isinstance(event, BudgetCycle.Opened):
            if not event.source.startswith(PABULIB_SOURCE):
                await self.start_budget_workflow(str(event.originator_id))
        elif isinstance(event, BudgetCycle.Closed):
            if event.outcome == "cancelled":  # `completed` follows the workflow's end
                await self.signal_budget(str(event.originator_id), event.reason,
                                         notification.id)

        elif isinstance(event, Convention.Opened):
            await self.start_convention_workflow(str(event.originator_id))
        elif isinstance(event, Convention.SeedCommitted):
            await self.signal_convention(str(event.originator_id),
                                         ConventionWorkflow.seed_committed, notification.id,
                                         notification.id)
        elif isinstance(event, Convention.SeedRevealed):
            await self.signal_convention(str(event.originator_id),
                                         ConventionWorkflow.seed_revealed, notification.id,
                                         notification.id)
        elif isinstance(event, Convention.Ended):
            if event.outcome == "cancelled":  # `completed` and `failed` are the workflow's
                await self.signal_convention(str(event.originator_id),
                                             ConventionWorkflow.cancel, event.reason,
                                             notification.id)

    async def start_proposal_workflow(self, proposal_id: str) -> None:
        try:
            await self.client.start_workflow(
                ProposalWorkflow.run,
                ProposalInput(proposal_id),
                id=workflow_id(proposal_id),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            log.info("started workflow %s", workflow_id(proposal_id))
        except WorkflowAlreadyStartedError:
            log.info("workflow %s was already started", workflow_id(proposal_id))

    async def signal(self, proposal_id: str, signal: object, position: int) -> None:
        handle = self.client.get_workflow_handle(workflow_id(proposal_id))
        try:
            await handle.signal(signal, position)  # type: ignore[arg-type]
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            # The workflow has already finished: the fact no longer changes its course.
            log.info("workflow %s has ended; signal at #%s not needed",
                     workflow_id(proposal_id), position)

    async def start_petition_workflow(self, petition_id: str) -> None:
        wid = petition_workflow.workflow_id(petition_id)
        try:
            await self.client.start_workflow(
                PetitionWorkflow.run,
                PetitionInput(petition_id),
                id=wid,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            log.info("started workflow %s", wid)
        except WorkflowAlreadyStartedError:
            log.info("workflow %s was already started", wid)

    async def signal_petition(self, petition_id: str, signal: object, *args: object) -> None:
        wid = petition_workflow.workflow_id(petition_id)
        handle = self.client.get_workflow_handle(wid)
        try:
            await handle.signal(signal, args=list(args))  # type: ignore[call-overload]
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("workflow %s has ended; signal at #%s not needed", wid, args[0])

    async def start_budget_workflow(self, cycle_id: str) -> None:
        wid = budget_workflow.workflow_id(cycle_id)
        try:
            await self.client.start_workflow(
                BudgetCycleWorkflow.run,
                BudgetInput(cycle_id),
                id=wid,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            log.info("started workflow %s", wid)
        except WorkflowAlreadyStartedError:
            log.info("workflow %s was already started", wid)

    async def signal_budget(self, cycle_id: str, reason: str, position: int) -> None:
        wid = budget_workflow.workflow_id(cycle_id)
        handle = self.client.get_workflow_handle(wid)
        try:
            await handle.signal(BudgetCycleWorkflow.cancel, reason)
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("workflow %s has ended; signal at #%s not needed", wid, position)

    async def start_convention_workflow(self, convention_id: str) -> None:
        wid = convention_workflow.workflow_id(convention_id)
        try:
            await self.client.start_workflow(
                ConventionWorkflow.run,
                ConventionInput(convention_id),
                id=wid,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            log.info("started workflow %s", wid)
        except WorkflowAlreadyStartedError:
            log.info("workflow %s was already started", wid)

    async def signal_convention(self, convention_id: str, signal: object, arg: object,
                                position: int) -> None:
        wid = convention_workflow.workflow_id(convention_id)
        handle = self.client.get_workflow_handle(wid)
        try:
            await handle.signal(signal, arg)  # type: ignore[call-overload]
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("workflow %s has ended; signal at #%s not needed", wid, position)

    async def run_forever(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Poll the log until `stop` is set; a full page is followed at once."""
        while not stop.is_set():
            try:
                relayed = await self.run_once()
            except Exception:  # keep following: the next pass retries from the tracked position
                log.exception("relay pass failed; retrying")
                relayed = 0
            if relayed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=interval)
                except asyncio.TimeoutError:
                    pass
