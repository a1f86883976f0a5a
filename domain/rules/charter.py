"""The charter's rules of one version, as data a process pins at its start (D7).

Standard library only (no eventsourcing), so an outside verifier recounting ballots from an
export applies exactly the code the ledger applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from domain.errors import InvalidCharter
from domain.rules.budget_cycle import BudgetRules
from domain.rules.convention import DEFAULT_KIND, ConventionRules, convention_kinds
from domain.rules.petition import PetitionKind, default_kind, petition_kinds
from domain.rules.text import is_clean_line

CHOICES = ("for", "against", "abstain")
MAJORITIES = ("simple", "absolute", "two_thirds_of_members")
ORDINARY = "ordinary"
CHARTER_AMENDMENT = "charter_amendment"
RESERVED_DECISION_TYPES = (ORDINARY, CHARTER_AMENDMENT)
VETO_ROLES = ("mayor", "councillor")

# Bounds of every number and list a charter holds: a stage of more than ten years, or a
# timer past the calendar's end, would leave every later process stuck (D13).
MAX_DURATION_SECONDS = 10 * 366 * 86400
MAX_SEATS = 1_000
MAX_NAMES = 500  # competences, veto territories
MAX_DECISION_TYPES = 50
MAX_EVALUATION_STEPS = 20
MAX_NAME_LENGTH = 200
DURATIONS = ("consultation_seconds", "vote_seconds", "veto_window_seconds",
             "evaluation_window_seconds", "admissibility_seconds", "deliberation_seconds")


@dataclass(frozen=True)
class CharterRules:
    """The rules of one charter version that the deliberation applies.

    - `consultation_seconds`: length of the public consultation (rule `stage.consultation`).
    - `vote_seconds`: how long the council's roll-call ballot stays open (rule `stage.vote`).
    - `quorum_percent`: share of seated council members who must take part in the ballot,
      abstentions included (rule `quorum`).
    - `majority`: `simple` (more for than against), `absolute` (more than half of those taking
      part) or `two_thirds_of_members` (at least two thirds of the seated members)
      (rule `majority.<kind>`).
    - `admissibility_seconds`: how long a clerk has to rule a proposal admissible (within
      the metropolis' `competences`) or inadmissible with a reason (rule
      `admissibility.competences`); silence at the deadline makes it admissible. 0: no review.
    - `veto_window_seconds`: after an adoption, how long a mayor of a concerned commune may
      file a reasoned veto (rule `veto.window`); 0 means the charter grants no veto.
    - `veto_role`: the council role that holds the veto for its commune (rule `veto.right`).
    - `veto_territories`: the communes (INSEE codes) whose holder of the veto role may veto a
      proposal concerning them (rule `veto.territory`); empty means every member commune.
    - `veto_override_majority`: the majority by which the council overrides a veto before the
      window ends (rule `veto.override`).
    - `petition_threshold_percent`: the share of registered residents whose signatures oblige
      the council to answer a petition of the default kind `interpellation`, offered when
      `petition_kinds` is empty.
    - `petition_kinds`: the kinds of petition (right of interpellation) citizens may open,
      each with its threshold, sponsors, periods, signers and obligation
      (`domain/rules/petition.py` PetitionKind).
    - `budget`: the participatory budget's default rules (ballot kind and limits, tally rule,
      tie-break, stage durations; `domain/rules/budget_cycle.py` BudgetRules); a cycle is
      opened with these, or with the overrides its clerk gives, fixed in its first event.
    - `convention_kinds`: the kinds of citizens' convention drawn by lot (the convention, the
      bureau's citizen seats, evaluation panels…), each with its size, quotas, algorithm,
      randomness source and periods (`domain/rules/convention.py` ConventionRules); none
      given, the kind `convention` with the defaults is offered.
    - `bureau_seats`: the collegial bureau's composition, seats per kind
      (`maires_majoritaires`, `vice_presidents_minoritaires`, `citoyens_tires_au_sort`).
    - `deliberation_seconds`: after the consultation, how long councillors may table
      amendments and vote on each (rule `stage.deliberation`; each amendment is decided by the
      quorum and a simple majority, rule `amendment.majority`); 0 means no deliberation stage.
    - `charter_amendment_majority`: the qualified majority a proposal amending the charter
      needs (rule `majority.charter_amendment`).
    - `decision_majorities`: the majority each further decision type needs (e.g.
      `budget: absolute`); a proposal declares its type at submission (rule
      `decision.<type>`); the type `ordinary` uses `majority`.
    - `evaluation_after_seconds`: when, after the final adoption, the citizens' evaluation
      steps open (e.g. 6 and 12 months; rule `evaluation.schedule`); none, no evaluation.
    - `evaluation_window_seconds`: how long the last evaluation step stays open before the
      process closes.
    Fields added after version 1 have defaults, so rules stored before them still load.
    Every duration is at most `MAX_DURATION_SECONDS`, every count and list is bounded, and
    every name (competence, commune, decision type, seat kind) is one clean line of text
    (`domain/rules/text.py`): an invalid charter raises `InvalidCharter`, so none is stored.
    """

    consultation_seconds: int
    vote_seconds: int
    quorum_percent: int
    majority: str = "simple"
    veto_window_seconds: int = 0
    veto_override_majority: str = "two_thirds_of_members"
    veto_role: str = "mayor"
    evaluation_after_seconds: tuple[int, ...] = ()
    evaluation_window_seconds: int = 30 * 86400
    admissibility_seconds: int = 0
    competences: tuple[str, ...] = ()
    charter_amendment_majority: str = "two_thirds_of_members"
    deliberation_seconds: int = 0
    bureau_seats: dict[str, int] = field(default_factory=dict)
    petition_threshold_percent: float = 1.0
    veto_territories: tuple[str, ...] = ()
    decision_majorities: dict[str, str] = field(default_factory=dict)
    petition_kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    convention_kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Each convention kind checked (and its defaults filled in) as it is stored.
        object.__setattr__(self, "convention_kinds", {
            name: kind.as_dict() for name, kind in convention_kinds(self.convention_kinds).items()})
        # The budget rules checked (and their defaults filled in) as they are stored.
        object.__setattr__(self, "budget", BudgetRules.from_dict(self.budget).as_dict())
        # Each kind checked (and its defaults filled in) as it is stored.
        object.__setattr__(self, "petition_kinds", {
            name: kind.as_dict() for name, kind in petition_kinds(self.petition_kinds).items()})
        object.__setattr__(self, "veto_territories", tuple(self.veto_territories))
        self._check_bounds()
        for kind, majority in self.decision_majorities.items():
            if kind in RESERVED_DECISION_TYPES or not kind.strip():
                raise InvalidCharter(f"'{kind}' cannot name a further decision type")
            if majority not in MAJORITIES:
                raise InvalidCharter(f"the majority of decision type '{kind}' must be one of "
                                     f"{', '.join(MAJORITIES)}")
        steps = tuple(int(s) for s in self.evaluation_after_seconds)
        object.__setattr__(self, "evaluation_after_seconds", steps)
        object.__setattr__(self, "competences", tuple(self.competences))
        if not 0 < self.petition_threshold_percent <= 100:
            raise InvalidCharter("the petition threshold is a share of residents, in (0, 100]")
        if any(s <= 0 for s in steps) or list(steps) != sorted(set(steps)):
            raise InvalidCharter("evaluation steps must be positive and increasing")
        if self.evaluation_window_seconds <= 0:
            raise InvalidCharter("the evaluation window must be positive")
        if self.consultation_seconds <= 0 or self.vote_seconds <= 0:
            raise InvalidCharter("stage durations must be positive")
        if self.charter_amendment_majority not in MAJORITIES:
            raise InvalidCharter(
                f"charter_amendment_majority must be one of {', '.join(MAJORITIES)}")
        if self.veto_override_majority not in MAJORITIES:
            raise InvalidCharter(
                f"veto_override_majority must be one of {', '.join(MAJORITIES)}")
        if self.majority not in MAJORITIES:
            raise InvalidCharter(f"majority must be one of {', '.join(MAJORITIES)}")

    def _check_bounds(self) -> None:
        for name in DURATIONS:
            if not _is_number_within(getattr(self, name), MAX_DURATION_SECONDS):
                raise InvalidCharter(f"{name} must be a number of seconds between 0 and "
                                     f"{MAX_DURATION_SECONDS} (ten years)")
        if not _is_number_within(self.quorum_percent, 100):
            raise InvalidCharter("quorum_percent must lie between 0 and 100")
        if not _is_number_within(self.petition_threshold_percent, 100):
            raise InvalidCharter("the petition threshold is a share of residents, in (0, 100]")
        if self.veto_role not in VETO_ROLES:
            raise InvalidCharter(f"veto_role must be one of {', '.join(VETO_ROLES)}")
        steps = self.evaluation_after_seconds
        if (not isinstance(steps, (list, tuple)) or len(steps) > MAX_EVALUATION_STEPS
                or not all(_is_number_within(s, MAX_DURATION_SECONDS) for s in steps)):
            raise InvalidCharter(f"at most {MAX_EVALUATION_STEPS} evaluation steps, each within "
                                 f"{MAX_DURATION_SECONDS} seconds of the adoption")
        for name, names, most in (("competences", self.competences, MAX_NAMES),
                                  ("veto_territories", self.veto_territories, MAX_NAMES),
                                  ("decision_majorities", self.decision_majorities,
                                   MAX_DECISION_TYPES),
                                  ("bureau_seats", self.bureau_seats, MAX_DECISION_TYPES)):
            if len(names) > most or not all(is_clean_line(n, MAX_NAME_LENGTH) for n in names):
                raise InvalidCharter(f"{name} holds at most {most} names, each one line of at "
                                     f"most {MAX_NAME_LENGTH} characters without control "
                                     "characters")
        if not all(_is_number_within(n, MAX_SEATS) for n in self.bureau_seats.values()):
            raise InvalidCharter(f"a bureau has between 0 and {MAX_SEATS} seats of each kind")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evaluation_after_seconds"] = list(self.evaluation_after_seconds)
        data["competences"] = list(self.competences)
        data["veto_territories"] = list(self.veto_territories)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CharterRules:
        return cls(**data)

    def for_charter_amendment(self) -> CharterRules:
        """The rules a proposal amending the charter is decided by: its qualified majority."""
        return replace(self, majority=self.charter_amendment_majority)

    def quorum_met(self, participants: int, members: int) -> bool:
        """Whether `participants` of `members` seated members meet the quorum (rule `quorum`)."""
        return members > 0 and participants * 100 >= self.quorum_percent * members

    def offered_petition_kinds(self) -> dict[str, PetitionKind]:
        """The petition kinds this version offers (the default `interpellation` if none)."""
        if not self.petition_kinds:
            return {"interpellation": default_kind(self.petition_threshold_percent)}
        return {name: PetitionKind.from_dict(k) for name, k in self.petition_kinds.items()}

    def budget_rules(self) -> BudgetRules:
        """The participatory budget's rules this version gives a new cycle."""
        return BudgetRules.from_dict(self.budget)

    def offered_convention_kinds(self) -> dict[str, ConventionRules]:
        """The convention kinds this version offers (the default `convention` if none)."""
        if not self.convention_kinds:
            return {DEFAULT_KIND: ConventionRules()}
        return {name: ConventionRules.from_dict(k) for name, k in self.convention_kinds.items()}

    @property
    def decision_types(self) -> tuple[str, ...]:
        """The decision types a proposal may declare under this charter version."""
        return (ORDINARY, *self.decision_majorities)

    def grants_veto_to(self, commune: str) -> bool:
        """Whether the holder of the veto role for `commune` has a veto (rule `veto.territory`)."""
        return self.veto_window_seconds > 0 and (
            not self.veto_territories or commune in self.veto_territories)

    def for_amendment(self) -> CharterRules:
        """An amendment to a proposal is decided by the quorum and a simple majority."""
        return replace(self, majority="simple")

    def for_override(self) -> CharterRules:
        """The rules an override ballot is decided by: same quorum, the override majority."""
        return CharterRules(self.consultation_seconds, self.vote_seconds, self.quorum_percent,
                            self.veto_override_majority)


def _is_number_within(value: object, most: float) -> bool:
    """A number (not a boolean, not NaN) between 0 and `most`."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= most)
