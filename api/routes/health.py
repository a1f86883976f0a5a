"""Liveness and readiness: the store's real state, each follower's, and the dead letters (D13)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import LedgerDep, ViewsDep, require_role
from api.edge import EdgeRoute
from api.messages_fr import explain
from projections.followers import dead_letters, read_state

router = APIRouter(tags=["health"], route_class=EdgeRoute)
log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 2.0


class FollowerHealth(BaseModel):
    name: str = Field(description="public_views, compliance, RegistreRelay, merkle_log")
    state: Literal["caught_up", "behind"]
    position: int | None = Field(description="the last log position it tracked")
    lag: int = Field(description="events it follows that it has not processed yet (capped)")
    processed_to: int = Field(description="it has processed every event up to this position")
    dead_letters: int = Field(description="events it could not apply and set aside")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    log_position: int | None
    ledger_size: int
    view_position: int | None = Field(description="the public views' tracked position")
    followers: list[FollowerHealth]
    dead_letters: int = Field(description="events set aside by any follower (see "
                                          "GET /guarantor/dead-letters)")


class DeadLetterResponse(BaseModel):
    follower: str
    position: int = Field(description="the log position of the event set aside")
    topic: str
    error: str
    at: datetime


def _unavailable(error: Exception) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content={
        "status": "unavailable", "database": "unavailable",
        "detail": {"rule": "database_unavailable", "failing": "database",
                   "message": f"PostgreSQL did not answer within {DATABASE_TIMEOUT_SECONDS:g} s "
                              f"({type(error).__name__})",
                   "explication": explain("database_unavailable")}})


@router.get("/health", response_model=HealthResponse, summary="État du service / Health",
            responses={503: {"description": "the store does not answer"}})
def health(request: Request, ledger: LedgerDep, views: ViewsDep) -> HealthResponse | JSONResponse:
    """The API answers and reaches the store: log position, Merkle log size, each follower's
    position, lag and dead letters; 503 naming the failing part when PostgreSQL is down."""
    try:
        state = read_state(views.datastore, request.app.state.followers,
                           ledger.recorder.events_table_name, DATABASE_TIMEOUT_SECONDS,
                           request.app.state.merkle_log)
    except Exception as error:  # noqa: BLE001 (whatever the cause, the store is not usable)
        log.warning("health: the store does not answer: %r", error)
        return _unavailable(error)
    followers = [FollowerHealth(**f) for f in state["followers"]]
    views_position = next((f.position for f in followers if f.name == "public_views"), None)
    return HealthResponse(
        status="ok", database="ok", log_position=state["log_position"],
        ledger_size=state["ledger_size"], view_position=views_position,
        followers=followers, dead_letters=state["dead_letters"],
    )


@router.get("/guarantor/dead-letters", response_model=list[DeadLetterResponse],
            tags=["guarantor"], dependencies=[Depends(require_role("guarantor"))],
            summary="Événements mis de côté (garant) / Events the followers set aside")
def list_dead_letters(views: ViewsDep, follower: str | None = Query(None, max_length=100),
                      after: int = Query(0, ge=0, le=2**62),
                      limit: int = Query(100, ge=1, le=1000)) -> list[DeadLetterResponse]:
    """The events a view or the relay could not apply, in log order (guarantor)."""
    return [DeadLetterResponse(**d.__dict__)
            for d in dead_letters(views.datastore, follower, after, limit)]
