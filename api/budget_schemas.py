"""Request and response schemas of the participatory budget's routes (api/routes/budgets.py,
api/routes/ballots.py), on the validated text types of api/schemas.py: every text a request
carries is a `Line`, `Text` or `Code` (no NUL, lone surrogate or control character, bounded),
every number bounded, every unknown field refused (422 naming it).

The cycle's rules a clerk may override are BudgetRules' (domain/rules/budget_cycle.py); the
domain checks their coherence (409 `budget.rules`), the schema only their types and bounds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import Code, Line, PositiveSeconds, ShownDetails, Text
from domain.budget.project import MILESTONE_STATUSES
from domain.rules.budget_cycle import (
    BALLOTS,
    MAX_BUDGET,
    MAX_DISTRICTS,
    MAX_PROJECTS_ON_BALLOT,
    TALLY_RULES,
    TIE_BREAKS,
)

Budget = Annotated[int, Field(ge=1, le=MAX_BUDGET, description="whole currency units")]
Points = Annotated[int, Field(ge=0, le=10_000)]
Count = Annotated[int, Field(ge=0, le=MAX_PROJECTS_ON_BALLOT)]
District = Annotated[Code, Field(min_length=1, description="`metropolis` or a member "
                                                           "commune's INSEE code")]


class BudgetRulesPayload(BaseModel):
    """The rules of the charter's `budget` section a cycle overrides (the others stay)."""

    model_config = ConfigDict(extra="forbid")

    ballot: Literal[BALLOTS] | None = None  # type: ignore[valid-type]
    min_approvals: Count | None = None
    max_approvals: Count | None = None
    points: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_points_per_project: Points | None = None
    rule: Literal[TALLY_RULES] | None = None  # type: ignore[valid-type]
    tie_break: Literal[TIE_BREAKS] | None = None  # type: ignore[valid-type]
    replace_ballot: bool | None = None
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None
    submission_seconds: PositiveSeconds | None = None
    review_seconds: PositiveSeconds | None = None
    voting_seconds: PositiveSeconds | None = None
    max_projects_per_author: Annotated[int, Field(ge=0, le=1000)] | None = None

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class OpenBudgetCycleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line = Field(min_length=3)
    districts: dict[District, Budget] = Field(min_length=1, max_length=MAX_DISTRICTS)
    rules: BudgetRulesPayload | None = None


class CreatedResponse(BaseModel):
    """A new record: its id and the log position of its first event."""

    id: UUID
    position: int


class SubmitBudgetProjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district: District
    title: Line = Field(min_length=3)
    summary: Text = Field(min_length=3)
    cost: Budget
    competence: Line | None = None


class RuleBudgetProjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    eligible: bool
    reason: Text = ""


class BudgetAppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=3)


class BudgetAppealDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upheld: bool
    reason: Text = Field(min_length=3)


class BudgetMilestoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal[MILESTONE_STATUSES]  # type: ignore[valid-type]
    note: Text = ""


class BudgetCancellationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3)


class BallotChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: UUID
    points: Points = 1


class CastBallotRequest(BaseModel):
    """A ballot: `projects` (the ids ticked, approval and knapsack ballots) or `choices`
    (project and points, any ballot; cumulative ballots give points), not both."""

    model_config = ConfigDict(extra="forbid")

    district: District
    projects: list[UUID] | None = Field(default=None, max_length=MAX_PROJECTS_ON_BALLOT)
    choices: list[BallotChoice] | None = Field(default=None, max_length=MAX_PROJECTS_ON_BALLOT)

    @model_validator(mode="after")
    def _one_form(self) -> CastBallotRequest:
        if (self.projects is None) == (self.choices is None):
            raise ValueError("a ballot gives either `projects` or `choices`")
        return self

    def pairs(self) -> list[tuple[str, int]]:
        if self.projects is not None:
            return [(str(p), 1) for p in self.projects]
        return [(str(c.project), c.points) for c in self.choices or ()]


BudgetRow = ShownDetails
"""A row of the budget views, every stored string neutralised for display."""
