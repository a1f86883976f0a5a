"""Citizens' conventions drawn by lot: a clerk convenes one (kind, title, mandate, rules),
draws the invitations from a registry extract sent as pseudonyms, the guarantor commits
SHA-256 of a secret before the pool closes, residents volunteer (category values, contact)
or withdraw, the guarantor reveals the secret after the commitment, drawn members accept or
decline their seat, the clerk records the sitting's sessions, sends its proposals to the
council, or cancels it with reasons; and the public reads (conventions, one convention, the
committed pool, each volunteer's probability, the timeline).

A volunteer acts under a pseudonym for THIS convention: the pseudonym service's HMAC of the
token's issuer and of `<subject>#convention:<id>` under the metropolis' key, so a pool entry
never links to what the same person signs or votes elsewhere (D10); the commune comes from
the token's verified claims, never from the body. Officials act under their public mandate
reference. The pool's commitment, the draw and the sitting's opening are the
ConventionWorkflow's. The reads come from the convention views
(`request.app.state.convention_views`).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status

from api.auth import Principal
from api.budget_schemas import CreatedResponse
from api.convention_schemas import (
    ConventionCancellationRequest,
    ConventionProposalRequest,
    ConventionSessionRequest,
    InvitationsRequest,
    InvitationsResponse,
    OpenConventionRequest,
    RevealSeedRequest,
    SeatAnswerRequest,
    SeedCommitmentRequest,
    VolunteerRequest,
)
from api.deps import CurrentUser, LedgerDep, citizen_pseudonym, require_role
from api.edge import EdgeRoute
from api.schemas import RecordedResponse, ShownDetails
from domain.application import Registre
from domain.convention.convention import ConventionStage
from domain.errors import WrongStage
from domain.governance.metropolis import Metropolis

router = APIRouter(tags=["conventions"], route_class=EdgeRoute)

Slug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,100}$", description="e.g. demo-metrokawa")]
ConventionRow = ShownDetails
"""A row of the convention views, every stored string neutralised for display."""

INVITATIONS_PATH = r"^/conventions/[^/]+/invitations$"  # the one larger body (api/app.py)


def workflow_id(convention_id: str) -> str:
    """The id of a convention's workflow (ConventionWorkflow)."""
    return f"convention-{convention_id}"


def volunteer_ref(ledger: Registre, user: Principal, convention_id: UUID) -> str:
    """The citizen's pseudonym for this convention only (404 `unknown_convention` first):
    the subject with the convention's id mixed in, through the metropolis' pseudonym key."""
    metropolis_id = ledger.get_convention(convention_id).metropolis_id
    ref = citizen_pseudonym(ledger, metropolis_id, f"{user.sub}#convention:{convention_id}",
                            user.issuer)
    assert ref is not None  # created when missing
    return ref


def _views(request: Request) -> Any:
    """The convention views (their reading API: conventions, convention, pool,
    probabilities, timeline)."""
    views = getattr(request.app.state, "convention_views", None)
    if views is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "not_found", "message": "the convention views are not served here"})
    return views


ConventionViewsDep = Annotated[Any, Depends(_views)]


def _convention_or_404(views: Any, convention_id: UUID) -> dict[str, Any]:
    row = views.convention(convention_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "rule": "unknown_convention", "message": f"no convention {convention_id}"})
    return row


# -- acts -----------------------------------------------------------------------------------


@router.post("/metropolises/{slug}/conventions", status_code=status.HTTP_201_CREATED,
             response_model=CreatedResponse,
             summary="Convoquer une convention citoyenne (greffe) / Convene a convention",
             dependencies=[Depends(require_role("clerk"))])
def open_convention(slug: Slug, body: OpenConventionRequest, user: CurrentUser,
                    ledger: LedgerDep) -> CreatedResponse:
    """A clerk convenes a convention of a kind the charter offers, with its mandate and
    rules (the kind's, with the overrides given); volunteers' registration opens."""
    metropolis = ledger.get_metropolis(Metropolis.create_id(slug))
    convention_id, position = ledger.open_convention(
        metropolis.id, user.sub, body.kind, body.title, body.mandate,
        body.rules.overrides() if body.rules else {})
    return CreatedResponse(id=convention_id, position=position)


