"""The Merkle log (D6): an RFC 9162 tree over every stored event in notification order, its
stored nodes, and the signed checkpoints.

Questions answered: what is the log's root at size n? Is event #x in the tree of size n (an
inclusion proof)? Is the tree of size m a prefix of the tree of size n (a consistency proof)?
Which checkpoints were issued and co-signed?

The follower appends each new stored event as a leaf (`domain.ledger.leaf` encoding). Appending
costs O(log n): it keeps the right edge of the tree (the perfect subtrees of the current size)
and stores every completed node, so a proof over a million events reads O(log² n) stored
nodes in one query instead of rebuilding anything. Leaves, nodes and the tracking position
commit in one transaction per batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL

from domain.ledger.leaf import encode_leaf
from domain.ledger.merkle import leaf_hash, node_hash

log = logging.getLogger(__name__)

Get = Callable[[int, int], bytes]
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _is_perfect(lo: int, hi: int) -> bool:
    n = hi - lo
    return n & (n - 1) == 0 and lo % n == 0


def subtree_hash(lo: int, hi: int, get: Get) -> bytes:
    """MTH of leaves [lo, hi) from stored perfect nodes (`get(level, index)`)."""
    if _is_perfect(lo, hi):
        level = (hi - lo).bit_length() - 1
        return get(level, lo >> level)
    k = _split(hi - lo)
    return node_hash(subtree_hash(lo, lo + k, get), subtree_hash(lo + k, hi, get))


def path(m: int, lo: int, hi: int, get: Get) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]) from stored nodes (m relative to lo)."""
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return [*path(m, lo, lo + k, get), subtree_hash(lo + k, hi, get)]
    return [*path(m - k, lo + k, hi, get), subtree_hash(lo, lo + k, get)]


