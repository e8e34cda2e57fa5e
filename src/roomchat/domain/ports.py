"""The ports: what the domain's services ask of storage, as Protocols the store implements.

The domain imports nothing from the store (an import-linter contract in pyproject.toml
holds it to that): services are given a ``Storage`` and reach rows only through it. A
change that must commit with its room event runs in a ``RoomTransaction`` whose
repositories are bound to it (``tx.messages.edit(...)``, ``tx.reactions.add(...)``):
no connection object passes through the domain. The values these take and answer are
the models (domain/models.py) and the records (domain/records.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from roomchat.domain.models import (
    ApiKey,
    Content,
    DeliveryAttempt,
    Invitation,
    Message,
    MessagePage,
    PendingInvitation,
    Room,
    RoomUser,
    RoomView,
    User,
    Webhook,
    Workspace,
    WorkspaceMember,
)
from roomchat.domain.records import (
    ChangeTarget,
    Credentials,
    FollowedThread,
    InvitationLimits,
    Invited,
    KeyHolder,
    Mentioned,
    NewKey,
    NewMessage,
    NewWebhook,
    ReadPosition,
    Revocation,
    RevokedKey,
    RoomAccess,
    RoomChanges,
    RoomLimits,
    RootState,
    SendResult,
    StoredEvent,
    ThreadPosition,
    Ticket,
    TokenOwner,
)

if TYPE_CHECKING:
    from roomchat.domain.events import RoomEvent


class UserRows(Protocol):
    """Users."""

    async def by_username(self, username: str) -> User | None: ...
    async def create(
        self, username: str, username_key: str, display_name: str, password_hash: str
    ) -> User: ...
    async def credentials(self, username: str) -> Credentials | None: ...
    async def get(self, user_id: int) -> User | None: ...
    async def update_password_hash(self, user_id: int, password_hash: str) -> None: ...
    async def update_profile(
        self, user_id: int, display_name: str | None, avatar_url: str | None
    ) -> User | None: ...


class WorkspaceRows(Protocol):
    """Workspaces and their members."""

    async def create(self, name: str, owner_id: int, owned_limit: int) -> Workspace: ...
    async def get(self, workspace_id: int) -> Workspace | None: ...
    async def holds_role(self, user_id: int, role: str) -> bool: ...
    async def member(self, workspace_id: int, user_id: int) -> WorkspaceMember | None: ...
    async def members(
        self, workspace_id: int, after: int = 0, limit: int | None = None
    ) -> list[WorkspaceMember]: ...
    async def of_user(self, user_id: int) -> list[Workspace]: ...
    async def rename(self, workspace_id: int, owner_id: int, name: str) -> Workspace | None: ...
    async def role(self, workspace_id: int, user_id: int) -> str | None: ...
    async def room_ids_of(self, user_id: int) -> tuple[list[int], list[int]]: ...
    async def set_role(
        self, workspace_id: int, user_id: int, role: str, changeable: tuple[str, ...]
    ) -> bool: ...


class InvitationRows(Protocol):
    """Invitations to a workspace."""

    async def accept(
        self, invitation_id: int, user_id: int, since: datetime, role: str
    ) -> Workspace | None: ...
    async def create(
        self,
        workspace_id: int,
        user_id: int,
        invited_by: int,
        now: datetime,
        since: datetime,
        limits: InvitationLimits,
    ) -> Invited: ...
    async def cancel(self, invitation_id: int, workspace_id: int) -> bool: ...
    async def decline(self, invitation_id: int, user_id: int) -> bool: ...
    async def find(self, workspace_id: int, user_id: int, since: datetime) -> Invitation | None: ...
    async def for_user(self, user_id: int, since: datetime, limit: int) -> list[Invitation]: ...
    async def in_workspace(
        self, workspace_id: int, since: datetime, limit: int, ttl: timedelta
    ) -> list[PendingInvitation]: ...
    async def invitee(self, invitation_id: int, since: datetime) -> int | None: ...
    async def workspace_of(self, invitation_id: int, since: datetime) -> int | None: ...
    async def pending_in_workspace(self, workspace_id: int, since: datetime) -> int: ...


class RoomRows(Protocol):
    """Rooms and their members."""

    async def access(self, room_id: int, user_id: int) -> RoomAccess | None: ...
    async def by_token(self, join_token: str) -> Room | None: ...
    async def create(
        self,
        workspace_id: int,
        name: str,
        created_by: int,
        passcode_hash: str | None,
        join_token: str,
        limits: RoomLimits,
    ) -> Room: ...
    async def forget_passcode_failure(self, failure_id: int) -> None: ...
    async def direct(
        self,
        workspace_id: int,
        created_by: int,
        user_ids: Sequence[int],
        join_token: str,
        per_creator: int,
    ) -> tuple[Room, bool]: ...
    async def in_workspace(
        self,
        workspace_id: int,
        user_id: int,
        after: int = 0,
        limit: int | None = None,
        kind: str | None = None,
    ) -> list[RoomView]: ...
    async def last_seq(self, room_id: int) -> int: ...
    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]: ...
    async def member(self, room_id: int, user_id: int) -> RoomUser | None: ...
    async def member_ids(self, room_id: int) -> list[int]: ...
    async def members(self, room_id: int) -> list[RoomUser]: ...
    async def members_by_key(self, room_id: int, keys: Collection[str]) -> dict[str, int]: ...
    async def passcode_failures_since(self, room_id: int, user_id: int, since: datetime) -> int: ...
    async def record_passcode_failure(
        self, room_id: int, user_id: int, prune_before: datetime
    ) -> int: ...


class MessageRows(Protocol):
    """A room's messages as they are now."""

    async def after(self, room_id: int, after_seq: int, limit: int) -> MessagePage: ...
    async def before(self, room_id: int, before_seq: int, limit: int) -> MessagePage: ...
    async def by_client_msg_id(self, item: NewMessage) -> Message | None: ...
    async def by_client_msg_ids(
        self, items: Sequence[NewMessage]
    ) -> dict[tuple[int, int, str], Message]: ...
    async def latest(self, room_id: int, limit: int) -> MessagePage: ...


