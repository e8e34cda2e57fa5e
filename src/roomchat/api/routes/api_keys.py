"""A workspace's API keys: make one (shown once), list them, revoke one (owner only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.api_keys import MAX_NAME_CHARS
from roomchat.errors import Code

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/api-keys",
    tags=["api-keys"],
    route_class=StrictJSONRoute,
)


class NewApiKey(BaseModel):
    model_config = ConfigDict(strict=True)

    name: StrictStr = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        examples=["Deploy notifier"],
        description="what the key is for; its bot's display_name in messages",
    )


# The owner's only: anyone else is forbidden; not_found: no such workspace.
OWNERS = (*BEARER, *PARAMS, *SCOPED)


@router.post(
    "",
    status_code=201,
    response_model=schemas.success(schemas.IssuedApiKey, "IssuedApiKeyResponse"),
    # conflict: the workspace's keys in use; rate_limited: API_KEY_CREATE_LIMIT
    responses=errors(*OWNERS, *BODY, Code.CONFLICT, Code.RATE_LIMITED),
)
async def create_api_key(
    workspace_id: IdPath, body: NewApiKey, user: CurrentUser, svc: Svc
) -> JSON:
    """A new key and its bot (the owner only). The reply's ``key`` is the only time the
    key is shown: keep it now. Bearer it to act as the bot (docs/server-api.md)."""
    issued = await svc.api_keys.create(user, workspace_id, body.name)
    return ok(issued.to_dict(), 201)


@router.get(
    "",
    response_model=schemas.success(list[schemas.ApiKey], "ApiKeyListResponse"),
    responses=errors(*OWNERS),
)
async def api_keys(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """The workspace's keys, revoked ones too (``revoked_at`` set); never the keys."""
    return ok([k.to_dict() for k in await svc.api_keys.keys(user, workspace_id)])


@router.delete(
    "/{key_id}",
    response_model=schemas.success(schemas.ApiKey, "ApiKeyResponse"),
    responses=errors(*OWNERS),
)
async def revoke_api_key(workspace_id: IdPath, key_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Revoke the key: refused from now on, on every instance. Its bot leaves the
    workspace and its rooms (``room_member_left``), and stays the author of what it
    posted."""
    revoked = await svc.api_keys.revoke(user, workspace_id, key_id)
    return reply(ok(revoked.value.to_dict()), revoked, svc.fanout)
