"""Request and response schemas of the HTTP API (kept out of `domain/`).

Every text a request carries has one of the constrained types below (`Line`, `Text`,
`Code`): no NUL, lone surrogate, control or bidirectional formatting character, NFC, a
bounded length (domain/rules/text.py). Every number is bounded. So no request can store an
event that a view cannot apply or a reader cannot read as stored (D13). The error body is
documented once (`ErrorResponse`) and declared on every route (api/edge.py).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.rules.charter import (
    MAX_DECISION_TYPES,
    MAX_DURATION_SECONDS,
    MAX_EVALUATION_STEPS,
    MAX_NAME_LENGTH,
    MAX_NAMES,
    MAX_SEATS,
)
from domain.rules.text import clean_text, displayable

LINE_MAX = MAX_NAME_LENGTH
TEXT_MAX = 10_000
CODE_MAX = 50


def _text_type(max_length: int, *, multiline: bool) -> Any:
    return Annotated[str, Field(max_length=max_length),
                     AfterValidator(partial(clean_text, multiline=multiline,
                                            max_length=max_length))]


Line = _text_type(LINE_MAX, multiline=False)
"""One line: a title, a name, a reference, a competence, an indicator, a decision type."""
Text = _text_type(TEXT_MAX, multiline=True)
"""Multi-line text (line feeds and tabs allowed): summaries, comments, reasons, notices."""
Code = _text_type(CODE_MAX, multiline=False)
"""A short code: a commune's INSEE code."""
SignatureLine = _text_type(500, multiline=True)
"""A signed note's signature line (`— name base64`, with its newline; the note parser checks
the rest)."""
ShownLine = Annotated[str, AfterValidator(displayable)]
"""Stored text shown on one line (a timeline label, a title): what is odd is neutralised."""
ShownText = Annotated[str, AfterValidator(partial(displayable, multiline=True))]
"""Stored multi-line text shown as it was written, what is odd neutralised."""


