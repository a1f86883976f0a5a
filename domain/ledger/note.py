"""Signed notes, transparency-log checkpoints and witness cosignatures (C2SP), stdlib only.

Three public specifications, implemented to be read and checked by an outsider:

* **Signed note** -- https://c2sp.org/signed-note (the format of golang.org/x/mod/sumdb/note).
  A UTF-8 text ending in a newline, a blank line, then one or more signature lines
  ``"— <key name> <base64(key ID || signature)>\\n"`` (em dash U+2014, space). The key ID is
  ``SHA-256(key name || 0x0A || signature type || public key)[:4]``; type ``0x01`` is an Ed25519
  signature of the note text (the text includes its final newline, not the blank line).
* **Checkpoint** -- https://c2sp.org/tlog-checkpoint. A signed note whose text is the log's
  *origin* line, the tree *size* in decimal (no leading zeros), the base64 RFC 6962 Merkle
  *root hash*, then optional non-empty extension lines.
* **Cosignature** -- https://c2sp.org/tlog-cosignature (Ed25519 ``cosignature/v1``). A witness
  adds a signature line to the checkpoint, with signature type ``0x04`` in its key ID and the
  payload ``key ID || uint64 big-endian timestamp || Ed25519 signature``; the signature covers
  ``"cosignature/v1\\ntime <timestamp>\\n"`` followed by the whole checkpoint text.

Example: a checkpoint of a 42-leaf tree, signed by the log and cosigned by a witness at POSIX
time 1767225600 (verifier keys ``registre.example/ledger+41d515b2+AUWUzU50zXZpo6ooikF8ePZn7gHsvinFSWoFJqW/fnLU``
and ``guarantor.example/witness+85d403e3+BIt2ZQC6UqWXY0BasS3QSOThGGkvfg1fZS9R99GiyiWU``)::

    registre.example/ledger
    42
    UNhY4JhezH9gQYqvDMWrWH9CwlcKiECVqejMrND2VFw=

    — registre.example/ledger QdUVsi0XJaKtVpozt48F8xrFfii114aSLS572/r6RRS4W8XNlq0BwCu+jhYAtXt/oWJWJgxfHck1iecThIUCR9ASOAQ=
    — guarantor.example/witness hdQD4wAAAABpVbkAhRWkYz0gBCFgX1+ZcnLcaayBfd+BJlbV2g3gohAECLIplPQM80Dsfa9vTqu/5TBlZL5Ni+EyYbDq7lTxTZ4XAw==

Keys travel in the note *verifier key* encoding ``<name>+<hex key ID>+<base64(type || public
key)>`` (see :func:`vkey`) and, for private keys, ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type ||
seed)>`` (see :func:`skey`), exactly as golang.org/x/mod/sumdb/note writes them.

Verification is strict: :func:`verify_note` and :func:`verify_cosignature` accept a note only if
it parses, at least one signature line carries the key's name *and* key ID, and every such line
verifies (c2sp.org/signed-note: clients SHOULD reject a note whose known-key signature fails).
Lines from other keys are ignored, even with the same name. Neither function raises on a bad
note or signature; parsing functions raise :class:`NoteError` (a ``ValueError``) saying what is
wrong.

Signing takes a ``sign(message: bytes) -> bytes`` callable, so production can keep its key in the
``cryptography`` library while tests use :func:`domain.ed25519.sign`.

This module uses only the Python standard library plus ``ed25519.py`` from the same directory.
It can be copied together with ``domain/ledger/ed25519.py`` (signatures) and ``domain/ledger/merkle.py`` (the
proofs the checkpoint's root commits to) into any other project to check the ledger
independently; the import below also works when the three files sit side by side outside a
package.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field

if __package__:
    from . import ed25519
else:  # copied next to ed25519.py and imported as a top-level module
    import ed25519  # type: ignore[no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only; nothing else is imported at run time
    from collections.abc import Callable

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "Checkpoint",
    "Note",
    "NoteError",
    "SignerKey",
    "VerifierKey",
    "add_signature_line",
    "checkpoint_body",
    "cosign",
    "cosignature_message",
    "key_id",
    "parse_checkpoint",
    "parse_note",
    "parse_skey",
    "parse_vkey",
    "sign_note",
    "skey",
    "verify_cosignature",
    "verify_note",
    "vkey",
]

ALG_ED25519 = 0x01  # signed-note: Ed25519 signature of the note text
ALG_COSIGNATURE_V1 = 0x04  # tlog-cosignature: timestamped Ed25519 cosignature/v1

MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note; the spec requires accepting at least 16
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_HASH_SIZE = 32
_KNOWN_ALGS = (ALG_ED25519, ALG_COSIGNATURE_V1)


class NoteError(ValueError):
    """A note, checkpoint, key or signature line is malformed (the message says how)."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its text (``body``) and its signature lines, unverified."""

    body: str
    signatures: list[tuple[str, bytes]]  # (key name, key ID || signature bytes)


