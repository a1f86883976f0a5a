"""The FastAPI application: routers, a cap on request bodies, and every refusal (domain
errors, HTTP refusals, malformed requests) turned into one answer naming the rule."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.convention_schemas import REGISTRY_MAX_BYTES
from api.messages_fr import explain
from api.routes import (
    communes,
    drafts,
    guarantor,
    health,
    ledger,
    metropolises,
    petitions,
    proposals,
    signatures,
)
from api.routes import budgets
from api.routes import ballots
from api.routes import conventions
from api.settings import Settings
from domain.application import Registre
from domain.errors import DomainError, NotFound, NotPermitted
from domain.rules.text import displayable
from projections.compliance import ComplianceView
from projections.ledger import MerkleLog
from projections.proposals import ProposalViews

DESCRIPTION = """
**Registre** — registre public et vérifiable des processus démocratiques de la métropole.
Chaque proposition, vote et changement d'étape est un événement immuable.

*Registre — the public, verifiable record of the metropolis' democratic processes.*

Les refus nomment la règle et l'expliquent en français ; errors name the broken rule:
`{"detail": {"rule": "...", "message": "...", "explication": "…"}}` (422: also `errors`, the
fields at fault, never their input). Request bodies are capped (413).

Écritures : la réponse donne la position dans le registre dès l'enregistrement. Pour relire
aussitôt sa propre écriture, envoyer `Prefer: wait-for-views` (ou `?wait_for_views=true`) ;
l'en-tête `Views-Caught-Up` dit alors si les vues l'ont appliquée.
"""

HTTP_RULES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def refusal(status_code: int, rule: str, message: str, **extra: Any) -> JSONResponse:
    """The project's error body: the rule, a precise message, the rule in French."""
    return JSONResponse(status_code=status_code, content={"detail": {
        "rule": rule, "message": message, "explication": explain(rule), **extra}})


class BodyLimit:
    """Refuses a request body larger than `limit` bytes with 413, before the application
    (authentication, parsing) sees any of it: by its Content-Length when declared, else by
    counting the chunks as they arrive. The body, once whole, is replayed to the app.
    `larger`: (path pattern, limit) for the few routes taking a bigger body (a registry
    extract's pseudonyms)."""

    def __init__(self, app: ASGIApp, limit: int,
                 larger: tuple[tuple[str, int], ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.larger = tuple((re.compile(pattern), most) for pattern, most in larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((most for pattern, most in self.larger
                      if pattern.match(scope.get("path", ""))), self.limit)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(scope, receive, send, limit)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send,
                         limit: int) -> None:
        response = refusal(status.HTTP_413_CONTENT_TOO_LARGE, "body_too_large",
                           f"the request body exceeds {limit} bytes")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]{0,63}|\[key\])$")


def _shown_loc(part: object) -> str | int:
    # A location names fields, but a dict's keys come from the input: show only names.
    if isinstance(part, int) or (isinstance(part, str) and _NAME.match(part)):
        return part
    return "<key>"


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Where and why, for each field at fault; no input, no context beyond the reason."""
    found = []
    for e in error.errors()[:50]:
        msg = str(e.get("msg", ""))
        if e.get("type") == "json_invalid" and isinstance(e.get("ctx"), dict):
            msg = f"{msg}: {e['ctx'].get('error', '')}"
        found.append({"loc": [_shown_loc(p) for p in e.get("loc", ())],
                      "msg": displayable(msg)[:300], "type": str(e.get("type", ""))[:100]})
    return found


def _status_of(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_409_CONFLICT


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The group-commit writer (api/group_commit.py, set by the wiring) runs while the app
    # serves: its thread starts with the app and stops, after its last batch, on shutdown.
    writer = getattr(app.state, "writer", None)
    if writer is not None:
        writer.start()
    try:
        yield
    finally:
        if writer is not None:
            writer.stop()


def build_app(*, settings: Settings, registre: Registre, views: ProposalViews,
              merkle_log: MerkleLog, compliance: ComplianceView, ledger_key: Any,
              witness_vkey: Callable[[], str | None]) -> FastAPI:
    app = FastAPI(title="Registre", version="0.1.0", description=DESCRIPTION,
                  lifespan=_lifespan)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, larger=(
        (conventions.INVITATIONS_PATH, max(settings.max_body_bytes, REGISTRY_MAX_BYTES)),))
    app.state.settings = settings
    app.state.registre = registre
    app.state.views = views
    app.state.merkle_log = merkle_log
    app.state.compliance = compliance
    app.state.ledger_key = ledger_key
    app.state.witness_vkey = witness_vkey

    @app.exception_handler(DomainError)
    def _domain_error(request: Request, error: DomainError) -> JSONResponse:
        return refusal(_status_of(error), error.rule, error.message)

    @app.exception_handler(IntegrityError)
    def _concurrent(request: Request, error: IntegrityError) -> JSONResponse:
        # Another act changed the same record at the same moment: nothing of this one was
        # recorded (optimistic concurrency); the caller may simply try again.
        return refusal(status.HTTP_409_CONFLICT, "concurrent_change",
                       "another act changed this record at the same moment; nothing was "
                       "recorded, try again")

    @app.exception_handler(StarletteHTTPException)
    def _refusal(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail
        if not (isinstance(detail, dict) and "rule" in detail):
            detail = {"rule": HTTP_RULES.get(error.status_code, "http_error"),
                      "message": str(detail)}
        response = refusal(error.status_code, detail["rule"], detail["message"])
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # Never echo the input (a 100 MB body, a lone surrogate that cannot even be encoded):
        # the fields at fault and why, only.
        errors = _field_errors(error)
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                            for e in errors)
        return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_request",
                       f"the request is malformed: {message}"[:2000], errors=errors)

    app.include_router(health.router)
    app.include_router(metropolises.router)
    app.include_router(drafts.router)
    app.include_router(proposals.router)
    app.include_router(ledger.router)
    app.include_router(guarantor.router)
    app.include_router(communes.router)
    app.include_router(petitions.router)
    app.include_router(signatures.router)
    app.include_router(budgets.router)
    app.include_router(ballots.router)
    app.include_router(conventions.router)
    return app
