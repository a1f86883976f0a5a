"""The right of interpellation's rules: petition kinds, thresholds, who may sign, per-signer
limits, the count of signatures and the position where a threshold was crossed.

Standard library only: the service (the relay's counters, the public counts view, the
commands) and `registre audit verify` apply these very functions, so a guarantor recounts
every petition from an export alone.

Reference rules the kinds can express (docs in the README's petitions section):
- CGCT L1112-16 (2022): for an EPCI, 1/20 of the electors (`threshold_percent: 5`,
  `basis: electors`; 1/10 for a commune: `scope: commune`, `threshold_percent: 10`); an
  elector signs at most one such request per authority and period (`signer_limit: 1`,
  `signer_limit_period: quarter`); the council rules on admissibility by a reasoned decision.
- Montréal's right of initiative: 25 sponsors, 90 days, 15,000 signatures
  (`threshold_absolute: 15000`), then a public consultation with its report within 90 days
  (`obligation: consultation`).
- UK Parliament: 10,000 signatures oblige a response (`obligation: answer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from domain.errors import InvalidCharter
from domain.rules.text import is_clean_line

BASES = ("population", "electors", "absolute")
SCOPES = ("metropolis", "commune")
SIGNERS = ("resident", "elector")
OBLIGATIONS = ("answer", "agenda", "consultation")
LIMIT_PERIODS = ("month", "quarter", "year")
MAX_SECONDS = 10 * 366 * 86400
MAX_COUNT = 100_000_000
MAX_KINDS = 20

# What a signature event says of how it was given.
ONLINE = "online"
PAPER = "paper"
CHANNELS = (ONLINE, PAPER)


@dataclass(frozen=True)
class PetitionKind:
    """One kind of petition a charter version offers (rule ids `petition.<field>`).

    - `threshold_percent` of the `basis` (`population`: the registered residents of the
      scope; `electors`: its registered electors, as last recorded by a clerk), or
      `threshold_absolute` signatures when `basis` is `absolute` (rule `petition.threshold`);
      the threshold is fixed, in signatures, when the collection opens.
    - `scope`: `metropolis` (any resident of a member commune may sign) or `commune` (the
      petition names one commune; only its residents sign; its figure is the basis).
    - `sponsors`: how many citizens (the author included) must sponsor the petition before it
      goes to the admissibility review (rule `petition.sponsors`), within `sponsor_seconds`.
    - `admissibility_seconds`: how long a clerk has to rule the petition admissible (within
      the metropolis' competences) or not, with reasons; silence makes it admissible
      (rule `petition.admissibility`).
    - `signature_seconds`: how long signatures are collected (rule `petition.period`).
    - `signers`: `resident` or `elector` (rule `petition.signers`); `min_age` in years
      (rule `petition.min_age`).
    - `signer_limit`: at most that many petitions of this kind signed per signer and
      `signer_limit_period` (calendar month, quarter or year, UTC) in the same authority
      (rule `petition.signer_limit`); 0: no limit beyond one signature per petition.
    - `obligation` once the threshold is reached: `answer` (a reasoned answer by the council),
      `agenda` (a proposal put on the council's agenda, entering the deliberation in the
      signers' name) or `consultation` (a public consultation run under the guarantor, closed
      by its report), due within `obligation_seconds` (rule `petition.obligation`).
    """

    threshold_percent: float = 0.0
    threshold_absolute: int = 0
    basis: str = "population"
    scope: str = "metropolis"
    sponsors: int = 1
    sponsor_seconds: int = 30 * 86400
    admissibility_seconds: int = 14 * 86400
    signature_seconds: int = 90 * 86400
    signers: str = "resident"
    min_age: int = 16
    signer_limit: int = 0
    signer_limit_period: str = "quarter"
    obligation: str = "answer"
    obligation_seconds: int = 60 * 86400

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise InvalidCharter(f"a petition kind's basis is one of {', '.join(BASES)}")
        if self.scope not in SCOPES:
            raise InvalidCharter(f"a petition kind's scope is one of {', '.join(SCOPES)}")
        if self.signers not in SIGNERS:
            raise InvalidCharter(f"a petition kind's signers are {' or '.join(SIGNERS)}")
        if self.obligation not in OBLIGATIONS:
            raise InvalidCharter(f"a petition kind's obligation is one of "
                                 f"{', '.join(OBLIGATIONS)}")
        if self.signer_limit_period not in LIMIT_PERIODS:
            raise InvalidCharter(f"signer_limit_period is one of {', '.join(LIMIT_PERIODS)}")
        for name in ("sponsor_seconds", "admissibility_seconds", "signature_seconds",
                     "obligation_seconds"):
            if not _whole(getattr(self, name), MAX_SECONDS):
                raise InvalidCharter(f"{name} is a whole number of seconds within ten years")
        if self.signature_seconds <= 0 or self.obligation_seconds <= 0:
            raise InvalidCharter("a petition's signature period and obligation must last")
        for name, most in (("threshold_absolute", MAX_COUNT), ("sponsors", 10_000),
                           ("min_age", 120), ("signer_limit", 1000)):
            if not _whole(getattr(self, name), most):
                raise InvalidCharter(f"{name} is a whole number between 0 and {most}")
        if self.sponsors < 1:
            raise InvalidCharter("a petition needs at least one sponsor, its author")
        percent = self.threshold_percent
        if isinstance(percent, bool) or not isinstance(percent, (int, float)):
            raise InvalidCharter("threshold_percent is a number")
        if self.basis == "absolute":
            if self.threshold_absolute < 1:
                raise InvalidCharter("an absolute threshold is at least one signature")
        elif not 0 < percent <= 100:
            raise InvalidCharter("threshold_percent is a share in (0, 100]")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PetitionKind:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidCharter(f"unknown petition kind fields: {', '.join(sorted(unknown))}")
        return cls(**data)

    def threshold(self, figure: int) -> int:
        """Signatures needed, given the basis' figure (residents or electors of the scope):
        the smallest whole number at least `threshold_percent` % of it (exact arithmetic)."""
        if self.basis == "absolute":
            return self.threshold_absolute
        share = Fraction(str(self.threshold_percent)) / 100 * figure
        return max(1, -(-share.numerator // share.denominator))


def petition_kinds(data: Mapping[str, Any]) -> dict[str, PetitionKind]:
    """A charter's petition kinds, checked (names are clean lines; at most MAX_KINDS)."""
    if not isinstance(data, Mapping) or len(data) > MAX_KINDS:
        raise InvalidCharter(f"petition_kinds maps at most {MAX_KINDS} names to kinds")
    kinds = {}
    for name, kind in data.items():
        if not is_clean_line(name, 100) or not name.strip():
            raise InvalidCharter("a petition kind's name is one line of at most 100 characters")
        if not isinstance(kind, Mapping):
            raise InvalidCharter(f"petition kind '{name}' must be a mapping of its rules")
        kinds[name] = PetitionKind.from_dict(kind)
    return kinds


def default_kind(threshold_percent: float) -> PetitionKind:
    """The kind a charter without `petition_kinds` offers, under the name `interpellation`:
    its `petition_threshold_percent` of the residents, a reasoned answer within 60 days."""
    return PetitionKind(threshold_percent=threshold_percent)


# -- who may sign --------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerClaims:
    """What the identity provider vouches for (never self-declared): the commune of residence,
    whether the person is a registered elector there, the date of birth."""

    commune: str | None
    elector: bool = False
    birthdate: date | None = None


def age_on(birthdate: date, day: date) -> int:
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))


