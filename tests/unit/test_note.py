"""domain.ledger.note: C2SP signed notes, checkpoints and cosignatures.

Published examples used verbatim (the interoperability proof):
* golang.org/x/mod/sumdb/note (github.com/golang/mod, sumdb/note/note.go package documentation
  and note_test.go): the PeterNeumann signer/verifier keys and signed note, and the EnochRoot
  verifier key and signature line.
* c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature (github.com/C2SP/C2SP,
  tlog-checkpoint.md and tlog-cosignature.md): the example checkpoint with a log signature and a
  witness cosignature (no public keys are published for it, so it is parsed, not verified).
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.ledger import ed25519, note
from domain.ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    NoteError,
    VerifierKey,
    add_signature_line,
    checkpoint_body,
    cosign,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_skey,
    parse_vkey,
    sign_note,
    skey,
    verify_cosignature,
    verify_note,
    vkey,
)

# --- golang.org/x/mod/sumdb/note, copied from note.go / note_test.go -----------------------------
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
                "qdngotpRZb6KE6RyyBwJnAM=\n")
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
                "wnWLox33WWd1RvMc+QQ=\n")
GO_NOTE = GO_TEXT + "\n" + GO_PETER_SIG

# --- c2sp.org/tlog-cosignature example, copied from tlog-cosignature.md -------------------------
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zh"
    "cyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
C2SP_COSIGNATURE_TIME = 1679315147  # the "time" line of the spec's example signed message

# --- keys of our own --------------------------------------------------------------------------
LOG_NAME = "registre.example/ledger"
WITNESS_NAME = "guarantor.example/witness"
ROOT = hashlib.sha256(b"a root").digest()
OTHER_ROOT = hashlib.sha256(b"another root").digest()
TIME = 1_767_225_600


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _seeded(tag: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(tag.encode()).digest())


LOG_KEY = _seeded("log")
WITNESS_KEY = _seeded("witness")
INTRUDER_KEY = _seeded("intruder")
LOG_VKEY = parse_vkey(vkey(LOG_NAME, _raw_public(LOG_KEY)))
WITNESS_VKEY = parse_vkey(vkey(WITNESS_NAME, _raw_public(WITNESS_KEY), ALG_COSIGNATURE_V1))


def _signed_checkpoint(size: int = 42, root: bytes = ROOT) -> str:
    body = checkpoint_body(LOG_NAME, size, root)
    return sign_note(body, LOG_NAME, LOG_KEY.sign, _raw_public(LOG_KEY))


def _cosigned_checkpoint(timestamp: int = TIME) -> str:
    signed = _signed_checkpoint()
    line = cosign(signed, WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY), timestamp)
    return add_signature_line(signed, line)


def _replace_signature(text: str, name: str, edit: functools.partial[bytes]) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(f"— {name} "):
            raw = base64.b64decode(line.split(" ")[2])
            lines[index] = f"— {name} {base64.b64encode(edit(raw)).decode()}"
    return "\n".join(lines)


def _flip_byte(raw: bytes, index: int) -> bytes:
    out = bytearray(raw)
    out[index] ^= 0x01
    return bytes(out)


# --------------------------------------------------------------------------- published examples


def test_go_example_note_verifies_when_checked_with_its_published_verifier_key() -> None:
    assert verify_note(GO_NOTE, parse_vkey(GO_VKEY))


def test_go_example_note_is_reproduced_byte_for_byte_when_signed_with_its_published_signer_key(
) -> None:
    signer = parse_skey(GO_SKEY)
    assert sign_note(GO_TEXT, signer.name, signer.sign, signer.public_key) == GO_NOTE


def test_go_example_note_is_reproduced_when_signed_by_cryptography_with_the_published_seed() -> None:
    signer = parse_skey(GO_SKEY)
    private = Ed25519PrivateKey.from_private_bytes(signer.seed)
    assert sign_note(GO_TEXT, "PeterNeumann", private.sign, _raw_public(private)) == GO_NOTE


def test_go_published_keys_round_trip_when_parsed_and_encoded_again() -> None:
    verifier = parse_vkey(GO_VKEY)
    signer = parse_skey(GO_SKEY)
    assert verifier == signer.verifier
    assert (verifier.name, verifier.key_id.hex(), verifier.alg) == ("PeterNeumann", "c74f20a3", 1)
    assert vkey(verifier.name, verifier.public_key) == GO_VKEY == str(verifier)
    assert skey(signer.name, signer.seed) == GO_SKEY
    assert key_id("PeterNeumann", ALG_ED25519, verifier.public_key) == bytes.fromhex("c74f20a3")


def test_each_go_signature_verifies_when_the_note_carries_two_signers() -> None:
    doubly_signed = GO_NOTE + GO_ENOCH_SIG
    assert verify_note(doubly_signed, parse_vkey(GO_VKEY))
    assert verify_note(doubly_signed, parse_vkey(GO_ENOCH_VKEY))


def test_go_signature_fails_when_the_text_is_edited() -> None:
    edited = GO_NOTE.replace("cryptography", "cryptographY")
    assert not verify_note(edited, parse_vkey(GO_VKEY))


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        b"\xff" + (GO_TEXT + "\n" + GO_PETER_SIG).encode(),
        GO_TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2"
                         "pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
    ],
    ids=["no-signatures", "blank-only", "no-final-newline", "control-char", "invalid-utf8",
         "space-in-name", "unexpected-line"],
)
def test_parse_note_raises_when_given_a_malformed_note_from_the_go_test_suite(
    message: str | bytes,
) -> None:
    with pytest.raises(NoteError):
        parse_note(message)
    assert not verify_note(message, parse_vkey(GO_VKEY))


def test_c2sp_example_checkpoint_parses_when_copied_from_the_cosignature_spec() -> None:
    checkpoint = parse_checkpoint(C2SP_CHECKPOINT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == []
    assert [name for name, _ in checkpoint.signatures] == [
        "example.com/behind-the-sofa", "witness.example.com/w1"]
    log_raw, witness_raw = (raw for _, raw in checkpoint.signatures)
    assert len(log_raw) == 4 + 64
    assert len(witness_raw) == 4 + 8 + 64
    assert struct.unpack(">Q", witness_raw[4:12])[0] == C2SP_COSIGNATURE_TIME


def test_checkpoint_body_matches_the_spec_example_when_given_its_fields() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint_body("example.com/behind-the-sofa", 20852163, root) == (
        parse_checkpoint(C2SP_CHECKPOINT).body)


def test_module_docstring_example_verifies_when_checked_with_its_verifier_keys() -> None:
    doc = note.__doc__ or ""
    block = doc[doc.index("::\n\n    registre.example/ledger") + 3:]
    lines = []
    for line in block.split("\n")[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    example = "\n".join(lines).rstrip("\n") + "\n"
    log_key, witness_key = (parse_vkey(k) for k in
                            re.findall(r"``([^`]+\+[0-9a-f]{8}\+[^`]+)``", doc)[:2])
    assert verify_note(example, log_key)
    assert verify_cosignature(example, witness_key) == 1767225600


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_COSIGNATURE_V1])
def test_vkey_round_trips_when_encoded_then_parsed(alg: int) -> None:
    public = _raw_public(LOG_KEY)
    parsed = parse_vkey(vkey(LOG_NAME, public, alg))
    assert parsed == VerifierKey(LOG_NAME, key_id(LOG_NAME, alg, public), alg, public)


def test_key_id_is_the_sha256_prefix_when_computed_by_hand() -> None:
    public = _raw_public(WITNESS_KEY)
    expected = hashlib.sha256(WITNESS_NAME.encode() + b"\n\x04" + public).digest()[:4]
    assert key_id(WITNESS_NAME, ALG_COSIGNATURE_V1, public) == expected
    assert key_id(WITNESS_NAME, ALG_ED25519, public) != expected


def test_skey_round_trips_when_encoded_then_parsed() -> None:
    seed = hashlib.sha256(b"seed").digest()
    signer = parse_skey(skey(LOG_NAME, seed))
    assert signer.seed == seed
    assert signer.public_key == ed25519.public_key(seed)
    assert signer.verifier == parse_vkey(vkey(LOG_NAME, signer.public_key))
    assert seed.hex() not in repr(signer)


def test_parse_vkey_rejects_every_mangling_when_ported_from_the_go_test_suite() -> None:
    encoded = GO_VKEY.encode()
    manglings = {encoded[i:j].decode() for i in range(len(encoded) + 1)
                 for j in range(i + 1, len(encoded) + 1) if (i, j) != (0, len(encoded))}
    for i in range(len(encoded)):
        bumped = bytearray(encoded)
        bumped[i] += 1
        manglings.add(bumped.decode())
    for mangled in manglings:
        with pytest.raises(NoteError):
            parse_vkey(mangled)


def test_parse_skey_rejects_every_mangling_when_ported_from_the_go_test_suite() -> None:
    encoded = GO_SKEY.encode()
    manglings = {encoded[i:j].decode() for i in range(len(encoded) + 1)
                 for j in range(i + 1, len(encoded) + 1) if (i, j) != (0, len(encoded))}
    for i in range(len(encoded)):
        bumped = bytearray(encoded)
        bumped[i] += 1
        manglings.add(bumped.decode())
    for mangled in manglings:
        with pytest.raises(NoteError):
            parse_skey(mangled)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        # From golang.org/x/mod note_test.go: wrong-length key and unknown algorithm, each with a
        # key hash adjusted so that only that defect remains.
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
         "expected 32"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         "unsupported signature type 0x65"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         "does not match"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+c74f20a3", "3 '\\+'-separated fields"),
        ("PeterNeumann+c74f20a3+not base64!", "not valid base64"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
    ],
    ids=["key-length", "algorithm", "key-id", "short-id", "fields", "base64", "name"],
)
def test_parse_vkey_names_the_defect_when_the_key_is_malformed(text: str, complaint: str) -> None:
    with pytest.raises(NoteError, match=complaint):
        parse_vkey(text)


def test_parse_skey_names_the_defect_when_the_prefix_is_missing() -> None:
    with pytest.raises(NoteError, match="PRIVATE"):
        parse_skey(GO_SKEY.replace("PRIVATE+KEY", "PUBLIC+KEY"))


# --------------------------------------------------------------------------- notes and checkpoints


def test_checkpoint_round_trips_when_signed_then_parsed() -> None:
    signed = _signed_checkpoint(size=42)
    checkpoint = parse_checkpoint(signed)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (LOG_NAME, 42, ROOT)
    assert checkpoint.body == f"{LOG_NAME}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert signed == checkpoint.body + "\n" + f"— {LOG_NAME} " + base64.b64encode(
        checkpoint.signatures[0][1]).decode() + "\n"
    [(name, raw)] = checkpoint.signatures
    assert name == LOG_NAME
    assert raw[:4] == LOG_VKEY.key_id
    LOG_KEY.public_key().verify(raw[4:], checkpoint.body.encode())  # cryptography agrees


def test_checkpoint_of_an_empty_tree_parses_when_size_is_zero() -> None:
    signed = sign_note(checkpoint_body(LOG_NAME, 0, hashlib.sha256(b"").digest()), LOG_NAME,
                       LOG_KEY.sign, _raw_public(LOG_KEY))
    assert parse_checkpoint(signed).size == 0
    assert verify_note(signed, LOG_VKEY)


def test_note_signed_by_cryptography_verifies_when_checked_with_verify_note() -> None:
    assert verify_note(_signed_checkpoint(), LOG_VKEY)


def test_note_signed_by_pure_python_verifies_with_cryptography_when_exchanged() -> None:
    seed = hashlib.sha256(b"pure").digest()
    public = ed25519.public_key(seed)
    signed = sign_note("any text\n", "pure.example", functools.partial(ed25519.sign, seed), public)
    [(_, raw)] = parse_note(signed).signatures
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], b"any text\n")
    assert verify_note(signed, parse_vkey(vkey("pure.example", public)))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (LOG_NAME + "\n", "registre.example/ledgeR\n"),
        ("\n42\n", "\n43\n"),
        ("\n42\n", "\n4200\n"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(OTHER_ROOT).decode()),
    ],
    ids=["origin", "size", "size-append", "root"],
)
def test_verify_note_fails_when_the_checkpoint_body_is_edited(old: str, new: str) -> None:
    signed = _signed_checkpoint()
    edited = signed.replace(old, new, 1)
    assert edited != signed
    assert not verify_note(edited, LOG_VKEY)


@pytest.mark.parametrize("index", [4, 20, 35, 36, 50, 67])
def test_verify_note_fails_when_a_signature_byte_is_edited(index: int) -> None:
    edited = _replace_signature(_signed_checkpoint(), LOG_NAME,
                                functools.partial(_flip_byte, index=index))
    assert not verify_note(edited, LOG_VKEY)


def test_verify_note_fails_when_the_key_id_is_edited() -> None:
    edited = _replace_signature(_signed_checkpoint(), LOG_NAME, functools.partial(_flip_byte, index=0))
    assert not verify_note(edited, LOG_VKEY)


def test_verify_note_fails_when_another_key_signs_under_the_same_name() -> None:
    body = checkpoint_body(LOG_NAME, 42, ROOT)
    forged = sign_note(body, LOG_NAME, INTRUDER_KEY.sign, _raw_public(INTRUDER_KEY))
    assert not verify_note(forged, LOG_VKEY)


def test_verify_note_fails_when_another_key_signs_under_the_same_name_and_key_id() -> None:
    body = checkpoint_body(LOG_NAME, 42, ROOT)
    payload = LOG_VKEY.key_id + INTRUDER_KEY.sign(body.encode())
    forged = body + "\n" + f"— {LOG_NAME} {base64.b64encode(payload).decode()}\n"
    assert not verify_note(forged, LOG_VKEY)


def test_verify_note_fails_when_a_good_signature_is_followed_by_a_bad_one_from_the_same_key() -> None:
    signed = _signed_checkpoint()
    [(_, raw)] = parse_note(signed).signatures
    bad = raw[:4] + bytes(64)
    doubled = signed + f"— {LOG_NAME} {base64.b64encode(bad).decode()}\n"
    assert not verify_note(doubled, LOG_VKEY)


def test_verify_note_ignores_unknown_signatures_when_a_known_one_is_valid() -> None:
    signed = add_signature_line(_signed_checkpoint(), GO_PETER_SIG)
    assert verify_note(signed, LOG_VKEY)


def test_verify_note_is_false_when_no_signature_is_by_the_key() -> None:
    assert not verify_note(GO_NOTE, LOG_VKEY)


def test_verify_note_is_false_when_given_a_cosignature_key() -> None:
    cosigner = parse_vkey(vkey(LOG_NAME, _raw_public(LOG_KEY), ALG_COSIGNATURE_V1))
    assert not verify_note(_signed_checkpoint(), cosigner)


@pytest.mark.parametrize("garbage", ["", "\n\n", b"\xff\xfe", None, 42, "— x y\n"])
def test_verify_functions_return_quietly_when_given_garbage(garbage: object) -> None:
    assert verify_note(garbage, LOG_VKEY) is False  # type: ignore[arg-type]
    assert verify_cosignature(garbage, WITNESS_VKEY) is None  # type: ignore[arg-type]


def test_sign_note_raises_when_the_callable_signs_with_another_key() -> None:
    with pytest.raises(NoteError, match="wrong key"):
        sign_note("text\n", LOG_NAME, INTRUDER_KEY.sign, _raw_public(LOG_KEY))


@pytest.mark.parametrize(
    ("body", "name", "complaint"),
    [("no newline", LOG_NAME, "ending in a newline"), ("tab\there\n", LOG_NAME, "control"),
     ("text\n", "a+b", "'\\+'"), ("text\n", "a b", "spaces"), ("text\n", "", "non-empty")],
    ids=["newline", "control", "plus", "space", "empty-name"],
)
def test_sign_note_names_the_defect_when_text_or_name_is_malformed(
    body: str, name: str, complaint: str,
) -> None:
    with pytest.raises(NoteError, match=complaint):
        sign_note(body, name, LOG_KEY.sign, _raw_public(LOG_KEY))


ROOT64 = base64.b64encode(ROOT).decode()
SIG_LINE = f"— {LOG_NAME} " + base64.b64encode(b"\x00" * 68).decode() + "\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (f"{LOG_NAME}\n42\n{ROOT64}\n", "no blank line"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n", "no signature lines"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n{SIG_LINE[:-1]}", "end with a newline"),
        (f"{LOG_NAME}\r\n42\n{ROOT64}\n\n{SIG_LINE}", "control character"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n- {LOG_NAME} AAAAAAAA\n", "em dash"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n— {LOG_NAME}\n", "<key name> <base64 signature>"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n— {LOG_NAME} !!!!\n", "not valid base64"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n— {LOG_NAME} AAAA\n", "too short"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n— a+b AAAAAAAA\n", "'\\+'"),
        (f"{LOG_NAME}\n42\n\n{SIG_LINE}", "origin, size and root hash"),
        (f"\n42\n{ROOT64}\n\n{SIG_LINE}", "origin line is empty"),
        (f"{LOG_NAME}\n042\n{ROOT64}\n\n{SIG_LINE}", "leading zeros"),
        (f"{LOG_NAME}\n-1\n{ROOT64}\n\n{SIG_LINE}", "decimal number"),
        (f"{LOG_NAME}\n4_2\n{ROOT64}\n\n{SIG_LINE}", "decimal number"),
        (f"{LOG_NAME}\n\u0664\u0662\n{ROOT64}\n\n{SIG_LINE}", "decimal number"),
        (f"{LOG_NAME}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n\n{SIG_LINE}", "31 bytes"),
        (f"{LOG_NAME}\n42\nnot-base64\n\n{SIG_LINE}", "root hash is not valid base64"),
        (f"{LOG_NAME}\n42\n{ROOT64}\n\n" + SIG_LINE * 101, "more than 100"),
        (b"\xff" + f"\n42\n{ROOT64}\n\n{SIG_LINE}".encode(), "not valid UTF-8"),
    ],
    ids=["no-blank-line", "no-signatures", "no-final-newline", "carriage-return", "hyphen",
         "no-signature", "bad-base64", "short-signature", "plus-in-name", "two-lines",
         "empty-origin", "leading-zero", "negative-size", "underscore-size", "arabic-digits",
         "short-root", "root-not-base64", "too-many-signatures", "invalid-utf8"],
)
def test_parse_checkpoint_names_the_defect_when_the_checkpoint_is_malformed(
    text: str | bytes, complaint: str,
) -> None:
    with pytest.raises(NoteError, match=complaint):
        parse_checkpoint(text)


def test_parse_checkpoint_returns_extension_lines_when_present() -> None:
    body = f"{LOG_NAME}\n42\n{ROOT64}\nextension one\nextension two\n"
    checkpoint = parse_checkpoint(sign_note(body, LOG_NAME, LOG_KEY.sign, _raw_public(LOG_KEY)))
    assert checkpoint.extensions == ["extension one", "extension two"]
    assert checkpoint.body == body


@pytest.mark.parametrize(
    ("origin", "size", "root", "complaint"),
    [("", 1, ROOT, "origin"), ("a\nb", 1, ROOT, "origin"), ("o", -1, ROOT, "size"),
     ("o", True, ROOT, "size"), ("o", 1, ROOT[:31], "32 bytes"), ("o", 1, ROOT.hex(), "32 bytes")],
    ids=["empty-origin", "two-line-origin", "negative", "bool", "short-root", "hex-root"],
)
def test_checkpoint_body_names_the_defect_when_a_field_is_invalid(
    origin: str, size: int, root: bytes, complaint: str,
) -> None:
    with pytest.raises(NoteError, match=complaint):
        checkpoint_body(origin, size, root)


# --------------------------------------------------------------------------- cosignatures


def test_cosignature_verifies_and_returns_its_timestamp_when_added_to_the_checkpoint() -> None:
    cosigned = _cosigned_checkpoint(TIME)
    assert verify_cosignature(cosigned, WITNESS_VKEY) == TIME
    assert verify_note(cosigned, LOG_VKEY)  # the log signature is untouched


def test_cosignature_line_has_the_spec_layout_when_checked_with_cryptography() -> None:
    signed = _signed_checkpoint()
    line = cosign(signed, WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY), TIME)
    assert line.startswith(f"— {WITNESS_NAME} ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == hashlib.sha256(
        WITNESS_NAME.encode() + b"\n\x04" + _raw_public(WITNESS_KEY)).digest()[:4]
    assert raw[4:12] == TIME.to_bytes(8, "big")
    message = f"cosignature/v1\ntime {TIME}\n".encode() + parse_checkpoint(signed).body.encode()
    WITNESS_KEY.public_key().verify(raw[12:], message)  # raises if the message differs


def test_cosign_accepts_a_bare_checkpoint_body_when_no_signature_is_attached() -> None:
    body = checkpoint_body(LOG_NAME, 42, ROOT)
    bare = cosign(body, WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY), TIME)
    signed = cosign(_signed_checkpoint(), WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY),
                    TIME)
    assert bare == signed


@pytest.mark.parametrize("timestamp", [0, 1, 2**32, 2**63 - 1])
def test_cosignature_returns_its_timestamp_when_at_the_edges_of_the_allowed_range(
    timestamp: int,
) -> None:
    assert verify_cosignature(_cosigned_checkpoint(timestamp), WITNESS_VKEY) == timestamp


@pytest.mark.parametrize("timestamp", [-1, 2**63, True, 1.5])
def test_cosign_raises_when_the_timestamp_is_out_of_range(timestamp: object) -> None:
    with pytest.raises(NoteError, match="timestamp"):
        cosign(_signed_checkpoint(), WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY),
               timestamp)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (LOG_NAME + "\n", "registre.example/ledgeR\n"),
        ("\n42\n", "\n43\n"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(OTHER_ROOT).decode()),
    ],
    ids=["origin", "size", "root"],
)
def test_verify_cosignature_fails_when_the_checkpoint_body_is_edited(old: str, new: str) -> None:
    edited = _cosigned_checkpoint().replace(old, new, 1)
    assert verify_cosignature(edited, WITNESS_VKEY) is None


@pytest.mark.parametrize("index", [0, 4, 11, 12, 40, 75], ids=lambda i: f"byte{i}")
def test_verify_cosignature_fails_when_a_payload_byte_is_edited(index: int) -> None:
    edited = _replace_signature(_cosigned_checkpoint(), WITNESS_NAME,
                                functools.partial(_flip_byte, index=index))
    assert verify_cosignature(edited, WITNESS_VKEY) is None


def test_verify_cosignature_fails_when_another_key_cosigns_under_the_same_name() -> None:
    signed = _signed_checkpoint()
    line = cosign(signed, WITNESS_NAME, INTRUDER_KEY.sign, _raw_public(INTRUDER_KEY), TIME)
    assert verify_cosignature(add_signature_line(signed, line), WITNESS_VKEY) is None


def test_verify_cosignature_is_none_when_given_a_note_signature_key() -> None:
    plain = parse_vkey(vkey(WITNESS_NAME, _raw_public(WITNESS_KEY), ALG_ED25519))
    assert verify_cosignature(_cosigned_checkpoint(), plain) is None


def test_verify_cosignature_is_none_when_the_witness_used_the_note_signature_type() -> None:
    body = checkpoint_body(LOG_NAME, 42, ROOT)
    as_note = sign_note(body, WITNESS_NAME, WITNESS_KEY.sign, _raw_public(WITNESS_KEY))
    assert verify_cosignature(as_note, WITNESS_VKEY) is None


def test_verify_cosignature_is_none_when_the_checkpoint_is_only_log_signed() -> None:
    assert verify_cosignature(_signed_checkpoint(), WITNESS_VKEY) is None


def test_verify_cosignature_is_none_when_the_note_is_not_a_checkpoint() -> None:
    line = f"— {WITNESS_NAME} " + base64.b64encode(WITNESS_VKEY.key_id + bytes(72)).decode() + "\n"
    assert verify_cosignature(GO_NOTE + line, WITNESS_VKEY) is None


def test_add_signature_line_is_idempotent_when_the_line_is_already_present() -> None:
    cosigned = _cosigned_checkpoint()
    line = cosigned.split("\n")[-2] + "\n"
    assert add_signature_line(cosigned, line) == cosigned


@pytest.mark.parametrize(
    "line", ["— no-newline AAAAAAAA", "- hyphen AAAAAAAA\n", "— two\n— lines\n", "— name !!\n"],
    ids=["no-newline", "hyphen", "two-lines", "bad-base64"],
)
def test_add_signature_line_raises_when_the_line_is_malformed(line: str) -> None:
    with pytest.raises(NoteError):
        add_signature_line(_signed_checkpoint(), line)


# --------------------------------------------------------------------------- copyability


def test_module_imports_only_the_standard_library_when_parsed() -> None:
    source = Path(note.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported == {"__future__", "base64", "hashlib", "struct", "dataclasses",
                        "collections.abc", ".", "ed25519"}


def test_copied_files_verify_a_cosigned_checkpoint_when_run_outside_the_project(
    tmp_path: Path,
) -> None:
    domain = Path(note.__file__).parent
    for name in ("note.py", "ed25519.py", "merkle.py"):
        shutil.copy(domain / name, tmp_path / name)
    (tmp_path / "check.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import merkle, note
        assert "domain" not in sys.modules
        text = sys.stdin.read()
        assert note.verify_note(text, note.parse_vkey({str(LOG_VKEY)!r}))
        print(note.verify_cosignature(text, note.parse_vkey({str(WITNESS_VKEY)!r})))
    """), encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", str(tmp_path / "check.py")], cwd=tmp_path,
                            input=_cosigned_checkpoint(), capture_output=True, text=True,
                            encoding="utf-8", check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(TIME)
