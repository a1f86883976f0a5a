"""Frequent events applied in memory and written in batches by a live runner (D5, D13).

eventsourcing's runner gives a view one event at a time, and a view writing each in its own
transaction holds ~1,600 events/s; signatures come at 2,000 a second at a petition's peak. A
`BufferedView` applies such an event to what it holds in memory (`_apply_buffered`) and
writes it later (`flush`), with the tracking position of the last one buffered, in one
transaction: once `batch_events` are buffered, `max_delay` seconds after the first one (a
background thread), or before the view writes anything else — an event of another kind, an
ignored event's tracking position, a dead letter — so positions are tracked in log order and
each event is applied exactly once: a crash loses only what was never tracked, applied again
from the tracked position on restart.

Inside a rebuild's batch (`BatchedView.batch`) the buffered events simply join the batch's
transaction (`flush` is its hook). PostgreSQL unreachable while writing: the error is raised
(by the runner's next event when the background thread met it) and what was buffered is kept,
applied again from the tables at the next try. A batch PostgreSQL refuses for its content is
applied again event by event, and the event refused set aside as a dead letter.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from eventsourcing.persistence import Tracking

from projections.rebuild import BatchedView

log = logging.getLogger(__name__)


class BufferedView(BatchedView):
    """A `BatchedView` whose frequent events are applied in memory and written in batches.

    Subclasses give `follower` (the projection's name, for dead letters), `_apply_buffered`
    (apply one buffered item to memory, reading the tables through `_cursor_read` for what
    memory does not hold), `flush` (write what memory changed) and `_forget_memory`."""

    follower = ""
    batch_events = 1000  # events applied in memory before they are written
    max_delay = 0.05  # seconds an event waits at most before it is written

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._timer: threading.Thread | None = None
        self._error: BaseException | None = None
        self._pending: list[tuple[Tracking, str, Any]] = []
        self._pending_since = 0.0
        self._stale = False

    # -- what subclasses give ---------------------------------------------------------------

    def _apply_buffered(self, position: int, item: Any) -> None:
        raise NotImplementedError

    def _forget_memory(self) -> None:
        raise NotImplementedError

    # -- memory and the tables --------------------------------------------------------------

    def discard(self) -> None:
        with self._lock:
            self._forget_memory()

    def reset(self, curs: Any, application_name: str) -> None:
        with self._lock:
            self._forget_memory()
            self._pending = []
        super().reset(curs, application_name)

    def _cursor_read(self, query: str, params: Any) -> list[dict[str, Any]]:
        """Rows of the view, without writing what memory holds (the batch's cursor inside
        one: it sees the batch's writes)."""
        if self._batch is not None:
            self._batch.execute(query, params)
            return list(self._batch.fetchall())
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            return list(curs.fetchall())

    # -- buffering ---------------------------------------------------------------------------

    def buffered(self, tracking: Tracking, topic: str, item: Any) -> None:
        """Apply one frequent event to memory; written with the next batch."""
        with self._lock:
            if self._error is not None:  # the background write failed: the runner stops
                error, self._error = self._error, None
                raise error
            self._apply_buffered(tracking.notification_id, item)
            if self._batch is not None:
                self.track(self._batch, tracking)
                return
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append((tracking, topic, item))
            if len(self._pending) >= self.batch_events:
                self.settle()
            else:
                self._start_timer()

    def settle(self) -> None:
        """Outside a batch: write what memory holds with the tracking position of the last
        event buffered, in one transaction (see the module's docstring for failures)."""
        from projections.followers import is_transient, record_dead_letter

        with self._lock:
            if self._batch is not None or not self._pending:
                return
            try:
                if self._stale:  # memory may hold a failed write's changes: apply again
                    self._forget_memory()
                    for tracking, _, item in self._pending:
                        self._apply_buffered(tracking.notification_id, item)
                    self._stale = False
                with self.datastore.transaction(commit=True) as curs:
                    self.flush(curs)
                    BatchedView._insert_tracking(self, curs, self._pending[-1][0])
            except Exception as error:
                self._stale = True
                if is_transient(error):
                    raise
                log.warning("%s: a batch was refused (%s): applied event by event",
                            self.follower, error)
                while self._pending:
                    tracking, topic, item = self._pending[0]
                    self._forget_memory()
                    try:
                        self._apply_buffered(tracking.notification_id, item)
                        with self.datastore.transaction(commit=True) as curs:
                            self.flush(curs)
                            BatchedView._insert_tracking(self, curs, tracking)
                    except Exception as one:
                        if is_transient(one):
                            raise
                        self._forget_memory()
                        record_dead_letter(self, self.follower, tracking, topic, one)
                    self._pending.pop(0)
            self._pending = []
            self._stale = False
            self._error = None  # written after all: nothing was lost

    def _insert_tracking(self, curs: Any, tracking: Tracking) -> None:
        """Any other tracked write (an ignored event, a dead letter) comes after the events
        buffered before it: those are written first."""
        if (self._batch is None and self._pending
                and tracking.notification_id > self._pending[-1][0].notification_id):
            self.settle()
        super()._insert_tracking(curs, tracking)

    def _start_timer(self) -> None:
        if self._timer is not None and self._timer.is_alive():
            return
        ref = weakref.ref(self)
        delay = self.max_delay

        def run() -> None:
            while True:
                time.sleep(delay / 2)
                view = ref()
                if view is None:
                    return
                view._settle_when_due()
                del view

        self._timer = threading.Thread(target=run, name=f"{self.follower}-batches",
                                       daemon=True)
        self._timer.start()

    def _settle_when_due(self) -> None:
        with self._lock:
            if not self._pending or time.monotonic() - self._pending_since < self.max_delay:
                return
            try:
                self.settle()
            except Exception as error:  # noqa: BLE001 - raised to the runner with its next event
                log.warning("%s: events not written yet: %s", self.follower, error)
                self._error = error
