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
"""

from __future__ import annotations

import asyncio
import logging

from eventsourcing.persistence import Notification, Tracking, TrackingRecorder
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.application import Registre
from domain.deliberation.ballot import Vote
from domain.deliberation.proposal import Proposal, override_ballot_id
from domain.topics import stored_topics
from projections.followers import is_transient, record_dead_letter
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

log = logging.getLogger(__name__)

RELAY_NAME = "RegistreRelay"

# Refusals that will be the same however often the relay asks: the event is set aside.
# Any other status (unavailable, deadline exceeded, …) is retried.
REFUSED = frozenset({RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION,
                     RPCStatusCode.OUT_OF_RANGE, RPCStatusCode.UNIMPLEMENTED})


def is_the_events_fault(error: BaseException) -> bool:
    """True when relaying this event again would fail again (a dead letter), False when the
    infrastructure failed (retry the pass)."""
    if isinstance(error, RPCError):
        return error.status in REFUSED
    return not is_transient(error)


class Relay:
    """Follows the Registre log from its last tracked position and starts workflows."""

    topics = stored_topics(Proposal.Submitted, Proposal.Withdrawn, Proposal.VetoFiled,
                           Proposal.AdmissibilityDecided, Vote.Cast)

    def __init__(
        self, app: Registre, tracking: TrackingRecorder, client: Client, task_queue: str
    ) -> None:
        self.app = app
        self.tracking = tracking
        self.client = client
        self.task_queue = task_queue

    async def run_once(self, limit: int = 100) -> int:
        """Relay the next page of relevant events; returns how many were relayed."""
        last = await asyncio.to_thread(self.tracking.max_tracking_id, self.app.name)
        page = await asyncio.to_thread(
            self.app.recorder.select_notifications,
            start=(last or 0) + 1,
            limit=limit,
            topics=self.topics,
        )
        for notification in page:
            tracking = Tracking(self.app.name, notification.id)
            try:
                await self.relay(notification)
            except Exception as error:
                if not is_the_events_fault(error):
                    raise
                await asyncio.to_thread(record_dead_letter, self.tracking, RELAY_NAME,
                                        tracking, notification.topic, error)
                continue
            await asyncio.to_thread(self.tracking.insert_tracking, tracking)
        return len(page)

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
