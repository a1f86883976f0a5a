"""The FastAPI application: routers, and domain errors turned into answers naming the rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from eventsourcing.persistence import IntegrityError
from fastapi.responses import JSONResponse

from api.messages_fr import explain
from api.routes import communes, drafts, guarantor, health, ledger, metropolises, proposals
from api.settings import Settings
from domain.application import Registre
from domain.errors import DomainError, NotFound, NotPermitted
from projections.compliance import ComplianceView
from projections.ledger import MerkleLog
from projections.proposals import ProposalViews

DESCRIPTION = """
**Registre** — registre public et vérifiable des processus démocratiques de la métropole.
Chaque proposition, vote et changement d'étape est un événement immuable.

*Registre — the public, verifiable record of the metropolis' democratic processes.*

Les refus nomment la règle et l'expliquent en français ; errors name the broken rule:
`{"detail": {"rule": "...", "message": "...", "explication": "…"}}` (422: the fields at fault).
"""


def _status_of(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_409_CONFLICT


def build_app(*, settings: Settings, registre: Registre, views: ProposalViews,
              merkle_log: MerkleLog, compliance: ComplianceView, ledger_key: Any,
              witness_vkey: Callable[[], str | None]) -> FastAPI:
    app = FastAPI(title="Registre", version="0.1.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.registre = registre
    app.state.views = views
    app.state.merkle_log = merkle_log
    app.state.compliance = compliance
    app.state.ledger_key = ledger_key
    app.state.witness_vkey = witness_vkey

    @app.exception_handler(DomainError)
    def _domain_error(request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(
            status_code=_status_of(error),
            content={"detail": {"rule": error.rule, "message": error.message,
                                "explication": explain(error.rule)}},
        )

    @app.exception_handler(IntegrityError)
    def _concurrent(request: Request, error: IntegrityError) -> JSONResponse:
        # Another act changed the same record at the same moment: nothing of this one was
        # recorded (optimistic concurrency); the caller may simply try again.
        return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": {
            "rule": "concurrent_change",
            "message": "another act changed this record at the same moment; nothing was "
                       "recorded, try again",
            "explication": explain("concurrent_change")}})

    @app.exception_handler(HTTPException)
    def _refusal(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail
        if isinstance(detail, dict) and "rule" in detail:
            detail = {**detail, "explication": explain(detail["rule"])}
        return JSONResponse(status_code=error.status_code, content={"detail": detail},
                            headers=error.headers)

    app.include_router(health.router)
    app.include_router(metropolises.router)
    app.include_router(drafts.router)
    app.include_router(proposals.router)
    app.include_router(ledger.router)
    app.include_router(guarantor.router)
    app.include_router(communes.router)
    return app
