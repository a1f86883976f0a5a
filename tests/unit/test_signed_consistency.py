"""domain.ledger.verify.check_signed_consistency: consistency proofs are checked against the
roots the ledger signed, whatever roots or proofs a prover supplies."""

from __future__ import annotations

import base64
import hashlib

from domain.ledger import ed25519, merkle, note
from domain.ledger.verify import Report, check_signed_consistency

SEED = hashlib.sha256(b"registre test ledger key").digest()
NAME = "registre.test/ledger"
PUBLIC = ed25519.public_key(SEED)
KEY = note.parse_vkey(note.vkey(NAME, PUBLIC))
LEAVES = [f"event {i}".encode() for i in range(20)]


def signed(size: int, leaves: list[bytes] = LEAVES) -> str:
    body = note.checkpoint_body(NAME, size, merkle.root(leaves[:size]))
    return note.sign_note(body, NAME, lambda m: ed25519.sign(SEED, m), PUBLIC)


def honest(old: int, new: int) -> list[bytes]:
    return merkle.consistency_proof(LEAVES[:new], old)


def test_every_link_is_checked_when_the_proofs_are_honest() -> None:
    report = Report()
    check_signed_consistency([signed(13), signed(5), signed(20)], KEY, honest, report)
    assert report.ok, report.errors
    assert report.consistency_checked == 2


def test_fails_naming_the_link_when_the_proof_is_forged() -> None:
    report = Report()
    check_signed_consistency([signed(5), signed(13)], KEY,
                             lambda old, new: [b"\x00" * 32] * len(honest(old, new)), report)
    assert not report.ok
    assert "signed checkpoints 5 → 13" in report.errors[0]
    assert report.consistency_checked == 0


def test_fails_when_the_log_was_rewritten_after_a_signed_checkpoint() -> None:
    rewritten = [b"forged 0", *LEAVES[1:]]
    report = Report()
    # The prover's proof is honest for its rewritten log, and its new checkpoint is signed.
    check_signed_consistency(
        [signed(5), signed(13, rewritten)], KEY,
        lambda old, new: merkle.consistency_proof(rewritten[:new], old), report)
    assert not report.ok
    assert "does not verify against the signed roots" in report.errors[0]


def test_a_checkpoint_with_a_bad_signature_is_left_out_when_chaining() -> None:
    genuine = signed(9)
    root_line = genuine.split("\n")[2]
    forged = genuine.replace(root_line, base64.b64encode(b"\x00" * 32).decode())  # after signing
    assert forged != genuine
    report = Report()
    check_signed_consistency([signed(5), forged, signed(13)], KEY, honest, report)
    assert any("checkpoint of size 9" in e for e in report.errors)
    assert report.consistency_checked == 1  # 5 → 13, the forged 9 left out


def test_two_signed_roots_for_one_size_are_a_split_view_when_chaining() -> None:
    rewritten = [b"forged 0", *LEAVES[1:]]
    report = Report()
    check_signed_consistency([signed(5), signed(5, rewritten)], KEY, honest, report)
    assert any("split view" in e for e in report.errors)
