"""Register, log in, and who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roomchat.api.deps import CurrentUser, Svc
from roomchat.api.responses import JSON, ok
from roomchat.domain.models import User
from roomchat.services import Services

router = APIRouter(tags=["auth"])


class Register(BaseModel):
    username: str = Field(examples=["alice"])
    password: str = Field(examples=["correct horse battery"])
    display_name: str | None = Field(default=None, examples=["Alice"])


class Login(BaseModel):
    username: str
    password: str


def _session(svc: Services, user: User, status_code: int) -> JSON:
    return ok(
        {
            "user": user.to_dict(),
            "access_token": svc.users.issue_token(user),
            "token_type": "bearer",
        },
        status_code,
    )


@router.post("/api/v1/auth/register", status_code=201)
async def register(body: Register, svc: Svc) -> JSON:
    user = await svc.users.register(body.username, body.password, body.display_name)
    return _session(svc, user, 201)


@router.post("/api/v1/auth/login")
async def login(body: Login, svc: Svc) -> JSON:
    user = await svc.users.login(body.username, body.password)
    return _session(svc, user, 200)


@router.get("/api/v1/users/me", tags=["users"])
async def me(user: CurrentUser) -> JSON:
    return ok(user.to_dict())
