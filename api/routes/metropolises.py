"""Metropolises: their communes, council and charter in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.deps import CurrentUser, LedgerDep, require_role
from api.edge import EdgeRoute
from api.schemas import (
    ElectorateRequest,
    Line,
    MemberResponse,
    MetropolisResponse,
    RecordedResponse,
    SeatKind,
    Text,
)
from domain.governance.metropolis import Metropolis

router = APIRouter(prefix="/metropolises", tags=["metropolises"], route_class=EdgeRoute)

Slug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,100}$", description="e.g. grand-lyon")]


@router.get("/{slug}", response_model=MetropolisResponse,
            summary="Consulter une métropole / Read a metropolis")
def get_metropolis(slug: Slug, ledger: LedgerDep) -> MetropolisResponse:
    """A metropolis by its slug: communes, seated council members, charter in force."""
    metropolis = ledger.get_metropolis(Metropolis.create_id(slug))
    charter = ledger.get_charter(metropolis.id)
    return MetropolisResponse(
        id=metropolis.id, slug=metropolis.slug, name=metropolis.name,
        communes=metropolis.communes,
        council=[MemberResponse(ref=ref, **m) for ref, m in metropolis.members.items()],
        charter_version=charter.current_version, charter=charter.rules().as_dict(),
    )


class BureauResponse(BaseModel):
    composition: dict[str, int]
    holders: dict[str, dict[str, str]] = Field(description="holder ref → kind, mandate end")


class FillSeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SeatKind
    holder_ref: Line = Field(min_length=1, max_length=200)
    mandate_until: AwareDatetime = Field(description="with its UTC offset")


class VacateSeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_ref: Line = Field(min_length=1, max_length=200)
    cause: Text = Field(min_length=3, max_length=500)


@router.get("/{slug}/bureau", response_model=BureauResponse,
            summary="Bureau collégial / Collegial bureau")
def get_bureau(slug: Slug, ledger: LedgerDep) -> BureauResponse:
    """The bureau's composition (from the charter) and its current mandates."""
    bureau = ledger.get_bureau(Metropolis.create_id(slug))
    return BureauResponse(composition=bureau.composition, holders={
        ref: {"kind": h["kind"], "mandate_until": h["mandate_until"].isoformat()}
        for ref, h in bureau.holders.items()})


@router.post("/{slug}/bureau/seats", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Pourvoir un siège du bureau (greffe) / Fill a bureau seat",
             dependencies=[Depends(require_role("clerk"))])
def fill_seat(slug: Slug, body: FillSeatRequest, ledger: LedgerDep) -> RecordedResponse:
    """A clerk records a mandate on the collegial bureau."""
    return RecordedResponse(position=ledger.fill_bureau_seat(
        Metropolis.create_id(slug), body.kind, body.holder_ref, body.mandate_until))


@router.post("/{slug}/bureau/vacancies", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Libérer un siège du bureau (greffe) / Vacate a bureau seat",
             dependencies=[Depends(require_role("clerk"))])
def vacate_seat(slug: Slug, body: VacateSeatRequest, ledger: LedgerDep) -> RecordedResponse:
    """A clerk records the end of a mandate on the collegial bureau."""
    return RecordedResponse(position=ledger.vacate_bureau_seat(
        Metropolis.create_id(slug), body.holder_ref, body.cause))


@router.post("/{slug}/electorate", status_code=status.HTTP_201_CREATED,
             response_model=RecordedResponse,
             summary="Enregistrer les électeurs inscrits (greffe) / Record the electorate",
             dependencies=[Depends(require_role("clerk"))])
def record_electorate(slug: Slug, body: ElectorateRequest, user: CurrentUser,
                      ledger: LedgerDep) -> RecordedResponse:
    """A clerk records the registered electors per member commune from an extract of the
    electoral roll (the figure of the petition kinds whose threshold is a share of electors);
    a new record replaces the last for the collections opened afterwards."""
    metropolis = ledger.get_metropolis(Metropolis.create_id(slug))
    return RecordedResponse(position=ledger.record_electorate(
        metropolis.id, user.sub, body.figures, body.source))
