"""Drafts: the `drafted` stage, where a citizen writes a proposal before submitting it.

The author acts under their pseudonym in the draft's metropolis (D10); the draft's text is
stored sealed and readable by its author only until it is submitted (then it is the proposal's).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.deps import CurrentUser, LedgerDep, acting_ref, require_role
from api.edge import EdgeRoute
from domain.application import Registre
from api.schemas import (
    CharterRulesPayload,
    Code,
    Line,
    ProposalSubmittedResponse,
    RecordedResponse,
    SubmitProposalRequest,
    Text,
)
from domain.ports import ERASED
from workflows.proposal import workflow_id

router = APIRouter(prefix="/drafts", tags=["drafts"], route_class=EdgeRoute)


class DraftStartedResponse(BaseModel):
    id: UUID
    position: int = Field(description="position of the draft's start in the global log")


class ReviseDraftRequest(BaseModel):
    """The parts of the text that change; the others stay as they were."""

    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(default=None, min_length=3, max_length=200)
    summary: Text | None = Field(default=None, min_length=1, max_length=10_000)
    communes: list[Code] | None = Field(default=None, max_length=200)
    decision_type: Line | None = Field(default=None, min_length=1, max_length=100)
    charter_amendment: CharterRulesPayload | None = None


class DraftResponse(BaseModel):
    id: UUID
    metropolis_id: UUID
    title: str | None = Field(description="null once submitted: the text is the proposal's")
    summary: str | None = Field(description="null once submitted: the text is the proposal's")
    communes: list[str]
    decision_type: str
    charter_amendment: dict[str, Any] | None
    stage: str = Field(description="drafted | submitted | abandoned")
    revisions: int
    proposal_id: UUID | None


def _changes(payload: CharterRulesPayload | None) -> dict[str, Any] | None:
    return payload.changes() if payload else None


def _author_ref(ledger: Registre, user: Principal, draft_id: UUID) -> str:
    """The user's pseudonym in the draft's metropolis (compared with the draft's author)."""
    return acting_ref(ledger, user, ledger.get_draft(draft_id).metropolis_id, known=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DraftStartedResponse,
             summary="Commencer un brouillon / Start drafting a proposal",
             dependencies=[Depends(require_role("citizen"))])
def start_draft(body: SubmitProposalRequest, user: CurrentUser,
                ledger: LedgerDep) -> DraftStartedResponse:
    """A citizen begins a proposal; nothing runs until it is submitted."""
    draft_id, position = ledger.start_draft(
        body.metropolis_id, acting_ref(ledger, user, body.metropolis_id), body.title,
        body.summary, body.communes,
        body.decision_type, _changes(body.charter_amendment))
    return DraftStartedResponse(id=draft_id, position=position)


@router.get("/{draft_id}", response_model=DraftResponse,
            summary="Relire son brouillon / Read one's draft")
def get_draft(draft_id: UUID, user: CurrentUser, ledger: LedgerDep) -> DraftResponse:
    """The draft as it now reads, for its author (its text only until it is submitted)."""
    draft = ledger.get_draft(draft_id)
    if draft.author_ref != acting_ref(ledger, user, draft.metropolis_id, known=True):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail={
            "rule": "not_the_author", "message": f"draft {draft_id} is not yours"})
    title = summary = None
    if draft.stage != "submitted":
        title, summary = (ERASED if text is None else text for text in (
            ledger.personal_data.open(draft.title_sealed),
            ledger.personal_data.open(draft.summary_sealed)))
    return DraftResponse(
        id=draft.id, metropolis_id=draft.metropolis_id, title=title,
        summary=summary, communes=draft.communes, decision_type=draft.decision_type,
        charter_amendment=draft.charter_amendment, stage=draft.stage,
        revisions=draft.revisions, proposal_id=draft.proposal_id)


@router.patch("/{draft_id}", response_model=RecordedResponse,
              summary="Réviser son brouillon / Revise one's draft",
              dependencies=[Depends(require_role("citizen"))])
def revise_draft(draft_id: UUID, body: ReviseDraftRequest, user: CurrentUser,
                 ledger: LedgerDep) -> RecordedResponse:
    """The author revises the draft before submitting it."""
    text = body.model_dump(exclude={"charter_amendment"})
    position = ledger.revise_draft(draft_id, _author_ref(ledger, user, draft_id), **text,
                                   charter_amendment=_changes(body.charter_amendment))
    return RecordedResponse(position=position)


@router.post("/{draft_id}/submission", status_code=status.HTTP_201_CREATED,
             response_model=ProposalSubmittedResponse,
             summary="Déposer son brouillon / Submit one's draft",
             dependencies=[Depends(require_role("citizen"))])
def submit_draft(draft_id: UUID, user: CurrentUser,
                 ledger: LedgerDep) -> ProposalSubmittedResponse:
    """The draft becomes a proposal: the charter in force is pinned and its workflow starts."""
    proposal_id, position = ledger.submit_draft(draft_id, _author_ref(ledger, user, draft_id))
    return ProposalSubmittedResponse(id=proposal_id, position=position,
                                     workflow_id=workflow_id(str(proposal_id)))


@router.post("/{draft_id}/abandonment", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Abandonner son brouillon / Abandon one's draft",
             dependencies=[Depends(require_role("citizen"))])
def abandon_draft(draft_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """The author abandons the draft; it stays in the log as abandoned."""
    return RecordedResponse(position=ledger.abandon_draft(draft_id,
                                                          _author_ref(ledger, user, draft_id)))
