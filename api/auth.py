"""Identity v0 (D10): bearer JWTs carrying a role and, where it matters, a territory.

In embedded mode tokens are signed (HS256) by a local key (`registre token issue`); production
will verify an OIDC issuer's tokens instead. A citizen's (issuer, subject) never reaches the
log: the API turns it into the citizen's pseudonym in the metropolis concerned (api/deps.py
`acting_ref`, D10); officials act under their subject, their public mandate reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import date, datetime, timedelta, timezone

import jwt

if TYPE_CHECKING:
    from domain.rules.petition import SignerClaims

ROLES = ("citizen", "councillor", "mayor", "clerk", "guarantor")
ISSUER = "registre-local"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is acting: the identity provider's subject, a role, a territory (a commune code:
    for a citizen, the commune of residence), the issuer that vouches for the subject, and
    what the issuer vouches for a citizen: registered elector or not, date of birth (the
    petition kinds' signers and minimum age; never self-declared)."""

    sub: str
    role: str
    territory: str | None = None
    issuer: str = ISSUER
    elector: bool = False
    birthdate: date | None = None

    def signer_claims(self) -> "SignerClaims":
        """What a petition's rules check of this citizen (domain/rules/petition.py)."""
        from domain.rules.petition import SignerClaims

        return SignerClaims(commune=self.territory, elector=self.elector,
                            birthdate=self.birthdate)


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by our issuer."""


def issue_token(secret: str, sub: str, role: str, territory: str | None = None,
                ttl: timedelta = timedelta(days=30), *, elector: bool = False,
                birthdate: date | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not sub:
        raise ValueError("the subject must not be empty")
    now = datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "sub": sub, "role": role, "iat": now, "exp": now + ttl}
    if territory:
        claims["territory"] = territory
    if elector:
        claims["elector"] = True
    if birthdate is not None:
        claims["birthdate"] = birthdate.isoformat()
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.PyJWTError as e:
        raise InvalidToken(str(e)) from None
    role = claims.get("role")
    if role not in ROLES:
        raise InvalidToken(f"unknown role {role!r}")
    elector = claims.get("elector", False)
    if not isinstance(elector, bool):
        raise InvalidToken("the elector claim must be true or false")
    birthdate = None
    if "birthdate" in claims:
        try:
            birthdate = date.fromisoformat(str(claims["birthdate"]))
        except ValueError:
            raise InvalidToken("the birthdate claim must be a date (YYYY-MM-DD)") from None
    return Principal(sub=claims["sub"], role=role, territory=claims.get("territory"),
                     issuer=claims["iss"], elector=elector, birthdate=birthdate)