@router.post("/conventions/{convention_id}/invitations", status_code=status.HTTP_201_CREATED,
             response_model=InvitationsResponse,
             summary="Tirer les invitations (greffe) / Draw the invitations",
             dependencies=[Depends(require_role("clerk"))])
def draw_invitations(convention_id: UUID, body: InvitationsRequest, user: CurrentUser,
                     ledger: LedgerDep) -> InvitationsResponse:
    """A clerk draws the invitations uniformly from a registry extract (pseudonyms) with a
    public seed, once; the extract's size and digest and the entries invited are recorded."""
    chosen = ledger.draw_convention_invitations(convention_id, user.sub, body.entries,
                                                body.seed)
    convention = ledger.get_convention(convention_id)
    return InvitationsResponse(invited=chosen, position=ledger.position_of(
        convention.id, convention.version))


@router.post("/conventions/{convention_id}/seed-commitment",
             status_code=status.HTTP_201_CREATED, response_model=RecordedResponse,
             summary="Engager le secret du tirage (garant) / Commit the draw's secret",
             dependencies=[Depends(require_role("guarantor"))])
def commit_seed(convention_id: UUID, body: SeedCommitmentRequest, user: CurrentUser,
                ledger: LedgerDep) -> RecordedResponse:
    """The guarantor commits SHA-256 of a secret before the pool closes."""
    return RecordedResponse(position=ledger.commit_convention_seed(convention_id, user.sub,
                                                                   body.digest))


@router.post("/conventions/{convention_id}/volunteers", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Se porter volontaire / Volunteer",
             dependencies=[Depends(require_role("citizen"))])
def volunteer(convention_id: UUID, body: VolunteerRequest, user: CurrentUser,
              ledger: LedgerDep) -> RecordedResponse:
    """A resident of age volunteers once during registration, with one value per category
    of the quotas (the commune is the identity provider's); values and contact are sealed."""
    ref = volunteer_ref(ledger, user, convention_id)
    return RecordedResponse(position=ledger.register_volunteer(
        convention_id, ref, user.signer_claims(), body.values, body.contact))


@router.delete("/conventions/{convention_id}/volunteers/me", response_model=RecordedResponse,
               summary="Retirer sa candidature / Withdraw",
               dependencies=[Depends(require_role("citizen"))])
def withdraw(convention_id: UUID, user: CurrentUser, ledger: LedgerDep) -> RecordedResponse:
    """A volunteer withdraws before the pool closes."""
    ref = volunteer_ref(ledger, user, convention_id)
    return RecordedResponse(position=ledger.withdraw_volunteer(convention_id, ref))


@router.post("/conventions/{convention_id}/seed", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Révéler la graine du tirage (garant) / Reveal the seed",
             dependencies=[Depends(require_role("guarantor"))])
def reveal_seed(convention_id: UUID, body: RevealSeedRequest, user: CurrentUser,
                ledger: LedgerDep) -> RecordedResponse:
    """After the pool's commitment, the guarantor reveals the seed (the committed secret,
    the public dice's digits or the beacon's value); the panel is drawn from it."""
    return RecordedResponse(position=ledger.reveal_convention_seed(convention_id, user.sub,
                                                                   body.seed))


@router.post("/conventions/{convention_id}/seats/me", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Accepter ou refuser son siège / Answer one's seat",
             dependencies=[Depends(require_role("citizen"))])
def answer_seat(convention_id: UUID, body: SeatAnswerRequest, user: CurrentUser,
                ledger: LedgerDep) -> RecordedResponse:
    """A drawn member accepts or declines their seat; a declined seat goes to an alternate
    with the same category values."""
    ref = volunteer_ref(ledger, user, convention_id)
    return RecordedResponse(position=ledger.answer_convention_seat(convention_id, ref,
                                                                   body.accept))


