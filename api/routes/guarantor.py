"""The guarantor authority: public notices (avis), the compliance view, and the erasure of a
citizen's personal data (D10)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, LedgerDep, citizen_pseudonym, metropolis_of, require_role
from api.edge import EdgeRoute
from api.schemas import Line, RecordedResponse, Text

router = APIRouter(tags=["guarantor"], route_class=EdgeRoute)


class IssueNoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["avis"] = "avis"
    text: Text = Field(min_length=10, max_length=10_000, description="texte de l'avis")


class RequireConsultationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=10, max_length=10_000,
                        description="motif : pourquoi une consultation publique est requise")
    duration_seconds: int | None = Field(
        default=None, gt=0, le=366 * 86400,
        description="durée minimale (s) ; au moins celle de la charte")


class AppointPanelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[Line] = Field(min_length=1, max_length=500,
                                description="identifiants (sub) des citoyen·nes du panel "
                                            "d'évaluation ; le registre n'en garde que les "
                                            "pseudonymes")


class EraseRequest(BaseModel):
    """Whose personal data to erase: a citizen's subject (with the issuer that vouches for it,
    the local issuer by default), or their pseudonym, in one metropolis."""

    model_config = ConfigDict(extra="forbid")

    metropolis_id: UUID
    subject: Line | None = None
    issuer: Line | None = None
    pseudonym: Line | None = Field(default=None, min_length=3, max_length=100)


class ErasureResponse(BaseModel):
    pseudonym: str = Field(description="the person whose data key was destroyed")
    erased: bool


class ComplianceFlag(BaseModel):
    proposal_id: UUID
    rule: str
    message: str
    positions: list[int] = Field(description="log positions of the events that prove it")
    charter_version: int | None


@router.post("/proposals/{proposal_id}/notices", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Publier un avis (garant) / Publish a guarantor's notice",
             dependencies=[Depends(require_role("guarantor"))])
def issue_notice(proposal_id: UUID, body: IssueNoticeRequest, user: CurrentUser,
                 ledger: LedgerDep) -> RecordedResponse:
    """The guarantor attaches a public notice to a proposal; it joins the timeline."""
    position = ledger.issue_notice(proposal_id, user.sub, body.kind, body.text)
    return RecordedResponse(position=position)


@router.post("/proposals/{proposal_id}/consultation-requirement",
             status_code=status.HTTP_201_CREATED, response_model=RecordedResponse,
             summary="Exiger une consultation publique (garant) / Require a public consultation",
             dependencies=[Depends(require_role("guarantor"))])
def require_consultation(proposal_id: UUID, body: RequireConsultationRequest, user: CurrentUser,
                         ledger: LedgerDep) -> RecordedResponse:
    """Before the vote opens, the guarantor requires a public consultation (at least the
    charter's length): if the charter's consultation was already held, another opens before
    the vote, which cannot open until it has."""
    position = ledger.require_consultation(proposal_id, user.sub, body.reason,
                                           body.duration_seconds)
    return RecordedResponse(position=position)


@router.post("/proposals/{proposal_id}/evaluation-panel", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Désigner le panel d'évaluation (garant) / Appoint the evaluation panel",
             dependencies=[Depends(require_role("guarantor"))])
def appoint_evaluation_panel(proposal_id: UUID, body: AppointPanelRequest, user: CurrentUser,
                             ledger: LedgerDep) -> RecordedResponse:
    """The guarantor appoints the citizens' evaluation panel of an adopted proposal; only its
    members score the evaluation steps. A new appointment replaces it for the steps to come."""
    metropolis_id = metropolis_of(ledger, proposal_id)
    members = [str(citizen_pseudonym(ledger, metropolis_id, m)) for m in body.members]
    position = ledger.appoint_evaluation_panel(proposal_id, user.sub, members)
    return RecordedResponse(position=position)


@router.get("/guarantor/compliance", response_model=list[ComplianceFlag],
            summary="Vue de conformité (garant) / Compliance view")
def compliance(request: Request, proposal_id: UUID | None = None) -> list[ComplianceFlag]:
    """Every breach of a pinned charter found in the log, with the events that prove it;
    empty when every process ran by its rules. Public, like the record it audits."""
    return [ComplianceFlag(**{k: r[k] for k in ComplianceFlag.model_fields})
            for r in request.app.state.compliance.flags(proposal_id)]


@router.post("/guarantor/erasures", status_code=status.HTTP_201_CREATED,
             response_model=ErasureResponse,
             summary="Effacer les données personnelles (garant) / Erase a citizen's personal data",
             dependencies=[Depends(require_role("guarantor"))])
def erase_personal_data(body: EraseRequest, ledger: LedgerDep) -> ErasureResponse:
    """The guarantor destroys a citizen's data key: everything they wrote reads « contenu
    effacé » everywhere, while the log, its proofs and recounts stay as they were."""
    if (body.subject is None) == (body.pseudonym is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail={
            "rule": "erasure_target", "message": "give either a subject or a pseudonym"})
    ledger.get_metropolis(body.metropolis_id)  # 404 for an unknown metropolis
    person = body.pseudonym or citizen_pseudonym(ledger, body.metropolis_id, body.subject or "",
                                                 body.issuer, create=False)
    if person is None or not ledger.personal_data.erase(body.metropolis_id, person):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "unknown_person",
            "message": "no personal data of this person in this metropolis"})
    return ErasureResponse(pseudonym=person, erased=True)
