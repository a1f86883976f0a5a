"""The rules of citizens' conventions drawn by lot, as a charter version fixes them per kind.

Standard library only: the commands, the views and `registre audit verify` apply these very
functions (the selection itself — distributions, draws, replacements — is in
`domain/rules/sortition.py`).

A charter's `convention_kinds` names each kind a metropolis may convene (`convention`, the
collegial bureau's citizen seats `bureau`, an evaluation panel `evaluation`, …) with its rules
(`ConventionRules`, rule ids `convention.<field>`). A convention is opened with its kind's
rules and the overrides its clerk gives, fixed in its first event.

Invitations drawn from a registry extract (`invitation_order`): every entry (a pseudonym of
an address or a registry line) is ranked by SHA-256 of `<seed>:<entry>` and the first ones
are invited — uniform over the extract, reproducible by anyone holding the entries and the
published seed, which is used whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

from domain.errors import InvalidCharter
from domain.rules.petition import SignerClaims, age_on
from domain.rules.text import is_clean_line

# The selection algorithms (domain/rules/sortition.py METHODS) and the randomness sources.
METHODS = ("leximin", "maximin", "nash", "legacy")
RANDOMNESS = ("guarantor_secret", "dice", "beacon")
COMMUNE = "commune"  # the category taken from the identity provider's commune, never declared
MAX_SECONDS = 10 * 366 * 86400
MAX_SIZE = 1000
MAX_CATEGORIES = 12
MAX_VALUES = 200
MAX_NAME = 80
MAX_KINDS = 20
MAX_INVITATIONS = 1_000_000
DEFAULT_KIND = "convention"


@dataclass(frozen=True)
class ConventionRules:
    """The rules of one kind of convention (rule ids `convention.<name>`).

    - `size`: the number of members drawn.
    - `quotas`: per category (`gender`, `age`, `commune`, `csp`, `diploma`…), per value, the
      least and most members `[min, max]`; a volunteer gives one value per category (the
      `commune` category comes from the identity provider, rule `convention.residence`).
    - `method`: the selection algorithm (`leximin`, `maximin`, `nash`, `legacy`).
    - `randomness`: where the seed comes from, fixed before the pool closes:
      `guarantor_secret` (the guarantor commits SHA-256 of a secret before the pool closes
      and reveals the secret after the commitment), `dice` (public dice thrown after the
      commitment, the digits entered as the seed), `beacon` (the value of a public beacon
      round later than the commitment, e.g. drand).
    - `invitations`: how many invitations are drawn from a registry extract (0: an open call).
    - `registration_seconds` (from the opening), `reveal_seconds` (from the commitment: the
      seed is due by then, rule `convention.reveal`), `acceptance_seconds` (from the draw:
      members accept or decline; a declined seat goes to an alternate with the same category
      values), `term_seconds` (the mandate, from the sitting's opening).
    - `sessions`: the sessions planned; `remuneration_per_session`: euros paid per session.
    - `min_age` of volunteers, years.
    """

    size: int = 30
    quotas: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    method: str = "leximin"
    randomness: str = "guarantor_secret"
    invitations: int = 0
    registration_seconds: int = 30 * 86400
    reveal_seconds: int = 7 * 86400
    acceptance_seconds: int = 14 * 86400
    term_seconds: int = 365 * 86400
    sessions: int = 6
    remuneration_per_session: int = 0
    min_age: int = 16

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidCharter(f"a convention's method is one of {', '.join(METHODS)}")
        if self.randomness not in RANDOMNESS:
            raise InvalidCharter(f"a convention's randomness is one of {', '.join(RANDOMNESS)}")
        if not _whole(self.size, MAX_SIZE) or self.size < 1:
            raise InvalidCharter(f"a convention's size is a whole number from 1 to {MAX_SIZE}")
        for name in ("registration_seconds", "reveal_seconds", "acceptance_seconds",
                     "term_seconds"):
            if not _whole(getattr(self, name), MAX_SECONDS) or getattr(self, name) < 1:
                raise InvalidCharter(f"{name} is a whole number of seconds, at least one, "
                                     "within ten years")
        for name, most in (("invitations", MAX_INVITATIONS), ("sessions", 1000),
                           ("remuneration_per_session", 100_000), ("min_age", 120)):
            if not _whole(getattr(self, name), most):
                raise InvalidCharter(f"{name} is a whole number between 0 and {most}")
        object.__setattr__(self, "quotas", checked_quotas(self.quotas, self.size))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConventionRules:
        if not isinstance(data, Mapping):
            raise InvalidCharter("a convention kind's rules are a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidCharter(f"unknown convention rule(s): {', '.join(map(str, unknown))}")
        return cls(**dict(data))

    def with_overrides(self, overrides: Mapping[str, Any]) -> ConventionRules:
        return ConventionRules.from_dict({**self.as_dict(), **overrides})

    def quota_list(self) -> list[tuple[str, str, int, int]]:
        """The quotas as `(category, value, min, max)`, sorted."""
        return [(c, v, b[0], b[1]) for c, values in sorted(self.quotas.items())
                for v, b in sorted(values.items())]


def checked_quotas(quotas: Any, size: int) -> dict[str, dict[str, list[int]]]:
    """Quotas checked against the panel's size: clean names, `0 ≤ min ≤ max ≤ size`, and for
    every category the mins add up to at most the size and the maxes to at least it (else no
    panel can meet them: rule `convention.quotas`)."""
    if not isinstance(quotas, Mapping) or len(quotas) > MAX_CATEGORIES:
        raise InvalidCharter(f"quotas name at most {MAX_CATEGORIES} categories")
    checked: dict[str, dict[str, list[int]]] = {}
    for category, values in quotas.items():
        if not isinstance(category, str) or not is_clean_line(category, MAX_NAME):
            raise InvalidCharter("a category's name is one clean line of at most "
                                 f"{MAX_NAME} characters")
        if not isinstance(values, Mapping) or not values or len(values) > MAX_VALUES:
            raise InvalidCharter(f"category {category} has between 1 and {MAX_VALUES} values")
        bounds: dict[str, list[int]] = {}
        for value, pair in values.items():
            if not isinstance(value, str) or not is_clean_line(value, MAX_NAME):
                raise InvalidCharter(f"a value of category {category} is one clean line of "
                                     f"at most {MAX_NAME} characters")
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(_whole(b, size) for b in pair) or pair[0] > pair[1]):
                raise InvalidCharter(f"the quota of {category} = {value} is [min, max] with "
                                     f"0 ≤ min ≤ max ≤ {size}")
            bounds[value] = [int(pair[0]), int(pair[1])]
        if sum(b[0] for b in bounds.values()) > size:
            raise InvalidCharter(f"the minimums of category {category} add up to more than "
                                 f"the {size} members: no panel can meet them")
        if sum(b[1] for b in bounds.values()) < size:
            raise InvalidCharter(f"the maximums of category {category} add up to fewer than "
                                 f"the {size} members: no panel can meet them")
        checked[category] = bounds
    return checked


def convention_kinds(kinds: Mapping[str, Any]) -> dict[str, ConventionRules]:
    """A charter's convention kinds, each checked (defaults filled in)."""
    if not isinstance(kinds, Mapping) or len(kinds) > MAX_KINDS:
        raise InvalidCharter(f"a charter offers at most {MAX_KINDS} convention kinds")
    checked = {}
    for name, rules in kinds.items():
        if not isinstance(name, str) or not is_clean_line(name, MAX_NAME):
            raise InvalidCharter("a convention kind's name is one clean line")
        try:
            checked[name] = ConventionRules.from_dict(rules)
        except TypeError as e:
            raise InvalidCharter(f"convention kind {name}: {e}") from None
        except InvalidCharter as e:
            raise InvalidCharter(f"convention kind {name}: {e.message}") from None
    return checked


def volunteer_refusal(rules: ConventionRules, claims: SignerClaims, communes: Sequence[str],
                      values: Mapping[str, str], day: date) -> tuple[str, str] | None:
    """Why this person may not volunteer (rule id, message), or None: a resident of a member
    commune, of age, giving exactly one known value per category of the quotas (the
    `commune` category is the identity provider's, not declared)."""
    if claims.commune is None:
        return "convention.residence", "the identity token carries no commune of residence"
    if claims.commune not in set(communes):
        return ("convention.residence",
                f"residents of {claims.commune} are not residents of this metropolis")
    if rules.min_age:
        if claims.birthdate is None:
            return "convention.min_age", "the identity token carries no date of birth"
        if age_on(claims.birthdate, day) < rules.min_age:
            return ("convention.min_age",
                    f"volunteers are at least {rules.min_age} years old")
    if COMMUNE in values:
        return ("convention.residence",
                "the commune is the identity provider's, not a declared value")
    expected = set(rules.quotas) - {COMMUNE}
    unknown = sorted(set(values) - expected)
    if unknown:
        return ("convention.category",
                f"not a category of this convention: {', '.join(unknown)}")
    missing = sorted(expected - set(values))
    if missing:
        return "convention.category", f"a value is needed for: {', '.join(missing)}"
    for category, value in values.items():
        if value not in rules.quotas[category]:
            return ("convention.category_value",
                    f"'{value}' is not a value of {category}: "
                    f"{', '.join(sorted(rules.quotas[category]))}")
    return None


def category_values(rules: ConventionRules, claims: SignerClaims,
                    values: Mapping[str, str]) -> dict[str, str]:
    """A volunteer's category values as the pool holds them: the declared ones, with the
    commune from the identity provider when the quotas name it."""
    out = {k: values[k] for k in sorted(values)}
    if COMMUNE in rules.quotas:
        out[COMMUNE] = claims.commune or ""
    return dict(sorted(out.items()))


def invitation_order(entries: Iterable[str], seed: str) -> list[str]:
    """The registry's entries in the order invitations are sent: by SHA-256 of
    `<seed>:<entry>` (hex), ties (impossible in practice) by the entry itself."""
    return sorted(set(entries),
                  key=lambda e: (hashlib.sha256(f"{seed}:{e}".encode()).hexdigest(), e))


def invited(entries: Iterable[str], seed: str, count: int) -> list[str]:
    """The `count` entries invited, in invitation order."""
    return invitation_order(entries, seed)[:count]


def registry_digest(entries: Iterable[str]) -> str:
    """SHA-256 over the sorted, distinct entries, one per line: what the log commits to."""
    return hashlib.sha256("".join(f"{e}\n" for e in sorted(set(entries))).encode()).hexdigest()


def seed_bytes(randomness: str, seed: str) -> bytes:
    """The seed as the draw uses it, whole: the hex of a secret or a beacon value decoded, or
    the digits of public dice as UTF-8. Raises ValueError naming what is wrong."""
    seed = seed.strip()
    if randomness == "dice":
        if not seed or not all(c in "123456" for c in seed) or len(seed) < 20:
            raise ValueError("dice give at least 20 digits, each from 1 to 6")
        return seed.encode()
    try:
        raw = bytes.fromhex(seed)
    except ValueError:
        raise ValueError("the seed is hexadecimal") from None
    if len(raw) < 16:
        raise ValueError("the seed holds at least 16 bytes (32 hex digits)")
    return raw


def secret_commitment(secret_hex: str) -> str:
    """What the guarantor commits before the pool closes: SHA-256 of the secret's bytes."""
    return hashlib.sha256(bytes.fromhex(secret_hex.strip())).hexdigest()


def _whole(value: object, most: int) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most)
