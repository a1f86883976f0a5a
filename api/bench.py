"""`registre bench ledger`: throughput of the ledger's verification against raw SHA-256 over the
same bytes, measured in the same run (this machine is shared and noisy: only ratios and
same-run comparisons mean something), and the latency of proofs served from stored nodes.

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
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from domain.ledger import merkle
from domain.ledger.verify import leaf_hashes, prefix_root, tree_levels, verify_export
from domain.deliberation.ballot import Vote
from domain.ledger.leaf import encode_leaf
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
