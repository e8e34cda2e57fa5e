"""Webhooks: a workspace owner's endpoints, what they are sent, and when they are retried.

An endpoint asks for room events by their broadcast action names. Each such event of
the workspace is POSTed to it as ``{id, type, workspace_id, room_id, seq, created_at,
data}`` (``data``: the broadcast's data as the event log holds it, so a message event
carries the one message object and a message-change event its ``message_id`` and the
``message`` after the change, shown as it is now once an edit or a delete rewrote it),
signed the Standard Webhooks way (roomchat/webhooks/ sends them). The event's ``id`` is
stable (its room and seq): a retry, or a delivery repeated after a crash, carries the
same one, so a receiver deduplicates by it.

A failed delivery is retried ``backoff_initial_s`` after the failed attempt ended,
doubling up to ``backoff_max_s``; the endpoint's later events wait behind it (seq order
per room). Counted from the end, not the start: an endpoint that times out waits its
whole delay after each timeout, so it holds a request slot less and less often. An
endpoint that has failed for longer than ``retry_window_s`` is disabled, its state
shown to the owner; re-enabling it resumes where it stopped, nothing skipped.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from roomchat import frames, jsoncodec
from roomchat.domain.kinds import WEBHOOK_TYPES
from roomchat.domain.models import DeliveryAttempt, User, Webhook
from roomchat.domain.ports import Storage
from roomchat.domain.records import Failing, LoggedEvent, NewWebhook, TooManyWebhooks
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code, not_found

MAX_URL_CHARS = 2048
SECRET_PREFIX = "whsec_"  # Standard Webhooks' spelling: base64 of the key after it
SECRET_BYTES = 32
# A rotated-out secret keeps signing (beside the new one) this long, so receivers can
# switch over without dropping a delivery.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
MAX_DELIVERIES_LISTED = 100

# Resolves a URL's host and raises ValueError (with a message for the owner) when it
# may not be called (roomchat.webhooks.addresses).
UrlCheck = Callable[[str], Awaitable[None]]


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_id(room_id: int, seq: int) -> str:
    return f"evt_{room_id}_{seq}"


def webhook_body(workspace_id: int, event: LoggedEvent) -> bytes:
    """The JSON a receiver gets for a room event (``data`` spliced in as stored)."""
    head = jsoncodec.dumps(
        {
            "id": event_id(event.room_id, event.seq),
            "type": event.action,
            "workspace_id": workspace_id,
            "room_id": event.room_id,
            "seq": event.seq,
            "created_at": event.created_at,
        }
    )
    return frames.with_field(head, "data", event.data)


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one
    while its grace period lasts."""
    keys = [webhook.secret]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and now < expires:
        keys.append(webhook.previous_secret)
    return keys


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    backoff_initial_s: float = 5.0
    backoff_max_s: float = 3600.0
    retry_window_s: float = 24 * 3600.0

    def after_failure(self, webhook: Webhook, ended: datetime) -> Failing:
        """The endpoint's state after one more failed attempt, which ended at ``ended``."""
        failures = webhook.failures + 1
        since = webhook.failing_since or ended
        if (ended - since).total_seconds() >= self.retry_window_s:
            reason = (
                f"disabled after {failures} failed attempts since {since.isoformat()}: "
                "re-enable it once the receiver is fixed"
            )
            return Failing(failures, since, None, reason[:256])
        delay = min(self.backoff_max_s, self.backoff_initial_s * 2 ** min(failures - 1, 30))
        return Failing(failures, since, ended + timedelta(seconds=delay), None)


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """An endpoint with its signing secret: the only time the secret is shown."""

    webhook: Webhook

    def to_dict(self) -> dict[str, Any]:
        return {**self.webhook.to_dict(), "secret": self.webhook.secret}


