"""`registre audit verify --url` checks the server's consistency proofs between consecutive
signed checkpoints against the roots their signatures cover, so a server that rewrote its log
after signing cannot pass by serving roots and proofs of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.audit import check_consistency_online
from api.keys import SigningKey
from api.settings import Settings
from api.wiring import create_api, ledger_key, make_merkle_log, make_registre
from domain.application import Registre
from domain.ledger import merkle
from domain.ledger.verify import Report
from projections.ledger import MerkleFollower, MerkleLog, issue_checkpoint
from tests.integration.helpers import found, to_vote

pytestmark = pytest.mark.integration


@dataclass
class Server:
    settings: Settings
    app: Registre
    log: MerkleLog
    key: SigningKey
    client: TestClient

    def grow(self) -> None:
        pid = to_vote(self.app, found(self.app, members=3))
        self.app.cast_vote(pid, "m1", "for")

    def checkpoint(self) -> int:
        MerkleFollower(self.app.recorder, self.app.name, self.log).catch_up()
        row = issue_checkpoint(self.log, self.key)
        assert row is not None
        return row.size

    def check(self) -> Report:
        report = Report()
        check_consistency_online(self.client, report, self.key.vkey())
        return report


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    app = make_registre(settings)
    with TestClient(create_api(settings)) as client:
        yield Server(settings, app, make_merkle_log(settings), ledger_key(settings), client)
    app.close()


def test_online_check_verifies_each_link_between_signed_checkpoints_when_the_log_is_intact(
    server: Server,
) -> None:
    for _ in range(3):
        server.grow()
        server.checkpoint()
    report = server.check()
    assert report.ok, report.errors
    assert report.consistency_checked == 2
    assert report.warnings == []  # the key was pinned


def test_online_check_fails_when_the_server_rewrote_its_log_after_a_signed_checkpoint(
    server: Server,
) -> None:
    server.grow()
    old = server.checkpoint()
    server.grow()
    server.checkpoint()
    # The operator edits an early event, rebuilds the Merkle log over the edited table, drops
    # the later checkpoint and signs a new one: every root and proof it now serves agrees
    # with itself, but not with the checkpoint of size `old` signed before the rewrite.
    with psycopg.connect(server.settings.postgres_url) as conn:
        edited = conn.execute(
            "UPDATE registre_events SET state = convert_to(replace(convert_from(state, "
            "'UTF8'), '\"for\"', '\"against\"'), 'UTF8') WHERE notification_id = "
            "(SELECT min(notification_id) FROM registre_events WHERE topic LIKE "
            "'%%Vote.Cast')")
        assert edited.rowcount == 1
        conn.execute("TRUNCATE merkle_leaves, merkle_nodes, merkle_log_tracking")
        conn.execute("DELETE FROM ledger_checkpoints WHERE size > %s", (old,))
    new = server.checkpoint()
    served = server.client.get("/ledger/proofs/consistency",
                               params={"old": old, "new": new}).json()
    # What the check used to do: the server's proof against the server's roots. It passes.
    assert merkle.verify_consistency(old, new, [bytes.fromhex(h) for h in served["proof"]],
                                     bytes.fromhex(served["old_root"]),
                                     bytes.fromhex(served["new_root"]))

    report = server.check()

    assert not report.ok
    assert report.consistency_checked == 0
    assert any(f"signed checkpoints {old} → {new}" in e and "does not verify" in e
               for e in report.errors), report.errors
    assert any("not the signed one" in e and f"size {old}" in e for e in report.errors)


def test_online_check_leaves_out_a_checkpoint_whose_signature_is_forged(
    server: Server,
) -> None:
    server.grow()
    server.checkpoint()
    server.grow()
    size = server.checkpoint()
    with psycopg.connect(server.settings.postgres_url) as conn:
        conn.execute("UPDATE ledger_checkpoints SET note = replace(note, split_part(note, "
                     "E'\\n', 3), %s) WHERE size = %s",
                     ("A" * 43 + "=", size))
    report = server.check()
    assert not report.ok
    assert any(f"checkpoint of size {size}" in e and "signature" in e for e in report.errors)
    assert report.consistency_checked == 0
