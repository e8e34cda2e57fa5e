"""Request dependencies: the instance's services, the calling session, and id types."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator, Field, StrictInt

from roomchat.domain.api_keys import is_api_key
from roomchat.domain.models import User
from roomchat.domain.sessions import Session
from roomchat.errors import forbidden, unauthorized
from roomchat.services import Services

_bearer = HTTPBearer(auto_error=False)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_address(request: Request) -> str:
    """The socket's peer, or what a trusted proxy says it is (cli: forwarded_allow_ips)."""
    return request.client.host if request.client else ""


def _credential(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise unauthorized("send Authorization: Bearer <token>")
    return credentials.credentials


async def current_session(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Session:
    """A user's login session: refreshing, logging out and WebSocket tickets need one."""
    token = _credential(credentials)
    svc = services(request)
    if is_api_key(token):
        await svc.api_keys.authenticate(token)  # an invalid key is still a 401
        raise forbidden("an API key has no session: it cannot refresh, log out or open a WebSocket")
    return await svc.sessions.authenticate(token)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The caller: a user by their access token, or a workspace's bot by its API key."""
    token = _credential(credentials)
    svc = services(request)
    if is_api_key(token):
        return await svc.api_keys.authenticate(token)
    return (await svc.sessions.authenticate(token)).user


# Every integer a request carries (ids, seqs, limits) is at most 2^53-1, JavaScript's
# Number.MAX_SAFE_INTEGER: the server never issues a larger id or seq, and a browser
# could not hold one exactly. A larger one is a validation_error (422), never a row.
MAX_REQUEST_INT = 2**53 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def _plain_decimal(value: Any) -> Any:
    # int() would take " 1", "+1", "01", "1_0" and "1.0" (pydantic's lax mode): one
    # spelling only.
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("must be a plain decimal integer")
    return value


# For path and query integers: plain ASCII digits, no sign, space or leading zero.
PlainDecimal = BeforeValidator(_plain_decimal)


Svc = Annotated[Services, Depends(services)]
ClientAddress = Annotated[str, Depends(client_address)]
# Ids: 1..2^53-1, anything else a 422 (never a driver overflow). Path ids are plain
# ASCII digits.
IdPath = Annotated[int, Path(ge=1, le=MAX_REQUEST_INT), PlainDecimal]
# For body models: strict, so "1", 1.0 and true are a validation_error, not row 1.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_REQUEST_INT)]
CurrentSession = Annotated[Session, Depends(current_session)]
CurrentUser = Annotated[User, Depends(current_user)]
