"""What endpoints depend on: the runtime, a session per request, the caller's token and locale.

Every token is scoped to one organization; endpoints receive it as a `TokenPrincipal` (a
`qunyun.community.access.Principal`: the token's role and scope, checked as for staff) and filter
every query by `principal.org_id` and its scope. A REST endpoint takes an `api` token, a bridge
endpoint a `bridge` token; the other kind is refused with 403, a missing or unknown token with 401.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Principal
from qunyun.community.models import ApiToken
from qunyun.community.service import TOKEN_KINDS, access_token
from qunyun.community.staff_scope import scope_from_document
from qunyun.core.errors import Forbidden, Unauthorized
from qunyun.core.i18n import DEFAULT_LOCALE, normalize_locale

API = "api"
BRIDGE = "bridge"

_api_bearer = HTTPBearer(scheme_name="ApiToken", auto_error=False,
                         description="An `api` token: `qunyun token create --kind api`.")
_bridge_bearer = HTTPBearer(scheme_name="BridgeToken", auto_error=False,
                            description="A `bridge` token: `qunyun token create --kind bridge`.")
Credentials = HTTPAuthorizationCredentials | None


@dataclass(frozen=True, slots=True)
class TokenPrincipal(Principal):
    """Who is calling with a token: its organization, role and scope, its name and its kind."""

    token_id: int = 0
    name: str = ""
    kind: str = API


def token_principal(row: ApiToken, locale: str = DEFAULT_LOCALE) -> TokenPrincipal:
    return TokenPrincipal(org_id=row.org_id, role=row.role, actor=f"token:{row.name}",
                          scope=scope_from_document(row.scope), locale=locale,
                          token_id=row.id, name=row.name, kind=row.kind)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def stopping(request: Request) -> asyncio.Event:
    """Set once the server is shutting down."""
    event: asyncio.Event = request.app.state.stopping
    return event


def request_locale(request: Request) -> str:
    return normalize_locale(request.headers.get("accept-language"))


READ_METHODS = frozenset({"GET", "HEAD"})


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the endpoint commits what it changes, the rest is rolled back.

    A request that may write (not GET/HEAD) gets a writer session: on SQLite it queues for the
    write lock instead of failing when another writer commits between its reads and its writes.
    It must commit before handing work to the pipeline, which takes that lock itself."""
    runtime = get_runtime(request)
    sessions = runtime.sessions if request.method in READ_METHODS else runtime.write_sessions
    async with sessions() as session:
        yield session


async def authenticate(session: AsyncSession, credentials: Credentials,
                       kind: str) -> TokenPrincipal:
    """The principal of a live token of `kind`; 401 without one, 403 for a token of another kind."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("an Authorization: Bearer token is required")
    token = credentials.credentials
    try:
        row = await access_token(session, token, kind)
    except Unauthorized:
        for other in TOKEN_KINDS:
            if other != kind and await _is_token(session, token, other):
                raise Forbidden(
                    "this endpoint needs a token of kind {kind}, not {actual}",
                    actual=other, kind=kind) from None
        raise
    return token_principal(row)


async def _is_token(session: AsyncSession, token: str, kind: str) -> bool:
    try:
        await access_token(session, token, kind)
    except Unauthorized:
        return False
    return True


async def api_principal(
    session: Annotated[AsyncSession, Depends(request_session)],
    credentials: Annotated[Credentials, Depends(_api_bearer)],
) -> TokenPrincipal:
    return await authenticate(session, credentials, API)


async def bridge_principal(
    request: Request, credentials: Annotated[Credentials, Depends(_bridge_bearer)],
) -> TokenPrincipal:
    """Bridge endpoints hold no session while they work (ingest and long polls open their own)."""
    async with get_runtime(request).sessions() as session:
        return await authenticate(session, credentials, BRIDGE)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(request_session)]
ApiCaller = Annotated[TokenPrincipal, Depends(api_principal)]
BridgeCaller = Annotated[TokenPrincipal, Depends(bridge_principal)]
Locale = Annotated[str, Depends(request_locale)]
Stopping = Annotated[asyncio.Event, Depends(stopping)]