def _shown(value: Any) -> Any:
    """Every string inside `value` (dicts, lists) neutralised for display."""
    if isinstance(value, str):
        return displayable(value, multiline=True)
    if isinstance(value, dict):
        return {_shown(k): _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


ShownDetails = Annotated[dict[str, Any], AfterValidator(_shown)]
"""Stored details shown: every string inside neutralised."""
Seconds = Annotated[int, Field(ge=0, le=MAX_DURATION_SECONDS)]
"""A duration in seconds, at most ten years (the charter's bound)."""
PositiveSeconds = Annotated[int, Field(gt=0, le=MAX_DURATION_SECONDS)]
Percent = Annotated[int, Field(ge=0, le=100)]
LOG_POSITION_MAX = 2**63 - 1
"""The largest log position (PostgreSQL bigint); query offsets and positions stay below."""

Majority = Literal["simple", "absolute", "two_thirds_of_members"]
SeatKind = Literal["maires_majoritaires", "vice_presidents_minoritaires",
                   "citoyens_tires_au_sort"]


class FieldError(BaseModel):
    """One field at fault in a request: where, and why (the input is never echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorDetail(BaseModel):
    """Why a request was refused: the rule broken, a precise message, the rule in French."""

    rule: str = Field(description="stable identifier of the rule broken")
    message: str = Field(description="what was refused, precisely (English)")
    explication: str = Field(description="la règle expliquée en français")
    errors: list[FieldError] | None = Field(
        default=None, description="422 only: the fields at fault (never their input)")


class ErrorResponse(BaseModel):
    """Every refusal of the API: `{"detail": {"rule", "message", "explication"}}`."""

    detail: ErrorDetail


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    what = {401: "no valid bearer token", 403: "the token's role or seat does not permit "
            "this act", 404: "no such thing (or an id of another kind)", 409: "the act "
            "conflicts with the record or the charter; nothing was recorded",
            413: "the request body is too large", 422: "the request is malformed (the "
            "fields at fault, never their input)"}
    return {code: {"model": ErrorResponse, "description": what[code]} for code in codes}


WRITE_ERRORS = _errors(401, 403, 404, 409, 413, 422)
READ_ERRORS = _errors(404, 422)


class CharterRulesPayload(BaseModel):
    """The rules a charter amendment changes (durations in seconds, at most ten years); the
    rules left out stay as they are in the charter version in force when the proposal is
    submitted."""

    model_config = ConfigDict(extra="forbid")

    consultation_seconds: PositiveSeconds | None = None
    vote_seconds: PositiveSeconds | None = None
    quorum_percent: Percent | None = None
    majority: Majority | None = None
    veto_window_seconds: Seconds | None = None
    veto_override_majority: Majority | None = None
    veto_role: Literal["mayor", "councillor"] | None = None
    evaluation_after_seconds: list[PositiveSeconds] | None = Field(
        default=None, max_length=MAX_EVALUATION_STEPS)
    evaluation_window_seconds: PositiveSeconds | None = None
    admissibility_seconds: Seconds | None = None
    competences: list[Line] | None = Field(default=None, max_length=MAX_NAMES)
    charter_amendment_majority: Majority | None = None
    deliberation_seconds: Seconds | None = None
    bureau_seats: dict[SeatKind, Annotated[int, Field(ge=0, le=MAX_SEATS)]] | None = None
    petition_threshold_percent: float | None = Field(default=None, gt=0, le=100,
                                                     allow_inf_nan=False)
    veto_territories: list[Code] | None = Field(default=None, max_length=MAX_NAMES)
    decision_majorities: dict[Line, Majority] | None = Field(default=None,
                                                             max_length=MAX_DECISION_TYPES)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SubmitProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metropolis_id: UUID
    title: Line = Field(min_length=3, max_length=200, description="Titre de la proposition")
    summary: Text = Field(min_length=1, max_length=10_000, description="Objectif et moyens")
    communes: list[Code] = Field(default_factory=list, max_length=200,
                                description="codes des communes concernées (droit de veto)")
    charter_amendment: CharterRulesPayload | None = Field(
        default=None, description="les règles de la charte que modifie un amendement (les "
        "autres restent celles de la version en vigueur)")
    decision_type: Line = Field(default="ordinary", min_length=1, max_length=100,
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

    reason: Text = Field(min_length=10, max_length=5_000, description="motif du veto")


class RuleAdmissibilityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admissible: bool
    competence: Line = Field(default="", max_length=200,
                            description="la compétence métropolitaine concernée")
    reason: Text = Field(default="", max_length=5_000, description="motif (irrecevabilité)")


class RequalifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_type: Line = Field(min_length=1, max_length=100,
                               description="type de décision prévu par la charte")
    reason: Text = Field(min_length=10, max_length=5_000,
                         description="motif de la requalification")


class ReferralRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=10, max_length=5_000, description="saisine du garant")


class RecordMilestoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=3, max_length=5_000, description="jalon de mise en œuvre")


class ScoreEvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicators: dict[Line, Annotated[int, Field(ge=-1_000, le=1_000)]] = Field(
        min_length=1, max_length=50, description="indicateur → note de 0 à 10")
    comment: Text = Field(default="", max_length=5_000)


class PostCommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=2, max_length=5_000, description="commentaire public")


class CommentResponse(BaseModel):
    position: int
    at: datetime
    citizen_ref: str
    text: ShownText


class RecordedResponse(BaseModel):
    position: int = Field(description="position of the event in the global log")


class TableAmendmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=5, max_length=10_000, description="texte de l'amendement")


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
    title: ShownLine
    summary: ShownText
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
    label: ShownLine = Field(description="ce qui s'est passé, en français")
    details: ShownDetails

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


# -- petitions (right of interpellation) ---------------------------------------------------

PETITION_STAGE_FR = {
    "drafted": "recherche de parrains",
    "admissibility": "examen de recevabilité",
    "collecting": "collecte des signatures",
    "obligation": "réponse due par le conseil",
    "closed": "close",
}
PetitionStageName = Literal["drafted", "admissibility", "collecting", "obligation", "closed"]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                                 description="SHA-256 des feuilles numérisées (64 hex)")]
SignatureCountNumber = Annotated[int, Field(ge=0, le=100_000_000)]


class DraftPetitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metropolis_id: UUID
    kind: Line = Field(min_length=1, max_length=100,
                       description="type de pétition prévu par la charte (`petition_kinds`)")
    title: Line = Field(min_length=3, max_length=200, description="Titre de la pétition")
    text: Text = Field(min_length=1, max_length=10_000, description="Texte de la pétition")
    commune: Code | None = Field(default=None, description="la commune (pétition communale)")


class PetitionDraftedResponse(BaseModel):
    id: UUID
    position: int = Field(description="position of the drafting in the global log")
    workflow_id: str


class PetitionTextRequest(BaseModel):
    """An official's public text: the council's answer, the guarantor's report."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=10, max_length=10_000, description="texte public")


class ElectorateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figures: dict[Code, SignatureCountNumber] = Field(
        min_length=1, max_length=500, description="commune (code INSEE) → électeurs inscrits")
    source: Line = Field(min_length=3, max_length=200,
                         description="référence de l'extrait de la liste électorale")


class PaperSigner(BaseModel):
    """One paper signature, as a clerk checked it against the electoral roll."""

    model_config = ConfigDict(extra="forbid")

    registry_id: Line = Field(min_length=1, max_length=100,
                              description="identifiant sur la liste électorale")
    commune: Code = Field(min_length=1, description="commune de résidence")
    elector: bool = Field(default=False, description="électeur inscrit")
    birthdate: date | None = Field(default=None, description="date de naissance")


class PaperBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sheets: int = Field(ge=1, le=100_000, description="nombre de feuilles")
    provenance: Line = Field(min_length=3, max_length=200,
                             description="d'où viennent les feuilles (mairie, permanence…)")
    digest: Sha256Hex
    signers: list[PaperSigner] = Field(min_length=1, max_length=1_000)


class RefusedEntry(BaseModel):
    index: int = Field(description="the entry's index in `signers`")
    rule: str
    message: str
    explication: str = Field(description="la règle expliquée en français")


class PaperBatchResponse(BaseModel):
    batch_id: UUID
    position: int | None = Field(description="position of the last signature recorded")
    recorded: int = Field(description="how many signatures were recorded")
    positions: list[int]
    refused: list[RefusedEntry] = Field(description="the entries refused, each alone")


def _shown_row(row: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """The fields of a view's row beyond a response's own, every string neutralised."""
    return {k: _shown(v) for k, v in row.items() if k not in known}


class PetitionResponse(BaseModel):
    """A petition as the public views show it (more fields of the view pass through)."""

    model_config = ConfigDict(extra="allow")

    id: UUID
    metropolis_id: UUID | None = None
    kind: ShownLine | None = None
    title: ShownLine | None = None
    text: ShownText | None = None
    commune: str | None = None
    stage: str
    stage_fr: str
    outcome: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PetitionResponse:
        stage = str(row.get("stage", ""))
        fields = {"id": row.get("id") or row.get("petition_id"),
                  "stage_fr": row.get("stage_fr") or PETITION_STAGE_FR.get(stage, stage),
                  **{k: row.get(k) for k in ("metropolis_id", "kind", "title", "text",
                                             "commune", "stage", "outcome")}}
        extra = _shown_row(row, set(fields) | {"petition_id"})
        return cls(**extra, **fields)


class PetitionCountResponse(BaseModel):
    count: SignatureCountNumber
    threshold: int | None
    progress_percent: float | None
    by_commune: dict[str, int]
    crossed_at: int | None = Field(description="log position of the signature that "
                                                "brought the count to the threshold")
    late: int = Field(description="signatures stored after the close: never counted")
    position: int = Field(description="the log position the count is exact at")


class PetitionTimelineEntry(BaseModel):
    position: int
    at: datetime
    kind: str
    stage_fr: str = Field(description="l'étape, en français")
    actor_fr: str = Field(description="qui a agi, en français")
    text: ShownLine = Field(description="ce qui s'est passé, en français")


class ObligationDueResponse(BaseModel):
    """A petition whose threshold obliges the council, and until when (more fields of the
    view pass through)."""

    model_config = ConfigDict(extra="allow")

    petition_id: UUID

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ObligationDueResponse:
        return cls(petition_id=row.get("petition_id") or row.get("id"),
                   **_shown_row(row, {"petition_id", "id"}))
