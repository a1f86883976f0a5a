"""Petitions (right of interpellation): drafting and sponsors, the clerk's admissibility
ruling, paper signatures, the council's answer, the guarantor's consultation report, and the
public reads (the petitions, their exact count, their timeline, the obligations due).

A citizen acts under their pseudonym in the petition's metropolis (D10), and what the identity
provider vouches for them (commune of residence, elector, date of birth: the token's claims,
never self-declared) decides whether they may sponsor it. Officials act under their public
mandate reference. Signing online is `POST /petitions/{id}/signatures` (api/routes/
signatures.py, through the group-commit writer). The reads come from the petition views
(`request.app.state.petition_views`).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status

from api.deps import CurrentUser, LedgerDep, acting_ref, citizen_pseudonym, require_role
from api.edge import EdgeRoute
from api.messages_fr import explain
from api.schemas import (
    LOG_POSITION_MAX,
    DraftPetitionRequest,
    ObligationDueResponse,
    PaperBatchRequest,
    PaperBatchResponse,
    PetitionCountResponse,
    PetitionDraftedResponse,
    PetitionResponse,
    PetitionStageName,
    PetitionTextRequest,
    PetitionTimelineEntry,
    RecordedResponse,
    ReferralRequest,
    RefusedEntry,
    RuleAdmissibilityRequest,
)
from domain.application import Registre
from domain.rules.petition import SignerClaims

router = APIRouter(prefix="/petitions", tags=["petitions"], route_class=EdgeRoute)

PAPER_ISSUER = "liste-electorale"
"""The issuer under which a paper signer's registry id becomes a pseudonym: the electoral
roll a clerk checks the sheets against."""
COUNT_MAX_AGE = 2
Offset = Annotated[int, Query(ge=0, le=LOG_POSITION_MAX)]


def workflow_id(petition_id: str) -> str:
    """The id of a petition's workflow (PetitionWorkflow)."""
    return f"petition-{petition_id}"


def _views(request: Request) -> Any:
    """The petition views (their reading API: list_petitions, petition, counts, timeline,
    obligations_due)."""
    views = getattr(request.app.state, "petition_views", None)
    if views is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "not_found", "message": "the petition views are not served here"})
    return views


PetitionViewsDep = Annotated[Any, Depends(_views)]


def _petition_ref(ledger: Registre, user: CurrentUser, petition_id: UUID) -> str:
    """`acting_ref` in the petition's metropolis (404 rule `unknown_petition` first)."""
    petition = ledger.get_petition(petition_id)
    return acting_ref(ledger, user, petition.metropolis_id, known=True)


def _row_or_404(views: Any, petition_id: UUID) -> dict[str, Any]:
    row = views.petition(petition_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "unknown_petition", "message": f"no petition {petition_id}"})
    return row


# -- acts -----------------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PetitionDraftedResponse,
             summary="Rédiger une pétition / Draft a petition",
             dependencies=[Depends(require_role("citizen"))])
def draft_petition(body: DraftPetitionRequest, user: CurrentUser,
                   ledger: LedgerDep) -> PetitionDraftedResponse:
    """A citizen who could sign it drafts a petition of a kind the charter in force offers
    (pinned); it then gathers its sponsors. Its title and text are sealed under the author's
    key; its workflow starts from the log."""
    author = acting_ref(ledger, user, body.metropolis_id)
    petition_id, position = ledger.draft_petition(
        body.metropolis_id, author, body.kind, body.title, body.text, body.commune,
        claims=user.signer_claims())
    return PetitionDraftedResponse(id=petition_id, position=position,
                                   workflow_id=workflow_id(str(petition_id)))


@router.post("/{petition_id}/sponsors", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Parrainer une pétition / Sponsor a petition",
             dependencies=[Depends(require_role("citizen"))])
