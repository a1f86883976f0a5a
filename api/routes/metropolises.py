"""Metropolises: their communes, council and charter in force."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LedgerDep
from api.schemas import MemberResponse, MetropolisResponse
from domain.metropolis import Metropolis

router = APIRouter(prefix="/metropolises", tags=["metropolises"])


@router.get("/{slug}", response_model=MetropolisResponse,
            summary="Consulter une métropole / Read a metropolis")
def get_metropolis(slug: str, ledger: LedgerDep) -> MetropolisResponse:
    """A metropolis by its slug: communes, seated council members, charter in force."""
    metropolis = ledger.get_metropolis(Metropolis.create_id(slug))
    charter = ledger.get_charter(metropolis.id)
    return MetropolisResponse(
        id=metropolis.id, slug=metropolis.slug, name=metropolis.name,
        communes=metropolis.communes,
        council=[MemberResponse(ref=ref, **m) for ref, m in metropolis.members.items()],
        charter_version=charter.current_version, charter=charter.rules().as_dict(),
    )
