"""The live sidebar: what the followers of a workspace hear of it, and profile changes.

A connection that follows a workspace (``subscribe_workspace``) shows its room list and
its members, most of which it never joined. So a room made, renamed or deleted, and a
member who joined, left, was removed or got a new role, reach every connection that
follows the workspace, on every instance, at once, as a *workspace signal*
(``RoomSignal.to_workspace``): the bus carries it to the other instances, each hub hands
it to its followers of that workspace (realtime/followers.py).

Why signals, not room events (docs/protocol.md, "The live sidebar"): the followers are
not joined to the rooms (a room's stream reaches only its joined connections), a new
room has no stream anybody follows yet, and a membership of the workspace is no room's.
The sidebar is a view a client reads again by REST whenever it (re)subscribes, so a
signal lost while the bus was down costs staleness until the next reconnect, never a
wrong history: the durable room events (a rename's ``room_chat_updated``, a removal's
``room_member_left``) still reach the rooms' members in seq order as before.

``workspace_member_left`` also ends the member's own following: their connections get
it, then stop following the workspace on every instance (the hub reads
:func:`unfollowing`), as a ``room_member_left`` sends them out of each room.

Profiles: ``user_updated`` {user_id, user} goes to every room the user is in (its
joined connections, the user's own too), to the followers of each of their workspaces
and to their own connections. Old messages carry the author as they were when sent;
clients show authors by ``user_id`` from the newest ``user`` they know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from roomchat import frames, jsoncodec
from roomchat.domain.events import RoomSignal
from roomchat.domain.kinds import (
    INVITATION_CANCELLED,
    INVITATION_RECEIVED,
    USER_UPDATED,
    WORKSPACE_MEMBER_JOINED,
    WORKSPACE_MEMBER_LEFT,
    WORKSPACE_MEMBER_UPDATED,
    WORKSPACE_ROOM_CREATED,
    WORKSPACE_ROOM_DELETED,
    WORKSPACE_ROOM_UPDATED,
    WORKSPACE_UPDATED,
)
from roomchat.domain.models import Invitation, Room, User, Workspace

# The sender of a signal every member of a room gets, its subject included (a room
# signal skips its sender's connections; no user has id 0).
NOBODY = 0


def _to_workspace(
    workspace_id: int, sender_id: int, action: str, data: dict[str, Any], origin: str
) -> RoomSignal:
    frame = frames.broadcast(action, jsoncodec.dumps(data))
    return RoomSignal(0, sender_id, origin, frame, to_workspace=workspace_id)


def room_created(room: Room, public_base_url: str, origin: str) -> RoomSignal:
    """``workspace_room_created`` {workspace_id, room_id, room}: ``room`` as a member of
    the workspace who is not in it sees it (no link)."""
    return _to_workspace(
        room.workspace_id,
        room.created_by,
        WORKSPACE_ROOM_CREATED,
        {
            "workspace_id": room.workspace_id,
            "room_id": room.id,
            "room": room.to_dict(public_base_url, member=False),
        },
        origin,
    )


def direct_opened(room: Room, public_base_url: str, origin: str) -> tuple[RoomSignal, ...]:
    """``workspace_room_created`` for a new direct conversation: to its people only
    (every connection of each, on every instance), never to the workspace."""
    data = {
        "workspace_id": room.workspace_id,
        "room_id": room.id,
        "room": room.to_dict(public_base_url),
    }
    frame = frames.broadcast(WORKSPACE_ROOM_CREATED, jsoncodec.dumps(data))
    return tuple(
        RoomSignal(0, room.created_by, origin, frame, to_user=user_id)
        for user_id in room.member_ids or ()
    )


def room_updated(room: Room, public_base_url: str, actor_id: int, origin: str) -> RoomSignal:
    """``workspace_room_updated`` {workspace_id, room_id, room} (renamed, passcode set or
    cleared: the room without its link)."""
    return _to_workspace(
        room.workspace_id,
        actor_id,
        WORKSPACE_ROOM_UPDATED,
        {
            "workspace_id": room.workspace_id,
            "room_id": room.id,
            "room": room.to_dict(public_base_url, member=False),
        },
        origin,
    )


def room_deleted(workspace_id: int, room_id: int, actor_id: int, origin: str) -> RoomSignal:
    """``workspace_room_deleted`` {workspace_id, room_id}."""
    data = {"workspace_id": workspace_id, "room_id": room_id}
    return _to_workspace(workspace_id, actor_id, WORKSPACE_ROOM_DELETED, data, origin)


def member_joined(
    workspace_id: int, user: User, role: str, joined_at: datetime, origin: str
) -> RoomSignal:
    """``workspace_member_joined`` {workspace_id, user_id, role, joined_at, user}: as the
    member list shows the member."""
    data = {
        "workspace_id": workspace_id,
        "user_id": user.id,
        "role": role,
        "joined_at": joined_at,
        "user": user.to_dict(),
    }
    return _to_workspace(workspace_id, user.id, WORKSPACE_MEMBER_JOINED, data, origin)


def member_left(workspace_id: int, user_id: int, removed_by: int, origin: str) -> RoomSignal:
    """``workspace_member_left`` {workspace_id, user_id, removed_by} (``removed_by`` is
    ``user_id`` when they left on their own)."""
    data = {"workspace_id": workspace_id, "user_id": user_id, "removed_by": removed_by}
    return _to_workspace(workspace_id, removed_by, WORKSPACE_MEMBER_LEFT, data, origin)


def member_updated(
    workspace_id: int, user_id: int, role: str, changed_by: int, origin: str
) -> RoomSignal:
    """``workspace_member_updated`` {workspace_id, user_id, role, changed_by}."""
    data = {
        "workspace_id": workspace_id,
        "user_id": user_id,
        "role": role,
        "changed_by": changed_by,
    }
    return _to_workspace(workspace_id, changed_by, WORKSPACE_MEMBER_UPDATED, data, origin)


def workspace_updated(workspace: Workspace, actor_id: int, origin: str) -> RoomSignal:
    """``workspace_updated`` {workspace_id, workspace} (renamed)."""
    data = {"workspace_id": workspace.id, "workspace": workspace.to_dict()}
    return _to_workspace(workspace.id, actor_id, WORKSPACE_UPDATED, data, origin)


def user_updated(
    user: User, room_ids: list[int], workspace_ids: list[int], origin: str
) -> tuple[RoomSignal, ...]:
    """``user_updated`` {user_id, user}: one frame, to each room the user is in (every
    joined connection: the sender is NOBODY), each of their workspaces' followers, and
    the user's own connections."""
    frame = frames.broadcast(
        USER_UPDATED, jsoncodec.dumps({"user_id": user.id, "user": user.to_dict()})
    )
    return (
        RoomSignal(0, NOBODY, origin, frame, to_user=user.id),
        *(RoomSignal(room_id, NOBODY, origin, frame) for room_id in room_ids),
        *(RoomSignal(0, NOBODY, origin, frame, to_workspace=w) for w in workspace_ids),
    )