def refusal_to_sign(kind: PetitionKind, claims: SignerClaims, communes: Iterable[str],
                    petition_commune: str | None, day: date) -> tuple[str, str] | None:
    """Why this person may not sign a petition of `kind` (rule id, message), or None.
    `communes`: the metropolis' member communes."""
    if claims.commune is None:
        return "petition.residence", "the identity token carries no commune of residence"
    if claims.commune not in set(communes):
        return ("petition.residence",
                f"residents of {claims.commune} are not residents of this metropolis")
    if kind.scope == "commune" and claims.commune != petition_commune:
        return ("petition.residence",
                f"this petition is for the residents of {petition_commune}")
    if kind.signers == "elector" and not claims.elector:
        return "petition.signers", "this kind of petition is signed by registered electors"
    if kind.min_age:
        if claims.birthdate is None:
            return "petition.min_age", "the identity token carries no date of birth"
        if age_on(claims.birthdate, day) < kind.min_age:
            return "petition.min_age", f"signers must be at least {kind.min_age} years old"
    return None


def limit_period(kind: PetitionKind, at: datetime) -> str:
    """The calendar period (UTC) a signature given `at` counts against: `2026`, `2026-Q4`,
    `2026-12`."""
    if kind.signer_limit_period == "year":
        return f"{at.year}"
    if kind.signer_limit_period == "quarter":
        return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
    return f"{at.year}-{at.month:02d}"


# -- counting ------------------------------------------------------------------------------


@dataclass
class SignatureCount:
    """The running count of one petition's signatures, event by event in log order.

    Each signer counts once (the store refuses a second signature; a withdrawn one may be
    given again); only signatures stored after the collection opened and up to its close are
    counted; `crossed_at` is the log position of the signature that first brought the count
    to the threshold (it stays crossed even if withdrawals follow, which the commands refuse
    once the threshold is recorded).
    """

    threshold: int
    opened_at: int  # log position of the collection's opening
    closed_at: int | None = None
    count: int = 0
    crossed_at: int | None = None
    by_commune: dict[str, int] | None = None
    late: int = 0  # signatures stored after the close: never counted (compliance)

    def __post_init__(self) -> None:
        if self.by_commune is None:
            self.by_commune = {}
        self._signers: set[str] = set()

    def counts(self, position: int) -> bool:
        return position > self.opened_at and (self.closed_at is None
                                              or position <= self.closed_at)

    def signed(self, position: int, signer_ref: str, commune: str) -> bool:
        """A signature stored at `position`; True when it crossed the threshold."""
        if not self.counts(position):
            if self.closed_at is not None and position > self.closed_at:
                self.late += 1
            return False
        if signer_ref in self._signers:  # cannot happen in a sound log: never twice
            return False
        self._signers.add(signer_ref)
        self.count += 1
        assert self.by_commune is not None
        self.by_commune[commune] = self.by_commune.get(commune, 0) + 1
        if self.crossed_at is None and self.count >= self.threshold:
            self.crossed_at = position
            return True
        return False

    def withdrawn(self, position: int, signer_ref: str, commune: str) -> None:
        if not self.counts(position) or signer_ref not in self._signers:
            return
        self._signers.discard(signer_ref)
        self.count -= 1
        assert self.by_commune is not None
        self.by_commune[commune] = self.by_commune.get(commune, 0) - 1


def obligation_due(kind: PetitionKind, reached_at: datetime) -> datetime:
    """When the obligation opened by a threshold reached at `reached_at` falls due."""
    return reached_at + timedelta(seconds=kind.obligation_seconds)


def _whole(value: object, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most
