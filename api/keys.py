"""Ed25519 keys for checkpoints: the ledger's signing key and the guarantor's witness key.

Keys are stored in the signed-note key encodings (`domain.ledger.note`): a private `*.skey` file
(mode 0600) and a public `*.vkey` file. Signing uses the `cryptography` library; verification
anywhere else uses the stdlib-only `domain.ledger.ed25519`, so outsiders need no dependency.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.ledger import note

NOTE_ALG = 0x01  # Ed25519 note signature (checkpoints)
COSIGNATURE_ALG = 0x04  # cosignature/v1 (witnesses)


@dataclass(frozen=True)
class SigningKey:
    name: str
    seed: bytes
    alg: int = NOTE_ALG

    @property
    def public_key(self) -> bytes:
        return (Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def vkey(self) -> str:
        return note.vkey(self.name, self.public_key, self.alg)

    def skey(self) -> str:
        return note.skey(self.name, self.seed, self.alg)


def generate(name: str, alg: int = NOTE_ALG) -> SigningKey:
    return SigningKey(name, os.urandom(32), alg)


def save(key: SigningKey, skey_path: Path) -> Path:
    """Write `<name>.skey` (private, 0600) and the matching `.vkey`; returns the vkey path."""
    skey_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(skey_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.skey() + "\n")
    vkey_path = skey_path.with_suffix(".vkey")
    vkey_path.write_text(key.vkey() + "\n")
    return vkey_path


def load(skey_path: Path) -> SigningKey:
    parsed = note.parse_skey(skey_path.read_text().strip())
    return SigningKey(parsed.name, parsed.seed, parsed.alg)


def ensure(skey_path: Path, name: str, alg: int = NOTE_ALG) -> SigningKey:
    """Load the key at `skey_path`, creating it on first use (embedded mode)."""
    if not skey_path.exists():
        save(generate(name, alg), skey_path)
    return load(skey_path)
