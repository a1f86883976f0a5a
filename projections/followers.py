"""The log's followers (D13): one bad event never stops the system.

Every follower of the notification log (the projection runners, the relay, the Merkle log)
moves through it by a tracked position. Input is validated at the edge so that every stored
event can be applied by every view; an event a follower still cannot apply (a text PostgreSQL
refuses, an event whose state cannot be decoded, a fact Temporal refuses) is recorded in the
table `registre_dead_letters` — which follower, at which log position, the event's topic, the
error — in one transaction with the follower's tracking position, so the follower moves on past
it exactly once, and logged. The Merkle log is the exception: it only encodes the stored bytes
and never skips a leaf (the tree must cover the whole log), so it has no dead letters.

eventsourcing's ProjectionRunner ends its processing thread at the first exception from
`process_event` and re-raises it from `run_forever` and `wait`, which stopped `registre
projections` and so `registre run`; `going_on` wraps a projection's `process_event` instead
(the view's own transaction rolls back, a second one records the dead letter and the tracking
position), and `FollowedRegistre` turns an event the mapper cannot decode into an
`UnreadableEvent` rather than an exception out of the subscription.

Failures of the infrastructure itself (PostgreSQL unreachable, a connection lost, a table not
migrated) are not the event's fault: they are raised as before, never recorded as dead letters,
and the event is tried again from the tracked position (the relay's next pass, a restarted
runner).

Questions answered: which events did each follower set aside, and why? Where does each
follower stand in the log, how many events does it still have to process, and is it caught up?
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    InterfaceError,
    InternalError,
    Mapper,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg.sql import SQL, Identifier

from domain.application import Registre
from projections.ledger import MerkleLog

log = logging.getLogger(__name__)

DEAD_LETTERS_TABLE = "registre_dead_letters"
DEAD_LETTERS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {DEAD_LETTERS_TABLE} ("
    "follower text NOT NULL, position bigint NOT NULL, topic text NOT NULL, "
    "error text NOT NULL, at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (follower, position))"
)
ERROR_MAX = 500


def create_dead_letters_table(datastore: PostgresDatastore) -> None:
    """Create `registre_dead_letters` (by `registre migrate`, D9)."""
    with datastore.transaction(commit=True) as curs:
        curs.execute(DEAD_LETTERS_DDL)


# -- what is the event's fault, and what is not ------------------------------------------------

# The store unreachable, or a schema not migrated (a missing table or column is the
# deployment's fault: setting every event aside would empty the view). Content errors —
# PostgreSQL's DataError and IntegrityError, or any Python error while applying — are not here.
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, ProgrammingError, InternalError, NotSupportedError,
    psycopg.OperationalError, psycopg.InterfaceError, psycopg.ProgrammingError,
    psycopg.InternalError, psycopg.NotSupportedError, psycopg_pool.PoolTimeout,
    ConnectionError, TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """True for a failure of the infrastructure (retry later), not of the event's content."""
    return isinstance(error, TRANSIENT)


def describe(error: BaseException) -> str:
    """The error as stored and shown: its class and first line, printable, bounded. A message
    may quote the content that failed (a NUL, a control character): those are escaped, since
    the dead letter must itself be storable."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    text = "".join(
        ch if ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Cs")
        else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text)
    return text if len(text) <= ERROR_MAX else text[:ERROR_MAX - 1] + "…"


def record_dead_letter(recorder: PostgresTrackingRecorder, follower: str, tracking: Tracking,
                       topic: str, error: BaseException) -> None:
    """Set the event at `tracking` aside for `follower` and move its tracking past it, in one
    transaction: the follower goes on, exactly once."""
    message = describe(error)
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            f"INSERT INTO {DEAD_LETTERS_TABLE} (follower, position, topic, error) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (follower, position) "
            "DO UPDATE SET topic = EXCLUDED.topic, error = EXCLUDED.error, at = now()",
            (follower, tracking.notification_id, describe_topic(topic), message))
        recorder._insert_tracking(curs, tracking)  # noqa: SLF001 (same transaction)
    log.error("%s set event #%s (%s) aside as a dead letter: %s", follower,
              tracking.notification_id, topic, message)


def describe_topic(topic: str) -> str:
    return topic.replace("\x00", "\\x00")[:300]


# -- events that cannot even be decoded ----------------------------------------------------


@dataclass(frozen=True)
class UnreadableEvent:
    """A stored event whose state could not be turned into its domain event."""

    originator_id: Any
    originator_version: int
    topic: str
    error: BaseException


class ReadingMapper:
    """The application's mapper, except that an event it cannot decode becomes an
    `UnreadableEvent` for the follower to set aside, instead of stopping its subscription."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self._mapper = mapper

    def to_domain_event(self, stored: StoredEvent) -> DomainEventProtocol[Any] | Any:
        try:
            return self._mapper.to_domain_event(stored)
        except Exception as error:  # noqa: BLE001 (any decoding failure is the event's)
            return UnreadableEvent(stored.originator_id, stored.originator_version,
                                   stored.topic, error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mapper, name)


class FollowedRegistre(Registre):
    """The Registre application as a follower reads it: undecodable events are flagged."""

    name = Registre.name  # the tracked application name stays "Registre"

    def construct_mapper(self) -> Mapper[Any]:
        return ReadingMapper(super().construct_mapper())  # type: ignore[return-value]


# -- projections that go on -------------------------------------------------------------


def topic_of(domain_event: Any) -> str:
    if isinstance(domain_event, UnreadableEvent):
        return domain_event.topic
    cls = type(domain_event)
    return f"{cls.__module__}:{cls.__qualname__}"


