"""Proposals: submit, list, read, follow the timeline, and the council's roll-call votes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from api.deps import CurrentUser, LedgerDep, ViewsDep, acting_ref, proposal_ref, require_role
from api.edge import EdgeRoute
from api.schemas import (
    LOG_POSITION_MAX,
    AmendmentTabledResponse,
    CastVoteRequest,
    TableAmendmentRequest,
    CommentResponse,
    PostCommentRequest,
    FileVetoRequest,
    ProposalResponse,
    ProposalSubmittedResponse,
    RecordedResponse,
    RecordMilestoneRequest,
    ReferralRequest,
    RequalifyRequest,
    RuleAdmissibilityRequest,
    ScoreEvaluationRequest,
    SubmitProposalRequest,
    TimelineEntry,
    VoteCastResponse,
)
from domain.governance.metropolis import COUNCIL_ROLES
from projections.proposals import ProposalViews
from workflows.proposal import workflow_id

router = APIRouter(prefix="/proposals", tags=["proposals"], route_class=EdgeRoute)

Offset = Annotated[int, Query(ge=0, le=LOG_POSITION_MAX)]
AmendmentNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _veto_holder(proposal_id: UUID, user: CurrentUser, ledger: LedgerDep) -> None:
    """The token must carry a commune and the very role the proposal's charter gives the
    veto to: a councillor's token cannot file a mayor's veto, whatever seat its subject
    holds (the domain then checks the seat itself)."""
    if not user.territory:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={"rule": "territory_required",
                    "message": "a veto is filed for a commune: the token needs a territory"})
    veto_role = ledger.pinned_rules(ledger.get_proposal(proposal_id)).veto_role
    if user.role != veto_role:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={"rule": "role_required",
                    "message": f"the charter gives the veto to the role {veto_role}; your "
                               f"token carries '{user.role}'"})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProposalSubmittedResponse,
             summary="Déposer une proposition / Submit a proposal",
             dependencies=[Depends(require_role("citizen"))])
def submit_proposal(body: SubmitProposalRequest, user: CurrentUser,
                    ledger: LedgerDep) -> ProposalSubmittedResponse:
    """A citizen submits a proposal; its deliberation workflow starts from the log."""
    amendment = (ledger.amended_rules(body.metropolis_id, body.charter_amendment.changes())
                 if body.charter_amendment else None)
    proposal_id, position = ledger.submit_proposal(
        body.metropolis_id, acting_ref(ledger, user, body.metropolis_id), body.title,
        body.summary, body.communes, amendment,
        body.decision_type,
    )
    return ProposalSubmittedResponse(
        id=proposal_id, position=position, workflow_id=workflow_id(str(proposal_id))
    )


@router.get("", response_model=list[ProposalResponse],
            summary="Lister les propositions / List proposals")
def list_proposals(
    views: ViewsDep,
    metropolis_id: UUID | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> list[ProposalResponse]:
    """Proposals, newest first, with their stage and current tally."""
    rows = views.list_proposals(metropolis_id, limit, offset)
    return [ProposalResponse.from_row(r) for r in rows]


def _row_or_404(views: ProposalViews, proposal_id: UUID) -> dict:
    row = views.get_proposal(proposal_id)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={"rule": "unknown_proposal", "message": f"no proposal {proposal_id}"},
        )
    return row


@router.get("/{proposal_id}", response_model=ProposalResponse,
            summary="Consulter une proposition / Read a proposal")
def get_proposal(proposal_id: UUID, views: ViewsDep) -> ProposalResponse:
    """One proposal: stage, deadline, tally so far, decision."""
    return ProposalResponse.from_row(_row_or_404(views, proposal_id))


@router.get("/{proposal_id}/timeline", response_model=list[TimelineEntry],
            summary="Chronologie publique / Public timeline")
def get_timeline(proposal_id: UUID, views: ViewsDep) -> list[TimelineEntry]:
    """Every event of the proposal in log order: time, actor role, stage, French label."""
    _row_or_404(views, proposal_id)
    return [TimelineEntry.from_row(r) for r in views.timeline(proposal_id)]


@router.post("/{proposal_id}/votes", status_code=status.HTTP_201_CREATED,
             response_model=VoteCastResponse,
             summary="Voter (vote nominatif) / Cast a roll-call vote",
             dependencies=[Depends(require_role(*COUNCIL_ROLES))])
def cast_vote(proposal_id: UUID, body: CastVoteRequest, user: CurrentUser,
              ledger: LedgerDep) -> VoteCastResponse:
    """A seated council member votes while the ballot is open; one vote per member."""
    vote_id, position = ledger.cast_vote(proposal_id, user.sub, body.choice)
    return VoteCastResponse(vote_id=vote_id, position=position)


@router.post("/{proposal_id}/withdrawal", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Retirer sa proposition / Withdraw one's proposal",
             dependencies=[Depends(require_role("citizen"))])
def withdraw(proposal_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """The author withdraws the proposal before the vote opens; its workflow ends."""
    position = ledger.withdraw(proposal_id, proposal_ref(ledger, user, proposal_id))
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/vetoes", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Opposer un veto (maire) / File a mayor's veto",
             dependencies=[Depends(require_role(*COUNCIL_ROLES)), Depends(_veto_holder)])
def file_veto(proposal_id: UUID, body: FileVetoRequest, user: CurrentUser,
              ledger: LedgerDep) -> RecordedResponse:
    """A holder of the veto right (the charter's veto role, a mayor by default) for a concerned
    commune (the token's territory) vetoes within the window."""
    position = ledger.file_veto(proposal_id, user.sub, user.territory, body.reason)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/milestones", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Jalon de mise en œuvre (greffe) / Record a milestone",
             dependencies=[Depends(require_role("clerk"))])
def record_milestone(proposal_id: UUID, body: RecordMilestoneRequest, user: CurrentUser,
                     ledger: LedgerDep) -> RecordedResponse:
    """A clerk records an implementation milestone of an adopted proposal."""
    position = ledger.record_milestone(proposal_id, user.sub, body.text)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/evaluations", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Évaluation citoyenne / Score the open evaluation step",
             dependencies=[Depends(require_role("citizen"))])
