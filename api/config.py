"""The metropolises' config file (YAML), validated with pydantic at the boundary.

It declares each metropolis, its communes, the members seated on its council and its charter
version 1: stage durations, quorum, majority, and the mayors' veto (window and override
majority; no window, no veto). Durations are ISO 8601 (`P30D`, `PT45S`) or seconds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator


class CommuneConfig(BaseModel):
    code: str
    name: str
    population: int = Field(ge=0)


class MemberConfig(BaseModel):
    ref: str = Field(min_length=1, description="pseudonymous reference, the token's subject")
    name: str
    role: Literal["councillor", "mayor"] = "councillor"
    commune: str = ""


class CharterConfig(BaseModel):
    consultation: timedelta
    vote: timedelta
    quorum_percent: int = Field(ge=0, le=100)
    majority: Literal["simple", "absolute", "two_thirds_of_members"] = "simple"
    veto_window: timedelta = timedelta(0)
    veto_role: Literal["mayor", "councillor"] = "mayor"
    veto_override_majority: Literal["simple", "absolute", "two_thirds_of_members"] = (
        "two_thirds_of_members")
    veto_territories: list[str] = Field(
        default_factory=list, description="communes whose mayor holds the veto; empty: all")
    decision_majorities: dict[str, Literal["simple", "absolute", "two_thirds_of_members"]] = (
        Field(default_factory=dict, description="further decision types and their majority"))
    charter_amendment_majority: Literal["simple", "absolute", "two_thirds_of_members"] = (
        "two_thirds_of_members")

    admissibility: timedelta = timedelta(0)
    deliberation: timedelta = timedelta(0)
    petition_threshold_percent: float = Field(default=1.0, gt=0, le=100)
    bureau: dict[Literal["maires_majoritaires", "vice_presidents_minoritaires",
                         "citoyens_tires_au_sort"], int] = Field(default_factory=dict)
    competences: list[str] = Field(default_factory=list,
                                   description="the metropolis' competences (admissibility)")
    evaluations: list[timedelta] = Field(default_factory=list,
                                         description="after adoption, e.g. [P182D, P365D]")
    evaluation_window: timedelta = timedelta(days=30)

    @field_validator("consultation", "vote")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v.total_seconds() < 1:
            raise ValueError("a stage lasts at least one second")
        return v


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
                "charter": {
                    "consultation_seconds": int(m.charter.consultation.total_seconds()),
                    "vote_seconds": int(m.charter.vote.total_seconds()),
                    "quorum_percent": m.charter.quorum_percent,
                    "majority": m.charter.majority,
                    "veto_window_seconds": int(m.charter.veto_window.total_seconds()),
                    "veto_override_majority": m.charter.veto_override_majority,
                    "veto_role": m.charter.veto_role,
                    "veto_territories": m.charter.veto_territories,
                    "decision_majorities": dict(m.charter.decision_majorities),
                    "charter_amendment_majority": m.charter.charter_amendment_majority,
                    "evaluation_after_seconds": [int(t.total_seconds())
                                                 for t in m.charter.evaluations],
                    "evaluation_window_seconds": int(
                        m.charter.evaluation_window.total_seconds()),
                    "admissibility_seconds": int(m.charter.admissibility.total_seconds()),
                    "deliberation_seconds": int(m.charter.deliberation.total_seconds()),
                    "bureau_seats": dict(m.charter.bureau),
                    "petition_threshold_percent": m.charter.petition_threshold_percent,
                    "competences": m.charter.competences,
                },
            }
            for m in self.metropolises
        ]
