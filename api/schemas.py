"""Request and response schemas of the HTTP API (kept out of `domain/`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


Majority = Literal["simple", "absolute", "two_thirds_of_members"]


class CharterRulesPayload(BaseModel):
    """The rules a charter amendment changes (durations in seconds); the rules left out stay
    as they are in the charter version in force when the proposal is submitted."""

    model_config = ConfigDict(extra="forbid")

    consultation_seconds: int | None = Field(default=None, gt=0)
    vote_seconds: int | None = Field(default=None, gt=0)
    quorum_percent: int | None = Field(default=None, ge=0, le=100)
    majority: Majority | None = None
    veto_window_seconds: int | None = Field(default=None, ge=0)
    veto_override_majority: Majority | None = None
    veto_role: Literal["mayor", "councillor"] | None = None
    evaluation_after_seconds: list[int] | None = None
    evaluation_window_seconds: int | None = Field(default=None, gt=0)
    admissibility_seconds: int | None = Field(default=None, ge=0)
    competences: list[str] | None = None
    charter_amendment_majority: Majority | None = None
    deliberation_seconds: int | None = Field(default=None, ge=0)
    bureau_seats: dict[str, int] | None = None
    petition_threshold_percent: float | None = Field(default=None, gt=0, le=100)
    veto_territories: list[str] | None = Field(default=None, max_length=500)
    decision_majorities: dict[str, Majority] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SubmitProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metropolis_id: UUID
    title: str = Field(min_length=3, max_length=200, description="Titre de la proposition")
    summary: str = Field(min_length=1, max_length=10_000, description="Objectif et moyens")
    communes: list[str] = Field(default_factory=list, max_length=200,
                                description="codes des communes concernées (droit de veto)")
    charter_amendment: CharterRulesPayload | None = Field(
        default=None, description="les règles de la charte que modifie un amendement (les "
        "autres restent celles de la version en vigueur)")
    decision_type: str = Field(default="ordinary", min_length=1, max_length=100,
                               description="type de décision de la charte (majorité requise)")


class ProposalSubmittedResponse(BaseModel):
    id: UUID
    position: int = Field(description="position of the submission in the global log")
    workflow_id: str


class CastVoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Literal["for", "against", "abstain"] = Field(description="pour, contre, abstention")


class FileVetoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=10, max_length=5_000, description="motif du veto")


class RuleAdmissibilityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admissible: bool
    competence: str = Field(default="", max_length=200,
                            description="la compétence métropolitaine concernée")
    reason: str = Field(default="", max_length=5_000, description="motif (irrecevabilité)")


class RequalifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_type: str = Field(min_length=1, max_length=100,
                               description="type de décision prévu par la charte")
    reason: str = Field(min_length=10, max_length=5_000, description="motif de la requalification")


class ReferralRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=10, max_length=5_000, description="saisine du garant")


class RecordMilestoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=5_000, description="jalon de mise en œuvre")


class ScoreEvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicators: dict[str, int] = Field(min_length=1, max_length=50,
                                       description="indicateur → note de 0 à 10")
    comment: str = Field(default="", max_length=5_000)


class PostCommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=2, max_length=5_000, description="commentaire public")


class CommentResponse(BaseModel):
    position: int
    at: datetime
    citizen_ref: str
    text: str


class RecordedResponse(BaseModel):
    position: int = Field(description="position of the event in the global log")


class TableAmendmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=5, max_length=10_000, description="texte de l'amendement")


class AmendmentTabledResponse(BaseModel):
    number: int
    position: int


class VoteCastResponse(BaseModel):
    vote_id: UUID
    position: int


class TallyResponse(BaseModel):
    yes: int
    no: int
    abstain: int


class ProposalResponse(BaseModel):
    id: UUID
    metropolis_id: UUID
    title: str
    summary: str
    charter_version: int
    stage: str
    stage_fr: str
    closes_at: datetime | None
    tally: TallyResponse
    supports: int
    comments: int
    outcome: str | None
    cause: str | None
    submitted_at: datetime
    updated_at: datetime
    position: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProposalResponse:
        from projections.labels import STAGE_FR

        return cls(
            id=row["proposal_id"], metropolis_id=row["metropolis_id"], title=row["title"],
            summary=row["summary"], charter_version=row["charter_version"],
            stage=row["stage"], stage_fr=STAGE_FR.get(row["stage"], row["stage"]),
            closes_at=row["closes_at"],
            tally=TallyResponse(yes=row["yes"], no=row["no"], abstain=row["abstain"]),
            supports=row["supports"], comments=row["comments"],
            outcome=row["outcome"], cause=row["cause"], submitted_at=row["submitted_at"],
            updated_at=row["updated_at"], position=row["position"],
        )


class TimelineEntry(BaseModel):
    position: int
    at: datetime
    event: str
    stage: str
    stage_fr: str = Field(description="l'étape, en français")
    actor_role: str
    actor_fr: str = Field(description="qui a agi, en français")
    label: str
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimelineEntry:
        from projections.labels import ROLE_FR, STAGE_FR

        return cls(**{k: row[k] for k in ("position", "at", "event", "stage", "actor_role",
                                          "label", "details")},
                   stage_fr=STAGE_FR.get(row["stage"], row["stage"]),
                   actor_fr=ROLE_FR.get(row["actor_role"], row["actor_role"]))


class MemberResponse(BaseModel):
    ref: str
    name: str
    role: str
    commune: str


class MetropolisResponse(BaseModel):
    id: UUID
    slug: str
    name: str
    communes: list[dict[str, Any]]
    council: list[MemberResponse]
    charter_version: int
    charter: dict[str, Any]