class TokenRows(Protocol):
    """Token revocations and WebSocket tickets."""

    async def add_ticket(self, ticket_hash: str, ticket: Ticket) -> None: ...
    async def last_revocation_id(self) -> int: ...
    async def owner(self, user_id: int, session_id: str) -> TokenOwner | None: ...
    async def prune(self, now: datetime) -> None: ...
    async def redeem_ticket(self, ticket_hash: str, now: datetime) -> Ticket | None: ...
    async def revocations_after(self, after_id: int, limit: int = 1000) -> list[Revocation]: ...
    async def revoke(
        self, user_id: int, session_id: str, expires_at: datetime, now: datetime
    ) -> None: ...
    async def revoke_all(self, user_id: int, until: datetime, now: datetime) -> None: ...


class EventRows(Protocol):
    """The room event log, read."""

    async def after(self, room_id: int, after_seq: int, limit: int) -> list[StoredEvent]: ...
    async def between(self, room_id: int, first: int, last: int) -> list[StoredEvent]: ...


class ReadRows(Protocol):
    """Read positions and receipts."""

    async def in_workspace(self, user_id: int, workspace_id: int) -> list[ReadPosition]: ...
    async def last_messages(self, room_ids: Sequence[int]) -> dict[int, Message]: ...
    async def move(
        self, room_id: int, user_id: int, seq: int, *, backwards: bool
    ) -> ReadPosition | None: ...
    async def of_members(
        self, room_id: int, user_ids: Collection[int]
    ) -> dict[int, ReadPosition]: ...
    async def positions(self, user_id: int, room_ids: Sequence[int]) -> dict[int, ReadPosition]: ...
    async def readers(self, room_id: int, message_id: int) -> list[User] | None: ...
    async def set_share_receipts(self, user_id: int, share: bool) -> None: ...
    async def shares_receipts(self, user_id: int) -> bool: ...
    async def workspace_of(self, room_id: int) -> int | None: ...


