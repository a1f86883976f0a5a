"""The participatory budget: opening a cycle with its rules and districts' budgets (clerks),
submitting projects (residents), the clerks' eligibility review, the author's appeal to the
guarantor and the guarantor's decision, the selected projects' milestones, a cycle's
cancellation, and the public reads (cycles, projects, results with their rounds, timeline).

A citizen acts under their pseudonym in the cycle's metropolis (D10); what the identity
provider vouches for them (commune of residence, date of birth: the token's claims) decides
where they take part. Officials act under their public mandate reference. Voting is
`POST /budgets/{id}/ballots` (api/routes/ballots.py, through the group-commit writer). The
stages' ends (review, voting, close, tally) are the BudgetCycleWorkflow's. The reads come from
the budget views (`request.app.state.budget_views`).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from api.budget_schemas import (
    BudgetAppealDecisionRequest,
    BudgetAppealRequest,
    BudgetCancellationRequest,
    BudgetMilestoneRequest,
    BudgetRow,
    CreatedResponse,
    OpenBudgetCycleRequest,
    RuleBudgetProjectRequest,
    SubmitBudgetProjectRequest,
)
from api.deps import CurrentUser, LedgerDep, acting_ref, require_role
from api.edge import EdgeRoute
from api.schemas import Code, RecordedResponse
from domain.governance.metropolis import Metropolis

router = APIRouter(tags=["budgets"], route_class=EdgeRoute)

Slug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,100}$", description="e.g. demo-metrokawa")]


def workflow_id(cycle_id: str) -> str:
    """The id of a cycle's workflow (BudgetCycleWorkflow)."""
    return f"budget-{cycle_id}"


def _views(request: Request) -> Any:
    """The budget views (their reading API: cycles, cycle, projects, results, timeline,
    ballot_counts)."""
    views = getattr(request.app.state, "budget_views", None)
    if views is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "not_found", "message": "the budget views are not served here"})
    return views


BudgetViewsDep = Annotated[Any, Depends(_views)]


def _cycle_or_404(views: Any, cycle_id: UUID) -> dict[str, Any]:
    row = views.cycle(cycle_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "unknown_budget_cycle", "message": f"no budget cycle {cycle_id}"})
    return row


# -- acts -----------------------------------------------------------------------------------


@router.post("/metropolises/{slug}/budgets", status_code=status.HTTP_201_CREATED,
             response_model=CreatedResponse,
             summary="Ouvrir un budget participatif (greffe) / Open a budget cycle",
             dependencies=[Depends(require_role("clerk"))])
def open_cycle(slug: Slug, body: OpenBudgetCycleRequest, user: CurrentUser,
               ledger: LedgerDep) -> CreatedResponse:
    """A clerk opens a cycle: its rules (the charter's, with the overrides given) and each
    district's budget are published before any project; project submission opens."""
    metropolis = ledger.get_metropolis(Metropolis.create_id(slug))
    cycle_id, position = ledger.open_budget_cycle(
        metropolis.id, user.sub, body.title, body.districts,
        body.rules.overrides() if body.rules else {})
    return CreatedResponse(id=cycle_id, position=position)


@router.post("/budgets/{cycle_id}/projects", status_code=status.HTTP_201_CREATED,
             response_model=CreatedResponse,
             summary="Déposer un projet / Submit a project",
             dependencies=[Depends(require_role("citizen"))])
def submit_project(cycle_id: UUID, body: SubmitBudgetProjectRequest, user: CurrentUser,
                   ledger: LedgerDep) -> CreatedResponse:
    """A resident submits a project during submission, in a district where they take part,
    within a competence of the metropolis, costing at most the district's budget; its title
    and summary are sealed under the author's key."""
    cycle = ledger.get_budget_cycle(cycle_id)
    author = acting_ref(ledger, user, cycle.metropolis_id, known=True)
    project_id, position = ledger.submit_budget_project(
        cycle_id, author, user.signer_claims(), body.district, body.title, body.summary,
        body.cost, body.competence)
    return CreatedResponse(id=project_id, position=position)


@router.post("/budget-projects/{project_id}/ruling", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Statuer sur la recevabilité d'un projet (greffe) / Rule on a project",
             dependencies=[Depends(require_role("clerk"))])
def rule_project(project_id: UUID, body: RuleBudgetProjectRequest, user: CurrentUser,
                 ledger: LedgerDep) -> RecordedResponse:
    """During the review, a clerk rules a project eligible, or ineligible with reasons; the
    clerks' silence until the review's end makes it eligible."""
    return RecordedResponse(position=ledger.rule_budget_project(
        project_id, user.sub, body.eligible, body.reason))


@router.post("/budget-projects/{project_id}/appeal", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Former un recours (auteur) / Appeal an ineligibility",
             dependencies=[Depends(require_role("citizen"))])
