"""Communes: each commune's record of vetoes under the governance pact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import ViewsDep
from api.edge import EdgeRoute
from api.schemas import CODE_MAX, ShownLine, ShownText

router = APIRouter(prefix="/communes", tags=["communes"], route_class=EdgeRoute)

CommuneCode = Annotated[str, Path(min_length=1, max_length=CODE_MAX, pattern=r"^[\w-]+$",
                                  description="code INSEE de la commune")]


class VetoRecordEntry(BaseModel):
    proposal_id: UUID
    title: ShownLine
    mayor_ref: str
    reason: ShownText
    filed_at: datetime
    position: int
    outcome: str | None
    cause: str | None


@router.get("/{code}/vetoes", response_model=list[VetoRecordEntry],
            summary="Vetos d'une commune / A commune's veto record")
def veto_record(code: CommuneCode, views: ViewsDep,
                metropolis_id: UUID | None = None) -> list[VetoRecordEntry]:
    """Every veto filed by the commune's mayor, with its outcome once the window closed; a
    commune belonging to several metropolises (e.g. a test and a real one) is told apart by
    `metropolis_id`."""
    return [VetoRecordEntry(**{k: r[k] for k in VetoRecordEntry.model_fields})
            for r in views.veto_record(code, metropolis_id)]