def subproof(m: int, lo: int, hi: int, b: bool, get: Get) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b) from stored nodes."""
    if m == hi - lo:
        return [] if b else [subtree_hash(lo, hi, get)]
    k = _split(hi - lo)
    if m <= k:
        return [*subproof(m, lo, lo + k, b, get), subtree_hash(lo + k, hi, get)]
    return [*subproof(m - k, lo + k, hi, False, get), subtree_hash(lo, lo + k, get)]


def with_stored_nodes(compute: Callable[[Get], Any],
                      fetch: Callable[[set[tuple[int, int]]], dict[tuple[int, int], bytes]]
                      ) -> Any:
    """Run `compute` twice: once to learn which nodes it reads (the tree's shape depends only
    on indices), then with those nodes fetched in a single query."""
    wanted: set[tuple[int, int]] = set()

    def collect(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return b"\x00" * 32

    compute(collect)
    nodes = fetch(wanted)
    missing = wanted - nodes.keys()
    if missing:
        raise LookupError(f"the Merkle log lacks {len(missing)} node(s), e.g. {min(missing)}")
    return compute(lambda level, index: nodes[(level, index)])


class Frontier:
    """The right edge of the tree: one perfect subtree (level, hash) per set bit of size."""

    def __init__(self, size: int, nodes: list[tuple[int, bytes]]) -> None:
        self.size = size
        self.nodes = nodes

    @staticmethod
    def keys(size: int) -> list[tuple[int, int]]:
        """(level, index) of the perfect subtrees making up a tree of `size` leaves."""
        keys, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        return keys

    def append(self, leaf: bytes, completed: list[tuple[int, int, bytes]]) -> None:
        """Add one leaf hash; every node it completes is added to `completed`."""
        index = self.size
        self.nodes.append((0, leaf))
        completed.append((0, index, leaf))
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            (level, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            parent = node_hash(left, right)
            self.nodes.append((level + 1, parent))
            completed.append((level + 1, index >> (level + 1), parent))
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, h in reversed(self.nodes[:-1]):
            acc = node_hash(h, acc)
        return acc


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root: bytes
    note: str
    issued_at: Any


class MerkleLog(PostgresTrackingRecorder):
    """PostgreSQL tables `merkle_leaves`, `merkle_nodes`, `ledger_checkpoints`."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements += [
            SQL("CREATE TABLE IF NOT EXISTS merkle_leaves ("
                "idx bigint PRIMARY KEY, notification_id bigint NOT NULL UNIQUE)"),
            SQL("CREATE TABLE IF NOT EXISTS merkle_nodes ("
                "level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, "
                "PRIMARY KEY (level, idx))"),
            SQL("CREATE TABLE IF NOT EXISTS ledger_checkpoints ("
                "size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, "
                "issued_at timestamptz NOT NULL DEFAULT now())"),
        ]

    # -- appending -----------------------------------------------------------------------

    def _fetch(self, curs: Any, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        keys = list(keys)
        if not keys:
            return {}
        curs.execute(
            "SELECT n.level, n.idx, n.hash FROM merkle_nodes n "
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
            "ON n.level = k.level AND n.idx = k.idx",
            ([k[0] for k in keys], [k[1] for k in keys]),
        )
        return {(r["level"], r["idx"]): bytes(r["hash"]) for r in curs.fetchall()}

    def _size(self, curs: Any) -> int:
        curs.execute("SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM merkle_leaves")
        return int(curs.fetchone()["size"])

    def append(self, application_name: str, notifications: Sequence[Notification]) -> int:
        """Append stored events as leaves, in order, with their tracking; returns the size."""
        if not notifications:
            return self.size()
        with self.datastore.transaction(commit=True) as curs:
            # One writer at a time: the tree's shape depends on the order of appends.
            curs.execute("LOCK TABLE merkle_leaves IN EXCLUSIVE MODE")
            size = self._size(curs)
            keys = Frontier.keys(size)
            stored = self._fetch(curs, keys)
            frontier = Frontier(size, [(level, stored[(level, idx)]) for level, idx in keys])
            completed: list[tuple[int, int, bytes]] = []
            leaves: list[tuple[int, int]] = []
            for n in notifications:
                leaves.append((frontier.size, n.id))
                frontier.append(leaf_hash(encode_leaf(
                    n.id, n.originator_id, n.originator_version, n.topic, n.state)), completed)
            with curs.copy("COPY merkle_leaves (idx, notification_id) FROM STDIN") as copy:
                for row in leaves:
                    copy.write_row(row)
            with curs.copy("COPY merkle_nodes (level, idx, hash) FROM STDIN") as copy:
                for row in completed:
                    copy.write_row(row)
            self._insert_tracking(curs, Tracking(application_name, notifications[-1].id))
            return frontier.size

    # -- reading -------------------------------------------------------------------------

    def size(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            return self._size(curs)

    def root(self, size: int | None = None) -> tuple[int, bytes]:
        """(size, root) of the tree now, or at an earlier `size`."""
        with self.datastore.transaction(commit=False) as curs:
            current = self._size(curs)
            size = current if size is None else size
            if not 0 <= size <= current:
                raise ValueError(f"the log holds {current} events; no tree of size {size}")
            keys = Frontier.keys(size)
            stored = self._fetch(curs, keys)
        return size, Frontier(size, [(lv, stored[(lv, i)]) for lv, i in keys]).root()

    def index_of(self, notification_id: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT idx FROM merkle_leaves WHERE notification_id = %s",
                         (notification_id,))
            row = curs.fetchone()
            return None if row is None else int(row["idx"])

    def _check_sizes(self, curs: Any, *sizes: int) -> None:
        current = self._size(curs)
        for s in sizes:
            if not 0 < s <= current:
                raise ValueError(f"the log holds {current} events; no tree of size {s}")

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash, audit path) of leaf `index` in the tree of `size` leaves."""
        with self.datastore.transaction(commit=False) as curs:
            self._check_sizes(curs, size)
            if not 0 <= index < size:
                raise ValueError(f"leaf {index} is not in a tree of size {size}")

            def compute(get: Get) -> tuple[bytes, list[bytes]]:
                return get(0, index), path(index, 0, size, get)

            return with_stored_nodes(compute, lambda keys: self._fetch(curs, keys))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        with self.datastore.transaction(commit=False) as curs:
            self._check_sizes(curs, old, new)
            if old > new:
                raise ValueError(f"old size {old} is larger than new size {new}")
            if old == new:
                return []
            return with_stored_nodes(lambda get: subproof(old, 0, new, True, get),
                                     lambda keys: self._fetch(curs, keys))

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """(index, notification id, leaf hash) of leaves from `start`."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT l.idx, l.notification_id, n.hash FROM merkle_leaves l "
                "JOIN merkle_nodes n ON n.level = 0 AND n.idx = l.idx "
                "WHERE l.idx >= %s ORDER BY l.idx LIMIT %s", (start, limit))
            return [(r["idx"], r["notification_id"], bytes(r["hash"])) for r in curs.fetchall()]

    # -- checkpoints ---------------------------------------------------------------------

    def latest_checkpoint(self) -> CheckpointRow | None:
        rows = self.checkpoints(limit=1, newest_first=True)
        return rows[0] if rows else None

    def checkpoints(self, limit: int = 100, after: int = 0,
                    newest_first: bool = False) -> list[CheckpointRow]:
        order = "DESC" if newest_first else "ASC"
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT * FROM ledger_checkpoints WHERE size > %s ORDER BY size {order} "  # noqa: S608
                "LIMIT %s", (after, limit))
            return [CheckpointRow(r["size"], bytes(r["root"]), r["note"], r["issued_at"])
                    for r in curs.fetchall()]

    def checkpoint(self, size: int) -> CheckpointRow | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM ledger_checkpoints WHERE size = %s", (size,))
            r = curs.fetchone()
            return None if r is None else CheckpointRow(
                r["size"], bytes(r["root"]), r["note"], r["issued_at"])

    def record_checkpoint(self, size: int, root: bytes, note: str) -> bool:
        """Store a signed checkpoint; False if one of that size exists already."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO ledger_checkpoints (size, root, note) VALUES (%s, %s, %s) "
                "ON CONFLICT (size) DO NOTHING", (size, root, note))
            return curs.rowcount == 1

    def replace_note(self, size: int, note: str) -> None:
        """Store the checkpoint's note with an added co-signature."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("UPDATE ledger_checkpoints SET note = %s WHERE size = %s", (note, size))


