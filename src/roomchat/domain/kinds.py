"""The event kinds: every action a server broadcasts to clients, and what each means.

This table is the one list of broadcast action names in the server. The recent-history
cache, webhooks, sidebar activity, presence and the hub ask it (``of``, the helpers and
the sets below) instead of keeping their own lists, so a new kind is one row here plus
the code that builds its data (docs/architecture.md, "How to add an event kind").

A *durable* kind is a room event: it takes the room's next seq, is stored in the room
event log and the outbox, and is replayed by ``after_seq``. A *signal* is not: no seq,
never stored or replayed, may be dropped (domain/events.py).

The WebSocket *commands* a client sends (``send_room_chat_message``, ...) are not
kinds: they are the gateway's action table (realtime/handlers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class MessageChange(Enum):
    """What a kind does to the messages a room's history shows."""

    NONE = "none"
    NEW = "new"  # a message is added (its data is the message)
    # One stored message changes (edit, delete, reaction): its data carries
    # ``message_id`` and ``message``, the message after the change (domain/events.py).
    CHANGE = "change"


class Membership(Enum):
    """What a kind does to the room's members."""

    NONE = "none"
    JOINS = "joins"  # someone became a member
    ENDS_ONE = "ends_one"  # the member named by the data's ``user_id`` stopped being one
    ENDS_ALL = "ends_all"  # the room went: everyone stops receiving it


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    durable: bool  # a room event on the seq; False: a signal
    message: MessageChange = MessageChange.NONE
    membership: Membership = Membership.NONE
    # The room itself changed or went: what a cache holds of the room is stale.
    changes_room: bool = False
    # Webhook endpoints may ask for it (only durable kinds: a signal is never stored).
    webhook: bool = False
    # A followed workspace's sidebar hears of it (``room_activity``: last message, unread).
    moves_activity: bool = False

    def __post_init__(self) -> None:
        if self.webhook and not self.durable:
            raise ValueError(f"{self.name}: a signal is not stored, so no webhook can get it")


_KINDS: dict[str, Kind] = {}


def _kind(
    name: str,
    durable: bool,
    *,
    message: MessageChange = MessageChange.NONE,
    membership: Membership = Membership.NONE,
    changes_room: bool = False,
    webhook: bool = False,
    moves_activity: bool = False,
) -> str:
    """Add a row to the table; the name is what the code compares actions with."""
    if name in _KINDS:
        raise ValueError(f"{name}: listed twice")
    _KINDS[name] = Kind(name, durable, message, membership, changes_room, webhook, moves_activity)
    return name


DURABLE, SIGNAL = True, False
NEW, CHANGE = MessageChange.NEW, MessageChange.CHANGE

# Durable room events, in the order webhooks list them.
NEW_MESSAGE = _kind(
    "new_room_chat_message", DURABLE, message=NEW, webhook=True, moves_activity=True
)
MESSAGE_EDITED = _kind(
    "room_chat_message_edited", DURABLE, message=CHANGE, webhook=True, moves_activity=True
)
MESSAGE_DELETED = _kind(
    "room_chat_message_deleted", DURABLE, message=CHANGE, webhook=True, moves_activity=True
)
REACTION_ADDED = _kind("room_chat_reaction_added", DURABLE, message=CHANGE, webhook=True)
REACTION_REMOVED = _kind("room_chat_reaction_removed", DURABLE, message=CHANGE, webhook=True)
# A reply changed its thread's root: ``message`` is the root with its ``thread`` now.
THREAD_UPDATED = _kind("room_chat_thread_updated", DURABLE, message=CHANGE, webhook=True)
MEMBER_JOINED = _kind("room_member_joined", DURABLE, membership=Membership.JOINS, webhook=True)
MEMBER_LEFT = _kind("room_member_left", DURABLE, membership=Membership.ENDS_ONE, webhook=True)
ROOM_UPDATED = _kind("room_chat_updated", DURABLE, changes_room=True, webhook=True)
ROOM_DELETED = _kind(
    "room_chat_deleted", DURABLE, membership=Membership.ENDS_ALL, changes_room=True, webhook=True
)

# Signals.
TYPING = _kind("typing_indicator", SIGNAL)
READ_RECEIPT = _kind("room_chat_read", SIGNAL)  # to the room: a member's read position
READ_UPDATED = _kind("room_read_updated", SIGNAL)  # to the user's own connections
ACTIVITY = _kind("room_activity", SIGNAL)  # to the followers of the room's workspace
PRESENCE = _kind("room_presence", SIGNAL)
# To every connection of a mentioned member, once per message (domain/mentions.py).
MENTION = _kind("room_chat_mention", SIGNAL)
# The live sidebar (domain/sidebar.py): to every connection following the workspace
# (subscribe_workspace) on every instance, whether or not it joined any room there.
WORKSPACE_ROOM_CREATED = _kind("workspace_room_created", SIGNAL)
WORKSPACE_ROOM_UPDATED = _kind("workspace_room_updated", SIGNAL)
WORKSPACE_ROOM_DELETED = _kind("workspace_room_deleted", SIGNAL)
WORKSPACE_MEMBER_JOINED = _kind("workspace_member_joined", SIGNAL)
# The member's own connections stop following the workspace once they got it.
WORKSPACE_MEMBER_LEFT = _kind("workspace_member_left", SIGNAL)
WORKSPACE_MEMBER_UPDATED = _kind("workspace_member_updated", SIGNAL)  # a new role
WORKSPACE_UPDATED = _kind("workspace_updated", SIGNAL)  # renamed
# A profile changed (display name, avatar): to the rooms the user is in, the followers
# of their workspaces and their own connections.
USER_UPDATED = _kind("user_updated", SIGNAL)
# To every connection of the invitee, on every instance (a user-addressed signal).
INVITATION_RECEIVED = _kind("invitation_received", SIGNAL)
# An owner or admin cancelled it: to every connection of the invitee, as the above.
INVITATION_CANCELLED = _kind("invitation_cancelled", SIGNAL)

KINDS: Mapping[str, Kind] = MappingProxyType(_KINDS)


def of(action: str) -> Kind | None:
    """The kind of ``action``; None for one this version does not know."""
    return KINDS.get(action)


def _names(test: Callable[[Kind], bool]) -> frozenset[str]:
    return frozenset(k.name for k in KINDS.values() if test(k))


# Sets read on hot paths (a set lookup per event), derived from the table once.
DURABLE_KINDS = _names(lambda k: k.durable)
ENDING = _names(lambda k: k.membership in (Membership.ENDS_ONE, Membership.ENDS_ALL))
CHANGES_MEMBERS = _names(lambda k: k.membership in (Membership.JOINS, Membership.ENDS_ONE))
CHANGES_ONE_MESSAGE = _names(lambda k: k.message is MessageChange.CHANGE)
CHANGES_ROOM = _names(lambda k: k.changes_room)
MOVES_ACTIVITY = _names(lambda k: k.moves_activity)
# The kinds an endpoint may ask for, in the table's order (how they are listed back).
WEBHOOK_TYPES: tuple[str, ...] = tuple(k.name for k in KINDS.values() if k.webhook)


def is_durable(action: str) -> bool:
    return action in DURABLE_KINDS


def ends_membership(action: str) -> bool:
    """After its delivery, connections leave the room (one member's, or everyone's)."""
    return action in ENDING


def changes_members(action: str) -> bool:
    """The room's member count moves (someone joined or left)."""
    return action in CHANGES_MEMBERS


def moves_activity(action: str) -> bool:
    return action in MOVES_ACTIVITY