class ThreadRows(Protocol):
    """Threads: their pages, who follows them, how far each follower read."""

    async def followed(
        self, user_id: int, workspace_id: int, limit: int
    ) -> tuple[list[FollowedThread], bool]: ...
    async def mark_read(
        self, room_id: int, root_id: int, user_id: int, seq: int
    ) -> ThreadPosition | None: ...
    async def page(self, room_id: int, root_id: int, after_seq: int, limit: int) -> MessagePage: ...
    async def root_state(self, room_id: int, root_id: int) -> RootState: ...
    async def set_following(
        self, room_id: int, root_id: int, user_id: int, following: bool
    ) -> ThreadPosition | None: ...


class ApiKeyRows(Protocol):
    """API keys and their bots."""

    async def create(self, new: NewKey, limit: int, now: datetime) -> ApiKey: ...
    async def get(self, key_id: int) -> ApiKey | None: ...
    async def holder(self, key_hash: str) -> KeyHolder | None: ...
    async def is_bot(self, user_id: int) -> bool: ...
    async def of_workspace(self, workspace_id: int) -> list[ApiKey]: ...
    async def touch(self, key_id: int, now: datetime) -> None: ...


class WebhookRows(Protocol):
    """Webhooks and their deliveries."""

    async def attempts(self, webhook_id: int, limit: int) -> list[DeliveryAttempt]: ...
    async def change(
        self, workspace_id: int, webhook_id: int, values: dict[str, Any]
    ) -> Webhook | None: ...
    async def create(self, new: NewWebhook, limit: int, now: datetime) -> Webhook: ...
    async def delete(self, workspace_id: int, webhook_id: int) -> Webhook | None: ...
    async def get(self, workspace_id: int, webhook_id: int) -> Webhook | None: ...
    async def listed(self, workspace_id: int | None) -> list[Webhook]: ...


class Snapshot(Protocol):
    """Reads that all see one point in time."""

    async def room(self, room_id: int) -> tuple[Room, int] | None: ...
    async def events_after(
        self, room_id: int, after_seq: int, up_to: int, limit: int
    ) -> list[StoredEvent]: ...
    async def latest_messages(self, room_id: int, limit: int) -> MessagePage: ...
    async def messages_before(self, room_id: int, before_seq: int, limit: int) -> MessagePage: ...


class RoomChangeRows(Protocol):
    """A room's rows, in the transaction."""

    async def join(self, room_id: int, user_id: int) -> datetime | None: ...
    async def remove_member(self, room_id: int, user_id: int) -> bool: ...
    async def change(self, room_id: int, changes: RoomChanges) -> Room | None: ...
    async def mark_deleted(self, room_id: int) -> bool: ...


class ApiKeyChangeRows(Protocol):
    """API keys, in the transaction."""

    async def revoke(
        self, key_id: int, workspace_id: int | None, now: datetime
    ) -> RevokedKey | None: ...
    async def revoke_all(self, workspace_id: int, now: datetime) -> None: ...


class WorkspaceChangeRows(Protocol):
    """Workspace members, in the transaction."""

    async def leave(self, workspace_id: int, user_id: int, role: str) -> list[int] | None: ...
    async def transfer_owner(
        self,
        workspace_id: int,
        owner_id: int,
        new_owner_id: int,
        roles: tuple[str, str],
        owned_limit: int,
        promotable: tuple[str, ...] = (),
    ) -> Workspace | None: ...
    async def with_role(self, workspace_id: int, role: str) -> list[int]: ...
    async def delete_webhooks(self, workspace_id: int) -> int: ...


class MessageChangeRows(Protocol):
    """Messages, in the transaction."""

    async def current(self, message_id: int) -> Message: ...
    async def edit(self, message_id: int, text: str, content: Content, now: datetime) -> None: ...
    async def tombstone(self, message_id: int, now: datetime) -> None: ...
    async def target(self, message_id: int, actor_id: int) -> ChangeTarget | None: ...


class MentionChangeRows(Protocol):
    """A message's mentions, in the transaction."""

    async def replace(self, message: Message, mentioned: Mentioned) -> list[int]:
        """Set them; the members mentioned by this message for the first time."""


