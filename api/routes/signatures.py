"""Signing a petition: the high-volume write of the right of interpellation, through the
group-commit writer (api/group_commit.py).

The signer is the citizen of the bearer token, under their pseudonym in the petition's
metropolis (D10); their eligibility (commune of residence, elector, date of birth) comes from
the token's claims, vouched for by the identity provider, never from the body. The answer is
sent once the transaction holding the signature committed, with its log position; a second
signature by the same person is refused alone (409 `petition.one_signature`), whatever else
was in its batch; a database failure answers 503 with nothing acknowledged (retrying is safe:
a signature that was stored after all is then found as already given).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import Principal
from api.deps import CurrentUser, citizen_pseudonym, require_role
from api.edge import EdgeRoute
from api.group_commit import NotAcknowledged
from api.schemas import ErrorResponse, RecordedResponse
from domain.application import Registre

router = APIRouter(prefix="/petitions", tags=["petitions"], route_class=EdgeRoute)

UNAVAILABLE = {503: {"model": ErrorResponse, "description": "the database failed: nothing "
                     "was acknowledged (the signature may be retried)"}}


def _known(request: Request) -> dict[UUID, UUID]:
    """Each petition's metropolis, as read once by this process (it never changes)."""
    known = getattr(request.app.state, "petition_metropolis", None)
    if known is None:
        known = request.app.state.petition_metropolis = {}
    return known


def _metropolis_of(request: Request, ledger: Registre, petition_id: UUID) -> UUID:
    """The petition's metropolis (kept once read); 404 rule `unknown_petition` when there
    is no such petition."""
    known = _known(request)
    metropolis_id = known.get(petition_id)
    if metropolis_id is None:
        metropolis_id = ledger.get_petition(petition_id).metropolis_id
        if len(known) > 100_000:
            known.clear()
        known[petition_id] = metropolis_id
    return metropolis_id


def _signer_ref(request: Request, ledger: Registre, petition_id: UUID,
                user: Principal) -> str:
    metropolis_id = _metropolis_of(request, ledger, petition_id)
    ref = citizen_pseudonym(ledger, metropolis_id, user.sub, user.issuer)
    assert ref is not None  # created when missing
    return ref


@router.post("/{petition_id}/signatures", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse, responses=UNAVAILABLE,
             summary="Signer une pétition / Sign a petition",
             dependencies=[Depends(require_role("citizen"))])
async def sign(petition_id: UUID, request: Request, user: CurrentUser) -> Any:
    """A citizen signs a petition collecting signatures, once (again only after a
    withdrawal), if the petition's kind lets them sign (residence, elector, age, per-signer
    limit: each refusal names its rule). Answers once the signature is committed."""
    ledger: Registre = request.app.state.registre
    if petition_id in _known(request):  # the usual case: no database read before the writer's
        signer = _signer_ref(request, ledger, petition_id, user)
    else:  # first signature of this petition in this process: reads, off the event loop
        signer = await run_in_threadpool(_signer_ref, request, ledger, petition_id, user)
    act = ledger.signature_act(petition_id, signer, user.signer_claims())
    try:
        position = await request.app.state.writer.write(act)
    except NotAcknowledged as e:
        from api.app import refusal  # api.app imports this router

        return refusal(status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable", str(e))
    return Response(b'{"position":%d}' % position, status.HTTP_201_CREATED,
                    media_type="application/json")  # JSONResponse's bytes, without json.dumps
