"""Outside verification over HTTP: `registre audit export`, `registre audit verify`,
`registre audit compliance` (the guarantor's compliance view recomputed from an export) and
`registre witness` (the guarantor's co-signing), with progress bars on long logs."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.ledger import merkle, note
from domain.ledger.leaf import LeafError, canonical_topic, decode_leaf
from domain.ledger.verify import Report, verify_export
from domain.rules.compliance import CHECKED_TOPICS, Flag, LoggedEvent, check_log

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


def verify_file(path: Path, ledger_key: str | None, witness_key: str | None,
                checked: list[LoggedEvent] | None = None) -> Report:
    """Verify an export file; with `checked`, also gather the events the compliance checks
    read, in the same pass (see `compliance_flags`)."""
    total = sum(1 for _ in path.open(encoding="utf-8"))
    lines = _lines(path) if checked is None else _gathering(_lines(path), checked)
    with _progress() as progress:
        task = progress.add_task("Vérification", total=total)
        return verify_export(lines, ledger_key, witness_key,
                             progress=lambda n: progress.advance(task, n))


# -- the compliance view, recomputed from an export (D12) ------------------------------------


def _checked_event(line: dict[str, Any]) -> LoggedEvent | None:
    """The event a record's leaf bytes hold (never its readable copy), if the compliance
    checks read it; None for another event or unreadable bytes (the verifier reports those)."""
    if line.get("kind") != "record":
        return None
    try:
        record = decode_leaf(base64.b64decode(line["leaf"], validate=True))
    except (KeyError, TypeError, ValueError, binascii.Error, LeafError):
        return None
    if canonical_topic(record.topic) not in CHECKED_TOPICS:
        return None
    try:
        return LoggedEvent.from_record(record)
    except LeafError:
        return None


def _gathering(lines: Iterator[dict[str, Any]],
               checked: list[LoggedEvent]) -> Iterator[dict[str, Any]]:
    for line in lines:
        event = _checked_event(line)
        if event is not None:
            checked.append(event)
        yield line


def compliance_flags(events: Iterable[LoggedEvent],
                     proposal_id: str | None = None) -> list[Flag]:
    """The flags `GET /guarantor/compliance` serves for the log these events come from, in
    its order (log order), by the same checks (`domain.rules.compliance`)."""
    def unreadable(event: LoggedEvent, error: Exception) -> None:
        console.print(f"[yellow]attention[/]: position #{event.position}: event fields "
                      f"unreadable by the compliance checks ({error!r}), skipped")

    return [f for f in check_log(events, unreadable)
            if proposal_id is None or f.proposal_id == proposal_id]


def compliance_from_export(path: Path, proposal_id: str | None = None) -> list[Flag]:
    """The compliance flags recomputed from an export file (its leaf bytes)."""
    events = (e for e in map(_checked_event, _lines(path)) if e is not None)
    return compliance_flags(events, proposal_id)


def compliance_json(flags: list[Flag]) -> str:
    """The flags as the API's JSON body (same fields, same order, compact like the API's)."""
    return json.dumps([f.as_dict() for f in flags], ensure_ascii=False, separators=(",", ":"))


def print_compliance(flags: list[Flag]) -> None:
    """The flags as tables for a reader (in French), one per proposal or petition, in log
    order."""
    out = Console(soft_wrap=True)
    if not flags:
        out.print("Aucun manquement : chaque processus a suivi la version de la charte "
                  "qu'il a épinglée.")
        return
    out.print(f"Vue de conformité : {len(flags)} manquement(s)")
    by_proposal: dict[str, list[Flag]] = {}
    for f in flags:
        by_proposal.setdefault(f.proposal_id, []).append(f)
    for proposal_id, found in by_proposal.items():
        what = "Pétition" if found[0].rule.startswith("petition.") else "Proposition"
        table = Table(title=f"{what} {proposal_id}", title_justify="left")
        table.add_column("Positions", no_wrap=True)
        table.add_column("Règle", no_wrap=True)
        table.add_column("Charte", no_wrap=True)
        table.add_column("Constat")
        for f in found:
            table.add_row(", ".join(f"#{p}" for p in f.positions), f.rule,
                          "" if f.charter_version is None else f"v{f.charter_version}",
                          f.message)
        out.print(table)


def print_compliance_count(flags: list[Flag]) -> None:
    """The verifier's line on the compliance flags it recomputed."""
    Console(soft_wrap=True).print(
        f"{len(flags)} compliance flag(s) recomputed from the log (the guarantor's view; "
        "`registre audit compliance --export FILE` lists them)")


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
              f"{report.verified_size}, {report.ballots_recounted} closed ballots recounted, "
              f"{report.petitions_recounted} closed petitions recounted"
              + (f", {report.budgets_recounted} budget cycles recounted"
                 if report.budgets_recounted else "")
              + (f", {report.conventions_redrawn} conventions redrawn"
                 if report.conventions_redrawn else "")
              + (f", {report.consistency_checked} consistency proofs between signed "
                 "checkpoints checked" if report.consistency_checked else ""))
    if report.ok:
        out.print("[green]OK[/]: the export matches every signed checkpoint, every decision "
                  "and every petition's count")
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
