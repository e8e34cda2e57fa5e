"""Joining a room by its link: the two ways a client names the link, one answer.

``POST /api/v1/room-chats/join/{join_token}`` takes the token in the path;
``POST /api/v1/room-chats/join`` takes it in the body, as the room's ``link_token`` or
as the whole ``link_join`` URL a member passed on. Both end in ``join_reply``: the same
rights (a member of the room's workspace), the same passcode rule and limit, the same
answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from roomchat.api.outcomes import reply
from roomchat.api.responses import JSON, ok
from roomchat.domain.models import User
from roomchat.services import Services

# A join token as the server issues it (secrets.token_urlsafe): URL-safe base64.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_TOKEN_CHARS = 128
MAX_LINK_CHARS = 2048  # a URL, as browsers and proxies bound them

_PASSCODE = Field(
    default=None,
    max_length=64,
    description="needed for a room with a passcode, unless you are already its member",
)


class JoinPasscode(BaseModel):
    """The path form's optional body."""

    passcode: StrictStr | None = _PASSCODE


class JoinByLink(BaseModel):
    """Exactly one of ``link_token`` and ``link_join`` (the other absent or null)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    link_token: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TOKEN_CHARS,
        pattern=TOKEN_PATTERN,
        description="the room's link_token",
    )
    link_join: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LINK_CHARS,
        examples=["https://chat.example.com/join/Qm9sZWFuIGtleXMgYXJlIDI1NiByYW5k"],
        description="the room's link_join: a URL whose path ends in /join/{token}",
    )
    passcode: StrictStr | None = _PASSCODE

    @model_validator(mode="after")
    def _one_link(self) -> JoinByLink:
        if (self.link_token is None) == (self.link_join is None):
            raise ValueError("give exactly one of link_token and link_join")
        if self.link_join is not None:
            token_of(self.link_join)  # a link that names no token is invalid input
        return self

    def token(self) -> str:
        if self.link_token is not None:
            return self.link_token
        assert self.link_join is not None  # the validator saw to it
        return token_of(self.link_join)


def token_of(link: str) -> str:
    """The token of a join link: the last path segment after ``/join/``, wherever the
    link points (the server's own base URL may differ from what a proxy shows)."""
    try:
        path = urlsplit(link).path
    except ValueError:
        raise ValueError("link_join is not a URL") from None
    head, _, token = path.rpartition("/")
    if not head.endswith("/join") and head != "join":
        raise ValueError("link_join must end in /join/{token}")
    if not token or len(token) > MAX_TOKEN_CHARS or not _is_token(token):
        raise ValueError("link_join must end in /join/{token}")
    return token


def _is_token(text: str) -> bool:
    return text.isascii() and all(c.isalnum() or c in "_-" for c in text)


async def join_reply(svc: Services, user: User, token: str, passcode: str | None) -> JSON:
    """Join the room the token names (domain/rooms.py decides who may) and answer the
    room, with ``room_member_joined`` published when the caller is a new member."""
    joined = await svc.rooms.join_by_token(user, token, passcode)
    return reply(ok(joined.value.to_dict(svc.public_base_url)), joined, svc.fanout)
