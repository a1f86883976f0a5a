"""Group commit: concurrent high-volume acts (petition signatures, later budget ballots) share
PostgreSQL transactions, one commit (one WAL flush) for many acts.

An `Act` is given twice: `prepare`, the fast path, builds the new aggregates assuming the
common case (nothing recorded yet under their ids, e.g. a first signature); `fallback`, the
slow path, is the full domain command run alone in its own transaction (it loads the state and
raises the precise `DomainError`, e.g. already signed) and returns its log position.

One writer thread takes the first waiting act, gathers every act arriving within `max_wait`
seconds after it (at most `max_batch`), calls each one's `prepare()`, maps the new events
with the application's mapper and inserts all of them in ONE transaction (the event table
locked, as every write of the log is), one commit. On PostgreSQL that transaction is sent in
one round trip (`insert_in_one_round_trip`: the recorder's own statements, pipelined with
BEGIN and COMMIT behind a single sync) instead of the recorder's `insert_events`, which
waits for the server three times per transaction; any other recorder gets `insert_events`.

What a caller of `write` / `write_sync` is guaranteed:

- **Acknowledged only after its own commit.** `write` returns the log position (notification
  id) of the act's first event (e.g. the signature, before the allowance it uses) only once
  the transaction holding its events committed; never for a batch that failed.
- **A duplicate fails alone.** An act that finds a prior record under one of its ids (the
  store's uniqueness refuses the batch: `IntegrityError`) never fails the others: every act of
  that batch is then run alone through its `fallback()`, so the duplicate gets its own precise
  `DomainError` (409) and each other act is stored by its own command. Two acts of the same
  batch writing the same (originator id, version) are told apart before any insert: the first
  goes in the batch, the later ones run their fallback after the batch committed (and so find
  the first one's record).
- **One act's failure is its own.** An exception raised by an act's `prepare()` (a
  `DomainError`, a bug) fails that act alone, raised to its caller.
- **A transient database failure acknowledges nothing.** When the batch's transaction fails
  for another reason (connection lost, server gone: eventsourcing's `OperationalError`,
  `InterfaceError`, after the same retries as the recorder's), every act of that batch fails
  with `NotAcknowledged` (the API answers 503); the writer goes on with the next batch. The
  writer thread never dies because of one act or one batch.
- **Order.** The acts of one writer are committed in the order it took them from its queue:
  within a batch their positions follow their arrival; a batch's fallbacks come after it.
  Other writers of the same log (other processes, commands saved directly) interleave.
- **On a crash** (process killed, connection lost during COMMIT), an act not yet acknowledged
  may or may not be stored; nothing acknowledged is lost (PostgreSQL's commit is durable).
  The client retries: an act that had been stored is then found as a duplicate (its fallback
  answers e.g. `already_signed`), because each act's ids are fixed by its key (uuid5).

What it does not do: the events go straight to the recorder, not through `Application.save`:
no snapshot is taken and no `_notify` hook runs (new aggregates of the high-volume acts need
neither), and the application's aggregate cache, if one were configured, is not filled.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import sql
from psycopg.pq import TransactionStatus

from domain.ports import Act as ActLike

log = logging.getLogger("registre.group_commit")


@dataclass(frozen=True)
class Act:
    """One act to record: `prepare` builds its new aggregates (fast path, may raise a
    `DomainError` that fails this act alone); `fallback` is the full domain command, run alone
    in its own transaction, returning the log position of its first event. Any object with
    these two (`domain.ports.Act`, e.g. the petition domain's `SignatureAct`) will do."""

    prepare: Callable[[], Sequence[Aggregate]]
    fallback: Callable[[], int]


class NotAcknowledged(Exception):
    """The transaction of the act's batch failed for a reason that is not the act's own (the
    database is unreachable): nothing was acknowledged; the act may be retried (a retry of an
    act that was in fact stored finds it as a duplicate). `error` is the database's error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the act was not acknowledged: the database failed "
                         f"({type(error).__name__}: {error})")
        self.error = error


class WriterStopped(Exception):
    """The writer is stopped (or stopping): the act was not taken, nothing was recorded."""


@dataclass(frozen=True)
class WriterStats:
    """Counters since the writer was made: transactions of batches inserted (`batches`), acts
    taken (`acts`), acts acknowledged (`stored`) or failed (`failed`), the largest batch
    committed at once, acts run through their fallback, batches refused by a duplicate
    (`conflicts`), batches lost to a database failure (`transient_failures`)."""

    batches: int = 0
    acts: int = 0
    stored: int = 0
    failed: int = 0
    largest_batch: int = 0
    fallbacks: int = 0
    conflicts: int = 0
    transient_failures: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class _Pending:
    """An act waiting in the queue and how to settle its caller (once)."""

    __slots__ = ("act", "settle")

    def __init__(self, act: ActLike, settle: Callable[[int | None, BaseException | None], None]):
        self.act = act
        self.settle = settle


_STOP = object()


def _set_future(future: asyncio.Future[int], result: int | None,
                error: BaseException | None) -> None:
    if future.done():  # the awaiting request was cancelled (client gone)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as insert_events
def insert_in_one_round_trip(recorder: PostgresApplicationRecorder,
                             stored_events: Sequence[StoredEvent]) -> list[int]:
    """What `recorder.insert_events` does (lock the events table, notify its channel, insert
    returning the notification ids, in one transaction), in one round trip: BEGIN, the
    recorder's statements and COMMIT are pipelined behind one sync. The ids are returned once
    COMMIT succeeded; on any error the server skipped the rest (COMMIT included) and the
    transaction is rolled back: nothing of the batch was stored."""
    rows = [recorder.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic,
                                               e.state) for e in stored_events]
    error: BaseException | None = None
    with recorder.datastore.get_connection() as conn:
        with conn.pipeline() as pipeline:
            statements, inserted = conn.cursor(), conn.cursor()
            try:
                statements.execute("BEGIN")
                for lock in recorder.lock_table_statements:
                    statements.execute(lock, prepare=True)
                statements.execute(sql.SQL("NOTIFY {0}").format(
                    sql.Identifier(recorder.channel_name)))
                inserted.execute(recorder.insert_events_statement, (rows,))
                statements.execute("COMMIT")
                pipeline.sync()
                ids = [row["notification_id"] for row in inserted.fetchall()]
            except BaseException as e:  # noqa: BLE001 - re-raised once the pipeline is closed
                error = e
        if error is not None:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
            raise error
    return ids


class GroupCommitWriter:
    """Records acts in shared transactions from one dedicated thread (see the module's
    docstring for what is guaranteed)."""

    def __init__(self, app: Application[Any], *, max_batch: int = 500,
                 max_wait: float = 0.002) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait < 0:
            raise ValueError("max_wait must not be negative")
        self.app = app
        recorder = app.recorder
        if (isinstance(recorder, PostgresApplicationRecorder)
                and not recorder.datastore.enable_db_functions):
            self._insert_events: Callable[[list[StoredEvent]], Sequence[int] | None] = (
                lambda stored: insert_in_one_round_trip(recorder, stored))
        else:
            self._insert_events = recorder.insert_events
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders puts against the stop marker
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._counts = dict(WriterStats().as_dict())

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (once; again after `stop` is refused)."""
        with self._lock:
            if self._stopping:
                raise WriterStopped("the writer was stopped; make a new one")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit-writer",
                                                daemon=True)
                self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop taking acts; the acts already taken are recorded (or failed) first, then the
        thread ends. Any `write` after this raises `WriterStopped`."""
        with self._lock:
            if self._stopping:
                thread = self._thread
            else:
                self._stopping = True
                self._queue.put(_STOP)
                thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:  # never started: fail whatever was queued
            self._fail_queued()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def stats(self) -> WriterStats:
        """A snapshot of the counters."""
        with self._lock:
            return WriterStats(**self._counts)

    # -- callers ----------------------------------------------------------------------------

    def _submit(self, pending: _Pending) -> None:
        if self._thread is None:
            self.start()  # e.g. an app used without its lifespan (tests' TestClient)
        with self._lock:
            if self._stopping:
                raise WriterStopped("the writer is stopped: the act was not recorded")
            self._queue.put(pending)

    async def write(self, act: ActLike) -> int:
        """Record `act`; the log position of its first event once its transaction committed.
        Raises the act's own error (`DomainError`…), or `NotAcknowledged`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        def settle(result: int | None, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_set_future, future, result, error)

        self._submit(_Pending(act, settle))
        return await future

    def write_sync(self, act: ActLike, timeout: float | None = None) -> int:
        """`write` for threads without an event loop (CLI, tests): blocks until settled."""
        future: Future[int] = Future()

        def settle(result: int | None, error: BaseException | None) -> None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        self._submit(_Pending(act, settle))
        return future.result(timeout)

    # -- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            if self.max_wait > 0:
                # One sleep for the whole window, then take what came: waking on each act
                # would take the GIL from the event loop once per act.
                time.sleep(self.max_wait)
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            try:
                self._record_batch(batch)
            except BaseException as e:  # noqa: BLE001 - the writer must outlive any batch
                log.exception("group commit: a batch failed unexpectedly")
                for pending in batch:
                    self._settle(pending, None, e)
        self._fail_queued()

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._settle(item, None, WriterStopped("the writer stopped before this act"))

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                self._counts[name] += delta

    def _settle(self, pending: _Pending, result: int | None,
                error: BaseException | None) -> None:
        if getattr(pending, "settle", None) is None:  # settled already
            return
        self._count(stored=int(error is None), failed=int(error is not None))
        settle, pending.settle = pending.settle, None  # type: ignore[assignment]
        try:
            settle(result, error)
        except Exception:  # noqa: BLE001 - e.g. the caller's event loop is closed
            log.warning("group commit: could not hand a result back to its caller",
                        exc_info=True)

    def _run_alone(self, pending: _Pending) -> None:
        self._count(fallbacks=1)
        try:
            position = pending.act.fallback()
        except BaseException as e:  # noqa: BLE001 - the act's own failure, to its caller
            self._settle(pending, None, e)
        else:
            self._settle(pending, position, None)

    def _record_batch(self, batch: list[_Pending]) -> None:
        self._count(acts=len(batch))
        mapper = self.app.mapper
        grouped: list[tuple[_Pending, list[StoredEvent]]] = []
        later: list[_Pending] = []  # same ids as an earlier act of this batch
        taken: set[tuple[Any, int]] = set()
        for pending in batch:
            try:
                events = [e for aggregate in pending.act.prepare()
                          for e in aggregate.collect_events()]
                if not events:
                    raise ValueError("the act's prepare() made no new event to record")
                stored = [mapper.to_stored_event(e) for e in events]
            except BaseException as e:  # noqa: BLE001 - fails this act alone
                self._settle(pending, None, e)
                continue
            keys = {(s.originator_id, s.originator_version) for s in stored}
            if len(keys) < len(stored) or keys & taken:
                later.append(pending)
                continue
            taken |= keys
            grouped.append((pending, stored))

        if grouped:
            try:
                positions = self._insert_events([s for _, stored in grouped for s in stored])
            except (IntegrityError, DataError):
                # A prior record under some act's id (or one act's bad data): nothing of the
                # batch was stored; each act alone, so only the guilty one fails.
                self._count(conflicts=1)
                later[:0] = [pending for pending, _ in grouped]
            except Exception as e:  # noqa: BLE001 - transient: nothing acknowledged
                self._count(transient_failures=1)
                log.warning("group commit: a batch of %d acts was not committed (%s)",
                            len(grouped), e)
                for pending, _ in grouped:
                    self._settle(pending, None, NotAcknowledged(e))
            else:
                self._count(batches=1)
                with self._lock:
                    self._counts["largest_batch"] = max(self._counts["largest_batch"],
                                                        len(grouped))
                self._acknowledge(grouped, positions)
        for pending in later:
            self._run_alone(pending)

    def _acknowledge(self, grouped: list[tuple[_Pending, list[StoredEvent]]],
                     positions: Sequence[int] | None) -> None:
        expected = sum(len(stored) for _, stored in grouped)
        if positions is None or len(positions) != expected:
            # Committed, but the recorder did not say where: a wiring error (a recorder that
            # returns no notification ids), reported to each caller rather than guessed.
            error = RuntimeError(
                f"the batch was committed but the recorder returned "
                f"{'no' if positions is None else len(positions)} positions for {expected} "
                "events: use an application recorder that returns notification ids")
            for pending, _ in grouped:
                self._settle(pending, None, error)
            return
        at = 0
        for pending, stored in grouped:
            self._settle(pending, int(positions[at]), None)
            at += len(stored)
