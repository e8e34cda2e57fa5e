"""Operator commands (``roomchat users create``, ``roomchat workspaces create``,
``roomchat api-keys create|revoke``, ``roomchat webhooks list``): the domain services
over the configured database, with no server running.

Passwords are read from standard input (``--password-stdin``) or a terminal prompt,
never from the command line, where ``ps`` and shell history would keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher

from roomchat.domain.api_keys import ApiKeyService
from roomchat.domain.invitations import InvitationService
from roomchat.domain.models import Webhook
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code
from roomchat.settings import Settings
from roomchat.store import Store
from roomchat.store.recorder import Recorder

# The origin of the room events an operator's command records (a revoked key's bot
# leaving its rooms): no instance's own, so every instance takes them from the event log.
OPERATOR_ORIGIN = "operator"


@dataclass(frozen=True, slots=True)
class Done:
    """What a command made, as a line for people and an object for scripts."""

    line: str
    data: dict[str, Any]


async def create_user(
    settings: Settings, username: str, password: str, display_name: str | None
) -> Done:
    store = Store.connect(settings.resolved_database_url(), 2)
    try:
        user = await _users(settings, store).register(username, password, display_name)
    finally:
        await store.close()
    return Done(f"created user {user.id} {user.username}", user.to_dict())


async def create_workspace(settings: Settings, name: str, owner_username: str) -> Done:
    store = Store.connect(settings.resolved_database_url(), 2)
    try:
        owner = await _users(settings, store).by_username(owner_username)
        if owner is None:
            raise ChatError(Code.NOT_FOUND, f"no user {owner_username!r}")
        workspace = await _workspaces(settings, store).create(owner, name)
    finally:
        await store.close()
    return Done(
        f"created workspace {workspace.id} {workspace.name!r} owned by {owner.username}",
        workspace.to_dict(),
    )


# The services an operator's command uses, built as the server builds them (wiring.py)
# but with no outbox (no bus here: instances read the event log) and no rate limits on
# the operator.


def _users(settings: Settings, store: Store) -> UserService:
    throttle = LoginThrottle(
        settings.login_limit_per_account,
        settings.login_limit_per_address,
        settings.register_limit_per_address,
    )
    return UserService(store, throttle, PasswordHasher(), settings.max_password_chars)


def _workspaces(settings: Settings, store: Store) -> WorkspaceService:
    return WorkspaceService(
        store,
        InvitationService(store),
        Recorder(store, None, OPERATOR_ORIGIN),
        owned_limit=settings.workspaces_per_owner,
    )


def _api_keys(settings: Settings, store: Store) -> ApiKeyService:
    limiter = RateLimiter(settings.api_key_rate_limit, "too many requests with this API key")
    workspaces = _workspaces(settings, store)
    return ApiKeyService(store, workspaces, settings.api_keys_per_workspace, limiter)


async def create_api_key(settings: Settings, workspace_id: int, name: str) -> Done:
    store = Store.connect(settings.resolved_database_url(), 2)
    try:
        issued = await _api_keys(settings, store).create_as_operator(workspace_id, name)
    finally:
        await store.close()
    made, bot = issued.api_key, issued.api_key.bot
    return Done(
        f"created API key {made.id} {made.name!r} in workspace {workspace_id}: it acts as "
        f"{bot.username} (user {bot.id})\nthe key, shown this once: {issued.key}",
        issued.to_dict(),
    )


async def revoke_api_key(settings: Settings, key_id: int) -> Done:
    store = Store.connect(settings.resolved_database_url(), 2)
    try:
        revoked = await _api_keys(settings, store).revoke_as_operator(key_id)
    finally:
        await store.close()
    return Done(
        f"revoked API key {revoked.id} {revoked.name!r} of workspace {revoked.workspace_id}",
        revoked.to_dict(),
    )


async def list_webhooks(settings: Settings, workspace_id: int | None) -> Done:
    store = Store.connect(settings.resolved_database_url(), 2)
    try:
        if workspace_id is not None and await store.workspaces.get(workspace_id) is None:
            raise ChatError(Code.NOT_FOUND, f"no workspace {workspace_id}")
        found = await store.webhooks.listed(workspace_id)
    finally:
        await store.close()
    lines = [
        f"{w.id}\tworkspace {w.workspace_id}\t{_state(w)}\t{w.url}\t{','.join(w.events)}"
        for w in found
    ]
    return Done("\n".join(lines) or "no webhooks", {"webhooks": [w.to_dict() for w in found]})


def _state(webhook: Webhook) -> str:
    if not webhook.enabled:
        return f"disabled ({webhook.disabled_reason})"
    if webhook.failing_since is not None:
        return f"failing since {webhook.failing_since.isoformat()} ({webhook.failures} attempts)"
    return "enabled"
