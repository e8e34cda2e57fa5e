"""Register, log in and out, renew a token, get a WebSocket ticket, and who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from roomchat.api import schemas
from roomchat.api.deps import ClientAddress, CurrentSession, CurrentUser, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, SESSION, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.outcome import Outcome
from roomchat.domain.sessions import IssuedToken
from roomchat.errors import ChatError, Code

router = APIRouter(tags=["auth"], route_class=StrictJSONRoute)

SessionReply = schemas.success(schemas.Session, "SessionResponse")
MeReply = schemas.success(schemas.Me, "MeResponse")

# Ceilings the models state and enforce before the domain sees anything; the domain
# applies the configured limits within them (max_password_chars, default 128).
MAX_USERNAME_FIELD = 64  # NFKC may shorten it to the 3-32 the domain requires
MAX_PASSWORD_FIELD = 1024
MAX_DISPLAY_NAME = 64


class Register(BaseModel):
    model_config = ConfigDict(strict=True)

    username: StrictStr = Field(
        max_length=MAX_USERNAME_FIELD,
        examples=["alice"],
        description="3-32 of a-z 0-9 _ . - after NFKC and lower-casing",
    )
    password: StrictStr = Field(
        max_length=MAX_PASSWORD_FIELD,
        examples=["correct horse battery"],
        description="8 to max_password_chars (default 128) characters",
    )
    display_name: StrictStr | None = Field(
        default=None, max_length=MAX_DISPLAY_NAME, examples=["Alice"]
    )


class Login(BaseModel):
    model_config = ConfigDict(strict=True)

    username: StrictStr = Field(max_length=MAX_USERNAME_FIELD)
    password: StrictStr = Field(max_length=MAX_PASSWORD_FIELD)


class Logout(BaseModel):
    model_config = ConfigDict(strict=True)

    all: StrictBool = Field(
        default=False, description="revoke every token of the user, not only this one"
    )


def _session(issued: IssuedToken, status_code: int = 200) -> JSON:
    return ok(
        {
            "user": issued.session.user.to_dict(),
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        },
        status_code,
    )


@router.post(
    "/api/v1/auth/register",
    status_code=201,
    response_model=SessionReply,
    # rate_limited: registrations per client address
    responses=errors(*BODY, Code.CONFLICT, Code.RATE_LIMITED, Code.UNAVAILABLE),
)
async def register(body: Register, svc: Svc, address: ClientAddress) -> JSON:
    user = await svc.users.register(body.username, body.password, body.display_name, address)
    return _session(svc.sessions.issue(user), 201)


@router.post(
    "/api/v1/auth/login",
    response_model=SessionReply,
    # rate_limited: failed logins per account and per client address
    responses=errors(*BODY, Code.UNAUTHORIZED, Code.RATE_LIMITED, Code.UNAVAILABLE),
)
async def login(body: Login, svc: Svc, address: ClientAddress) -> JSON:
    user = await svc.users.login(body.username, body.password, address)
    return _session(svc.sessions.issue(user))


@router.post("/api/v1/auth/refresh", response_model=SessionReply, responses=errors(*SESSION))
async def refresh(session: CurrentSession, svc: Svc) -> JSON:
    """A new token for a valid one (the web client renews before expiry)."""
    return _session(svc.sessions.refresh(session))


@router.post(
    "/api/v1/auth/logout",
    response_model=schemas.success(schemas.LoggedOut, "LoggedOutResponse"),
    responses=errors(*SESSION, *BODY),
)
async def logout(session: CurrentSession, svc: Svc, body: Logout | None = None) -> JSON:
    """Revoke the token used (or, with {"all": true}, all of the user's); its sockets close."""
    everywhere = body is not None and body.all
    await svc.sessions.logout(session, everywhere)
    return ok({"all": everywhere})


@router.post(
    "/api/v1/auth/ws-ticket",
    response_model=schemas.success(schemas.WsTicket, "WsTicketResponse"),
    responses=errors(*SESSION),
)
async def ws_ticket(session: CurrentSession, svc: Svc) -> JSON:
    """A single-use ticket for /ws?ticket=..., valid ws_ticket_ttl_s (30 s): no token in URLs."""
    ticket, expires_in = await svc.sessions.issue_ticket(session)
    return ok({"ticket": ticket, "expires_in": expires_in})


class UpdateMe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    share_read_receipts: StrictBool | None = Field(
        default=None, description="false: others no longer see how far you have read"
    )
    display_name: StrictStr | None = Field(
        default=None,
        max_length=MAX_DISPLAY_NAME,
        examples=["Alice Liddell"],
        description="1-64 characters, no control or format characters: the name others "
        "see (user_updated tells them)",
    )


@router.get("/api/v1/users/me", tags=["users"], response_model=MeReply, responses=errors(*BEARER))
async def me(user: CurrentUser, svc: Svc) -> JSON:
    shares = await svc.reads.shares_receipts(user.id)
    return ok({**user.to_dict(), "share_read_receipts": shares})


@router.patch(
    "/api/v1/users/me",
    tags=["users"],
    response_model=MeReply,
    # rate_limited: profile changes per user
    responses=errors(*BEARER, *BODY, Code.RATE_LIMITED),
)
async def update_me(body: UpdateMe, user: CurrentUser, svc: Svc) -> JSON:
    """Change your display name (``user_updated`` reaches the rooms you are in and your
    workspaces' followers) or whether others see your read receipts."""
    if "display_name" in body.model_fields_set and body.display_name is None:
        raise ChatError(Code.VALIDATION_ERROR, "display_name cannot be null")
    changed = Outcome(user)
    if body.display_name is not None:
        changed = await svc.users.update_profile(user, display_name=body.display_name)
    if body.share_read_receipts is not None:
        await svc.reads.share_receipts(user, body.share_read_receipts)
    shares = await svc.reads.shares_receipts(user.id)
    return reply(
        ok({**changed.value.to_dict(), "share_read_receipts": shares}), changed, svc.fanout
    )
