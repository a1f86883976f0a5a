"""`registre bench ledger`: throughput of the ledger's verification against raw SHA-256 over the
same bytes, measured in the same run (this machine is shared and noisy: only ratios and
same-run comparisons mean something), and the latency of proofs served from stored nodes.
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
from collections.abc import Callable
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
        CharterRules(consultation_seconds=1, vote_seconds=10**9, quorum_percent=50))
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


def bench_ledger(events: int, postgres_url: str | None, proofs: int = 1000) -> None:
    from api.embedded import EmbeddedPostgres, free_port
    from api.wiring import make_merkle_log, make_registre, migrate
    from projections.ledger import MerkleFollower

    tmp = Path(tempfile.mkdtemp(prefix="registre-bench-"))
    server = None
    try:
        if postgres_url is None:
            server = EmbeddedPostgres(tmp / "pg", free_port())
            server.start()
            postgres_url = server.url
        settings = Settings(postgres_url=postgres_url, var_dir=tmp / "var")
        migrate(settings)
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
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
