"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import LedgerDep, ViewsDep
from api.edge import EdgeRoute
from api.schemas import HealthResponse

router = APIRouter(tags=["health"], route_class=EdgeRoute)


@router.get("/health", response_model=HealthResponse, summary="État du service / Health")
def health(request: Request, ledger: LedgerDep, views: ViewsDep) -> HealthResponse:
    """The API answers and reaches the store: log position, Merkle log size, views' position."""
    return HealthResponse(
        status="ok", database="ok", log_position=ledger.recorder.max_notification_id(),
        ledger_size=request.app.state.merkle_log.size(),
        view_position=views.max_tracking_id(ledger.name),
    )
