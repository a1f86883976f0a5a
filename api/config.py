"""The metropolises' config file (YAML), validated with pydantic at the boundary.

It declares each metropolis, its communes, the members seated on its council and its charter
version 1: stage durations, quorum, majority, and the mayors' veto (window and override
majority; no window, no veto). Durations are ISO 8601 (`P30D`, `PT45S`) or seconds, at most
ten years; every count and list is bounded and every name is clean text (api/schemas.py), as
the domain requires again of any charter (domain/rules/charter.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from api.schemas import Code, Line, SeatKind
from domain.errors import InvalidCharter
from domain.rules.charter import (
    MAX_DECISION_TYPES,
    MAX_DURATION_SECONDS,
    MAX_EVALUATION_STEPS,
    MAX_NAMES,
    MAX_SEATS,
)
from domain.rules.budget_cycle import BudgetRules
from domain.rules.petition import MAX_KINDS
from domain.rules.convention import convention_kinds as checked_convention_kinds
from domain.rules.petition import petition_kinds as checked_petition_kinds

DURATION_FIELDS = ("consultation", "vote", "veto_window", "admissibility", "deliberation",
                   "evaluation_window")


class CommuneConfig(BaseModel):
    code: Code
    name: Line
    population: int = Field(ge=0, le=100_000_000)


class MemberConfig(BaseModel):
    ref: Line = Field(min_length=1, description="pseudonymous reference, the token's subject")
    name: Line
    role: Literal["councillor", "mayor"] = "councillor"
    commune: Code = ""


class CharterConfig(BaseModel):
    """One charter version as people write it (ISO 8601 durations): in the metropolises' file,
    or in the file a charter amendment proposes (`registre proposal submit --charter-amendment`).
    """

    model_config = ConfigDict(extra="forbid")

    consultation: timedelta
    vote: timedelta
    quorum_percent: int = Field(ge=0, le=100)
    majority: Literal["simple", "absolute", "two_thirds_of_members"] = "simple"
    veto_window: timedelta = timedelta(0)
    veto_role: Literal["mayor", "councillor"] = "mayor"
    veto_override_majority: Literal["simple", "absolute", "two_thirds_of_members"] = (
        "two_thirds_of_members")
    veto_territories: list[Code] = Field(
        default_factory=list, max_length=MAX_NAMES,
        description="communes whose mayor holds the veto; empty: all")
    decision_majorities: dict[Line, Literal["simple", "absolute", "two_thirds_of_members"]] = (
        Field(default_factory=dict, max_length=MAX_DECISION_TYPES,
              description="further decision types and their majority"))
    charter_amendment_majority: Literal["simple", "absolute", "two_thirds_of_members"] = (
        "two_thirds_of_members")

    admissibility: timedelta = timedelta(0)
    deliberation: timedelta = timedelta(0)
    petition_threshold_percent: float = Field(default=1.0, gt=0, le=100, allow_inf_nan=False)
    bureau: dict[SeatKind, Annotated[int, Field(ge=0, le=MAX_SEATS)]] = Field(
        default_factory=dict)
    competences: list[Line] = Field(default_factory=list, max_length=MAX_NAMES,
                                    description="the metropolis' competences (admissibility)")
    evaluations: list[timedelta] = Field(default_factory=list, max_length=MAX_EVALUATION_STEPS,
                                         description="after adoption, e.g. [P182D, P365D]")
    evaluation_window: timedelta = timedelta(days=30)
    petition_kinds: dict[Line, dict[str, Any]] = Field(
        default_factory=dict, max_length=MAX_KINDS,
        description="the kinds of petition citizens may open, each with its rules as "
                    "domain/rules/petition.py PetitionKind names them (durations in seconds); "
                    "empty: `interpellation` at petition_threshold_percent of the residents")

    budget: dict[Line, Any] = Field(
        default_factory=dict, max_length=20,
        description="the participatory budget's default rules as domain/rules/budget_cycle.py "
                    "BudgetRules names them (durations in seconds or ISO 8601, `P30D`)")
    convention_kinds: dict[Line, dict[str, Any]] = Field(
        default_factory=dict, max_length=20,
        description="the kinds of citizens' convention drawn by lot, each with its rules as "
                    "domain/rules/convention.py ConventionRules names them (durations in "
                    "seconds or ISO 8601); empty: `convention` with the defaults")

    @field_validator("consultation", "vote")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v.total_seconds() < 1:
            raise ValueError("a stage lasts at least one second")
        return v

    @field_validator("petition_kinds")
    @classmethod
    def _petition_kinds(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        kinds = {name: {field: _iso_seconds(field, value) for field, value in kind.items()}
                 if isinstance(kind, dict) else kind for name, kind in v.items()}
        try:  # the domain's own checks, at the boundary: a misspelt field names itself
            return {name: kind.as_dict() for name, kind in checked_petition_kinds(kinds).items()}
        except InvalidCharter as e:
            raise ValueError(str(e)) from None

    @field_validator("budget")
    @classmethod
    def _budget(cls, v: dict[str, Any]) -> dict[str, Any]:
        rules = {field: _iso_seconds(field, value) for field, value in v.items()}
        try:  # the domain's own checks, at the boundary: a misspelt field names itself
            return BudgetRules.from_dict(rules).as_dict()
        except InvalidCharter as e:
            raise ValueError(str(e)) from None

    @field_validator("convention_kinds")
    @classmethod
    def _convention_kinds(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        kinds = {name: {field: _iso_seconds(field, value) for field, value in kind.items()}
                 if isinstance(kind, dict) else kind for name, kind in v.items()}
        try:  # the domain's own checks, at the boundary: a misspelt field names itself
            return {name: k.as_dict() for name, k in checked_convention_kinds(kinds).items()}
        except InvalidCharter as e:
            raise ValueError(str(e)) from None

    @field_validator(*DURATION_FIELDS, "evaluations")
    @classmethod
    def _at_most_ten_years(cls, v: Any) -> Any:
        for t in v if isinstance(v, list) else [v]:
            if t is not None and not 0 <= t.total_seconds() <= MAX_DURATION_SECONDS:
                raise ValueError(f"a duration lies between 0 and {MAX_DURATION_SECONDS} "
                                 "seconds (ten years)")
        return v

    def as_rules(self) -> dict[str, Any]:
        """The domain's `CharterRules` fields (durations in seconds)."""
        return self._rules_of(type(self).model_fields)

    def _rules_of(self, names: Iterable[str]) -> dict[str, Any]:
        rules = {}
        for name in names:
            key, convert = RULE_OF[name]
            rules[key] = convert(getattr(self, name))
        return rules


