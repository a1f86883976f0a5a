"""FastAPI dependencies as `Annotated` aliases (the ledger, the views, the current user) and
the role checks that write routes declare (`require_role`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from uuid import UUID

from api.auth import ISSUER, InvalidToken, Principal, verify_token
from domain.application import Registre
from domain.deliberation.proposal import Proposal
from domain.errors import UnknownMetropolis, UnknownProposal
from domain.governance.metropolis import Metropolis
from projections.proposals import ProposalViews

_bearer = HTTPBearer(auto_error=False, description="JWT issued by `registre token issue`")


async def _registre(request: Request) -> Registre:
    return request.app.state.registre


async def _views(request: Request) -> ProposalViews:
    return request.app.state.views


async def _current_user(
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


def acting_ref(ledger: Registre, principal: Principal, metropolis_id: UUID, *,
               known: bool = False) -> str:
    """The reference under which the principal acts in a metropolis (D10): a citizen's
    pseudonym there (HMAC of issuer and subject under the metropolis' key), never the subject;
    an official's public mandate reference (the subject). An id from the request body is
    checked first (404), so no key is ever made for a metropolis that does not exist."""
    if principal.role != "citizen":
        return principal.sub
    if not known and not isinstance(ledger.get_metropolis(metropolis_id), Metropolis):
        raise UnknownMetropolis(f"no metropolis {metropolis_id}")
    return citizen_pseudonym(ledger, metropolis_id, principal.sub, principal.issuer)


def citizen_pseudonym(ledger: Registre, metropolis_id: UUID, subject: str,
                      issuer: str | None = None, *, create: bool = True) -> str | None:
    """A citizen's pseudonym in a metropolis, from the identity provider's subject (None
    without `create` when the metropolis has no pseudonym key yet)."""
    return ledger.personal_data.pseudonym(metropolis_id, issuer or ISSUER, subject,
                                          create=create)


def metropolis_of(ledger: Registre, proposal_id: UUID) -> UUID:
    """The metropolis a proposal belongs to (404 rule `unknown_proposal` otherwise)."""
    proposal = ledger.get_proposal(proposal_id)
    if not isinstance(proposal, Proposal):
        raise UnknownProposal(f"no proposal {proposal_id}")
    return proposal.metropolis_id


def proposal_ref(ledger: Registre, principal: Principal, proposal_id: UUID) -> str:
    """`acting_ref` in the metropolis of a proposal."""
    return acting_ref(ledger, principal, metropolis_of(ledger, proposal_id), known=True)


LedgerDep = Annotated[Registre, Depends(_registre)]
ViewsDep = Annotated[ProposalViews, Depends(_views)]
CurrentUser = Annotated[Principal, Depends(_current_user)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A route dependency: 403 naming the rule when the token's role is not among `roles`,
    e.g. `dependencies=[Depends(require_role("clerk"))]`."""

    async def role_required(user: CurrentUser) -> Principal:
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


