"""Rebuilding a view from the log, in batches, exactly once (D1, D5).

Views are disposable: any view can be dropped and re-made from the log. The runner applies one
event per transaction (view change + tracking row), which holds ~1,600 events/s here; a rebuild
applies the same `process_event` code to a *batch* of events in one transaction, and writes the
tracking row once, at the batch's end, in that transaction. So a rebuild stopped at any point
(crash, Ctrl-C, an error) has applied exactly the batches whose commit went through, and a
second `rebuild` resumes after them.

A view takes part by deriving from `BatchedView` and writing through `writing()` / `track()`
(reading through `reading()` what it wrote itself): outside a batch these open one transaction
per event as before; inside `batch()` they all join the batch's transaction. A view may also
buffer its most frequent writes and send them at once in `flush()` (`ProposalViews` does).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import singledispatchmethod
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID, SafeUUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Tracking,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from eventsourcing.utils import resolve_topic
from psycopg.sql import SQL, Identifier

REBUILDS_TABLE = "view_rebuilds"


class BatchedView(PostgresTrackingRecorder):
    """A tracking-recorder view whose writes can join one transaction per batch of events.

    `view_tables` names the tables the view owns (dropped and re-created by a rebuild)."""

    view_tables: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: Cursor[DictRow] | None = None
        self._batch_tracking: Tracking | None = None

    # -- what the view's write methods use ---------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Cursor[DictRow]]:
        """A cursor to apply one event: the batch's (after what the view buffered), or a
        transaction of its own."""
        if self._batch is not None:
            self.flush(self._batch)
            yield self._batch
        else:
            with self.datastore.transaction(commit=True) as curs:
                yield curs

    @contextmanager
    def reading(self) -> Iterator[Cursor[DictRow]]:
        """A cursor to read the view: inside a batch, the batch's (it sees the batch's writes)."""
        if self._batch is not None:
            self.flush(self._batch)
            yield self._batch
        else:
            with self.datastore.transaction(commit=False) as curs:
                yield curs

    def track(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        """Record the event's position with its view change: now, or at the batch's end."""
        if self._batch is not None:
            self._batch_tracking = tracking
        else:
            self._insert_tracking(curs, tracking)

    def insert_tracking(self, tracking: Tracking) -> None:
        """An event the view ignores: only its position is recorded."""
        if self._batch is not None:
            self._batch_tracking = tracking
        else:
            super().insert_tracking(tracking)

    def flush(self, curs: Cursor[DictRow]) -> None:
        """Write what the view buffered during the batch (nothing, unless a view buffers)."""

    def discard(self) -> None:
        """Forget what the view buffered (the batch's transaction was rolled back)."""

    # -- what the rebuild uses ---------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Apply every event processed in the block in one transaction, tracked once."""
        with self.datastore.transaction(commit=True) as curs:
            self._batch, self._batch_tracking = curs, None
            try:
                yield
                self.flush(curs)
                if self._batch_tracking is not None:
                    self._insert_tracking(curs, self._batch_tracking)
            except BaseException:
                self.discard()
                raise
            finally:
                self._batch = None

    def reset(self, curs: Cursor[DictRow], application_name: str) -> None:
        """Drop the view's tables and forget its position (in the caller's transaction)."""
        for table in self.view_tables:
            curs.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table)))
        curs.execute(SQL("DELETE FROM {} WHERE application_name = %s").format(
            Identifier(self.tracking_table_name)), (application_name,))


