"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LedgerDep, ViewsDep
from api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="État du service / Health")
def health(ledger: LedgerDep, views: ViewsDep) -> HealthResponse:
    """The API answers and reaches the event store; the views' position in the log."""
    ledger.recorder.max_notification_id()
    return HealthResponse(
        status="ok", database="ok", view_position=views.max_tracking_id(ledger.name)
    )
