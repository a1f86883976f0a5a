"""Outside verification over HTTP: `registre audit export`, `registre audit verify` and
`registre witness` (the guarantor's co-signing), with progress bars on long logs."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.ledger import merkle, note
from domain.ledger.verify import Report, verify_export

console = Console(stderr=True, soft_wrap=True)
PAGE = 5000


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def client_for(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=120)


def export(client: httpx.Client, output: Path) -> int:
    """Write the whole log (records with leaf bytes and the ledger's leaf hashes), every
    checkpoint and the public keys to `output` (JSON lines). Returns the number of records."""
    keys = client.get("/ledger/keys").raise_for_status().json()
    checkpoints: list[dict[str, Any]] = []
    after = 0
    while page := client.get("/ledger/checkpoints",
                             params={"after": after, "limit": 1000}).raise_for_status().json():
        checkpoints += page
        after = page[-1]["size"]
    total = client.get("/health").raise_for_status().json()["ledger_size"] or None
    count = 0
    with output.open("w", encoding="utf-8") as out, _progress() as progress:
        task = progress.add_task("Export du journal", total=total)
        out.write(json.dumps({
            "kind": "header", "format": "registre-export/1", "source": str(client.base_url),
            "exported_at": datetime.now(timezone.utc).isoformat(), "keys": keys,
        }) + "\n")
        for c in checkpoints:
            out.write(json.dumps({"kind": "checkpoint", "size": c["size"],
                                  "note": c["note"]}) + "\n")
        after, leaf_start, hints = 0, 0, deque()
        while records := client.get("/ledger/records", params={
                "after": after, "limit": PAGE}).raise_for_status().json():
            while len(hints) < len(records):
                more = client.get("/ledger/leaves", params={
                    "start": leaf_start, "limit": PAGE}).raise_for_status().json()
                if not more:
                    break
                hints.extend(more)
                leaf_start += len(more)
            for r in records:
                hint = hints.popleft() if hints else {}
                out.write(json.dumps({
                    "kind": "record", "index": count,
                    **{k: r[k] for k in ("notification_id", "originator_id",
                                         "originator_version", "topic", "leaf")},
                    "leaf_hash": hint.get("leaf_hash"),
                    "logged_notification_id": hint.get("notification_id"),
                }) + "\n")
                count += 1
            progress.advance(task, len(records))
            after = records[-1]["notification_id"]
    return count


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def verify_file(path: Path, ledger_key: str | None, witness_key: str | None) -> Report:
    total = sum(1 for _ in path.open(encoding="utf-8"))
    with _progress() as progress:
        task = progress.add_task("Vérification", total=total)
        return verify_export(_lines(path), ledger_key, witness_key,
                             progress=lambda n: progress.advance(task, n))


def check_consistency_online(client: httpx.Client, report: Report,
                             ledger_key: str | None = None) -> None:
    """With a live API: check the server's consistency proof between every two consecutive
    signed checkpoints, against the roots their signatures cover (with `ledger_key` pinned,
    else the server's key, with a warning). The server also has to serve those same roots."""
    from domain.ledger.verify import check_signed_consistency

    if ledger_key is None:
        ledger_key = client.get("/ledger/keys").raise_for_status().json()["ledger"]
        report.warnings.append("consistency checked with the server's ledger key (unpinned): "
                               "pin it with --ledger-key")
    notes, after = [], 0
    while page := client.get("/ledger/checkpoints",
                             params={"after": after, "limit": 1000}).raise_for_status().json():
        notes += [c["note"] for c in page]
        after = page[-1]["size"]
    signed_roots = {}
    for text in notes:
        try:
            c = note.parse_checkpoint(text)
            signed_roots[c.size] = c.root_hash
        except ValueError:
            pass  # reported by check_signed_consistency

    def proof(old: int, new: int) -> list[bytes]:
        r = client.get("/ledger/proofs/consistency", params={"old": old, "new": new})
        if r.status_code != 200:
            raise LookupError(f"the server answered {r.status_code}")
        body = r.json()
        for size, served in ((old, body["old_root"]), (new, body["new_root"])):
            if bytes.fromhex(served) != signed_roots.get(size):
                report.error(f"the server now serves root {served[:16]}… for size {size}, "
                             "not the signed one")
        return [bytes.fromhex(h) for h in body["proof"]]

    check_signed_consistency(notes, note.parse_vkey(ledger_key), proof, report)


def print_report(report: Report) -> None:
    out = Console(soft_wrap=True)
    for w in report.warnings:
        out.print(f"[yellow]attention[/]: {w}")
    out.print(f"{report.records} events, {report.checkpoints} checkpoints "
              f"({report.cosigned} co-signed by the witness), verified up to size "
              f"{report.verified_size}, {report.ballots_recounted} closed ballots recounted"
              + (f", {report.consistency_checked} consistency proofs between signed "
                 "checkpoints checked" if report.consistency_checked else ""))
    if report.ok:
        out.print("[green]OK[/]: the export matches every signed checkpoint and every decision")
        return
    for e in report.errors:
        out.print(f"[red]error[/]: {e}")
    if report.first_bad_position is not None:
        out.print(f"[red]first bad position: #{report.first_bad_position}[/]")


def witness(client: httpx.Client, key: Any, state_path: Path, token: str,
            ledger_vkey: str | None = None) -> str:
    """Co-sign the latest checkpoint after checking it extends the last one co-signed.
    Returns a one-line account; raises RuntimeError naming the refusal."""
    vkey = ledger_vkey or client.get("/ledger/keys").raise_for_status().json()["ledger"]
    ledger = note.parse_vkey(vkey)
    latest = client.get("/ledger/checkpoint")
    if latest.status_code == 404:
        raise RuntimeError("no checkpoint to co-sign yet")
    text = latest.raise_for_status().json()["note"]
    if not note.verify_note(text, ledger):
        raise RuntimeError("the latest checkpoint is not validly signed by the ledger key")
    checkpoint = note.parse_checkpoint(text)
    state = json.loads(state_path.read_text()) if state_path.exists() else None
    if state is not None:
        old_size, old_root = state["size"], bytes.fromhex(state["root"])
        if checkpoint.size < old_size:
            raise RuntimeError(f"the log shrank from {old_size} to {checkpoint.size}")
        if checkpoint.size == old_size and checkpoint.root_hash != old_root:
            raise RuntimeError(f"two different roots for size {old_size}: a split view")
        if checkpoint.size > old_size:
            proof = client.get("/ledger/proofs/consistency", params={
                "old": old_size, "new": checkpoint.size}).raise_for_status().json()
            if not merkle.verify_consistency(
                    old_size, checkpoint.size, [bytes.fromhex(h) for h in proof["proof"]],
                    old_root, checkpoint.root_hash):
                raise RuntimeError(f"the checkpoint of size {checkpoint.size} is not "
                                   f"consistent with the one co-signed at {old_size}")
    line = note.cosign(text, key.name, key.sign, key.public_key, int(time.time()))
    client.post(f"/ledger/checkpoints/{checkpoint.size}/cosignatures", json={"line": line},
                headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps({"size": checkpoint.size,
                                      "root": checkpoint.root_hash.hex()}))
    since = f" (consistent with {state['size']})" if state else " (first co-signature)"
    return f"co-signed checkpoint of size {checkpoint.size}{since}"
