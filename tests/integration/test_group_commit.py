"""The group-commit writer on a real PostgreSQL: concurrent acts share transactions, each act
gets its own position only once committed, a duplicate (inside a batch, or of a stored
record) fails alone, a failing `prepare` fails its act alone, a transient database failure
acknowledges nothing and the writer goes on.

Batches are made deterministic by a gate: a first act whose `prepare` holds the writer thread
until every other act is queued, so those are all taken by the next batch."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid5

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, OperationalError

from api.group_commit import (
    Act,
    GroupCommitWriter,
    NotAcknowledged,
    WriterStopped,
    insert_in_one_round_trip,
)
from api.settings import Settings
from api.wiring import make_registre
from domain.application import Registre
from domain.errors import RuleBroken
from tests.conftest import log_size

pytestmark = pytest.mark.integration

KEYS = UUID("6f0d3a56-6c1e-4c38-9a53-9d3b7a0f0c11")


class Thing(Aggregate):
    """A test aggregate whose id is fixed by its key: a second creation conflicts."""

    class Made(Aggregate.Created):
        key: str

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(KEYS, key)

    @event(Made)
    def __init__(self, key: str) -> None:
        self.key = key


class AlreadyMade(RuleBroken):
    """The fallback's precise refusal (a rule already explained in French: no new rule)."""


class Refused(RuleBroken):
    """A refusal raised by a `prepare`."""


def thing_act(app: Registre, key: str) -> Act:
    def fallback() -> int:
        try:
            return app.save(Thing(key=key))[-1].notification.id
        except IntegrityError:
            raise AlreadyMade(f"a thing {key!r} is already recorded") from None

    return Act(prepare=lambda: [Thing(key=key)], fallback=fallback)


def refused_act(app: Registre, key: str) -> Act:
    def prepare() -> Sequence[Aggregate]:
        raise Refused(f"{key} refused")

    return Act(prepare=prepare, fallback=thing_act(app, key).fallback)


class Gate:
    """An act that holds the writer thread inside its `prepare` until opened."""

    def __init__(self, app: Registre, key: str = "gate") -> None:
        self.entered, self.opened = threading.Event(), threading.Event()
        inner = thing_act(app, key)

        def prepare() -> Sequence[Aggregate]:
            self.entered.set()
            assert self.opened.wait(60), "the gate was never opened"
            return inner.prepare()

        self.act = Act(prepare=prepare, fallback=inner.fallback)


def _wait_queued(writer: GroupCommitWriter, count: int) -> None:
    deadline = time.monotonic() + 60
    while writer._queue.qsize() < count:
        assert time.monotonic() < deadline, "the acts were never queued"
        time.sleep(0.001)


def positions_of(settings: Settings) -> dict[UUID, int]:
    with psycopg.connect(settings.postgres_url) as conn:
        return dict(conn.execute(
            "SELECT originator_id, notification_id FROM registre_events").fetchall())


@pytest.fixture
def app(settings: Settings) -> Iterator[Registre]:
    registre = make_registre(settings)
    yield registre
    registre.close()


@pytest.fixture
def writer(app: Registre) -> Iterator[GroupCommitWriter]:
    w = GroupCommitWriter(app, max_batch=500, max_wait=0.002)
    w.start()
    yield w
    w.stop()


async def _gated_writes(app: Registre, writer: GroupCommitWriter,
                        acts: list[Act]) -> list[int | BaseException]:
    """Write `acts` concurrently, all taken in one batch behind a gate; their outcomes."""
    gate = Gate(app)
    first = asyncio.ensure_future(writer.write(gate.act))
    assert await asyncio.to_thread(gate.entered.wait, 60)
    tasks = [asyncio.ensure_future(writer.write(act)) for act in acts]
    await asyncio.to_thread(_wait_queued, writer, len(acts))
    gate.opened.set()
    await first
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_concurrent_acts_share_few_transactions_and_each_gets_its_own_position(
        settings: Settings, app: Registre, writer: GroupCommitWriter) -> None:
    keys = [f"k{i}" for i in range(300)]
    results = await _gated_writes(app, writer, [thing_act(app, k) for k in keys])

    stored = positions_of(settings)
    assert results == [stored[Thing.create_id(k)] for k in keys]
    assert results == sorted(results) and len(set(results)) == len(keys)  # arrival order
    stats = writer.stats()
    assert stats.acts == len(keys) + 1 and stats.stored == len(keys) + 1
    assert stats.batches == 2 < stats.acts  # the gate's batch, then all the others at once
    assert stats.largest_batch == len(keys) and stats.fallbacks == 0


async def test_a_batch_is_never_larger_than_max_batch(
        settings: Settings, app: Registre) -> None:
    writer = GroupCommitWriter(app, max_batch=7)
    writer.start()
    try:
        results = await _gated_writes(app, writer, [thing_act(app, f"b{i}") for i in range(20)])
    finally:
        writer.stop()
    assert all(isinstance(r, int) for r in results)
    assert writer.stats().largest_batch == 7 and writer.stats().batches == 1 + 3


async def test_a_duplicate_inside_a_batch_fails_alone_with_its_fallbacks_error(
        settings: Settings, app: Registre, writer: GroupCommitWriter) -> None:
    acts = [thing_act(app, k) for k in ("a", "b", "a", "c")]
    results = await _gated_writes(app, writer, acts)

    stored = positions_of(settings)
    assert results[0] == stored[Thing.create_id("a")]
    assert results[1] == stored[Thing.create_id("b")]
    assert results[3] == stored[Thing.create_id("c")]
    assert isinstance(results[2], AlreadyMade) and "already recorded" in str(results[2])
    assert log_size(settings) == 1 + 3  # the gate's thing, a, b, c
    assert writer.stats().fallbacks == 1 and writer.stats().conflicts == 0


