"""Voting in a participatory budget: the high-volume write of the budget, through the
group-commit writer (api/group_commit.py), as petition signatures are.

The voter is the citizen of the bearer token, under their pseudonym in the cycle's metropolis
(D10); where they may vote (commune of residence, age) comes from the token's claims, never
from the body. The ballot is checked against the district's ballot published when voting
opened (known projects, approvals, points, budget: each refusal names its rule). The answer is
sent once the transaction holding the ballot committed, with its log position; a second ballot
by the same person is refused (409 `budget.one_ballot`) or replaces the first, as the cycle's
rules say; a database failure answers 503 with nothing acknowledged.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import Principal
from api.budget_schemas import CastBallotRequest
from api.deps import CurrentUser, citizen_pseudonym, require_role
from api.edge import EdgeRoute
from api.group_commit import NotAcknowledged
from api.schemas import ErrorResponse, RecordedResponse
from domain.application import Registre

router = APIRouter(prefix="/budgets", tags=["budgets"], route_class=EdgeRoute)

UNAVAILABLE = {503: {"model": ErrorResponse, "description": "the database failed: nothing "
                     "was acknowledged (the ballot may be retried)"}}


def _known(request: Request) -> dict[UUID, UUID]:
    """Each cycle's metropolis, as read once by this process (it never changes)."""
    known = getattr(request.app.state, "budget_metropolis", None)
    if known is None:
        known = request.app.state.budget_metropolis = {}
    return known


def _voter_ref(request: Request, ledger: Registre, cycle_id: UUID, user: Principal) -> str:
    """The voter's pseudonym in the cycle's metropolis (404 `unknown_budget_cycle` first)."""
    known = _known(request)
    metropolis_id = known.get(cycle_id)
    if metropolis_id is None:
        metropolis_id = ledger.get_budget_cycle(cycle_id).metropolis_id
        if len(known) > 100_000:
            known.clear()
        known[cycle_id] = metropolis_id
    ref = citizen_pseudonym(ledger, metropolis_id, user.sub, user.issuer)
    assert ref is not None  # created when missing
    return ref


@router.post("/{cycle_id}/ballots", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse, responses=UNAVAILABLE,
             summary="Voter / Cast a ballot",
             dependencies=[Depends(require_role("citizen"))])
async def cast(cycle_id: UUID, body: CastBallotRequest, request: Request,
               user: CurrentUser) -> Any:
    """A resident casts a valid ballot in a district where they take part while voting is
    open: once, or again replacing the first where the cycle's rules allow it (each refusal
    names its rule). Answers once the ballot is committed."""
    ledger: Registre = request.app.state.registre
    if cycle_id in _known(request):  # the usual case: no database read before the writer's
        voter = _voter_ref(request, ledger, cycle_id, user)
    else:
        voter = await run_in_threadpool(_voter_ref, request, ledger, cycle_id, user)
    act = ledger.ballot_act(cycle_id, voter, user.signer_claims(), body.district, body.pairs())
    try:
        position = await request.app.state.writer.write(act)
    except NotAcknowledged as e:
        from api.app import refusal  # api.app imports this router

        return refusal(status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable", str(e))
    return JSONResponse(status_code=status.HTTP_201_CREATED, content={"position": position})
