"""The verifiable ledger on a real PostgreSQL: Merkle log, signed checkpoints, the witness,
proofs over HTTP, and the offline verifier catching every kind of tampering with the table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.audit import export, witness
from api.auth import issue_token
from api.keys import COSIGNATURE_ALG, SigningKey, generate, save
from api.settings import Settings
from api.wiring import create_api, ledger_key, make_merkle_log, make_registre
from domain.ledger import merkle, note
from domain.application import Registre
from domain.ledger.verify import verify_export
from projections.ledger import MerkleFollower, MerkleLog, issue_checkpoint
from tests.conftest import log_size
from tests.integration.helpers import found, to_vote

pytestmark = pytest.mark.integration


@dataclass
class Ledger:
    settings: Settings
    app: Registre
    log: MerkleLog
    follower: MerkleFollower
    key: SigningKey
    witness_key: SigningKey
    client: TestClient
    tmp: Path

    def decided_proposal(self, votes: tuple[str, ...] = ("for", "for", "against")) -> None:
        pid = to_vote(self.app, found(self.app, members=3))
        opened = self.app.open_vote(pid, self.app.clock())
        for i, choice in enumerate(votes, start=1):
            self.app.cast_vote(pid, f"m{i}", choice)
        cutoff = self.app.close_ballot(pid, self.app.clock())
        self.app.decide(pid, opened.position, cutoff)

    def checkpoint(self) -> int:
        self.follower.catch_up()
        row = issue_checkpoint(self.log, self.key)
        assert row is not None
        return row.size

    def guarantor(self) -> str:
        return issue_token(self.settings.signing_secret(), "garant", "guarantor")

    def cosign(self) -> str:
        return witness(self.client, self.witness_key, self.tmp / "witness-state.json",
                       self.guarantor())

    def export(self) -> list[dict]:
        path = self.tmp / "export.jsonl"
        export(self.client, path)
        return [json.loads(line) for line in path.read_text().splitlines()]

    def verify(self):
        return verify_export(self.export(), self.key.vkey(), self.witness_key.vkey())


@pytest.fixture
def ledger(settings: Settings, tmp_path: Path) -> Iterator[Ledger]:
    witness_key = generate("garant.test/witness", COSIGNATURE_ALG)
    save(witness_key, tmp_path / "witness.skey")
    settings = settings.model_copy(update={"witness_key_file": tmp_path / "witness.vkey"})
    app = make_registre(settings)
    log = make_merkle_log(settings)
    with TestClient(create_api(settings)) as client:
        yield Ledger(settings, app, log, MerkleFollower(app.recorder, app.name, log),
                     ledger_key(settings), witness_key, client, tmp_path)
    app.close()


def sql(settings: Settings, statement: str, *params: object) -> None:
    with psycopg.connect(settings.postgres_url) as conn:
        conn.execute(statement, params)


def test_every_stored_event_becomes_a_leaf_in_log_order_when_followed(ledger: Ledger) -> None:
    ledger.decided_proposal()
    ledger.follower.catch_up()
    leaves = ledger.log.leaves(0, 10_000)
    assert len(leaves) == log_size(ledger.settings)
    assert [nid for _, nid, _ in leaves] == sorted(nid for _, nid, _ in leaves)


def test_inclusion_proof_verifies_against_the_signed_root_when_served(ledger: Ledger) -> None:
    ledger.decided_proposal()
    size = ledger.checkpoint()
    checkpoint = note.parse_checkpoint(ledger.client.get("/ledger/checkpoint").json()["note"])
    assert note.verify_note(ledger.client.get("/ledger/checkpoint").json()["note"],
                            note.parse_vkey(ledger.client.get("/ledger/keys").json()["ledger"]))
    for nid in (1, size // 2, size):
        p = ledger.client.get("/ledger/proofs/inclusion",
                              params={"notification_id": nid, "size": size}).json()
        assert merkle.verify_inclusion(bytes.fromhex(p["leaf_hash"]), p["index"], size,
                                       [bytes.fromhex(h) for h in p["proof"]],
                                       checkpoint.root_hash)


def test_consistency_proof_links_two_checkpoints_when_the_log_grew(ledger: Ledger) -> None:
    ledger.decided_proposal()
    old = ledger.checkpoint()
    ledger.decided_proposal(("against", "against", "for"))
    new = ledger.checkpoint()
    cps = {c["size"]: note.parse_checkpoint(c["note"])
           for c in ledger.client.get("/ledger/checkpoints").json()}
    p = ledger.client.get("/ledger/proofs/consistency", params={"old": old, "new": new}).json()
    assert merkle.verify_consistency(old, new, [bytes.fromhex(h) for h in p["proof"]],
                                     cps[old].root_hash, cps[new].root_hash)


def test_witness_cosigns_after_checking_consistency_when_run_twice(ledger: Ledger) -> None:
    ledger.decided_proposal()
    first = ledger.checkpoint()
    assert "first co-signature" in ledger.cosign()
    ledger.decided_proposal()
    second = ledger.checkpoint()
    assert f"consistent with {first}" in ledger.cosign()
    notes = {c["size"]: c["note"] for c in ledger.client.get("/ledger/checkpoints").json()}
    witness_vkey = note.parse_vkey(ledger.witness_key.vkey())
    assert note.verify_cosignature(notes[first], witness_vkey) is not None
    assert note.verify_cosignature(notes[second], witness_vkey) is not None


def test_witness_refuses_when_the_log_was_rewritten_under_it(ledger: Ledger) -> None:
    ledger.decided_proposal()
    first = ledger.checkpoint()
    ledger.cosign()
    state = json.loads((ledger.tmp / "witness-state.json").read_text())
    state["root"] = "00" * 32  # the witness remembers another history for that size
    (ledger.tmp / "witness-state.json").write_text(json.dumps(state))
    ledger.decided_proposal()
    ledger.checkpoint()
    with pytest.raises(RuntimeError, match=f"not consistent with the one co-signed at {first}"):
        ledger.cosign()


def test_refuses_cosignature_when_it_does_not_verify(ledger: Ledger) -> None:
    ledger.decided_proposal()
    size = ledger.checkpoint()
    impostor = generate("garant.test/witness", COSIGNATURE_ALG)
    text = ledger.client.get("/ledger/checkpoint").json()["note"]
    line = note.cosign(text, impostor.name, impostor.sign, impostor.public_key, 1_700_000_000)
    r = ledger.client.post(f"/ledger/checkpoints/{size}/cosignatures", json={"line": line},
                           headers={"Authorization": f"Bearer {ledger.guarantor()}"})
    assert r.status_code == 422 and r.json()["detail"]["rule"] == "invalid_cosignature"
    assert ledger.client.get("/ledger/checkpoint").json()["note"] == text


def test_refuses_cosignature_when_the_caller_is_not_the_guarantor(ledger: Ledger) -> None:
    ledger.decided_proposal()
    size = ledger.checkpoint()
    token = issue_token(ledger.settings.signing_secret(), "c1", "citizen")
    r = ledger.client.post(f"/ledger/checkpoints/{size}/cosignatures", json={"line": "x" * 20},
                           headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["detail"]["rule"] == "role_required"


def test_export_verifies_and_recounts_every_ballot_when_untouched(ledger: Ledger) -> None:
    ledger.decided_proposal(("for", "for", "against"))
    ledger.checkpoint()
    ledger.cosign()
    ledger.decided_proposal(("against", "abstain", "against"))
    size = ledger.checkpoint()
    ledger.cosign()
    report = ledger.verify()
    assert report.ok, report.errors
    assert (report.records, report.verified_size, report.checkpoints, report.cosigned,
            report.ballots_recounted) == (size, size, 2, 2, 2)
    assert report.warnings == []


def test_warns_when_keys_are_not_pinned(ledger: Ledger) -> None:
    ledger.decided_proposal()
    ledger.checkpoint()
    report = verify_export(ledger.export())
    assert report.ok
    assert any("unpinned" in w for w in report.warnings)


def vote_positions(settings: Settings) -> list[int]:
    with psycopg.connect(settings.postgres_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT notification_id FROM registre_events WHERE topic = 'domain.deliberation.ballot:Vote.Cast'"
            " ORDER BY notification_id")]


def edit(settings: Settings, nid: int) -> int:
    sql(settings, "UPDATE registre_events SET state = convert_to(replace(convert_from(state, "
                  "'UTF8'), '\"for\"', '\"against\"'), 'UTF8') WHERE notification_id = %s", nid)
    return nid


def delete(settings: Settings, nid: int) -> int:
    sql(settings, "DELETE FROM registre_events WHERE notification_id = %s", nid)
    return nid


def insert(settings: Settings, nid: int) -> int:
    with psycopg.connect(settings.postgres_url) as conn:
        # Make room at `nid` by shifting later rows, then slip a forged vote in.
        conn.execute("UPDATE registre_events SET notification_id = -notification_id - 1 "
                     "WHERE notification_id >= %s", (nid,))
        conn.execute("UPDATE registre_events SET notification_id = -notification_id "
                     "WHERE notification_id < 0")
        conn.execute("INSERT INTO registre_events (originator_id, originator_version, topic, "
                     "state, notification_id) SELECT gen_random_uuid(), 1, topic, state, %s "
                     "FROM registre_events WHERE notification_id = %s", (nid, nid + 1))
    return nid


def reorder(settings: Settings, nid: int) -> int:
    with psycopg.connect(settings.postgres_url) as conn:
        conn.execute("UPDATE registre_events SET notification_id = -1 WHERE notification_id = %s",
                     (nid,))
        conn.execute("UPDATE registre_events SET notification_id = %s "
                     "WHERE notification_id = %s", (nid, nid + 1))
        conn.execute("UPDATE registre_events SET notification_id = %s "
                     "WHERE notification_id = -1", (nid + 1,))
    return nid


@pytest.mark.parametrize("tamper", [edit, delete, insert, reorder],
                         ids=["edit", "delete", "insert", "reorder"])
def test_verifier_names_the_first_bad_position_when_the_table_is_tampered_with(
    ledger: Ledger, tamper,
) -> None:
    ledger.decided_proposal(("for", "for", "against"))
    ledger.checkpoint()
    ledger.cosign()
    target = vote_positions(ledger.settings)[0]
    expected = tamper(ledger.settings, target)

    report = ledger.verify()

    assert not report.ok
    assert report.first_bad_position == expected, report.errors
    assert any(f"#{expected}" in e for e in report.errors)


def test_recount_catches_a_decision_that_misstates_the_votes_when_the_log_is_intact(
    ledger: Ledger,
) -> None:
    ledger.decided_proposal(("for", "for", "against"))
    # Forge the decided event's tally *before* the log follower sees it: the leaves and the
    # signatures then agree, and only the recount can tell.
    sql(ledger.settings, "UPDATE registre_events SET state = convert_to(replace(convert_from("
        "state, 'UTF8'), '\"no\":1', '\"no\":0'), 'UTF8') "
        "WHERE topic = 'domain.deliberation.proposal:Proposal.Decided'")
    ledger.checkpoint()
    report = ledger.verify()
    assert not report.ok
    assert any("recount gives for 2, against 1" in e for e in report.errors), report.errors


def test_recounts_the_override_ballot_when_a_veto_was_filed(ledger: Ledger) -> None:
    from tests.integration.test_veto_api import Pact

    pact = Pact(ledger.client, ledger.app, ledger.settings)
    pid = pact.in_veto_window()
    ledger.app.file_veto(pid, "maire-a", "A", "Le projet supprime le marché couvert.")
    for ref in ("maire-b", "c1"):
        ledger.app.cast_vote(pid, ref, "for")
    assert ledger.app.close_veto_window(pid, ledger.app.clock()) == "adopted"  # 2 of 3
    ledger.checkpoint()
    report = ledger.verify()
    assert report.ok, report.errors
    assert report.ballots_recounted == 2  # the council's ballot and the override


def test_recounts_a_charter_amendment_by_its_qualified_majority_when_verifying(
    ledger: Ledger,
) -> None:
    from datetime import datetime, timedelta, timezone

    from domain.rules.charter import CharterRules

    app, now = ledger.app, datetime.now(timezone.utc)
    mid = found(app, members=3)
    amendment = CharterRules(consultation_seconds=7200, vote_seconds=7200, quorum_percent=60)
    pid, _ = app.submit_proposal(mid, "auteur", "Amender la charte", "Résumé",
                                 charter_amendment=amendment)
    app.open_consultation(pid, now - timedelta(hours=2))
    opened = app.open_vote(pid, now - timedelta(minutes=1))
    for ref in ("m1", "m2"):  # 2 of 3 = two thirds
        app.cast_vote(pid, ref, "for")
    assert app.decide(pid, opened.position, app.close_ballot(pid, now)) == "adopted"
    assert app.get_charter(mid).current_version == 2
    ledger.checkpoint()
    report = ledger.verify()
    assert report.ok, report.errors
    assert report.ballots_recounted == 1


def test_recounts_every_amendment_ballot_when_verifying(ledger: Ledger) -> None:
    from datetime import datetime, timedelta, timezone

    app, now = ledger.app, datetime.now(timezone.utc)
    mid = found(app, members=3, deliberation_seconds=3600)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, now - timedelta(hours=2))
    app.open_deliberation(pid, now - timedelta(minutes=1))
    number, _ = app.table_amendment(pid, "m1", "Un amendement")
    for ref in ("m1", "m2"):
        app.cast_vote(pid, ref, "for", amendment=number)
    assert app.close_deliberation(pid, now) == 1
    ledger.checkpoint()
    report = ledger.verify()
    assert report.ok, report.errors
    assert report.ballots_recounted == 1


def test_recounts_a_decision_by_the_majority_of_its_declared_type(ledger: Ledger) -> None:
    from domain.rules.charter import CharterRules

    app = ledger.app
    mid = app.found_metropolis(
        "budget", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"m{i}", "name": f"M{i}", "role": "councillor", "commune": "A"}
         for i in range(1, 8)],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     decision_majorities={"budget": "absolute"}))
    pid, _ = app.submit_proposal(mid, "c", "Budget", "Résumé", decision_type="budget")
    app.open_consultation(pid, app.clock())
    opened = app.open_vote(pid, app.clock())
    for i, choice in enumerate(("for", "for", "for", "against", "against", "abstain",
                                "abstain"), start=1):
        app.cast_vote(pid, f"m{i}", choice)
    # 3 for of 7 taking part: the simple majority would adopt it, the absolute one does not.
    assert app.decide(pid, opened.position, app.close_ballot(pid, app.clock())) == "rejected"
    ledger.checkpoint()
    report = ledger.verify()
    assert report.ok, report.errors
    assert report.ballots_recounted == 1