def appeal_project(project_id: UUID, body: BudgetAppealRequest, user: CurrentUser,
                   ledger: LedgerDep) -> RecordedResponse:
    """The project's author appeals its ineligibility to the guarantor before voting opens
    (the text sealed under the author's key)."""
    project = ledger.get_budget_project(project_id)
    metropolis_id = ledger.get_budget_cycle(project.cycle_id).metropolis_id
    author = acting_ref(ledger, user, metropolis_id, known=True)
    return RecordedResponse(position=ledger.appeal_budget_project(project_id, author,
                                                                  body.text))


@router.post("/budget-projects/{project_id}/appeal-decision",
             status_code=status.HTTP_201_CREATED, response_model=RecordedResponse,
             summary="Trancher un recours (garant) / Decide an appeal",
             dependencies=[Depends(require_role("guarantor"))])
def decide_appeal(project_id: UUID, body: BudgetAppealDecisionRequest, user: CurrentUser,
                  ledger: LedgerDep) -> RecordedResponse:
    """The guarantor decides a pending appeal before voting opens, with reasons; upheld,
    the project is eligible."""
    return RecordedResponse(position=ledger.decide_budget_appeal(
        project_id, user.sub, body.upheld, body.reason))


@router.post("/budget-projects/{project_id}/milestones", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Jalon de réalisation (greffe) / Record a milestone",
             dependencies=[Depends(require_role("clerk"))])
def record_milestone(project_id: UUID, body: BudgetMilestoneRequest, user: CurrentUser,
                     ledger: LedgerDep) -> RecordedResponse:
    """A clerk records a milestone of a selected project's implementation (public)."""
    return RecordedResponse(position=ledger.record_budget_milestone(
        project_id, user.sub, body.status, body.note))


@router.post("/budgets/{cycle_id}/cancellation", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Annuler un budget participatif (greffe) / Cancel a cycle",
             dependencies=[Depends(require_role("clerk"))])
def cancel_cycle(cycle_id: UUID, body: BudgetCancellationRequest, user: CurrentUser,
                 ledger: LedgerDep) -> RecordedResponse:
    """A clerk cancels a cycle, with reasons, at any stage before its results."""
    ledger.close_budget_cycle(cycle_id, ledger.clock(), "cancelled", body.reason)
    cycle = ledger.get_budget_cycle(cycle_id)
    return RecordedResponse(position=ledger.position_of(cycle.id, cycle.version))


# -- reads ----------------------------------------------------------------------------------


@router.get("/metropolises/{slug}/budgets", response_model=list[BudgetRow],
            summary="Budgets participatifs d'une métropole / A metropolis' budget cycles")
def list_cycles(slug: Slug, views: BudgetViewsDep) -> list[dict[str, Any]]:
    """The metropolis' cycles with their stage and districts' budgets."""
    return list(views.cycles(Metropolis.create_id(slug)))


@router.get("/budgets/{cycle_id}", response_model=BudgetRow,
            summary="Consulter un budget participatif / Read a budget cycle")
def get_cycle(cycle_id: UUID, views: BudgetViewsDep) -> dict[str, Any]:
    """One cycle: its rules, districts' budgets, stage, deadlines and ballots counted."""
    return _cycle_or_404(views, cycle_id)


@router.get("/budgets/{cycle_id}/projects", response_model=list[BudgetRow],
            summary="Projets d'un budget participatif / A cycle's projects")
def list_projects(cycle_id: UUID, views: BudgetViewsDep,
                  district: Annotated[Code | None, Query()] = None,
                  eligible: bool | None = None) -> list[dict[str, Any]]:
    """The cycle's projects (title, summary, cost, district, eligibility), by district and
    eligibility."""
    _cycle_or_404(views, cycle_id)
    return list(views.projects(cycle_id, district=district, eligible=eligible))


@router.get("/budgets/{cycle_id}/results", response_model=BudgetRow,
            summary="Résultats d'un budget participatif / A cycle's results")
def get_results(cycle_id: UUID, views: BudgetViewsDep) -> dict[str, Any]:
    """Each district's outcome: the rule applied, the projects selected in order, every
    round with its exact prices, and why each other project was not funded."""
    _cycle_or_404(views, cycle_id)
    results = views.results(cycle_id)
    if results is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "budget.no_results", "message": f"budget cycle {cycle_id} has published "
                                                    "no results yet"})
    return results


@router.get("/budgets/{cycle_id}/timeline", response_model=list[BudgetRow],
            summary="Chronologie d'un budget participatif / A cycle's public timeline")
def get_timeline(cycle_id: UUID, views: BudgetViewsDep) -> list[dict[str, Any]]:
    """Every event of the cycle and its projects in log order, in French (ballots are
    counted, never listed)."""
    _cycle_or_404(views, cycle_id)
    return list(views.timeline(cycle_id))