def invitation_received(invitee_id: int, invitation: Invitation, origin: str) -> RoomSignal:
    """``invitation_received`` {invitation}: to every connection of the invitee, the
    invitation as their list (GET /api/v1/invitations) shows it."""
    data = jsoncodec.dumps({"invitation": invitation.to_dict()})
    frame = frames.broadcast(INVITATION_RECEIVED, data)
    return RoomSignal(0, invitation.invited_by.id, origin, frame, to_user=invitee_id)


def invitation_cancelled(
    invitee_id: int, invitation_id: int, workspace_id: int, by: int, origin: str
) -> RoomSignal:
    """``invitation_cancelled`` {invitation_id, workspace_id}: to every connection of the
    invitee, so the invitation leaves their list at once (accepting it now: not_found)."""
    data = jsoncodec.dumps({"invitation_id": invitation_id, "workspace_id": workspace_id})
    frame = frames.broadcast(INVITATION_CANCELLED, data)
    return RoomSignal(0, by, origin, frame, to_user=invitee_id)


def unfollowing(signal: RoomSignal) -> tuple[int, int] | None:
    """(workspace, user) when a delivered signal ends that user's following of the
    workspace (``workspace_member_left``); None for every other signal."""
    if signal.to_workspace is None or frames.action_of(signal.frame) != WORKSPACE_MEMBER_LEFT:
        return None
    data = signal.frame[len(frames.broadcast_head(WORKSPACE_MEMBER_LEFT)) : -1]
    return signal.to_workspace, int(jsoncodec.loads(data)["user_id"])


def profile_of(signal: RoomSignal) -> User | None:
    """The user a ``user_updated`` addressed to that user carries (their connections keep
    it, so what they send from now on shows it); None for every other signal."""
    if signal.to_user is None or frames.action_of(signal.frame) != USER_UPDATED:
        return None
    data = jsoncodec.loads(signal.frame[len(frames.broadcast_head(USER_UPDATED)) : -1])
    user = data["user"]
    return User(int(user["id"]), user["username"], user["display_name"], user["avatar_url"])
