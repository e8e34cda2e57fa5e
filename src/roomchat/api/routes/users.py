"""Profiles: a user's picture, uploaded and served (the name: PATCH /api/v1/users/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import FileResponse

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, JSON, errors, ok
from roomchat.errors import Code, not_found

router = APIRouter(tags=["users"])

AVATAR_PATH = "/api/v1/users/me/avatar"


@router.put(
    AVATAR_PATH,
    response_model=schemas.success(schemas.Me, "AvatarResponse"),
    # validation_error: not a picture it reads; payload_too_large: over 2 MiB;
    # rate_limited: profile changes per user
    responses=errors(*BEARER, Code.VALIDATION_ERROR, Code.PAYLOAD_TOO_LARGE, Code.RATE_LIMITED),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the picture's bytes (PNG, JPEG, GIF or WebP; at most 2 MiB): "
            "what it is is read from the bytes, whatever the Content-Type",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def put_avatar(request: Request, user: CurrentUser, svc: Svc) -> JSON:
    """Set your picture: cropped to its centre square, scaled to 256 px and stored as a
    PNG (nothing of the upload but its pixels is kept). ``avatar_url`` is its address;
    ``user_updated`` reaches the rooms you are in and your workspaces' followers."""
    name = await svc.avatars.store(user.id, await request.body())
    url = f"{svc.public_base_url}/api/v1/users/{user.id}/avatar/{name}"
    changed = await svc.users.update_profile(user, avatar_url=url)
    shares = await svc.reads.shares_receipts(user.id)
    return reply(
        ok({**changed.value.to_dict(), "share_read_receipts": shares}), changed, svc.fanout
    )


# Not in /openapi.json: a file for <img>, not a JSON operation (docs/protocol.md lists it).
@router.get("/api/v1/users/{user_id}/avatar/{name}", include_in_schema=False)
async def get_avatar(user_id: IdPath, name: str, svc: Svc) -> FileResponse:
    """A user's picture, by the address in their ``avatar_url`` (no token needed: an
    ``<img>`` cannot send one; the name is the picture's digest). Never changes: cached
    for good."""
    found = svc.avatars.path(user_id, name)
    if found is None:
        raise not_found("picture")
    return FileResponse(
        found,
        media_type="image/png",
        # X-Content-Type-Options: nosniff and the API's CSP (default-src 'none') are on
        # every API response (api/middleware.py, SecurityHeaders).
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
