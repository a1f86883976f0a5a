"""Metropolises: their communes, council and charter in force."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, LedgerDep, require_role
from api.schemas import MemberResponse, MetropolisResponse, RecordedResponse
from domain.governance.metropolis import Metropolis

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


SeatKind = Literal["maires_majoritaires", "vice_presidents_minoritaires",
                   "citoyens_tires_au_sort"]


class BureauResponse(BaseModel):
    composition: dict[str, int]
    holders: dict[str, dict[str, str]] = Field(description="holder ref → kind, mandate end")


class FillSeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SeatKind
    holder_ref: str = Field(min_length=1, max_length=200)
    mandate_until: datetime


class VacateSeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_ref: str = Field(min_length=1, max_length=200)
    cause: str = Field(min_length=3, max_length=500)


@router.get("/{slug}/bureau", response_model=BureauResponse,
            summary="Bureau collégial / Collegial bureau")
def get_bureau(slug: str, ledger: LedgerDep) -> BureauResponse:
    """The bureau's composition (from the charter) and its current mandates."""
    bureau = ledger.get_bureau(Metropolis.create_id(slug))
    return BureauResponse(composition=bureau.composition, holders={
        ref: {"kind": h["kind"], "mandate_until": h["mandate_until"].isoformat()}
        for ref, h in bureau.holders.items()})


@router.post("/{slug}/bureau/seats", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Pourvoir un siège du bureau (greffe) / Fill a bureau seat")
def fill_seat(slug: str, body: FillSeatRequest, user: CurrentUser,
              ledger: LedgerDep) -> RecordedResponse:
    """A clerk records a mandate on the collegial bureau."""
    require_role(user, "clerk")
    return RecordedResponse(position=ledger.fill_bureau_seat(
        Metropolis.create_id(slug), body.kind, body.holder_ref, body.mandate_until))


@router.post("/{slug}/bureau/vacancies", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Libérer un siège du bureau (greffe) / Vacate a bureau seat")
def vacate_seat(slug: str, body: VacateSeatRequest, user: CurrentUser,
                ledger: LedgerDep) -> RecordedResponse:
    """A clerk records the end of a mandate on the collegial bureau."""
    require_role(user, "clerk")
    return RecordedResponse(position=ledger.vacate_bureau_seat(
        Metropolis.create_id(slug), body.holder_ref, body.cause))