@dataclass(frozen=True)
class Checkpoint:
    """A parsed tlog-checkpoint; ``signatures`` are (key name, raw bytes), not yet verified."""

    origin: str
    size: int
    root_hash: bytes
    body: str
    signatures: list[tuple[str, bytes]]
    extensions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VerifierKey:
    """A public key as named in notes: ``<name>+<hex key_id>+<base64(alg || public_key)>``."""

    name: str
    key_id: bytes
    alg: int
    public_key: bytes

    def __str__(self) -> str:
        return vkey(self.name, self.public_key, self.alg)


@dataclass(frozen=True)
class SignerKey:
    """A private key: ``PRIVATE+KEY+<name>+<hex key_id>+<base64(alg || seed)>``."""

    name: str
    key_id: bytes
    alg: int
    seed: bytes = field(repr=False)
    public_key: bytes

    def sign(self, message: bytes) -> bytes:
        """Sign with the pure-Python :mod:`ed25519` (not constant-time: tests, tools)."""
        return ed25519.sign(self.seed, message)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.key_id, self.alg, self.public_key)


# --------------------------------------------------------------------------- keys


def _check_name(name: object, what: str = "key name") -> str:
    if not isinstance(name, str) or not name:
        raise NoteError(f"{what} must be a non-empty string")
    if "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"{what} {name!r} must not contain spaces or '+'")
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise NoteError(f"{what} {name!r} contains a control character or is not valid UTF-8")
    return name


def _check_alg(alg: object) -> int:
    if not isinstance(alg, int) or isinstance(alg, bool) or alg not in _KNOWN_ALGS:
        raise NoteError(f"unsupported signature type {alg!r}: expected 0x01 (Ed25519) or "
                        "0x04 (cosignature/v1)")
    return alg


