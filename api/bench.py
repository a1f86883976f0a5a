"""`registre bench ledger`: throughput of the ledger's verification against raw SHA-256 over the
same bytes, measured in the same run (this machine is shared and noisy: only ratios and
same-run comparisons mean something), and the latency of proofs served from stored nodes.

`registre bench signatures`: signatures acknowledged per second over HTTP (wrk, one distinct
signer per request) through the group-commit writer, against the HTTP floor of the same
server (an authenticated route storing nothing) and the database's raw single-row INSERT
rate; the stored count is checked against the acknowledged count.

`registre bench projections`: the rate of a batched rebuild of the public views against a raw
sequential read of the same events table, in the same run; and the views' rebuild itself,
shared with `registre projections rebuild`.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import operator
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.deps import CurrentUser, require_role
from api.edge import EdgeRoute
from api.group_commit import Act, NotAcknowledged
from api.settings import Settings
from domain.ledger import merkle
from domain.ledger.verify import leaf_hashes, prefix_root, tree_levels, verify_export
from domain.deliberation.ballot import Vote
from domain.ledger.leaf import encode_leaf
from domain.errors import RuleBroken
from domain.rules.charter import CharterRules

console = Console(soft_wrap=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def _fill(settings: Settings, events: int) -> None:
    """Store `events` roll-call votes (real events, encoded by the application's mapper),
    copied into the store in batches."""
    import psycopg

    from api.wiring import make_registre

    app = make_registre(settings)
    # A real ballot to vote on, so the offline verifier's recount has a ballot to follow.
    metropolis = app.found_metropolis(
        f"bench-{uuid.uuid4().hex[:8]}", "Métropole de mesure",
        [{"code": "A", "name": "Ville A", "population": 1}],
        [{"ref": "m0", "name": "Membre", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=1, vote_seconds=10**8, quorum_percent=50))
    proposal, _ = app.submit_proposal(metropolis, "citoyen", "Mesure", "Banc d'essai")
    app.open_consultation(proposal, app.clock())
    app.open_vote(proposal, app.clock())
    ballot = app.get_proposal(proposal).ballot_id
    with psycopg.connect(settings.postgres_url) as conn, _progress() as progress:
        task = progress.add_task("Écriture des événements", total=events)
        done = 0
        while done < events:
            n = min(10_000, events - done)
            with conn.cursor().copy("COPY registre_events (originator_id, originator_version, "
                                    "topic, state) FROM STDIN") as copy:
                for i in range(done, done + n):
                    vote = Vote(ballot_id=ballot, proposal_id=proposal, voter_ref=f"m{i}",
                                choice=("for", "against", "abstain")[i % 3])
                    stored = app.mapper.to_stored_event(vote.collect_events()[0])
                    copy.write_row((stored.originator_id, stored.originator_version,
                                    stored.topic, stored.state))
            conn.commit()
            done += n
            progress.advance(task, n)
    app.close()


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"p50 {statistics.median(ms):.2f} ms   p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms"


@contextmanager
def _bench_database(postgres_url: str | None) -> Iterator[Settings]:
    """Settings on a migrated database: `postgres_url`, or a throwaway embedded PostgreSQL of
    the bench's own (stopped and deleted afterwards)."""
    from api.embedded import EmbeddedPostgres, free_port
    from api.wiring import migrate

    tmp = Path(tempfile.mkdtemp(prefix="registre-bench-"))
    server = None
    try:
        if postgres_url is None:
            server = EmbeddedPostgres(tmp / "pg", free_port())
            server.start()
            postgres_url = server.url
        settings = Settings(postgres_url=postgres_url, var_dir=tmp / "var")
        migrate(settings)
        yield settings
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_ledger(events: int, postgres_url: str | None, proofs: int = 1000) -> None:
    from api.wiring import make_merkle_log, make_registre
    from projections.ledger import MerkleFollower

    with _bench_database(postgres_url) as settings:
        postgres_url = settings.postgres_url
        app = make_registre(settings)
        store = make_merkle_log(settings)
        already = store.size()
        console.print(f"Registre bench ledger: {events:,} events on {postgres_url}"
                      + (f" (log already holds {already:,})" if already else ""))
        _fill(settings, events)

        follower = MerkleFollower(app.recorder, app.name, store, batch=5000)
        with _progress() as progress:
            task = progress.add_task("Journal de Merkle",
                                     total=app.recorder.max_notification_id() - already)
            append_s, _ = _timed(lambda: follower.catch_up(lambda n: progress.advance(task, n)))
        size = store.size()

        leaves: list[bytes] = []
        lines: list[dict[str, Any]] = [{"kind": "header", "format": "registre-export/1",
                                        "source": str(postgres_url), "exported_at": "",
                                        "keys": {"ledger": None, "witness": None}}]
        start = 0
        with _progress() as progress:
            task = progress.add_task("Lecture du journal", total=size)
            while page := app.recorder.select_notifications(start=start + 1, limit=10_000):
                for n in page:
                    leaf = encode_leaf(n.id, n.originator_id, n.originator_version, n.topic,
                                       n.state)
                    leaves.append(leaf)
                    lines.append({"kind": "record", "index": len(leaves) - 1,
                                  "notification_id": n.id,
                                  "originator_id": str(n.originator_id),
                                  "originator_version": n.originator_version,
                                  "topic": n.topic, "leaf": base64.b64encode(leaf).decode(),
                                  "leaf_hash": None, "logged_notification_id": None})
                start = page[-1].id
                progress.advance(task, len(page))
        total_bytes = sum(len(leaf) for leaf in leaves)

        digest = operator.methodcaller("digest")

        def baseline() -> list[bytes]:
            # The fastest plain loop over the same bytes: one SHA-256 per leaf, in C.
            return list(map(digest, map(hashlib.sha256, leaves)))

        def merkle_verify() -> bytes:
            hashes = leaf_hashes(leaves)
            return prefix_root(tree_levels(hashes), len(hashes))

        baseline_runs, verify_runs = [], []
        gc.disable()  # neither loop makes cycles; collections would only add noise to both
        try:
            for _ in range(5):  # interleaved, best of five: the machine is shared
                baseline_runs.append(_timed(baseline)[0])
                seconds, root = _timed(merkle_verify)
                verify_runs.append(seconds)
        finally:
            gc.enable()
        _, stored_root = store.root()
        assert root == stored_root, "the recomputed root differs from the stored tree's root"
        full_s, report = _timed(lambda: verify_export(lines))

        base_s, ver_s = min(baseline_runs), min(verify_runs)
        rng = random.Random(7)
        inclusion, consistency = [], []
        _, root_now = store.root(size)
        for _ in range(proofs):
            index = rng.randrange(size)
            seconds, (leaf_hash, path) = _timed(lambda i=index: store.inclusion_proof(i, size))
            inclusion.append(seconds)
            assert merkle.verify_inclusion(leaf_hash, index, size, path, root_now)
        for _ in range(proofs):
            old = rng.randrange(1, size + 1)
            seconds, _ = _timed(lambda o=old: store.consistency_proof(o, size))
            consistency.append(seconds)

        console.print(
            f"\nevents                      {size:,} ({total_bytes / size:.0f} bytes per leaf)\n"
            f"append to Merkle log        {size / append_s:,.0f} events/s\n"
            f"baseline hashlib sha256     {size / base_s:,.0f} events/s "
            f"({total_bytes / base_s / 1e6:,.0f} MB/s)\n"
            f"merkle verification         {size / ver_s:,.0f} events/s  "
            f"ratio {base_s / ver_s:.2f} (leaf hashes + root; goal >= 0.5)\n"
            f"full offline verification   {size / full_s:,.0f} events/s  "
            f"ratio {base_s / full_s:.2f} (decode, checks, recount; {len(report.errors)} "
            "errors)\n"
            f"inclusion proof ({proofs})    {_percentiles(inclusion)}\n"
            f"consistency proof ({proofs})  {_percentiles(consistency)}"
        )
        app.close()
        store.datastore.close()


# -- rebuilding views (`registre projections rebuild`, `registre bench projections`) ---------


def view_names() -> tuple[str, ...]:
    from api.wiring import PROJECTIONS

    return tuple(projection.name for projection, _ in PROJECTIONS)


def make_view(settings: Settings, name: str) -> tuple[type, Any]:
    """The projection class named `name` and a view of its own to rebuild."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    from api.wiring import PROJECTIONS, eventsourcing_env

    projection, view_class = next((p, v) for p, v in PROJECTIONS if p.name == name)
    env = Environment(name, eventsourcing_env(settings))
    return projection, InfrastructureFactory.construct(env=env).tracking_recorder(view_class)


def rebuild_views(settings: Settings, names: list[str], batch: int, *,
                  restart: bool = False) -> Iterator[tuple[str, int, float]]:
    """Rebuild each named view with a progress bar; yields (name, events applied, seconds)."""
    from api.wiring import make_registre
    from projections.rebuild import rebuild

    app = make_registre(settings)
    try:
        for name in names:
            projection, view = make_view(settings, name)
            with _progress() as progress:
                task = progress.add_task(f"Reconstruction de la vue {name}", total=None)
                base = [0]

                def started(done: int, total: int, task: Any = task, base: list[int] = base,
                            progress: Progress = progress) -> None:
                    base[0] = done
                    progress.update(task, total=total - done, completed=0)

                def advanced(position: int, _count: int, task: Any = task,
                             base: list[int] = base, progress: Progress = progress) -> None:
                    progress.update(task, completed=position - base[0])

                seconds, applied = _timed(lambda: rebuild(
                    app, projection, view, batch_size=batch, restart=restart,
                    on_start=started, on_batch=advanced))
                progress.update(task, completed=progress.tasks[0].total or 0)
            view.datastore.close()
            yield name, applied, seconds
    finally:
        app.close()


# -- `registre bench projections` -----------------------------------------------------------

_COMMENTS = (
    "Je soutiens cette proposition, mais il faudrait prévoir un calendrier pour les travaux.",
    "Quel sera le coût pour les communes de la première couronne ? Le résumé n'en dit rien.",
    "Très bonne idée : dans mon quartier, les trottoirs sont impraticables depuis des années.",
    "Il faudrait consulter aussi les associations de parents d'élèves avant le vote du conseil.",
)


def _fill_views(settings: Settings, events: int, members: int = 60) -> int:
    """Store about `events` events of a metropolis' life: proposals submitted and opened to
    consultation, citizens' supports (3 in 4) and comments on them, then each proposal's
    roll-call vote by the council, closed and decided. The mass acts are copied into the
    store in batches (real events, encoded by the application's mapper); the lifecycle goes
    through the application's commands. Returns the log's size."""
    import psycopg

    from datetime import datetime, timezone

    from eventsourcing.utils import get_topic

    from api.wiring import make_registre
    from domain.deliberation.ballot import Vote
    from domain.deliberation.participation import Comment, Support

    app = make_registre(settings)
    metropolis = app.found_metropolis(
        f"bench-{uuid.uuid4().hex[:8]}", "Métropole de mesure",
        [{"code": "A", "name": "Ville A", "population": 1}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in range(members)],
        CharterRules(consultation_seconds=1, vote_seconds=10**6, quorum_percent=50))
    count = max(2, events // 5000)
    proposals = []
    for n in range(count):
        pid, _ = app.submit_proposal(metropolis, f"citoyen-{n}", f"Proposition n° {n}",
                                     "Aménager les berges et ouvrir un parc riverain.")
        app.open_consultation(pid, app.clock())
        proposals.append(pid)
    mass = max(0, events - app.recorder.max_notification_id() - count * (members + 3))
    rng = random.Random(8)
    encode = app.mapper.to_stored_event
    support, comment = get_topic(Support), get_topic(Comment)
    # Comments are sealed (D10); one sealed form per text stands for every commenter's.
    sealed = [app.personal_data.seal(metropolis, "p-bench", "comment", text) for text in _COMMENTS]
    copy_sql = ("COPY registre_events (originator_id, originator_version, topic, state) "
                "FROM STDIN")
    with psycopg.connect(settings.postgres_url) as conn, _progress() as progress:
        task = progress.add_task("Écriture des événements", total=mass + count * members)
        done = 0
        while done < mass:
            n = min(10_000, mass - done)
            with conn.cursor().copy(copy_sql) as copy:
                for i in range(done, done + n):
                    pid, ref = proposals[rng.randrange(count)], f"citoyen-{i}"
                    # The events the aggregates' constructors make, without the aggregates.
                    if i % 4:
                        act: Any = Support.Given(
                            originator_id=Support.create_id(pid, ref), originator_version=1,
                            timestamp=datetime.now(timezone.utc), originator_topic=support,
                            proposal_id=pid, citizen_ref=ref)
                    else:
                        act = Comment.Posted(
                            originator_id=uuid.uuid4(), originator_version=1,
                            timestamp=datetime.now(timezone.utc), originator_topic=comment,
                            proposal_id=pid, citizen_ref=ref, text_sealed=sealed[i % 8 // 2])
                    stored = encode(act)
                    copy.write_row((stored.originator_id, stored.originator_version,
                                    stored.topic, stored.state))
            conn.commit()
            done += n
            progress.advance(task, n)
        for pid in proposals:
            opened = app.open_vote(pid, app.clock())
            ballot = app.get_proposal(pid).ballot_id
            with conn.cursor().copy(copy_sql) as copy:
                for i in range(members):
                    vote = Vote(ballot_id=ballot, proposal_id=pid, voter_ref=f"m{i}",
                                choice=("for", "for", "against", "abstain")[rng.randrange(4)])
                    stored = encode(vote.collect_events()[0])
                    copy.write_row((stored.originator_id, stored.originator_version,
                                    stored.topic, stored.state))
            conn.commit()
            app.decide(pid, opened.position, app.close_ballot(pid, app.clock()))
            progress.advance(task, members)
    size = app.recorder.max_notification_id()
    app.close()
    return size


def _raw_read(postgres_url: str) -> tuple[int, int]:
    """Read every row of the events table in log order with a server-side cursor, as bytes:
    the floor under any follower of the log. Returns (rows, state bytes)."""
    import psycopg

    rows = size = 0
    with psycopg.connect(postgres_url) as conn, conn.cursor(name="raw_read") as cur:
        cur.execute("SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM registre_events ORDER BY notification_id")
        while page := cur.fetchmany(10_000):
            rows += len(page)
            size += sum(len(row[4]) for row in page)
    return rows, size


def bench_projections(events: int, postgres_url: str | None, batch: int = 1000) -> None:
    with _bench_database(postgres_url) as settings:
        postgres_url = settings.postgres_url
        console.print(f"Registre bench projections: about {events:,} events on {postgres_url}")
        size = _fill_views(settings, events)

        reads = []
        for _ in range(2):  # the first also warms the cache the rebuild will read from
            seconds, (rows, state_bytes) = _timed(lambda: _raw_read(postgres_url))
            reads.append(seconds)
        read_s = min(reads)
        ((name, applied, rebuild_s),) = rebuild_views(settings, ["public_views"], batch,
                                                      restart=True)
        raw_rate, rebuild_rate = rows / read_s, applied / rebuild_s
        console.print(
            f"\nevents in the log            {size:,} ({state_bytes / rows:.0f} bytes of state "
            "per event)\n"
            f"raw sequential read          {raw_rate:,.0f} events/s "
            f"({state_bytes / read_s / 1e6:,.0f} MB/s; server-side cursor, every row's bytes)\n"
            f"rebuild of {name}      {rebuild_rate:,.0f} events/s "
            f"({applied:,} events applied, {batch:,} per transaction)\n"
            f"ratio                        {rebuild_rate / raw_rate:.2f} (goal >= 0.25)"
        )


# -- `registre bench signatures` ------------------------------------------------------------
#
# The whole write path of a high-volume act over HTTP: wrk (one distinct signer per request,
# each with its own bearer token) against the API served by uvicorn in a process of its own,
# on a throwaway embedded PostgreSQL. Each concurrency is measured twice with the same
# tokens: the act itself, then the floor (`POST /bench/noop`: authenticated like the act,
# storing nothing). Both bench routes exist only in the bench's server (`bench_api`).

BENCH_MARKS = uuid.UUID("0d6f4c1e-5b8a-4f4b-9c39-3c1e2a7b9e51")


class BenchMark(Aggregate):
    """The bench's stand-in for a signature: one per signer (id uuid5 of the signer), so a
    second one by the same signer is refused by the store like a second signature."""

    class Made(Aggregate.Created):
        signer: str

    @staticmethod
    def create_id(signer: str) -> uuid.UUID:
        return uuid.uuid5(BENCH_MARKS, signer)

    @event(Made)
    def __init__(self, signer: str) -> None:
        self.signer = signer


def bench_act(app: Any, signer: str) -> Act:
    """The stand-in act through the group-commit writer: a new `BenchMark`, or (alone) the
    full command, which refuses a second mark by the same signer."""

    def fallback() -> int:
        try:
            return app.save(BenchMark(signer=signer))[-1].notification.id
        except IntegrityError:
            raise RuleBroken(f"{signer!r} already made its mark") from None

    return Act(prepare=lambda: [BenchMark(signer=signer)], fallback=fallback)


def _not_acknowledged(error: NotAcknowledged) -> JSONResponse:
    from api.app import refusal

    return refusal(status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable", str(error))


bench_routes = APIRouter(prefix="/bench", tags=["bench"], route_class=EdgeRoute,
                         include_in_schema=False)


@bench_routes.post("/noop", dependencies=[Depends(require_role("citizen"))])
async def bench_noop(user: CurrentUser) -> dict[str, int]:
    """The floor: authenticated like a signature (bearer token, role), storing nothing."""
    return {"position": 0}


@bench_routes.post("/write", status_code=status.HTTP_201_CREATED,
                   dependencies=[Depends(require_role("citizen"))])
async def bench_write(request: Request, user: CurrentUser) -> Any:
    """The stand-in act: one `BenchMark` per signer through the group-commit writer."""
    try:
        position = await request.app.state.writer.write(
            bench_act(request.app.state.registre, user.sub))
    except NotAcknowledged as e:
        return _not_acknowledged(e)
    return {"position": position}


@bench_routes.get("/stats")
def bench_stats(request: Request) -> dict[str, int]:
    """The writer's counters (batches, acts, largest batch, fallbacks…)."""
    return request.app.state.writer.stats().as_dict()


def bench_api() -> Any:
    """The API with the bench's routes, for uvicorn (`--factory api.bench:bench_api`); its
    settings from the `REGISTRE_*` environment like `registre api`; the writer's `max_wait`
    from `REGISTRE_BENCH_MAX_WAIT` when set."""
    import os

    from api.group_commit import GroupCommitWriter
    from api.wiring import create_api

    app = create_api(Settings())
    app.include_router(bench_routes)
    if os.environ.get("REGISTRE_BENCH_MAX_WAIT"):
        app.state.writer = GroupCommitWriter(
            app.state.registre, max_wait=float(os.environ["REGISTRE_BENCH_MAX_WAIT"]))
    return app


WRK_SCRIPT = r"""
-- registre bench signatures: each request carries the next token of this thread's share of
-- the tokens file (one per simulated signer), each used once. Once a thread has sent all its
-- tokens its connections idle (delay); once every one was answered it notes its end time and writes
-- a marker file, and the bench stops wrk (SIGINT). Rates are counted from the first
-- request to the last answer, not over wrk's -d bound.
-- args: tokens file, path, threads, marker directory
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } registre_timespec;
int clock_gettime(int clk_id, registre_timespec *tp);
]]
local ts = ffi.new("registre_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC: one clock for every thread
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local made = 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[3])
  target, markers = args[2], args[4]
  tokens, statuses, next_token, answered, reserved, promised = {}, {}, 1, 0, 0, 0
  started, ended, extra = 0, 0, 0
  verifying = (id == 0)  -- wrk calls request() once on thread 0 to check it: no token used
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then tokens[#tokens + 1] = "Bearer " .. line end
    i = i + 1
  end
end

-- delay() comes before each request of a connection but its first: it reserves the token
-- that request will use, so that no two connections count on the same last token.
function delay()
  if reserved >= #tokens then return 3600000 end
  reserved, promised = reserved + 1, promised + 1
  return 0
end

function request()
  if verifying then
    verifying = false
    return wrk.format("POST", target, {["Authorization"] = tokens[1]}, "")
  end
  if started == 0 then started = now() end
  if promised > 0 then
    promised = promised - 1
  elseif reserved < #tokens then  -- a connection's first request (or after a reconnect)
    reserved = reserved + 1
  else  -- no token left for it: a harmless request, not counted as the act
    extra = extra + 1
    return wrk.format("POST", "/bench/noop", {["Authorization"] = tokens[1]}, "")
  end
  local token = tokens[next_token]
  next_token = next_token + 1
  return wrk.format("POST", target, {["Authorization"] = token}, "")
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  answered = answered + 1
  if answered == #tokens + extra then
    ended = now()
    local marker = io.open(markers .. "/done-" .. id, "w")
    marker:write(tostring(ended))
    marker:close()
  end
end

function done(summary, latency, requests)
  local counts, first, last, finished = {}, nil, 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do counts[k] = (counts[k] or 0) + v end
    local s, e = t:get("started"), t:get("ended")
    if s > 0 and (first == nil or s < first) then first = s end
    if e > 0 then finished = finished + 1 end
    if e > last then last = e end
  end
  local parts = {}
  for k, v in pairs(counts) do parts[#parts + 1] = string.format('"%s": %d', k, v) end
  local seconds = summary.duration / 1e6
  if first ~= nil and finished == #threads then seconds = last - first end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"seconds": %.6f, "finished": %s, "requests": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "statuses": {%s}}\n',
    seconds, tostring(finished == #threads), summary.requests, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read,
    e.write, e.status, e.timeout, table.concat(parts, ", ")))
end
"""


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run measured (latencies in seconds)."""

    seconds: float  # first request to last answer (wrk's whole run if not all answered)
    finished: bool  # every request was answered
    statuses: dict[int, int]
    p50: float
    p90: float
    p99: float
    errors: dict[str, int]

    def rate(self, status_code: int) -> float:
        return self.statuses.get(status_code, 0) / self.seconds


@dataclass(frozen=True)
class SignatureScenario:
    """What the bench signs with: the route, its success status, the stored topic to count,
    and how a signer's token is made (subject `signer-N`)."""

    name: str
    path: str
    topic: str
    token: Callable[[str, int], str]  # (signing secret, signer number) -> token


def _stand_in_scenario(settings: Settings) -> SignatureScenario:
    from eventsourcing.utils import get_topic

    from api.auth import issue_token

    return SignatureScenario(
        name="stand-in act (POST /bench/write: one BenchMark per signer)",
        path="/bench/write", topic=get_topic(BenchMark.Made),
        token=lambda secret, n: issue_token(secret, f"signer-{n}", "citizen"))


def _petition_scenario(settings: Settings) -> SignatureScenario:
    """A metropolis of the bench's own, and a petition of its charter's default kind
    (`interpellation`) collecting signatures; signers resident in its commune, adults."""
    from datetime import date

    from eventsourcing.utils import get_topic

    from api.auth import issue_token
    from api.wiring import make_registre
    from domain.petition.signature import Signature

    app = make_registre(settings)
    try:
        metropolis = app.found_metropolis(
            f"bench-{uuid.uuid4().hex[:8]}", "Métropole de mesure",
            [{"code": "A", "name": "Ville A", "population": 10_000_000}],
            [{"ref": "m0", "name": "Membre", "role": "councillor", "commune": "A"}],
            CharterRules(consultation_seconds=1, vote_seconds=10**6, quorum_percent=50))
        author = app.personal_data.pseudonym(metropolis, "registre-local", "bench-author")
        petition, _ = app.draft_petition(metropolis, author, "interpellation",
                                         "Pétition de mesure", "Banc d'essai des signatures.")
        app.open_petition_admissibility(petition, app.clock())
        app.rule_petition_admissibility(petition, "clerk-bench", True)
        app.open_collection(petition, app.clock())
    finally:
        app.close()
    born = date(1990, 1, 1)
    return SignatureScenario(
        name=f"petition signatures (POST /petitions/{petition}/signatures, the charter's "
             "default kind: one Signature per signer)",
        path=f"/petitions/{petition}/signatures", topic=get_topic(Signature.Signed),
        token=lambda secret, n: issue_token(secret, f"signer-{n}", "citizen", "A",
                                            birthdate=born))


SCENARIOS = {"signature": _petition_scenario, "stand-in": _stand_in_scenario}


def _require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise FileNotFoundError("`wrk` is not installed: run `make tools` (or "
                                "`apt-get install -y wrk` as root)")
    return found


@contextmanager
def _bench_server(settings: Settings, workdir: Path, max_wait: float) -> Iterator[str]:
    """The API with the bench routes, served by uvicorn (uvloop, httptools, no access log)
    in a process of its own on a free port; its base URL."""
    import os
    import subprocess
    import sys

    from api.embedded import free_port, wait_for_port

    port = free_port()
    env = {**os.environ, "REGISTRE_POSTGRES_URL": settings.postgres_url,
           "REGISTRE_VAR_DIR": str(settings.var_dir),
           "REGISTRE_JWT_SECRET": settings.signing_secret(), "REGISTRE_API_PORT": str(port),
           "REGISTRE_BENCH_MAX_WAIT": repr(max_wait)}
    log_path = workdir / "api.log"
    with open(log_path, "ab") as log_file:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "uvicorn", "--factory", "api.bench:bench_api",
             "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning",
             "--lifespan", "on"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            wait_for_port(port, timeout=60, what="the bench's API server")
        except TimeoutError:
            raise RuntimeError(f"the bench's API server did not start:\n"
                               f"{log_path.read_text()[-3000:]}") from None
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _issue_tokens(settings: Settings, scenario: SignatureScenario, first: int, count: int,
                  path: Path) -> Path:
    secret = settings.signing_secret()
    with _progress() as progress, open(path, "w") as out:
        task = progress.add_task(f"Jetons des signataires {first:,}–{first + count - 1:,}",
                                 total=count)
        for n in range(first, first + count):
            out.write(scenario.token(secret, n) + "\n")
            if n % 1000 == 999:
                progress.advance(task, 1000)
        progress.update(task, completed=count)
    return path


def _log_size(postgres_url: str, topic: str | None = None) -> int:
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        if topic is None:
            row = conn.execute("SELECT coalesce(max(notification_id), 0) "
                               "FROM registre_events").fetchone()
        else:
            row = conn.execute("SELECT count(*) FROM registre_events WHERE topic = %s",
                               (topic,)).fetchone()
    assert row is not None
    return int(row[0])


def _wrk(url: str, path: str, tokens: Path, count: int, connections: int, threads: int,
         workdir: Path, label: str, progress_of: Callable[[], int] | None) -> WrkRun:
    """Run wrk until every token of `tokens` was used once on `path` and answered."""
    import json
    import signal
    import subprocess

    script = workdir / "signatures.lua"
    script.write_text(WRK_SCRIPT)
    markers = Path(tempfile.mkdtemp(prefix="wrk-", dir=workdir))
    threads = max(1, min(threads, connections))
    bound = max(120, count // 20)  # -d: a bound only, wrk is stopped once all is answered
    args = [_require_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{bound}s",
            "--timeout", "30s", "--latency", "-s", str(script), url, "--",
            str(tokens), path, str(threads), str(markers)]
    with _progress() as progress:
        task = progress.add_task(label, total=count if progress_of else None)
        process = subprocess.Popen(args, stdout=subprocess.PIPE,  # noqa: S603
                                   stderr=subprocess.STDOUT, text=True)
        last_change, seen = time.monotonic(), -1
        while process.poll() is None:
            time.sleep(0.2)
            if len(list(markers.iterdir())) == threads:
                process.send_signal(signal.SIGINT)  # every request was answered
                break
            if progress_of is not None:
                done = progress_of()
                progress.update(task, completed=min(count, done))
                if done != seen:
                    last_change, seen = time.monotonic(), done
                elif time.monotonic() - last_change > 60:  # nothing stored for a minute
                    process.send_signal(signal.SIGINT)
                    break
        output, _ = process.communicate(timeout=120)
        if progress_of is not None:
            progress.update(task, completed=min(count, progress_of()))
    line = next((x for x in output.splitlines() if x.startswith("RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (status {process.returncode}):\n{output[-3000:]}")
    result = json.loads(line[len("RESULT "):])
    return WrkRun(seconds=result["seconds"], finished=result["finished"],
                  statuses={int(k): v for k, v in result["statuses"].items()},
                  p50=result["p50_us"] / 1e6, p90=result["p90_us"] / 1e6,
                  p99=result["p99_us"] / 1e6, errors=result["errors"])


def _raw_insert_rate(postgres_url: str, connections: int = 1, seconds: float = 3.0) -> float:
    """Single-row INSERTs, autocommit (one transaction, one commit each) into a scratch table,
    from `connections` connections at once: the database's own commit rate."""
    import threading

    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_scratch "
                     "(id bigserial PRIMARY KEY, payload bytea NOT NULL)")
    counts = [0] * connections
    payload = b"x" * 200  # about a signature event's size
    start_line = threading.Barrier(connections + 1)

    def insert(i: int) -> None:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            start_line.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                conn.execute("INSERT INTO bench_scratch (payload) VALUES (%s)", (payload,))
                counts[i] += 1

    workers = [threading.Thread(target=insert, args=(i,)) for i in range(connections)]
    for w in workers:
        w.start()
    start_line.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_scratch")
    return sum(counts) / elapsed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_signatures(signatures: int, concurrency: list[int], postgres_url: str | None = None,
                     threads: int = 1, act: str = "signature",
                     max_wait: float = 0.002) -> list[dict[str, Any]]:
    """At each concurrency: `signatures` distinct signers over HTTP, then the floor with the
    same tokens; the raw INSERT rate of the same database; at the end, the stored count is
    checked against the acknowledged (201) count. `act`: `signature` (the petition route) or
    `stand-in` (a trivial aggregate through the same writer); `max_wait`: the writer's
    gathering window in seconds. One summary per concurrency."""
    import httpx

    if not concurrency or min(concurrency) < 1 or signatures < max(concurrency):
        raise ValueError("give concurrencies of at least 1 and at least as many signatures "
                         "as the largest concurrency")
    if not 0 <= max_wait <= 1:
        raise ValueError("max_wait is between 0 and 1 second")
    if act not in SCENARIOS:
        raise ValueError(f"act is one of {', '.join(SCENARIOS)}")
    _require_wrk()
    summaries: list[dict[str, Any]] = []
    with _bench_database(postgres_url) as settings:
        settings = settings.model_copy(update={"jwt_secret": uuid.uuid4().hex * 2})
        workdir = settings.var_dir / "bench-signatures"
        workdir.mkdir(parents=True, exist_ok=True)
        scenario = SCENARIOS[act](settings)
        console.print(f"Registre bench signatures: {signatures:,} signatures at each "
                      f"concurrency {', '.join(map(str, concurrency))} on "
                      f"{settings.postgres_url}\n  act: {scenario.name}\n  server: uvicorn "
                      "(uvloop, httptools, no access log), one process, group commit "
                      f"max_wait {max_wait * 1000:g} ms; load: wrk -t {threads}")
        raw_one = _raw_insert_rate(settings.postgres_url, 1)
        acknowledged = 0
        stored_before = _log_size(settings.postgres_url, scenario.topic)
        with _bench_server(settings, workdir, max_wait) as url:
            for level, c in enumerate(concurrency):
                tokens = _issue_tokens(settings, scenario, level * signatures, signatures,
                                       workdir / f"tokens-{c}.txt")
                base = _log_size(settings.postgres_url)
                act = _wrk(url, scenario.path, tokens, signatures, c, threads, workdir,
                           f"Signatures, concurrence {c}",
                           lambda base=base: _log_size(settings.postgres_url) - base)
                floor = _wrk(url, "/bench/noop", tokens, signatures, c, threads, workdir,
                             f"Plancher HTTP, concurrence {c}", None)
                signed = act.statuses.get(201, 0)
                acknowledged += signed
                others = {k: v for k, v in act.statuses.items() if k not in (200, 201)}
                rate, floor_rate = act.rate(201), floor.rate(200)
                console.print(
                    f"concurrency {c}: signatures {rate:,.0f}/s (p50 {_ms(act.p50)} p99 "
                    f"{_ms(act.p99)}) · floor {floor_rate:,.0f}/s (p50 {_ms(floor.p50)} p99 "
                    f"{_ms(floor.p99)}) · ratio {rate / floor_rate:.2f}"
                    + (f" · other statuses {others}" if others else "")
                    + (f" · socket errors {act.errors}"
                       if any(v for k, v in act.errors.items() if k != "status") else "")
                    + ("" if act.finished and floor.finished
                       else " · NOT every request was answered (rates over wrk's whole run)"))
                summaries.append({"concurrency": c, "signatures_per_s": rate,
                                  "p50_s": act.p50, "p99_s": act.p99,
                                  "floor_per_s": floor_rate, "ratio": rate / floor_rate,
                                  "acknowledged": signed, "statuses": act.statuses})
            stats = httpx.get(f"{url}/bench/stats", timeout=10).json()
        raw_many = _raw_insert_rate(settings.postgres_url, max(concurrency))
        stored = _log_size(settings.postgres_url, scenario.topic) - stored_before
        per_batch = stats["stored"] / stats["batches"] if stats["batches"] else 0
        console.print(
            f"raw INSERT (autocommit, one row per transaction): {raw_one:,.0f}/s on one "
            f"connection · {raw_many:,.0f}/s on {max(concurrency)}\n"
            f"group commit: {stats['acts']:,} acts in {stats['batches']:,} transactions "
            f"({per_batch:,.1f} per transaction, largest {stats['largest_batch']:,}), "
            f"{stats['fallbacks']:,} fallbacks, {stats['transient_failures']} failed batches\n"
            f"stored {stored:,} · acknowledged (201) {acknowledged:,} · "
            + ("check: equal" if stored == acknowledged else "check: DIFFERENT"))
        if stored != acknowledged:
            raise RuntimeError(f"the store holds {stored:,} signatures but {acknowledged:,} "
                               "were acknowledged")
    return summaries