def _seconds(t: timedelta) -> int:
    return int(t.total_seconds())


_DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)


def _iso_seconds(field: str, value: Any) -> Any:
    """A petition kind's `*_seconds` written as an ISO 8601 duration (`P90D`), in seconds."""
    if field.endswith("_seconds") and isinstance(value, str):
        return _seconds(_DURATION.validate_python(value))
    return value


# Each charter field as written here → the domain rule it sets, and how.
RULE_OF: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "consultation": ("consultation_seconds", _seconds),
    "vote": ("vote_seconds", _seconds),
    "quorum_percent": ("quorum_percent", lambda v: v),
    "majority": ("majority", lambda v: v),
    "veto_window": ("veto_window_seconds", _seconds),
    "veto_role": ("veto_role", lambda v: v),
    "veto_override_majority": ("veto_override_majority", lambda v: v),
    "veto_territories": ("veto_territories", list),
    "decision_majorities": ("decision_majorities", dict),
    "charter_amendment_majority": ("charter_amendment_majority", lambda v: v),
    "admissibility": ("admissibility_seconds", _seconds),
    "deliberation": ("deliberation_seconds", _seconds),
    "petition_threshold_percent": ("petition_threshold_percent", lambda v: v),
    "bureau": ("bureau_seats", dict),
    "competences": ("competences", list),
    "evaluations": ("evaluation_after_seconds", lambda ts: [_seconds(t) for t in ts]),
    "evaluation_window": ("evaluation_window_seconds", _seconds),
    "petition_kinds": ("petition_kinds", dict),
    "budget": ("budget", dict),
    "convention_kinds": ("convention_kinds", dict),
}


class CharterChanges(CharterConfig):
    """The rules a charter amendment changes, written as in the metropolises' file; the rules
    left out stay as they are in the version in force."""

    consultation: timedelta | None = None  # type: ignore[assignment]
    vote: timedelta | None = None  # type: ignore[assignment]
    quorum_percent: int | None = Field(default=None, ge=0, le=100)  # type: ignore[assignment]

    @field_validator("consultation", "vote")
    @classmethod
    def _positive(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and v.total_seconds() < 1:
            raise ValueError("a stage lasts at least one second")
        return v

    def as_changes(self) -> dict[str, Any]:
        """Only the rules written in the file."""
        return self._rules_of(self.model_fields_set)


class MetropolisConfig(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    communes: list[CommuneConfig]
    council: list[MemberConfig] = Field(min_length=1)
    charter: CharterConfig

    @model_validator(mode="after")
    def _territories_are_communes(self) -> MetropolisConfig:
        codes = {c.code for c in self.communes}
        unknown = [c for c in self.charter.veto_territories if c not in codes]
        if unknown:
            raise ValueError(f"veto_territories names communes not in {self.slug}: "
                             f"{', '.join(unknown)}")
        return self


class MetropolisesConfig(BaseModel):
    metropolises: list[MetropolisConfig]

    @classmethod
    def from_file(cls, path: Path) -> MetropolisesConfig:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def as_domain(self) -> list[dict[str, Any]]:
        return [
            {
                "slug": m.slug,
                "name": m.name,
                "communes": [c.model_dump() for c in m.communes],
                "members": [c.model_dump() for c in m.council],
                "charter": m.charter.as_rules(),
            }
            for m in self.metropolises
        ]