class _Stored(NamedTuple):
    """The columns of one stored event that the mapper reads (a cheap `Notification`)."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def _pages(recorder: Any, after: int, last: int, topics: list[str],
           size: int) -> Iterator[list[_Stored]]:
    """The stored events of `topics` after position `after` up to `last`, in log order, in
    pages of `size`, rows as tuples. Each page is its own short query: a transaction held
    open for the whole rebuild would keep PostgreSQL from pruning the row versions the
    batches leave behind (the rebuild slowed down as it went)."""
    query = SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.{} WHERE notification_id > %s AND notification_id <= %s AND "
                "topic = ANY(%s) ORDER BY notification_id LIMIT %s").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    while after < last:
        with recorder.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as curs:
            rows = curs.execute(query, (after, last, topics, size), prepare=True).fetchall()
        if not rows:
            return
        yield [_Stored(*row) for row in rows]
        after = rows[-1][0]


def _uuid_from_hex(data: str) -> UUID:
    """`UUID(data)` for the 32 hex digits the transcoder writes, without re-parsing them."""
    if len(data) != 32:
        return UUID(data)
    uuid = object.__new__(UUID)
    object.__setattr__(uuid, "int", int(data, 16))
    object.__setattr__(uuid, "is_safe", SafeUUID.unknown)
    return uuid


def _page_decoder(mapper: Any) -> Callable[[list[_Stored]], list[Any]]:
    """The mapper's `to_domain_event` over a page of stored events, decoded as one JSON
    array with the transcoder's own transcodings (UUIDs and datetimes by a shorter road).
    Any other mapper (a cipher, a compressor, another transcoder), or a page that does not
    decode, goes event by event through the mapper itself (and its errors)."""
    transcoder = mapper.transcoder
    if mapper.cipher or mapper.compressor or type(transcoder) is not JSONTranscoder:
        return lambda page: [mapper.to_domain_event(stored) for stored in page]
    decoders = {name: t.decode for name, t in transcoder.names.items()}
    if type(transcoder.names.get("uuid_hex")) is UUIDAsHex:
        decoders["uuid_hex"] = _uuid_from_hex
    if type(transcoder.names.get("datetime_iso")) is DatetimeAsISO:
        decoders["datetime_iso"] = datetime.fromisoformat

    def hook(d: dict[str, Any]) -> Any:
        if len(d) == 2 and "_type_" in d and "_data_" in d:
            try:
                return decoders[d["_type_"]](d["_data_"])
            except KeyError:
                return transcoder._decode_obj(d)  # raises the transcoder's own error
        return d

    decoder = json.JSONDecoder(object_hook=hook)
    classes: dict[tuple[str, type], tuple[type, Callable[[Any], Any], int]] = {}

    def decode(page: list[_Stored]) -> list[Any]:
        try:
            states = decoder.decode("[" + ",".join(s.state.decode() for s in page) + "]")
        except Exception:  # noqa: BLE001 - the mapper names the bad event
            return [mapper.to_domain_event(stored) for stored in page]
        events = []
        for stored, state in zip(page, states, strict=True):
            key = (stored.topic, type(stored.originator_id))
            known = classes.get(key)
            if known is None:
                cls = resolve_topic(stored.topic)
                known = classes[key] = (cls, find_id_convertor(cls, key[1]),
                                        getattr(cls, "class_version", 1))
            cls, convert, class_version = known
            state["originator_id"] = convert(stored.originator_id)
            state["originator_version"] = stored.originator_version
            from_version = state.pop("class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                from_version += 1
            event = object.__new__(cls)
            object.__setattr__(event, "__dict__", state)
            events.append(event)
        return events

    return decode


def _dispatcher(projection: Any) -> Callable[[Any, Tracking], None]:
    """`projection.process_event`, with a `singledispatchmethod`'s choice of handler made
    once per event class (functools builds a new bound function at every attribute access)."""
    method = inspect.getattr_static(type(projection), "process_event")
    if not isinstance(method, singledispatchmethod):
        return projection.process_event  # type: ignore[no-any-return]
    dispatch = method.dispatcher.dispatch
    handlers: dict[type, Callable[..., None]] = {}

    def process(event: Any, tracking: Tracking) -> None:
        cls = type(event)
        handler = handlers.get(cls)
        if handler is None:
            handler = handlers[cls] = dispatch(cls)
        handler(projection, event, tracking)

    return process


def _in_progress(curs: Cursor[DictRow], name: str) -> bool:
    curs.execute(SQL("CREATE TABLE IF NOT EXISTS {} (view text PRIMARY KEY, "
                     "started_at timestamptz NOT NULL DEFAULT now())").format(
        Identifier(REBUILDS_TABLE)))
    curs.execute(SQL("SELECT 1 FROM {} WHERE view = %s").format(Identifier(REBUILDS_TABLE)),
                 (name,))
    return curs.fetchone() is not None


def rebuild(
    app: Any,
    projection_class: type,
    view: BatchedView,
    *,
    batch_size: int = 1000,
    restart: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild `view` from `app`'s log with `projection_class`, `batch_size` events per
    transaction. A rebuild left unfinished is resumed where its last batch committed (unless
    `restart`); otherwise the view's tables are dropped and re-created first.

    `on_start(done, total)` is told the log positions already applied and to reach;
    `on_batch(position, count)` after each commit. Returns the events applied."""
    name = projection_class.name
    with view.datastore.transaction(commit=True) as curs:
        if not _in_progress(curs, name) or restart:
            view.reset(curs, app.name)
            curs.execute(SQL("INSERT INTO {} (view) VALUES (%s) ON CONFLICT DO NOTHING").format(
                Identifier(REBUILDS_TABLE)), (name,))
    view.create_table()  # the view's tables and indexes as the code declares them today
    projection = projection_class(view=view)
    topics = list(projection_class.topics)
    position = view.max_tracking_id(app.name) or 0
    last = app.recorder.max_notification_id() or 0
    if on_start is not None:
        on_start(position, last)
    applied = 0
    process = _dispatcher(projection)
    decode = _page_decoder(app.mapper)
    for page in _pages(app.recorder, position, last, topics, batch_size):
        with view.batch():
            for stored, event in zip(page, decode(page), strict=True):
                process(event, Tracking(app.name, stored.notification_id))
        position = page[-1].notification_id
        applied += len(page)
        if on_batch is not None:
            on_batch(position, len(page))
    with view.datastore.transaction(commit=True) as curs:
        curs.execute(SQL("DELETE FROM {} WHERE view = %s").format(Identifier(REBUILDS_TABLE)),
                     (name,))
    return applied
