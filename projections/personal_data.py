"""Pseudonyms and sealed personal data (D10): the adapter of the domain's `PersonalData` port.

- A citizen acts under a pseudonym: HMAC-SHA256, under the metropolis' pseudonym key, of
  (issuer, subject), written `p-` + 32 base32 characters (160 bits). Stable within a metropolis,
  so the store still refuses a second support or signature by the same person; unlinkable
  across metropolises and meaningless without the key.
- What a private person writes is sealed with AES-256-GCM under that person's data key; the
  additional data binds the ciphertext to (metropolis, pseudonym, field). Sealed form:
  `sealed:v1:<metropolis id>:<pseudonym>:<field>:<base64url(nonce ‖ ciphertext)>`.
- Both kinds of keys are secrets kept outside the log, in PostgreSQL tables created by
  `registre migrate` (`registre_pseudonym_keys`, `registre_personal_keys`): every process (API,
  worker, CLI) on any host reads the same keys, and erasure is one transactional DELETE (then
  the small key table is rewritten, so the destroyed key does not linger in a dead tuple).
  Files under var/keys would work only in embedded mode, on one host.
Erasing a person's data key makes every text they wrote unreadable for good (views show
« contenu effacé »), while the log, its leaves, roots and recounts stay as they were.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.ports import CLEAR

SEALED = "sealed:v1:"
PSEUDONYM_KEYS = "registre_pseudonym_keys"
PERSONAL_KEYS = "registre_personal_keys"


class TamperedSeal(ValueError):
    """A sealed text does not open under its person's key: it was altered or moved."""


class KeyStore(Protocol):
    """Where the keys live (outside the log)."""

    def pseudonym_key(self, metropolis_id: UUID, *, create: bool = True) -> bytes | None: ...

    def data_key(self, metropolis_id: UUID, person: str, *, create: bool) -> bytes | None: ...

    def data_keys(self, people: set[tuple[UUID, str]]) -> dict[tuple[UUID, str], bytes]: ...

    def erase(self, metropolis_id: UUID, person: str) -> bool: ...


def _aad(metropolis_id: UUID, person: str, field: str) -> bytes:
    return json.dumps(["registre/personal-data/v1", str(metropolis_id), person, field]).encode()


def _parse(sealed: str) -> tuple[UUID, str, str, bytes]:
    try:
        metropolis, rest = sealed[len(SEALED):].split(":", 1)
        person, field, payload = rest.rsplit(":", 2)
        return UUID(metropolis), person, field, base64.urlsafe_b64decode(payload)
    except ValueError as e:
        raise TamperedSeal(f"malformed sealed text: {e}") from None


class SealedPersonalData:
    """`PersonalData` with AES-256-GCM over a key store; also makes pseudonyms and erases."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        # A pseudonym key is never erased nor changed: kept once read (data keys never are,
        # so an erasure by another process takes effect at once).
        self._pseudonym_keys: dict[UUID, bytes] = {}

    def pseudonym(self, metropolis_id: UUID, issuer: str, subject: str, *,
                  create: bool = True) -> str | None:
        """The citizen's stable pseudonym within the metropolis (None when the metropolis
        has no pseudonym key yet and `create` is false)."""
        key = self._pseudonym_keys.get(metropolis_id) or self.keys.pseudonym_key(
            metropolis_id, create=create)
        if key is None:
            return None
        self._pseudonym_keys[metropolis_id] = key
        digest = hmac.new(key, json.dumps([issuer, subject]).encode(), hashlib.sha256).digest()
        return "p-" + base64.b32encode(digest[:20]).decode().lower()

    def seal(self, metropolis_id: UUID, person: str, field: str, text: str) -> str:
        key = self.keys.data_key(metropolis_id, person, create=True)
        assert key is not None
        nonce = os.urandom(12)
        ct = AESGCM(key).encrypt(nonce, text.encode(), _aad(metropolis_id, person, field))
        payload = base64.urlsafe_b64encode(nonce + ct).decode()
        return f"{SEALED}{metropolis_id}:{person}:{field}:{payload}"

    def open(self, sealed: str) -> str | None:
        return self.open_all([sealed])[0]

    def open_all(self, sealed: list[str]) -> list[str | None]:
        """Open many at once (one key lookup); None for each whose person was erased."""
        parsed = {s: _parse(s) for s in sealed if s.startswith(SEALED)}
        keys = self.keys.data_keys({(m, p) for m, p, _, _ in parsed.values()})
        return [self._open_one(s, parsed, keys) for s in sealed]

    @staticmethod
    def _open_one(s: str, parsed: dict[str, tuple[UUID, str, str, bytes]],
                  keys: dict[tuple[UUID, str], bytes]) -> str | None:
        if s.startswith(CLEAR):
            return s[len(CLEAR):]
        if s not in parsed:
            raise TamperedSeal("not a sealed text")
        metropolis_id, person, field, blob = parsed[s]
        key = keys.get((metropolis_id, person))
        if key is None:
            return None
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:],
                                       _aad(metropolis_id, person, field)).decode()
        except InvalidTag:
            raise TamperedSeal(f"a sealed {field} of {person} does not open") from None

    def erase(self, metropolis_id: UUID, person: str) -> bool:
        """Destroy the person's data key; False when they have none (nothing changed)."""
        return self.keys.erase(metropolis_id, person)

    def has_key(self, metropolis_id: UUID, person: str) -> bool:
        return self.keys.data_key(metropolis_id, person, create=False) is not None


