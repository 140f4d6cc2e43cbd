"""Who is calling: a bearer token from ``docsearch users add`` (checked against the identity
store on every request, so a revoked token stops working at once) or, when a provider is
configured, an OIDC access token. No token or a bad one: 401 with ``WWW-Authenticate``.

Failed sign-ins are counted per client address: past ``api_auth_failures`` in a minute, every
request from that address is answered 429 before its token is looked up, so guessing tokens
costs the guesser a minute per few tries and the server no identity-store or OIDC work."""

from __future__ import annotations

import hashlib

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.problems import ApiError
from app.api.state import Services
from lifecycle.readers import Reader, claimed_identity, require_admin, with_admin_group

bearer = HTTPBearer(auto_error=False, description="a token from `docsearch users add`")


def services(request: Request) -> Services:
    return request.app.state.services


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, {"WWW-Authenticate": 'Bearer realm="docsearch"'})


def authenticate(services: Services, token: str) -> Reader | None:
    """The reader a token belongs to, None when nobody vouches for it."""
    user = services.identities.authenticate(token)
    if user is None and services.oidc is not None:
        claims = services.oidc.claims(token)
        if claims:
            s = services.settings
            name, groups = claimed_identity(claims, s.name_claim, s.groups_claim)
            user = services.identities.sign_in(name, groups)
    return with_admin_group(user, services.settings.admin_group) if user else None


def reader(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    services: Services = Depends(services),
) -> Reader:
    """The signed-in caller of a ``/v1`` route, within the per-address limit on failed
    sign-ins and the per-token rate limit."""
    address = request.client.host if request.client else "unknown"
    services.failures.check(address, count=False)
    if credentials is None or not credentials.credentials:
        services.failures.count(address)
        raise _unauthorized("send `Authorization: Bearer TOKEN` (`docsearch users add NAME`)")
    found = authenticate(services, credentials.credentials)
    if found is None:
        services.failures.count(address)
        raise _unauthorized("the token is unknown, revoked or expired; ask for a new one")
    services.limiter.check(hashlib.sha256(credentials.credentials.encode()).hexdigest())
    return found


def admin(caller: Reader = Depends(reader)) -> Reader:
    require_admin(caller)
    return caller