class ThreadChangeRows(Protocol):
    """Who follows a thread, in the transaction."""

    async def follow_unless_unfollowed(
        self, room_id: int, root_id: int, user_ids: Collection[int]
    ) -> None: ...


class ReactionRows(Protocol):
    """Reactions, in the transaction."""

    async def has(self, message_id: int, user_id: int, reaction: str) -> bool: ...
    async def is_given(self, message_id: int, reaction: str) -> bool: ...
    async def distinct_count(self, message_id: int) -> int: ...
    async def add(self, message_id: int, user_id: int, reaction: str, now: datetime) -> None: ...
    async def remove(self, message_id: int, user_id: int, reaction: str) -> bool: ...


class EventLogRows(Protocol):
    """The room event log, in the transaction."""

    async def message_events(
        self, room_id: int, message_seq: int, message_id: int
    ) -> list[StoredEvent]: ...
    async def rewrite(self, room_id: int, data: dict[int, bytes]) -> None: ...


class RoomTransaction(Protocol):
    """One open write transaction: every repository here writes in it, so a change, its
    seq and its event commit together or not at all."""

    @property
    def messages(self) -> MessageChangeRows: ...
    @property
    def reactions(self) -> ReactionRows: ...
    @property
    def mentions(self) -> MentionChangeRows: ...
    @property
    def threads(self) -> ThreadChangeRows: ...
    @property
    def events(self) -> EventLogRows: ...
    @property
    def rooms(self) -> RoomChangeRows: ...
    @property
    def api_keys(self) -> ApiKeyChangeRows: ...
    @property
    def workspaces(self) -> WorkspaceChangeRows: ...
    def on_commit(self, callback: Callable[[], None]) -> None:
        """``callback`` runs once the transaction committed (never if it rolls back)."""


# Writes a change in ``tx`` given its seq; returns the event's (action, data).
Change = Callable[[RoomTransaction, int], Awaitable[tuple[str, dict[str, Any]]]]
# An event's (action, data) given its seq, for a change already written.
Describe = Callable[[int], tuple[str, dict[str, Any]]]


class EventRecorder(Protocol):
    """The only writer of the rooms' seqs, the event log and the outbox (store/
    recorder.py): a change and its event commit together or not at all."""

    @property
    def origin(self) -> str:
        """The instance id its events carry."""

    @property
    def batches_in_parallel(self) -> bool:
        """Whether message batches over different rooms may commit concurrently."""

    async def record(self, room_id: int, change: Change) -> RoomEvent:
        """Store ``change`` and its event in a transaction of their own; the caller
        publishes the event after replying. A ChatError raised by ``change`` rolls
        everything back, the seq included."""

    async def record_in(
        self, tx: RoomTransaction, changes: Sequence[tuple[int, Describe]]
    ) -> list[RoomEvent]:
        """An event per (room, describe), each on its room's next seq, in ``tx``."""

    async def record_messages(self, batch: Sequence[NewMessage]) -> list[SendResult]:
        """New messages, their seqs and events, and the senders' read positions, in one
        transaction: one result per send, in order (a repeated client_msg_id: a replay,
        no event). A room deleted meanwhile raises LookupError and stores nothing; a
        concurrent send with the same client_msg_id raises ClientMsgIdTaken."""


class Storage(Protocol):
    """Every repository, a write transaction over several, and consistent reads."""

    @property
    def users(self) -> UserRows: ...
    @property
    def workspaces(self) -> WorkspaceRows: ...
    @property
    def invitations(self) -> InvitationRows: ...
    @property
    def rooms(self) -> RoomRows: ...
    @property
    def messages(self) -> MessageRows: ...
    @property
    def tokens(self) -> TokenRows: ...
    @property
    def events(self) -> EventRows: ...
    @property
    def reads(self) -> ReadRows: ...
    @property
    def threads(self) -> ThreadRows: ...
    @property
    def api_keys(self) -> ApiKeyRows: ...
    @property
    def webhooks(self) -> WebhookRows: ...
    def transaction(self) -> AbstractAsyncContextManager[RoomTransaction]: ...
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]: ...
    def is_unavailable(self, exc: BaseException) -> bool:
        """Whether ``exc`` says the database is down or too slow (not a bad request)."""