class InMemoryKeys:
    """Keys in a dict: for unit tests of the pure domain."""

    def __init__(self) -> None:
        self.pseudonym_keys: dict[UUID, bytes] = {}
        self.personal: dict[tuple[UUID, str], bytes] = {}

    def pseudonym_key(self, metropolis_id: UUID, *, create: bool = True) -> bytes | None:
        if not create:
            return self.pseudonym_keys.get(metropolis_id)
        return self.pseudonym_keys.setdefault(metropolis_id, os.urandom(32))

    def data_key(self, metropolis_id: UUID, person: str, *, create: bool) -> bytes | None:
        if create:
            return self.personal.setdefault((metropolis_id, person), AESGCM.generate_key(256))
        return self.personal.get((metropolis_id, person))

    def data_keys(self, people: set[tuple[UUID, str]]) -> dict[tuple[UUID, str], bytes]:
        return {p: self.personal[p] for p in people if p in self.personal}

    def erase(self, metropolis_id: UUID, person: str) -> bool:
        return self.personal.pop((metropolis_id, person), None) is not None


class PostgresKeys:
    """Keys in two PostgreSQL tables beside (not in) the event store."""

    CREATE = (
        f"CREATE TABLE IF NOT EXISTS {PSEUDONYM_KEYS} (metropolis_id uuid PRIMARY KEY, "
        "key bytea NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {PERSONAL_KEYS} (metropolis_id uuid NOT NULL, "
        "person text NOT NULL, key bytea NOT NULL, PRIMARY KEY (metropolis_id, person))",
    )

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in self.CREATE:
                curs.execute(statement)

    def _get_or_create(self, table: str, where: str, params: dict[str, Any],
                       new: bytes) -> bytes:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"SELECT key FROM {table} WHERE {where}", params)  # noqa: S608
            row = curs.fetchone()
            if row is None:  # first use; a concurrent first use wins, we read its key
                columns = ", ".join(params)
                curs.execute(f"INSERT INTO {table} ({columns}, key) VALUES "  # noqa: S608
                             f"({', '.join(f'%({c})s' for c in params)}, %(key)s) "
                             "ON CONFLICT DO NOTHING", dict(params, key=new))
                curs.execute(f"SELECT key FROM {table} WHERE {where}", params)  # noqa: S608
                row = curs.fetchone()
            return bytes(row["key"])

    def pseudonym_key(self, metropolis_id: UUID, *, create: bool = True) -> bytes | None:
        params = {"metropolis_id": metropolis_id}
        if create:
            return self._get_or_create(PSEUDONYM_KEYS, "metropolis_id = %(metropolis_id)s",
                                       params, os.urandom(32))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT key FROM {PSEUDONYM_KEYS} "  # noqa: S608
                         "WHERE metropolis_id = %(metropolis_id)s", params)
            row = curs.fetchone()
        return None if row is None else bytes(row["key"])

    def data_key(self, metropolis_id: UUID, person: str, *, create: bool) -> bytes | None:
        params = {"metropolis_id": metropolis_id, "person": person}
        where = "metropolis_id = %(metropolis_id)s AND person = %(person)s"
        if create:
            return self._get_or_create(PERSONAL_KEYS, where, params, AESGCM.generate_key(256))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT key FROM {PERSONAL_KEYS} WHERE {where}", params)  # noqa: S608
            row = curs.fetchone()
        return None if row is None else bytes(row["key"])

    def data_keys(self, people: set[tuple[UUID, str]]) -> dict[tuple[UUID, str], bytes]:
        if not people:
            return {}
        ms, ps = zip(*people)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT metropolis_id, person, key FROM {PERSONAL_KEYS} "  # noqa: S608
                         "WHERE (metropolis_id, person) IN (SELECT * FROM "
                         "unnest(%s::uuid[], %s::text[]))", (list(ms), list(ps)))
            return {(r["metropolis_id"], r["person"]): bytes(r["key"]) for r in curs.fetchall()}

    def erase(self, metropolis_id: UUID, person: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {PERSONAL_KEYS} WHERE metropolis_id = %s "  # noqa: S608
                         "AND person = %s", (metropolis_id, person))
            erased = curs.rowcount > 0
        if erased:
            # A DELETE leaves the row's bytes in a dead tuple until the table is rewritten.
            with self.datastore.cursor() as curs:
                curs.execute(f"VACUUM FULL {PERSONAL_KEYS}")
        return erased


def postgres_personal_data(datastore: Any) -> SealedPersonalData:
    return SealedPersonalData(PostgresKeys(datastore))


def in_memory_personal_data() -> SealedPersonalData:
    return SealedPersonalData(InMemoryKeys())
