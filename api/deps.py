"""FastAPI dependencies as `Annotated` aliases (the ledger, the views, the current user) and
the role checks that write routes declare (`require_role`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import InvalidToken, Principal, verify_token
from domain.application import Registre
from projections.proposals import ProposalViews

_bearer = HTTPBearer(auto_error=False, description="JWT issued by `registre token issue`")


def _registre(request: Request) -> Registre:
    return request.app.state.registre


def _views(request: Request) -> ProposalViews:
    return request.app.state.views


def _current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"rule": "authentication_required",
                    "message": "a bearer token is required for this act"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return verify_token(request.app.state.settings.signing_secret(), credentials.credentials)
    except InvalidToken as e:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"rule": "invalid_token", "message": str(e)},
            headers={"WWW-Authenticate": "Bearer"},
        ) from None


LedgerDep = Annotated[Registre, Depends(_registre)]
ViewsDep = Annotated[ProposalViews, Depends(_views)]
CurrentUser = Annotated[Principal, Depends(_current_user)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A route dependency: 403 naming the rule when the token's role is not among `roles`,
    e.g. `dependencies=[Depends(require_role("clerk"))]`."""

    def role_required(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={"rule": "role_required",
                        "message": f"this act needs the role {' or '.join(roles)}; "
                                   f"your token carries '{user.role}'"},
            )
        return user

    role_required.__name__ = f"require_role_{'_or_'.join(roles)}"
    role_required.roles = roles  # type: ignore[attr-defined]  # what the OpenAPI and tests read
    return role_required