def sponsor(petition_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """A citizen who could sign it sponsors the petition while it gathers its sponsors (once);
    the sponsor who completes the kind's number sends it to the admissibility review."""
    position = ledger.sponsor_petition(petition_id, _petition_ref(ledger, user, petition_id),
                                       user.signer_claims())
    return RecordedResponse(position=position)


@router.delete("/{petition_id}/sponsors/mine", response_model=RecordedResponse,
               summary="Retirer son parrainage / Leave one's sponsorship",
               dependencies=[Depends(require_role("citizen"))])
def leave_sponsorship(petition_id: UUID, user: CurrentUser,
                      ledger: LedgerDep) -> RecordedResponse:
    """A co-sponsor (not the author) withdraws before the sponsors are gathered."""
    position = ledger.leave_sponsorship(petition_id,
                                        _petition_ref(ledger, user, petition_id))
    return RecordedResponse(position=position)


@router.post("/{petition_id}/withdrawal", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Retirer sa pétition / Withdraw one's petition",
             dependencies=[Depends(require_role("citizen"))])
def withdraw(petition_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """The author withdraws the petition, at any stage before its threshold is reached."""
    position = ledger.withdraw_petition(petition_id,
                                        _petition_ref(ledger, user, petition_id))
    return RecordedResponse(position=position)


@router.post("/{petition_id}/referral", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Saisir le garant / Refer the petition to the guarantor",
             dependencies=[Depends(require_role("citizen"))])
def refer(petition_id: UUID, body: ReferralRequest, user: CurrentUser,
          ledger: LedgerDep) -> RecordedResponse:
    """The author refers the petition (an inadmissibility ruling, say) to the guarantor; the
    referral's text is sealed under the author's key."""
    position = ledger.refer_petition(petition_id, _petition_ref(ledger, user, petition_id),
                                     body.text)
    return RecordedResponse(position=position)


@router.post("/{petition_id}/admissibility", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Statuer sur la recevabilité (greffe) / Rule on admissibility",
             dependencies=[Depends(require_role("clerk"))])
def rule_admissibility(petition_id: UUID, body: RuleAdmissibilityRequest, user: CurrentUser,
                       ledger: LedgerDep) -> RecordedResponse:
    """During the review, a clerk rules the petition admissible (within one of the
    metropolis' competences) or inadmissible with reasons; silence until the deadline makes
    it admissible."""
    position = ledger.rule_petition_admissibility(petition_id, user.sub, body.admissible,
                                                  body.competence, body.reason)
    return RecordedResponse(position=position)


@router.post("/{petition_id}/paper-batches", status_code=status.HTTP_201_CREATED,
             response_model=PaperBatchResponse,
             summary="Saisir des signatures papier (greffe) / Enter paper signatures",
             dependencies=[Depends(require_role("clerk"))])
def enter_paper_batch(petition_id: UUID, body: PaperBatchRequest, user: CurrentUser,
                      ledger: LedgerDep) -> PaperBatchResponse:
    """A clerk enters a batch of paper signatures checked against the electoral roll: the
    batch (sheets, provenance, SHA-256 of the scans), then each signature, counted in the same
    total. Each signer acts under the pseudonym of their registry id; an entry that may not
    sign, or signed already, is refused alone (its rule named), the others are recorded."""
    metropolis_id = ledger.get_petition(petition_id).metropolis_id
    signers = [(str(citizen_pseudonym(ledger, metropolis_id, s.registry_id,
                                      issuer=PAPER_ISSUER)),
                SignerClaims(commune=s.commune, elector=s.elector, birthdate=s.birthdate))
               for s in body.signers]
    batch_id, positions, refused = ledger.enter_paper_batch(
        petition_id, user.sub, body.sheets, body.provenance, body.digest, signers)
    return PaperBatchResponse(
        batch_id=batch_id, position=positions[-1] if positions else None,
        recorded=len(positions), positions=positions,
        refused=[RefusedEntry(**r, explication=explain(r["rule"])) for r in refused])


@router.post("/{petition_id}/answer", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Réponse du conseil (greffe) / Record the council's answer",
             dependencies=[Depends(require_role("clerk"))])
def answer(petition_id: UUID, body: PetitionTextRequest, user: CurrentUser,
           ledger: LedgerDep) -> RecordedResponse:
    """Once the threshold is reached, a clerk records the council's reasoned answer (public);
    after the deadline it is recorded late."""
    return RecordedResponse(position=ledger.answer_petition(petition_id, user.sub, body.text))


@router.post("/{petition_id}/consultation-report", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Rapport de consultation (garant) / Report the public consultation",
             dependencies=[Depends(require_role("guarantor"))])
def report_consultation(petition_id: UUID, body: PetitionTextRequest, user: CurrentUser,
                        ledger: LedgerDep) -> RecordedResponse:
    """The guarantor records the report of the public consultation the petition won
    (public); after the deadline it is recorded late."""
    return RecordedResponse(position=ledger.report_petition_consultation(
        petition_id, user.sub, body.text))


# -- reads ----------------------------------------------------------------------------------


@router.get("", response_model=list[PetitionResponse],
            summary="Lister les pétitions / List petitions")
def list_petitions(views: PetitionViewsDep, metropolis_id: UUID | None = None,
                   stage: PetitionStageName | None = None,
                   limit: int = Query(100, ge=1, le=500),
                   offset: Offset = 0) -> list[PetitionResponse]:
    """Petitions with their stage, by metropolis and stage."""
    rows = views.list_petitions(metropolis_id=metropolis_id, stage=stage, limit=limit,
                                offset=offset)
    return [PetitionResponse.from_row(r) for r in rows]


@router.get("/obligations-due", response_model=list[ObligationDueResponse],
            summary="Obligations en attente / Obligations due")
def obligations_due(views: PetitionViewsDep,
                    metropolis_id: UUID | None = None) -> list[ObligationDueResponse]:
    """The petitions whose threshold obliges the council (an answer, an agenda item, a
    consultation), with their deadline, the late ones included."""
    return [ObligationDueResponse.from_row(r)
            for r in views.obligations_due(metropolis_id=metropolis_id)]


@router.get("/{petition_id}", response_model=PetitionResponse,
            summary="Consulter une pétition / Read a petition")
def get_petition(petition_id: UUID, views: PetitionViewsDep) -> PetitionResponse:
    """One petition: its kind, stage, deadlines, threshold and outcome."""
    return PetitionResponse.from_row(_row_or_404(views, petition_id))


def _etag(position: int) -> str:
    return f'"{position}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get("/{petition_id}/count", response_model=PetitionCountResponse,
            responses={304: {"description": "not modified since the ETag sent"}},
            summary="Compteur de signatures / Signature count")
def get_count(petition_id: UUID, views: PetitionViewsDep, response: Response,
              if_none_match: Annotated[str | None, Header(
                  description="the ETag of a count already read: 304 while unchanged")] = None,
              ) -> Any:
    """The exact count of the petition's signatures at a log position (the verifier's
    recount rule), by commune, and its threshold. Cacheable for two seconds; its ETag is the
    position, so a client that sends it back gets 304 while nothing changed."""
    counts = views.counts(petition_id)
    if counts is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "unknown_petition", "message": f"no count for petition {petition_id}"})
    etag = _etag(int(counts["position"]))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={COUNT_MAX_AGE}"}
    if _matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    shown = {"by_commune": {}, "late": 0, "threshold": None, "progress_percent": None,
             "crossed_at": None, **counts}
    return PetitionCountResponse(**{k: shown[k] for k in PetitionCountResponse.model_fields})


@router.get("/{petition_id}/timeline", response_model=list[PetitionTimelineEntry],
            summary="Chronologie publique / Public timeline")
def get_timeline(petition_id: UUID, views: PetitionViewsDep) -> list[PetitionTimelineEntry]:
    """Every event of the petition in log order, in French: when, who, at which stage."""
    _row_or_404(views, petition_id)
    return [PetitionTimelineEntry(**{k: r[k] for k in PetitionTimelineEntry.model_fields})
            for r in views.timeline(petition_id)]