async def test_a_duplicate_of_a_stored_record_fails_alone_and_the_others_are_stored(
        settings: Settings, app: Registre, writer: GroupCommitWriter) -> None:
    earlier = await writer.write(thing_act(app, "old"))
    results = await _gated_writes(app, writer,
                                  [thing_act(app, k) for k in ("x", "old", "y")])

    stored = positions_of(settings)
    assert stored[Thing.create_id("old")] == earlier
    assert isinstance(results[1], AlreadyMade)
    assert results[0] == stored[Thing.create_id("x")]
    assert results[2] == stored[Thing.create_id("y")]
    assert log_size(settings) == 1 + 1 + 2
    stats = writer.stats()
    assert stats.conflicts == 1 and stats.fallbacks == 3  # the refused batch, each alone


def test_one_round_trip_stores_nothing_of_a_batch_when_one_event_is_a_duplicate(
        settings: Settings, app: Registre) -> None:
    def stored(*keys: str) -> list:  # type: ignore[type-arg]
        return [app.mapper.to_stored_event(e) for k in keys
                for e in Thing(key=k).collect_events()]

    first = insert_in_one_round_trip(app.recorder, stored("a", "b"))
    with pytest.raises(IntegrityError):
        insert_in_one_round_trip(app.recorder, stored("c", "a", "d"))
    assert set(positions_of(settings)) == {Thing.create_id("a"), Thing.create_id("b")}

    after = insert_in_one_round_trip(app.recorder, stored("c", "d"))  # the connection is fine
    positions = positions_of(settings)
    assert first == [positions[Thing.create_id("a")], positions[Thing.create_id("b")]]
    assert after == [positions[Thing.create_id("c")], positions[Thing.create_id("d")]]
    assert after[0] > first[1]


def test_a_hundred_parallel_writes_of_the_same_key_store_exactly_one(
        settings: Settings, app: Registre, writer: GroupCommitWriter) -> None:
    def attempt(_: int) -> int | BaseException:
        try:
            return writer.write_sync(thing_act(app, "same"), timeout=120)
        except AlreadyMade as e:
            return e

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(attempt, range(100)))

    positions = [r for r in results if isinstance(r, int)]
    assert len(positions) == 1
    assert sum(isinstance(r, AlreadyMade) for r in results) == 99
    with psycopg.connect(settings.postgres_url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM registre_events WHERE originator_id = %s",
                                (Thing.create_id("same"),)).fetchone()
    assert count == 1 and positions_of(settings)[Thing.create_id("same")] == positions[0]


async def test_an_exception_in_one_prepare_fails_only_that_act(
        settings: Settings, app: Registre, writer: GroupCommitWriter) -> None:
    def broken() -> Sequence[Aggregate]:
        raise ZeroDivisionError("a bug in one act")

    acts = [thing_act(app, "p"), refused_act(app, "q"),
            Act(prepare=broken, fallback=lambda: 0), thing_act(app, "r")]
    results = await _gated_writes(app, writer, acts)

    assert isinstance(results[1], Refused) and isinstance(results[2], ZeroDivisionError)
    stored = positions_of(settings)
    assert results[0] == stored[Thing.create_id("p")]
    assert results[3] == stored[Thing.create_id("r")]
    assert Thing.create_id("q") not in stored and log_size(settings) == 1 + 2
    assert writer.stats().failed == 2


async def test_a_transient_database_failure_acknowledges_nothing_and_the_writer_goes_on(
        settings: Settings, app: Registre, writer: GroupCommitWriter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_insert = writer._insert_events
    failures = [OperationalError("server closed the connection unexpectedly")]

    def flaky_insert(stored_events):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return real_insert(stored_events)

    monkeypatch.setattr(writer, "_insert_events", flaky_insert)
    gate = Gate(app, "gate-lost")  # its batch is the one that fails
    first = asyncio.ensure_future(writer.write(gate.act))
    assert await asyncio.to_thread(gate.entered.wait, 60)
    gate.opened.set()
    with pytest.raises(NotAcknowledged) as lost:
        await first
    assert isinstance(lost.value.error, OperationalError)
    assert log_size(settings) == 0

    results = await _gated_writes(app, writer, [thing_act(app, k) for k in ("s", "t")])
    stored = positions_of(settings)
    assert results == [stored[Thing.create_id("s")], stored[Thing.create_id("t")]]
    assert writer.running and writer.stats().transient_failures == 1


def test_a_stopped_writer_takes_no_act(app: Registre) -> None:
    writer = GroupCommitWriter(app)
    writer.start()
    position = writer.write_sync(thing_act(app, "before"))
    writer.stop()
    assert position >= 1 and not writer.running
    with pytest.raises(WriterStopped):
        writer.write_sync(thing_act(app, "after"))


def test_the_api_starts_its_writer_with_the_app_and_stops_it_on_shutdown(
        settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from api.wiring import create_api

    api = create_api(settings)
    writer = api.state.writer
    assert isinstance(writer, GroupCommitWriter) and not writer.running
    with TestClient(api):
        assert writer.running
        assert writer.write_sync(thing_act(api.state.registre, "via-api")) >= 1
    assert not writer.running