def going_on(projection_class: type[Projection[Any]]) -> type[Projection[Any]]:
    """`projection_class`, applying each event or else recording it as a dead letter of the
    projection (its `name`) with the view's tracking position. Infrastructure failures are
    raised as before (the runner stops; nothing is skipped)."""

    class GoingOn(projection_class):  # type: ignore[valid-type, misc]
        name = projection_class.name
        topics = projection_class.topics
        __doc__ = projection_class.__doc__

        def process_event(self, domain_event: Any, tracking: Tracking) -> None:
            if isinstance(domain_event, UnreadableEvent):
                error: BaseException = domain_event.error
            else:
                try:
                    super().process_event(domain_event, tracking)
                    return
                except Exception as e:
                    if is_transient(e):
                        raise
                    error = e
            record_dead_letter(self.view, self.name, tracking, topic_of(domain_event), error)

    GoingOn.__name__ = GoingOn.__qualname__ = projection_class.__name__
    return GoingOn


# -- reading: the dead letters and each follower's state ---------------------------------------


@dataclass(frozen=True)
class Follower:
    """A follower of the log: its name, tracking table and the topics it follows (none: all)."""

    name: str
    tracking_table: str
    topics: Sequence[str] = ()
    application_name: str = Registre.name


LAG_CAP = 100_000  # counting further would make /health slow on a view being rebuilt


def followers_state(curs: Any, followers: Iterable[Follower], events_table: str,
                    log_position: int | None) -> Iterator[dict[str, Any]]:
    """Each follower's tracked position, lag (events it follows after that position, counted
    up to LAG_CAP), position up to which it has processed the whole log, its dead letters,
    and its state: `caught_up` or `behind`."""
    curs.execute(f"SELECT follower, count(*) AS n FROM {DEAD_LETTERS_TABLE} "  # noqa: S608
                 "GROUP BY follower")
    dead = {r["follower"]: int(r["n"]) for r in curs.fetchall()}
    for f in followers:
        curs.execute(SQL("SELECT max(notification_id) AS p FROM {} "
                         "WHERE application_name = %s").format(Identifier(f.tracking_table)),
                     (f.application_name,))
        row = curs.fetchone()
        position = row["p"] if row else None
        topic_filter = SQL(" AND topic = ANY(%s)") if f.topics else SQL("")
        curs.execute(SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {} WHERE notification_id > %s"
                         "{} LIMIT %s) AS pending").format(Identifier(events_table), topic_filter),
                     (position or 0, *([list(f.topics)] if f.topics else []), LAG_CAP))
        lag = int(curs.fetchone()["n"])
        yield {
            "name": f.name, "state": "caught_up" if lag == 0 else "behind",
            "position": position, "lag": lag,
            "processed_to": (log_position or 0) if lag == 0 else (position or 0),
            "dead_letters": dead.get(f.name, 0),
        }


def read_state(datastore: PostgresDatastore, followers: Sequence[Follower], events_table: str,
               timeout_seconds: float, merkle_log: MerkleLog) -> dict[str, Any]:
    """The store's state in one transaction under a statement timeout: the log's position, the
    Merkle log's size, each follower's state, the dead letters. Raises when PostgreSQL does not answer in time.

    Pooled connections may have died with a server restart: each one that fails is dropped
    by the pool, and the question asked again, at most once per pooled connection; a pool
    that cannot connect within the timeout is the answer."""
    datastore.pool.open(wait=False)  # as eventsourcing's own `get_connection` does
    for _ in range(datastore.pool.max_size):
        try:
            return _read_state(datastore, followers, events_table, timeout_seconds, merkle_log)
        except psycopg_pool.PoolTimeout:
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError):
            continue
    return _read_state(datastore, followers, events_table, timeout_seconds, merkle_log)


def _read_state(datastore: PostgresDatastore, followers: Sequence[Follower], events_table: str,
                timeout_seconds: float, merkle_log: MerkleLog) -> dict[str, Any]:
    with datastore.pool.connection(timeout=timeout_seconds) as conn, conn.transaction(
            force_rollback=True), conn.cursor() as curs:
        curs.execute(SQL("SET LOCAL statement_timeout = {}").format(
            int(timeout_seconds * 1000)))
        curs.execute("SELECT 1 AS ok")
        curs.execute(SQL("SELECT max(notification_id) AS p FROM {}").format(
            Identifier(events_table)))
        log_position = curs.fetchone()["p"]
        ledger_size = merkle_log._size(curs)  # noqa: SLF001 (in this transaction)
        states = list(followers_state(curs, followers, events_table, log_position))
        return {"log_position": log_position, "ledger_size": ledger_size, "followers": states,
                "dead_letters": sum(s["dead_letters"] for s in states)}


@dataclass(frozen=True)
class DeadLetter:
    follower: str
    position: int
    topic: str
    error: str
    at: datetime


def dead_letters(datastore: PostgresDatastore, follower: str | None = None,
                 after: int = 0, limit: int = 100) -> list[DeadLetter]:
    """The dead letters in log order (of one follower, or all), after log position `after`."""
    where = "AND follower = %(f)s" if follower else ""
    with datastore.transaction(commit=False) as curs:
        curs.execute(f"SELECT * FROM {DEAD_LETTERS_TABLE} WHERE position > %(a)s {where} "  # noqa: S608
                     "ORDER BY position, follower LIMIT %(l)s",
                     {"a": after, "f": follower, "l": limit})
        return [DeadLetter(r["follower"], r["position"], r["topic"], r["error"], r["at"])
                for r in curs.fetchall()]