def score_evaluation(proposal_id: UUID, body: ScoreEvaluationRequest, user: CurrentUser,
                     ledger: LedgerDep) -> RecordedResponse:
    """A member of the citizens' evaluation panel scores indicators (0–10) for the open step."""
    position = ledger.score_evaluation(proposal_id, proposal_ref(ledger, user, proposal_id),
                                       body.indicators, body.comment)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/admissibility", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Statuer sur la recevabilité (greffe) / Rule on admissibility",
             dependencies=[Depends(require_role("clerk"))])
def rule_admissibility(proposal_id: UUID, body: RuleAdmissibilityRequest, user: CurrentUser,
                       ledger: LedgerDep) -> RecordedResponse:
    """A clerk rules the proposal admissible (naming the competence) or inadmissible (with a
    reason) during the review."""
    position = ledger.rule_admissibility(proposal_id, user.sub, body.admissible,
                                         body.competence, body.reason)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/decision-type", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Requalifier le type de décision (greffe) / Requalify the decision type",
             dependencies=[Depends(require_role("clerk"))])
def requalify_decision(proposal_id: UUID, body: RequalifyRequest, user: CurrentUser,
                       ledger: LedgerDep) -> RecordedResponse:
    """A clerk sets the proposal's decision type under its charter (and so the majority it
    needs), with the reason, until the vote opens."""
    position = ledger.requalify_decision(proposal_id, user.sub, body.decision_type, body.reason)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/referral", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Saisir le garant / Refer an inadmissibility to the guarantor",
             dependencies=[Depends(require_role("citizen"))])
def refer_to_guarantor(proposal_id: UUID, body: ReferralRequest, user: CurrentUser,
                       ledger: LedgerDep) -> RecordedResponse:
    """The author refers an inadmissibility ruling to the guarantor."""
    position = ledger.refer_to_guarantor(proposal_id, proposal_ref(ledger, user, proposal_id),
                                         body.text)
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/supports", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Soutenir une proposition / Support a proposal",
             dependencies=[Depends(require_role("citizen"))])
def support(proposal_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """A citizen supports a proposal during its public consultation, once."""
    position = ledger.support(proposal_id, proposal_ref(ledger, user, proposal_id))
    return RecordedResponse(position=position)


@router.post("/{proposal_id}/comments", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Commenter une proposition / Comment on a proposal",
             dependencies=[Depends(require_role("citizen"))])
def post_comment(proposal_id: UUID, body: PostCommentRequest, user: CurrentUser,
                 ledger: LedgerDep) -> RecordedResponse:
    """A citizen comments publicly during the public consultation."""
    position = ledger.comment(proposal_id, proposal_ref(ledger, user, proposal_id), body.text)
    return RecordedResponse(position=position)


@router.get("/{proposal_id}/comments", response_model=list[CommentResponse],
            summary="Commentaires publics / Public comments")
def list_comments(proposal_id: UUID, views: ViewsDep, limit: int = Query(100, ge=1, le=1000),
                  offset: Offset = 0) -> list[CommentResponse]:
    """The consultation's comments, oldest first."""
    _row_or_404(views, proposal_id)
    return [CommentResponse(**{k: r[k] for k in CommentResponse.model_fields})
            for r in views.comments(proposal_id, limit, offset)]


@router.post("/{proposal_id}/amendments", status_code=status.HTTP_201_CREATED,
             response_model=AmendmentTabledResponse,
             summary="Déposer un amendement / Table an amendment",
             dependencies=[Depends(require_role(*COUNCIL_ROLES))])
def table_amendment(proposal_id: UUID, body: TableAmendmentRequest, user: CurrentUser,
                    ledger: LedgerDep) -> AmendmentTabledResponse:
    """A seated council member tables an amendment during the deliberation."""
    number, position = ledger.table_amendment(proposal_id, user.sub, body.text)
    return AmendmentTabledResponse(number=number, position=position)


@router.post("/{proposal_id}/amendments/{number}/votes", status_code=status.HTTP_201_CREATED,
             response_model=VoteCastResponse,
             summary="Voter sur un amendement / Vote on an amendment",
             dependencies=[Depends(require_role(*COUNCIL_ROLES))])
def vote_on_amendment(proposal_id: UUID, number: AmendmentNumber, body: CastVoteRequest,
                      user: CurrentUser, ledger: LedgerDep) -> VoteCastResponse:
    """A seated council member votes by roll call on an amendment during the deliberation."""
    vote_id, position = ledger.cast_vote(proposal_id, user.sub, body.choice, number)
    return VoteCastResponse(vote_id=vote_id, position=position)