class MerkleFollower:
    """Follows the application's log and appends every stored event to the Merkle log."""

    def __init__(self, recorder: Any, application_name: str, log_store: MerkleLog,
                 batch: int = 1000) -> None:
        self.recorder = recorder
        self.application_name = application_name
        self.store = log_store
        self.batch = batch

    def run_once(self) -> int:
        """Append the next batch; returns how many events were appended."""
        last = self.store.max_tracking_id(self.application_name) or 0
        page = self.recorder.select_notifications(start=last + 1, limit=self.batch)
        if page:
            self.store.append(self.application_name, page)
        return len(page)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while appended := self.run_once():
            total += appended
            if progress:
                progress(appended)
        return total

    def run_forever(self, stop: threading.Event, interval: float = 0.3,
                    on_idle: Callable[[], None] | None = None) -> None:
        """Follow until `stop` is set. Strict: a leaf is never skipped (the tree must cover the
        whole log), so a failed append is retried from the tracked position, never set aside
        as a dead letter. It only encodes stored bytes, so no event's content can fail it."""
        failing: str | None = None
        while not stop.is_set():
            try:
                appended = self.run_once()
                failing = None
            except Exception as e:  # the next pass resumes from the tracked position
                if repr(e) != failing:  # once per distinct failure, not every pass
                    log.exception("Merkle log append failed; retrying (a leaf is never "
                                  "skipped)")
                failing = repr(e)
                appended = 0
            if appended == 0:
                if on_idle:
                    on_idle()
                stop.wait(interval)


class CheckpointRefused(ValueError):
    """A checkpoint or co-signature could not be recorded; the message names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def issue_checkpoint(log_store: MerkleLog, signer: Any) -> CheckpointRow | None:
    """Sign the current tree as a C2SP checkpoint whose origin is the signer's key name.
    Returns the latest checkpoint (a new one only if the log grew), None on an empty log.
    `signer` has `name`, `public_key` and `sign(message) -> signature`."""
    from domain.ledger import note

    size, root = log_store.root()
    latest = log_store.latest_checkpoint()
    if latest is not None and latest.size >= size:
        return latest
    if size == 0:
        return None
    body = note.checkpoint_body(signer.name, size, root)
    log_store.record_checkpoint(size, root, note.sign_note(body, signer.name, signer.sign,
                                                           signer.public_key))
    return log_store.checkpoint(size)


def add_cosignature(log_store: MerkleLog, size: int, line: str, witness_vkey: str) -> CheckpointRow:
    """Attach a witness' cosignature/v1 line to the checkpoint of `size`, after checking it."""
    from domain.ledger import note

    row = log_store.checkpoint(size)
    if row is None:
        raise CheckpointRefused("unknown_checkpoint", f"no checkpoint of size {size}")
    try:
        witness = note.parse_vkey(witness_vkey)
        text = note.add_signature_line(row.note, line)
    except ValueError as e:
        raise CheckpointRefused("malformed_cosignature", str(e)) from None
    if note.verify_cosignature(text, witness) is None:
        raise CheckpointRefused(
            "invalid_cosignature",
            f"the line is not a valid cosignature by {witness.name} of checkpoint {size}")
    log_store.replace_note(size, text)
    return log_store.checkpoint(size)  # type: ignore[return-value]