def _check_key_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != _ED25519_KEY_SIZE:
        raise NoteError(f"{what} must be {_ED25519_KEY_SIZE} bytes")
    return bytes(value)


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The 4-byte key ID ``SHA-256(name || 0x0A || alg || public_key)[:4]`` (c2sp.org/signed-note)."""
    _check_name(name)
    _check_alg(alg)
    if not isinstance(public_key, (bytes, bytearray)):
        raise NoteError("public key must be bytes")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + bytes(public_key))
    return digest.digest()[:_KEY_ID_SIZE]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4, padded); NoteError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raise NoteError(f"{what} is not valid base64: {text!r}") from None


def vkey(name: str, public_key: bytes, alg: int = ALG_ED25519) -> str:
    """The verifier key string ``<name>+<hex key ID>+<base64(alg || public_key)>``."""
    public_key = _check_key_bytes(public_key, "an Ed25519 public key")
    return f"{name}+{key_id(name, alg, public_key).hex()}+{_b64(bytes([alg]) + public_key)}"


def _split_key(text: object, parts: int, what: str) -> list[str]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError(f"{what} is not valid UTF-8") from None
    if not isinstance(text, str):
        raise NoteError(f"{what} must be a string")
    text = text.strip()
    fields = text.split("+", parts - 1)  # the base64 part may itself contain '+'
    if len(fields) != parts:
        raise NoteError(f"{what} must have {parts} '+'-separated fields, got {text!r}")
    return fields


def _parse_key_fields(name: str, hex_id: str, key64: str, what: str) -> tuple[str, bytes, int, bytes]:
    _check_name(name)
    if len(hex_id) != 2 * _KEY_ID_SIZE or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise NoteError(f"{what} key ID must be 8 hex digits, got {hex_id!r}")
    raw = _unb64(key64, f"{what} key material")
    if not raw:
        raise NoteError(f"{what} key material is empty")
    alg, key = raw[0], raw[1:]
    if alg not in _KNOWN_ALGS:
        raise NoteError(f"{what} has unsupported signature type 0x{alg:02x}")
    if len(key) != _ED25519_KEY_SIZE:
        raise NoteError(f"{what} key is {len(key)} bytes, expected {_ED25519_KEY_SIZE}")
    return name, bytes.fromhex(hex_id), alg, key


def parse_vkey(text: str) -> VerifierKey:
    """Parse ``<name>+<hex key ID>+<base64(alg || public key)>``; the key ID is checked.

    Surrounding whitespace (a trailing newline from a file) is ignored; anything else that is
    not exactly a verifier key raises :class:`NoteError`.
    """
    name, hex_id, key64 = _split_key(text, 3, "verifier key")
    name, claimed_id, alg, public_key = _parse_key_fields(name, hex_id, key64, "verifier key")
    expected = key_id(name, alg, public_key)
    if claimed_id != expected:
        raise NoteError(f"verifier key ID {claimed_id.hex()} does not match its name and key "
                        f"(expected {expected.hex()})")
    return VerifierKey(name, expected, alg, public_key)


def skey(name: str, seed: bytes, alg: int = ALG_ED25519) -> str:
    """The private key string ``PRIVATE+KEY+<name>+<hex key ID>+<base64(alg || seed)>``."""
    seed = _check_key_bytes(seed, "an Ed25519 seed")
    public_key = ed25519.public_key(seed)
    return f"PRIVATE+KEY+{name}+{key_id(name, alg, public_key).hex()}+{_b64(bytes([alg]) + seed)}"


def parse_skey(text: str) -> SignerKey:
    """Parse a ``PRIVATE+KEY+...`` string; the key ID is checked against the derived public key."""
    private, key, name, hex_id, key64 = _split_key(text, 5, "signer key")
    if private != "PRIVATE" or key != "KEY":
        raise NoteError("signer key must start with 'PRIVATE+KEY+'")
    name, claimed_id, alg, seed = _parse_key_fields(name, hex_id, key64, "signer key")
    public_key = ed25519.public_key(seed)
    expected = key_id(name, alg, public_key)
    if claimed_id != expected:
        raise NoteError(f"signer key ID {claimed_id.hex()} does not match its name and key "
                        f"(expected {expected.hex()})")
    return SignerKey(name, expected, alg, seed, public_key)


# --------------------------------------------------------------------------- parsing


def _as_text(text: object) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    if not isinstance(text, str):
        raise NoteError(f"note must be str or bytes, not {type(text).__name__}")
    return text


def _check_characters(text: str, what: str) -> None:
    for index, char in enumerate(text):
        code = ord(char)
        if (code < 0x20 and char != "\n") or 0xD800 <= code <= 0xDFFF:
            raise NoteError(f"{what} contains a control character or invalid UTF-8 "
                            f"(U+{code:04X} at offset {index})")


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(f"signature line must start with an em dash and a space: {line!r}")
    name, sep, encoded = line[len(_SIGNATURE_PREFIX):].partition(" ")
    if not sep or not encoded:
        raise NoteError(f"signature line must be '— <key name> <base64 signature>': {line!r}")
    _check_name(name, "signature key name")
    raw = _unb64(encoded, f"signature of {name!r}")
    if len(raw) < _KEY_ID_SIZE + 1:
        raise NoteError(f"signature of {name!r} is {len(raw)} bytes, too short for a key ID "
                        "and a signature")
    return name, raw


def parse_note(text: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (c2sp.org/signed-note)."""
    text = _as_text(text)
    _check_characters(text, "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line separating its text from the signatures")
    body, block = text[: split + 1], text[split + 2:]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note must end with a newline after its last signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return Note(body, [_parse_signature_line(line) for line in lines])


