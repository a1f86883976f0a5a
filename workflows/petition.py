"""`PetitionWorkflow`: one per petition (id `petition-<uuid>`), driving the right of
interpellation from the drafting to the petition's closing.

The course, on the kind's rules pinned at drafting (`Petition.Drafted.rules`):
1. Sponsors: wait for the `sponsors_gathered` signal, or until the kind's `sponsor_seconds`
   (counted from the workflow's start, which the relay makes on the drafting) have passed;
   then `lapse_petition` (ends `lapsed`, unless the sponsors were gathered after all).
2. Admissibility: `open_petition_admissibility`, then wait for the clerk's ruling
   (`admissibility_ruled`) or the review's deadline; `conclude_petition_admissibility`
   (silence makes it admissible); an inadmissible petition ends `inadmissible`.
3. Collection: `open_collection`, then until the collection's deadline wait for
   `threshold_crossed(position, count)` (the relay's count reached the threshold:
   `record_threshold` opens the obligation). At the deadline without it, `close_collection`
   recounts from the log and records a threshold the relay missed; if none, `close_petition`
   ends `failed`.
4. Obligation: for a kind obliging `agenda`, `put_petition_on_agenda` at once (a proposal in
   the signers' name). Otherwise wait for `obligation_fulfilled` (the council's answer or the
   guarantor's consultation report, relayed) or the due date; at the due date without it,
   `record_breach`, then wait for the late fulfilment with no other deadline. The collection
   keeps taking signatures until its own deadline, even past the threshold: at that deadline
   `close_collection`. Once the obligation is fulfilled and the collection closed,
   `close_petition` ends `answered`.

Every wait before the threshold ends early on `withdrawn` (the workflow ends `withdrawn`); a
withdrawal recorded before its signal arrives makes the next activity refuse with rule
`petition.withdrawn`, with the same end. Signatures never pass through this workflow (D3):
the relay counts them from the log and signals the crossing. Every signal carries the log
position of the fact it reports and is acted on once. Every stage change is an idempotent
activity; time comes from `workflow.now()`, all I/O happens in activities.

Version: this is v1, the first frozen baseline; its recorded histories are
tests/data/histories/petition-v1-*.json. From now on every change goes through
`workflow.patched` with a recorded history and a replay test (tests/workflows/test_replay.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.petition_activities import (
        WITHDRAWN_RULE,
        ObligationOpened,
        PetitionActivities,
        PetitionAt,
        ThresholdInput,
    )

WORKFLOW_ID_PREFIX = "petition-"

T = TypeVar("T")

ACTIVITY_TIMEOUT = timedelta(seconds=60)
# Domain errors are raised as non-retryable ApplicationErrors by the activities;
# anything else (database restart, network) is retried with backoff.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


def workflow_id(petition_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{petition_id}"


@dataclass
class PetitionInput:
    petition_id: str


@dataclass
class PetitionStatus:
    """What `status` answers: the stage (`drafted`, `admissibility`, `collecting`,
    `obligation`, `closed`), the deadline the workflow waits for (ISO 8601, none when it waits
    for a late fulfilment or has ended), the outcome once closed (`answered`, `failed`,
    `lapsed`, `inadmissible`, `withdrawn`), and whether the obligation was breached."""

    stage: str
    deadline: str | None
    outcome: str | None
    breached: bool = False


class _Withdrawn(Exception):
    """The author withdrew the petition: the workflow ends without another stage."""


def _refused_for(e: ActivityError, rule: str) -> bool:
    return isinstance(e.cause, ApplicationError) and e.cause.type == rule


@workflow.defn
class PetitionWorkflow:
    """Drives one petition through sponsors, admissibility, the collection of signatures and
    the obligation its threshold opens, on the kind's deadlines.

    It waits on durable timers (the sponsor period, the admissibility review, the collection,
    the obligation's due date) and on signals from the relay, each carrying the log position
    of what it reports: `sponsors_gathered`, `admissibility_ruled` (a clerk's ruling),
    `threshold_crossed(position, count)`, `obligation_fulfilled` (the answer or the
    consultation's report) and `withdrawn` (ends every wait before the threshold).
    """

    @workflow.init
    def __init__(self, input: PetitionInput) -> None:
        # State is set here rather than in run(): a query or signal may arrive in the
        # first activation, before run() has started.
        self._status = PetitionStatus(stage="drafted", deadline=None, outcome=None)
        self._seen_positions: set[int] = set()
        self._sponsors_gathered = False
        self._admissibility_ruled = False
        self._crossing: tuple[int, int] | None = None
        self._withdrawn = False
        self._fulfilled = False
        self._breached = False

    @workflow.run
    async def run(self, input: PetitionInput) -> str:
        try:
            outcome = await self._course(input.petition_id)
        except _Withdrawn:
            outcome = "withdrawn"
        self._status = PetitionStatus("closed", None, outcome, self._breached)
        return outcome

    async def _course(self, petition_id: str) -> str:
        sponsors = await self._act(PetitionActivities.sponsor_deadline, self._at(petition_id))
        if not sponsors.gathered:
            self._status = PetitionStatus("drafted", sponsors.closes_at, None)
            await self._wait_until(sponsors.closes_at, lambda: self._sponsors_gathered)
            if not self._sponsors_gathered:
                lapsed = await self._act(PetitionActivities.lapse_petition,
                                         self._at(petition_id))
                if lapsed == "lapsed":
                    return lapsed
                # Gathered just before the deadline: its signal is still on its way.

        review_closes_at = await self._act(PetitionActivities.open_petition_admissibility,
                                           self._at(petition_id))
        self._status = PetitionStatus("admissibility", review_closes_at, None)
        await self._wait_until(review_closes_at, lambda: self._admissibility_ruled)
        if not await self._act(PetitionActivities.conclude_petition_admissibility,
                               self._at(petition_id)):
            return "inadmissible"

        collection = await self._act(PetitionActivities.open_collection,
                                     self._at(petition_id))
        self._status = PetitionStatus("collecting", collection.closes_at, None)
        await self._wait_until(collection.closes_at, lambda: self._crossing is not None)
        if self._crossing is not None:
            position, count = self._crossing
            obligation = await self._act(
                PetitionActivities.record_threshold,
                ThresholdInput(petition_id, position, count, workflow.now().isoformat()))
            return await self._oblige(petition_id, obligation, collection.closes_at, False)
        closed = await self._act(PetitionActivities.close_collection, self._at(petition_id))
        if closed.obligation is None:
            return await self._act(PetitionActivities.close_petition, self._at(petition_id))
        # The recount found the threshold crossed, and the relay's signal had not come.
        return await self._oblige(petition_id, closed.obligation, collection.closes_at, True)

    async def _oblige(self, petition_id: str, obligation: ObligationOpened,
                      collection_closes_at: str, collection_closed: bool) -> str:
        """The obligation, and the collection until its own deadline; then the closing."""
        if obligation.obligation == "agenda":
            await self._act(PetitionActivities.put_petition_on_agenda, self._at(petition_id))
            self._fulfilled = True
        due_at = obligation.due_at
        while not (self._fulfilled and collection_closed):
            deadlines = []
            if not self._fulfilled and not self._breached:
                deadlines.append(due_at)
            if not collection_closed:
                deadlines.append(collection_closes_at)
            deadline = min(deadlines, key=datetime.fromisoformat) if deadlines else None
            self._status = PetitionStatus("obligation", deadline, None, self._breached)
            if self._fulfilled:
                passed = await self._wait_for(deadline)
            else:
                passed = await self._wait_for(deadline, lambda: self._fulfilled)
            if passed is None:
                continue  # fulfilled (signalled)
            if not collection_closed and _reached(collection_closes_at, passed):
                await self._act(PetitionActivities.close_collection, self._at(petition_id))
                collection_closed = True
            if not self._fulfilled and not self._breached and _reached(due_at, passed):
                if await self._act(PetitionActivities.record_breach, self._at(petition_id)):
                    self._breached = True
                else:  # fulfilled in the log; its signal is still on its way
                    self._fulfilled = True
        return await self._act(PetitionActivities.close_petition, self._at(petition_id))

    # -- signals from the relay ---------------------------------------------------------

    def _first(self, position: int) -> bool:
        if position in self._seen_positions:
            return False
        self._seen_positions.add(position)
        return True

    @workflow.signal
    def sponsors_gathered(self, position: int) -> None:
        """The relay saw the kind's number of sponsors reached at log `position`."""
        if self._first(position):
            self._sponsors_gathered = True

    @workflow.signal
    def admissibility_ruled(self, position: int) -> None:
        """The relay saw a clerk's admissibility ruling at log `position`."""
        if self._first(position):
            self._admissibility_ruled = True

    @workflow.signal
    def threshold_crossed(self, position: int, count: int) -> None:
        """The relay's count reached the threshold with the signature at log `position`
        (`count` signatures then); the first crossing reported is the one recorded."""
        if self._first(position) and self._crossing is None:
            self._crossing = (position, count)

    @workflow.signal
    def withdrawn(self, position: int) -> None:
        """The relay saw the author's withdrawal at log `position`."""
        if self._first(position):
            self._withdrawn = True

    @workflow.signal
    def obligation_fulfilled(self, position: int) -> None:
        """The relay saw the council's answer or the consultation's report at `position`."""
        if self._first(position):
            self._fulfilled = True

    @workflow.query
    def status(self) -> PetitionStatus:
        return self._status

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _at(petition_id: str) -> PetitionAt:
        return PetitionAt(petition_id, workflow.now().isoformat())

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        """Run one activity method (its name and result type come from its definition)."""
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY)
        except ActivityError as e:
            # Withdrawn before the signal arrived: the domain refused the next stage.
            if _refused_for(e, WITHDRAWN_RULE):
                raise _Withdrawn from None
            raise

    async def _wait_until(self, deadline: str, done: Callable[[], bool]) -> None:
        """Wait for the deadline, unless the petition is withdrawn or `done()` first."""
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._withdrawn or done(),
                                              timeout=remaining)
            except asyncio.TimeoutError:
                pass
        if self._withdrawn:
            raise _Withdrawn

    async def _wait_for(self, deadline: str | None,
                        done: Callable[[], bool] | None = None) -> str | None:
        """Wait for the deadline (none: forever) unless `done()` first; returns the deadline
        when it was reached, None when `done()` ended the wait."""
        if deadline is None:
            assert done is not None
            await workflow.wait_condition(done)
            return None
        remaining = datetime.fromisoformat(deadline) - workflow.now()
        if remaining > timedelta(0):
            if done is None:
                await workflow.sleep(remaining)
            else:
                try:
                    await workflow.wait_condition(done, timeout=remaining)
                    return None
                except asyncio.TimeoutError:
                    pass
        return deadline


def _reached(deadline: str, passed: str) -> bool:
    return datetime.fromisoformat(deadline) <= datetime.fromisoformat(passed)