@router.post("/conventions/{convention_id}/sessions", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Consigner une séance (greffe) / Record a session",
             dependencies=[Depends(require_role("clerk"))])
def record_session(convention_id: UUID, body: ConventionSessionRequest, user: CurrentUser,
                   ledger: LedgerDep) -> RecordedResponse:
    """A clerk records a session held by the sitting convention, with its summary."""
    return RecordedResponse(position=ledger.record_convention_session(
        convention_id, user.sub, body.number, body.summary))


@router.post("/conventions/{convention_id}/proposals", status_code=status.HTTP_201_CREATED,
             response_model=CreatedResponse,
             summary="Transmettre une proposition au conseil (greffe) / Send a proposal",
             dependencies=[Depends(require_role("clerk"))])
def send_proposal(convention_id: UUID, body: ConventionProposalRequest, user: CurrentUser,
                  ledger: LedgerDep) -> CreatedResponse:
    """A clerk sends one of the sitting convention's proposals to the council, which must
    answer it (the deliberation lifecycle, authored by the convention)."""
    proposal_id, position = ledger.send_convention_proposal(
        convention_id, user.sub, body.title, body.summary, body.communes)
    return CreatedResponse(id=proposal_id, position=position)


@router.post("/conventions/{convention_id}/cancel", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Annuler une convention (greffe) / Cancel a convention",
             dependencies=[Depends(require_role("clerk"))])
def cancel(convention_id: UUID, body: ConventionCancellationRequest, user: CurrentUser,
           ledger: LedgerDep) -> RecordedResponse:
    """A clerk cancels a convention, with reasons, at any stage before its end."""
    convention = ledger.get_convention(convention_id)
    if convention.stage == ConventionStage.ENDED:
        raise WrongStage(f"convention {convention_id} has ended ({convention.outcome})")
    ledger.end_convention(convention_id, ledger.clock(), "cancelled", body.reason)
    convention = ledger.get_convention(convention_id)
    return RecordedResponse(position=ledger.position_of(convention.id, convention.version))


# -- reads ----------------------------------------------------------------------------------


@router.get("/metropolises/{slug}/conventions", response_model=list[ConventionRow],
            summary="Conventions citoyennes d'une métropole / A metropolis' conventions")
def list_conventions(slug: Slug, views: ConventionViewsDep) -> list[dict[str, Any]]:
    """The metropolis' conventions with their kind, stage and deadlines."""
    return list(views.conventions(Metropolis.create_id(slug)))


@router.get("/conventions/{convention_id}", response_model=ConventionRow,
            summary="Consulter une convention citoyenne / Read a convention")
def get_convention(convention_id: UUID, views: ConventionViewsDep) -> dict[str, Any]:
    """One convention: mandate, rules, stage, deadlines, commitment, seed, panel, sessions."""
    return _convention_or_404(views, convention_id)


@router.get("/conventions/{convention_id}/pool", response_model=ConventionRow,
            summary="Vivier engagé d'une convention / A convention's committed pool")
def get_pool(convention_id: UUID, views: ConventionViewsDep) -> dict[str, Any]:
    """The pool as committed (pseudonyms and category values, never a contact), or its size
    while registration is open."""
    _convention_or_404(views, convention_id)
    return views.pool(convention_id)


@router.get("/conventions/{convention_id}/probabilities", response_model=ConventionRow,
            summary="Probabilités de sélection / Each volunteer's selection probability")
def get_probabilities(convention_id: UUID, views: ConventionViewsDep) -> dict[str, Any]:
    """Each volunteer's probability of selection under the committed distribution, and the
    least and greatest."""
    _convention_or_404(views, convention_id)
    return views.probabilities(convention_id)


@router.get("/conventions/{convention_id}/timeline", response_model=list[ConventionRow],
            summary="Chronologie d'une convention / A convention's public timeline")
def get_timeline(convention_id: UUID, views: ConventionViewsDep) -> list[dict[str, Any]]:
    """Every event of the convention in log order, in French (volunteers are counted, never
    listed)."""
    _convention_or_404(views, convention_id)
    return list(views.timeline(convention_id))
