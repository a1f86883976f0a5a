"""Request schemas of the citizens' convention's routes (api/routes/conventions.py), on the
validated text types of api/schemas.py: every text is a `Line`, `Text` or `Code` (no NUL, lone
surrogate or control character, bounded), every number bounded, every unknown field refused
(422 naming it).

The rules a clerk may override are ConventionRules' (domain/rules/convention.py); the domain
checks their coherence (409 `convention.rules`, `convention.quotas`), the schema only their
types and bounds. A registry extract is sent as pseudonyms only (64 hex digits each: the CLI
computes them with the clerk's secret key, api/convention_acts.py), never as addresses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Code, Line, PositiveSeconds, Sha256Hex, Text
from domain.rules.convention import (
    MAX_CATEGORIES,
    MAX_SIZE,
    MAX_VALUES,
    METHODS,
    RANDOMNESS,
)

MAX_REGISTRY_ENTRIES = 100_000
REGISTRY_MAX_BYTES = 8 * 1024 * 1024  # 100 000 pseudonyms of 64 hex digits, quoted
Bound = Annotated[int, Field(ge=0, le=MAX_SIZE)]
Name = Annotated[Line, Field(min_length=1, max_length=80)]
Pair = Annotated[list[Bound], Field(min_length=2, max_length=2, description="[min, max]")]
CategoryQuotas = Annotated[dict[Name, Pair], Field(min_length=1, max_length=MAX_VALUES)]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                                 description="a registry entry's pseudonym: 64 hex digits")]


class ConventionRulesPayload(BaseModel):
    """The rules of the charter's convention kind a convention overrides (the others stay)."""

    model_config = ConfigDict(extra="forbid")

    size: Annotated[int, Field(ge=1, le=MAX_SIZE)] | None = None
    quotas: dict[Name, CategoryQuotas] | None = Field(default=None, max_length=MAX_CATEGORIES)
    method: Literal[METHODS] | None = None  # type: ignore[valid-type]
    randomness: Literal[RANDOMNESS] | None = None  # type: ignore[valid-type]
    invitations: Annotated[int, Field(ge=0, le=MAX_REGISTRY_ENTRIES)] | None = None
    registration_seconds: PositiveSeconds | None = None
    reveal_seconds: PositiveSeconds | None = None
    acceptance_seconds: PositiveSeconds | None = None
    term_seconds: PositiveSeconds | None = None
    sessions: Annotated[int, Field(ge=0, le=1000)] | None = None
    remuneration_per_session: Annotated[int, Field(ge=0, le=100_000)] | None = None
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class OpenConventionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Code = Field(default="convention", min_length=1)
    title: Line = Field(min_length=3)
    mandate: Text = Field(min_length=3)
    rules: ConventionRulesPayload | None = None


class InvitationsRequest(BaseModel):
    """A registry extract as pseudonyms, and the public seed ranking them."""

    model_config = ConfigDict(extra="forbid")

    entries: list[Pseudonym] = Field(min_length=1, max_length=MAX_REGISTRY_ENTRIES)
    seed: Line = Field(min_length=1, max_length=200)


class InvitationsResponse(BaseModel):
    """The entries invited (pseudonyms, in invitation order) and the log position."""

    invited: list[str]
    position: int


class SeedCommitmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: Sha256Hex


class VolunteerRequest(BaseModel):
    """One value per category of the quotas (never the commune: the identity provider's),
    and how to reach the volunteer if drawn (sealed under their key)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[Name, Name] = Field(default_factory=dict, max_length=MAX_CATEGORIES)
    contact: Line = ""


class RevealSeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: Line = Field(min_length=1, max_length=200)


class SeatAnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool


class ConventionSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[int, Field(ge=1, le=1000)]
    summary: Text = Field(min_length=3)


class ConventionProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line = Field(min_length=3)
    summary: Text = Field(min_length=3)
    communes: list[Code] = Field(default_factory=list, max_length=200)


class ConventionCancellationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3)
