"""Request dependencies: the instance's services and the calling user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roomchat.domain.models import MAX_ID, User
from roomchat.errors import unauthorized
from roomchat.services import Services

_bearer = HTTPBearer(auto_error=False)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise unauthorized("send Authorization: Bearer <token>")
    return await services(request).users.authenticate(credentials.credentials)


Svc = Annotated[Services, Depends(services)]
IdPath = Annotated[int, Path(le=MAX_ID)]  # a larger id names no row (and overflows the driver)
CurrentUser = Annotated[User, Depends(current_user)]