def _parse_checkpoint_body(body: str) -> tuple[str, int, bytes, list[str]]:
    if not body.endswith("\n"):
        raise NoteError("checkpoint text must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"checkpoint needs origin, size and root hash lines, got {len(lines)} "
                        "line(s)")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin line is empty")
    if not (size_text.isascii() and size_text.isdigit()):
        raise NoteError(f"checkpoint size must be a decimal number, got {size_text!r}")
    if size_text != "0" and size_text.startswith("0"):
        raise NoteError(f"checkpoint size must not have leading zeros, got {size_text!r}")
    root_hash = _unb64(root_text, "checkpoint root hash")
    if len(root_hash) != _HASH_SIZE:
        raise NoteError(f"checkpoint root hash is {len(root_hash)} bytes, expected {_HASH_SIZE}")
    for number, extension in enumerate(extensions, start=4):
        if not extension:
            raise NoteError(f"checkpoint extension line {number} is empty")
    return origin, int(size_text), root_hash, extensions


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a signed tlog-checkpoint; signatures are returned, not verified."""
    note = parse_note(text)
    origin, size, root_hash, extensions = _parse_checkpoint_body(note.body)
    return Checkpoint(origin, size, root_hash, note.body, note.signatures, extensions)


def checkpoint_body(origin: str, size: int, root_hash: bytes) -> str:
    """The checkpoint text ``"<origin>\\n<size>\\n<base64 root hash>\\n"`` (no extension lines)."""
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise NoteError("checkpoint origin must be a non-empty single line")
    _check_characters(origin, "checkpoint origin")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise NoteError(f"checkpoint size must be a non-negative integer, got {size!r}")
    if not isinstance(root_hash, (bytes, bytearray)) or len(root_hash) != _HASH_SIZE:
        raise NoteError(f"checkpoint root hash must be {_HASH_SIZE} bytes")
    return f"{origin}\n{size}\n{_b64(bytes(root_hash))}\n"


# --------------------------------------------------------------------------- signing


def _signature_line(name: str, payload: bytes) -> str:
    return f"{_SIGNATURE_PREFIX}{name} {_b64(payload)}\n"


def _signature_bytes(sign: Callable[[bytes], bytes], message: bytes, public_key: bytes) -> bytes:
    """Call ``sign`` and check its result against ``public_key`` before anything is published."""
    signature = sign(message)
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != _ED25519_SIGNATURE_SIZE:
        raise NoteError(f"sign() must return a {_ED25519_SIGNATURE_SIZE}-byte Ed25519 signature")
    if not ed25519.verify(public_key, message, bytes(signature)):
        raise NoteError("sign() produced a signature that public_key does not verify "
                        "(wrong key?)")
    return bytes(signature)


def sign_note(body: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """``body`` + blank line + one Ed25519 (type 0x01) signature line by ``name``.

    ``sign`` signs bytes with the private key matching ``public_key`` (e.g. a ``cryptography``
    ``Ed25519PrivateKey.sign`` or ``functools.partial(domain.ed25519.sign, seed)``).
    """
    if not isinstance(body, str) or not body.endswith("\n"):
        raise NoteError("note text must be a string ending in a newline")
    _check_characters(body, "note text")
    public_key = _check_key_bytes(public_key, "public key")
    identifier = key_id(name, ALG_ED25519, public_key)
    signature = _signature_bytes(sign, body.encode("utf-8"), public_key)
    return body + "\n" + _signature_line(name, identifier + signature)


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosigner signs: ``cosignature/v1\\ntime <timestamp>\\n`` + body."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not (
        0 <= timestamp <= MAX_TIMESTAMP
    ):
        raise NoteError(f"cosignature timestamp must be an integer in [0, 2^63-1], got {timestamp!r}")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode("utf-8")


def _checkpoint_text_body(checkpoint_text: str | bytes) -> str:
    """The checkpoint text of a signed checkpoint, or of a bare checkpoint body."""
    text = _as_text(checkpoint_text)
    body = parse_note(text).body if "\n\n" in text else text
    _check_characters(body, "checkpoint")
    _parse_checkpoint_body(body)
    return body


def cosign(
    checkpoint_text: str | bytes,
    name: str,
    sign: Callable[[bytes], bytes],
    public_key: bytes,
    timestamp: int,
) -> str:
    """One cosignature/v1 signature line (with its newline) for a checkpoint.

    ``checkpoint_text`` is the signed checkpoint (or its bare text); the line's payload is
    ``key ID (type 0x04) || uint64 big-endian timestamp || Ed25519 signature``. Append it with
    :func:`add_signature_line`. Checking the log's signature and the consistency of the tree
    first is the cosigner's job, not this function's.
    """
    body = _checkpoint_text_body(checkpoint_text)
    public_key = _check_key_bytes(public_key, "public key")
    identifier = key_id(name, ALG_COSIGNATURE_V1, public_key)
    message = cosignature_message(body, timestamp)
    signature = _signature_bytes(sign, message, public_key)
    return _signature_line(name, identifier + struct.pack(">Q", timestamp) + signature)


def add_signature_line(note_text: str, line: str) -> str:
    """Append a signature line to a signed note; unchanged if that exact line is present."""
    note = parse_note(note_text)
    if not isinstance(line, str) or not line.endswith("\n") or "\n" in line[:-1]:
        raise NoteError("signature line must be a single line ending in a newline")
    _check_characters(line, "signature line")
    _parse_signature_line(line[:-1])
    text = _as_text(note_text)
    if line in text[len(note.body) + 1:].splitlines(keepends=True):
        return text
    if len(note.signatures) >= MAX_SIGNATURES:
        raise NoteError(f"note already has {MAX_SIGNATURES} signatures")
    return text + line


# --------------------------------------------------------------------------- verification


def _matching(signatures: list[tuple[str, bytes]], key: VerifierKey) -> list[bytes]:
    return [raw[_KEY_ID_SIZE:] for name, raw in signatures
            if name == key.name and raw[:_KEY_ID_SIZE] == key.key_id]


def verify_note(text: str | bytes, key: VerifierKey) -> bool:
    """True iff the note parses and carries a valid Ed25519 note signature by ``key``.

    Signature lines with another name or key ID are ignored; if several lines match ``key``,
    all must verify. Never raises.
    """
    try:
        if not isinstance(key, VerifierKey) or key.alg != ALG_ED25519:
            return False
        note = parse_note(text)
        signatures = _matching(note.signatures, key)
        message = note.body.encode("utf-8")
        return bool(signatures) and all(
            ed25519.verify(key.public_key, message, signature) for signature in signatures
        )
    except (NoteError, TypeError, ValueError):
        return False


def verify_cosignature(text: str | bytes, key: VerifierKey) -> int | None:
    """The timestamp of a valid cosignature/v1 by ``key`` on this checkpoint, else None.

    ``key`` must be a type 0x04 verifier key. The checkpoint must parse; lines with another name
    or key ID are ignored; if several lines match, all must verify and the latest timestamp is
    returned. Never raises.
    """
    try:
        if not isinstance(key, VerifierKey) or key.alg != ALG_COSIGNATURE_V1:
            return None
        checkpoint = parse_checkpoint(text)
        payloads = _matching(checkpoint.signatures, key)
        if not payloads:
            return None
        timestamps = []
        for payload in payloads:
            if len(payload) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
                return None
            (timestamp,) = struct.unpack(">Q", payload[:_TIMESTAMP_SIZE])
            if timestamp > MAX_TIMESTAMP:
                return None
            message = cosignature_message(checkpoint.body, timestamp)
            if not ed25519.verify(key.public_key, message, payload[_TIMESTAMP_SIZE:]):
                return None
            timestamps.append(timestamp)
        return max(timestamps)
    except (NoteError, TypeError, ValueError):
        return None
