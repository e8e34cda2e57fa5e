"""A workspace's webhook endpoints (the owner only): register (the secret shown once),
list, read, change, re-enable, rotate the secret, delete, and recent attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, IdPath, PlainDecimal, Svc
from roomchat.api.responses import BEARER, BODY, JSON, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.kinds import MEMBER_JOINED, NEW_MESSAGE, WEBHOOK_TYPES
from roomchat.domain.webhooks import MAX_DELIVERIES_LISTED, MAX_URL_CHARS
from roomchat.errors import ChatError, Code

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace_id}/webhooks",
    tags=["webhooks"],
    route_class=StrictJSONRoute,
)

Url = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        examples=["https://backend.example.com/roomchat-events"],
        description="http(s) URL; it must resolve to a public address (or one the "
        "operator allowed with ROOMCHAT_WEBHOOK_ALLOWED_NETWORKS)",
    ),
]
Events = Annotated[
    list[StrictStr],
    Field(
        min_length=1,
        max_length=len(WEBHOOK_TYPES),
        examples=[[NEW_MESSAGE, MEMBER_JOINED]],
        description="the room events to send, by broadcast action: " + ", ".join(WEBHOOK_TYPES),
    ),
]


class NewWebhook(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    url: Url
    events: Events


class WebhookChange(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    url: Url | None = None
    events: Events | None = None
    enabled: StrictBool | None = Field(
        default=None,
        description="true re-enables a disabled endpoint (its failures forgotten; "
        "deliveries resume where they stopped); false pauses it",
    )


# The owner's only: anyone else is forbidden; not_found: no such workspace or webhook.
OWNERS = (*BEARER, *PARAMS, *SCOPED)
WebhookReply = schemas.success(schemas.Webhook, "WebhookResponse")
WithSecretReply = schemas.success(schemas.WebhookWithSecret, "WebhookWithSecretResponse")


@router.post(
    "",
    status_code=201,
    response_model=WithSecretReply,
    responses=errors(*OWNERS, *BODY, Code.CONFLICT),  # conflict: WEBHOOKS_PER_WORKSPACE
)
async def create_webhook(
    workspace_id: IdPath, body: NewWebhook, user: CurrentUser, svc: Svc
) -> JSON:
    """Register an endpoint. The reply's ``secret`` (``whsec_...``) is the only time it
    is shown: verify each delivery's signature with it (docs/integration.md)."""
    issued = await svc.webhooks.create(user, workspace_id, body.url, body.events)
    return ok(issued.to_dict(), 201)


@router.get(
    "",
    response_model=schemas.success(list[schemas.Webhook], "WebhookListResponse"),
    responses=errors(*OWNERS),
)
async def webhooks(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """The workspace's endpoints and their delivery state; never their secrets."""
    return ok([w.to_dict() for w in await svc.webhooks.listed(user, workspace_id)])


@router.get("/{webhook_id}", response_model=WebhookReply, responses=errors(*OWNERS))
async def webhook(workspace_id: IdPath, webhook_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    return ok((await svc.webhooks.get(user, workspace_id, webhook_id)).to_dict())


@router.patch("/{webhook_id}", response_model=WebhookReply, responses=errors(*OWNERS, *BODY))
async def change_webhook(
    workspace_id: IdPath, webhook_id: IdPath, body: WebhookChange, user: CurrentUser, svc: Svc
) -> JSON:
    """Change the URL or the events, pause, or re-enable."""
    for name in ("url", "events", "enabled"):
        if name in body.model_fields_set and getattr(body, name) is None:
            raise ChatError(Code.VALIDATION_ERROR, f"{name} cannot be null")
    changed = await svc.webhooks.update(
        user, workspace_id, webhook_id, url=body.url, events=body.events, enabled=body.enabled
    )
    return ok(changed.to_dict())


@router.post(
    "/{webhook_id}/secret/rotate", response_model=WithSecretReply, responses=errors(*OWNERS)
)
async def rotate_webhook_secret(
    workspace_id: IdPath, webhook_id: IdPath, user: CurrentUser, svc: Svc
) -> JSON:
    """A new secret, shown this once. For 24 hours deliveries carry a signature by the
    old secret too, so a receiver can switch without missing one."""
    issued = await svc.webhooks.rotate_secret(user, workspace_id, webhook_id)
    return ok(issued.to_dict())


@router.delete("/{webhook_id}", response_model=WebhookReply, responses=errors(*OWNERS))
async def delete_webhook(
    workspace_id: IdPath, webhook_id: IdPath, user: CurrentUser, svc: Svc
) -> JSON:
    """Delete the endpoint: nothing more is sent to it."""
    return ok((await svc.webhooks.delete(user, workspace_id, webhook_id)).to_dict())


@router.get(
    "/{webhook_id}/deliveries",
    response_model=schemas.success(list[schemas.DeliveryAttempt], "DeliveryAttemptListResponse"),
    responses=errors(*OWNERS),
)
async def webhook_deliveries(
    workspace_id: IdPath,
    webhook_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_LISTED), PlainDecimal] = 50,
) -> JSON:
    """Recent delivery attempts, newest first: outcome, response code, next retry."""
    attempts = await svc.webhooks.deliveries(user, workspace_id, webhook_id, limit)
    return ok([a.to_dict() for a in attempts])