def clean_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise ChatError(Code.VALIDATION_ERROR, f"url must be at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad one
    except ValueError:
        raise ChatError(Code.VALIDATION_ERROR, "url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChatError(Code.VALIDATION_ERROR, "url must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ChatError(Code.VALIDATION_ERROR, "url must not carry a user or password")
    if port == 0 or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise ChatError(Code.VALIDATION_ERROR, "url is not a valid URL")
    return url


def clean_events(events: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(events) - set(WEBHOOK_TYPES))
    if not events or unknown:
        raise ChatError(
            Code.VALIDATION_ERROR,
            "events must name at least one of: " + ", ".join(WEBHOOK_TYPES),
            {"unknown": unknown[:10]} if unknown else None,
        )
    return tuple(e for e in WEBHOOK_TYPES if e in set(events))  # known order, no repeats


class WebhookService:
    def __init__(
        self,
        store: Storage,
        workspaces: WorkspaceService,
        check_url: UrlCheck,
        per_workspace: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._workspaces = workspaces
        self._check_url = check_url
        self._per_workspace = per_workspace
        self._clock = clock

    async def _require_owner(self, user: User, workspace_id: int) -> None:
        await self._workspaces.require_owner(
            user, workspace_id, "only the workspace owner manages its webhooks"
        )

    async def _reachable(self, url: str) -> str:
        url = clean_url(url)
        try:
            await self._check_url(url)
        except ValueError as exc:
            raise ChatError(Code.VALIDATION_ERROR, str(exc)) from None
        return url

    async def create(
        self, owner: User, workspace_id: int, url: str, events: Sequence[str]
    ) -> IssuedSecret:
        await self._require_owner(owner, workspace_id)
        new = NewWebhook(
            workspace_id, await self._reachable(url), clean_events(events), new_secret(), owner.id
        )
        try:
            made = await self._store.webhooks.create(new, self._per_workspace, self._clock())
        except LookupError:
            raise not_found("workspace") from None
        except TooManyWebhooks:
            raise ChatError(
                Code.CONFLICT,
                f"a workspace has at most {self._per_workspace} webhooks; delete one first",
            ) from None
        return IssuedSecret(made)

    async def listed(self, owner: User, workspace_id: int) -> list[Webhook]:
        await self._require_owner(owner, workspace_id)
        return await self._store.webhooks.listed(workspace_id)

    async def get(self, owner: User, workspace_id: int, webhook_id: int) -> Webhook:
        await self._require_owner(owner, workspace_id)
        return await self._found(workspace_id, webhook_id)

    async def _found(self, workspace_id: int, webhook_id: int) -> Webhook:
        found = await self._store.webhooks.get(workspace_id, webhook_id)
        if found is None:
            raise not_found("webhook")
        return found

    async def update(
        self,
        owner: User,
        workspace_id: int,
        webhook_id: int,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
    ) -> Webhook:
        """Change the URL or events, disable, or (re-)enable: enabling clears the failure
        state, so deliveries resume at once where they stopped."""
        await self._require_owner(owner, workspace_id)
        await self._found(workspace_id, webhook_id)
        values: dict[str, Any] = {}
        if url is not None:
            values["url"] = await self._reachable(url)
        if events is not None:
            values["events"] = ",".join(clean_events(events))
        if enabled is True:
            values.update(
                enabled=True,
                disabled_reason=None,
                failures=0,
                failing_since=None,
                next_attempt_at=None,
            )
        elif enabled is False:
            values.update(enabled=False, disabled_reason="disabled by the owner")
        changed = await self._store.webhooks.change(workspace_id, webhook_id, values)
        if changed is None:
            raise not_found("webhook")
        return changed

    async def rotate_secret(self, owner: User, workspace_id: int, webhook_id: int) -> IssuedSecret:
        """A new signing secret; the old one keeps signing beside it for a day."""
        await self._require_owner(owner, workspace_id)
        current = await self._found(workspace_id, webhook_id)
        changed = await self._store.webhooks.change(
            workspace_id,
            webhook_id,
            {
                "secret": new_secret(),
                "previous_secret": current.secret,
                "previous_secret_expires_at": self._clock() + PREVIOUS_SECRET_GRACE,
            },
        )
        if changed is None:
            raise not_found("webhook")
        return IssuedSecret(changed)

    async def delete(self, owner: User, workspace_id: int, webhook_id: int) -> Webhook:
        await self._require_owner(owner, workspace_id)
        deleted = await self._store.webhooks.delete(workspace_id, webhook_id)
        if deleted is None:
            raise not_found("webhook")
        return deleted

    async def deliveries(
        self, owner: User, workspace_id: int, webhook_id: int, limit: int
    ) -> list[DeliveryAttempt]:
        if not 1 <= limit <= MAX_DELIVERIES_LISTED:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{MAX_DELIVERIES_LISTED}")
        await self._require_owner(owner, workspace_id)
        await self._found(workspace_id, webhook_id)
        return await self._store.webhooks.attempts(webhook_id, limit)
