"""Invitation bounds and expiry, and a leaver forgotten by every instance's member cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roomchat.domain.invitations import InvitationService
from roomchat.domain.rooms import MEMBER_CACHE_TTL_S, RoomService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code
from roomchat.store.invitations import InvitationLimits
from roomchat.store.recorder import Recorder
from tests.unit.conftest import Domain, cheap_hasher


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_workspace_holds_at_most_its_bound_of_pending_invitations(domain: Domain) -> None:
    clock = Clock()
    service = InvitationService(domain.store, InvitationLimits(3, 2, 2), timedelta(days=1), clock)
    workspaces = WorkspaceService(domain.store, service, domain.recorder)
    owner = await domain.user("owner")
    ws = await workspaces.create(owner, "ws")
    invitees = [await domain.user(f"u{n}") for n in range(4)]
    for user in invitees[:3]:
        await workspaces.invite(owner, ws.id, user.id, None)
    # Full: refused before the user is looked up, an unknown one included.
    for user_id in (invitees[3].id, 10**12):
        with pytest.raises(ChatError) as full:
            await workspaces.invite(owner, ws.id, user_id, None)
        assert full.value.code is Code.CONFLICT
    assert await service.pending(invitees[3]) == []

    # An answer makes room; so does expiry.
    [first] = await service.pending(invitees[0])
    await service.decline(invitees[0], first.id)
    await workspaces.invite(owner, ws.id, invitees[3].id, None)
    clock.now += timedelta(days=2)
    assert await service.pending(invitees[3]) == []
    with pytest.raises(ChatError) as expired:
        await workspaces.accept(invitees[1], 1)
    assert expired.value.code is Code.NOT_FOUND
    await workspaces.invite(owner, ws.id, invitees[0].id, None)
    assert [i.workspace_id for i in await service.pending(invitees[0])] == [ws.id]


async def test_a_full_list_makes_room_from_strangers_never_dropping_the_newest(
    domain: Domain,
) -> None:
    """Issue 20, item 4: an invitee's bound used to drop every later invitation. Now
    an inviter's newer invitation replaces their oldest, and one to a full list takes
    the place of a stranger's oldest: a colleague's (sharing a workspace) stays."""
    service = InvitationService(domain.store, InvitationLimits(10, 3, 2))
    workspaces = WorkspaceService(domain.store, service, domain.recorder)
    stranger, other, colleague, invitee = [
        await domain.user(name) for name in ("stranger", "other", "colleague", "invitee")
    ]
    shared = await workspaces.create(colleague, "shared")
    await workspaces.invite(colleague, shared.id, invitee.id, None)
    [invitation] = await service.pending(invitee)
    await workspaces.accept(invitee, invitation.id)
    team = await workspaces.create(colleague, "team")
    await workspaces.invite(colleague, team.id, invitee.id, None)

    spaces = [await workspaces.create(stranger, f"ws{n}") for n in range(3)]
    for ws in spaces:
        await workspaces.invite(stranger, ws.id, invitee.id, None)  # no error for any
    listed = [i.workspace_id for i in await service.pending(invitee)]
    assert listed == [team.id, spaces[1].id, spaces[2].id]

    theirs = await workspaces.create(other, "theirs")
    await workspaces.invite(other, theirs.id, invitee.id, None)
    listed = [i.workspace_id for i in await service.pending(invitee)]
    assert listed == [team.id, spaces[2].id, theirs.id]


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_leaver_is_forgotten_here_at_once_and_elsewhere_within_the_ttl(
    domain: Domain,
) -> None:
    """Two instances share a database: the leave is handled by one; each forgets the
    member when it hears their room_member_left; one that has not heard it yet still
    says "member" until its entry is older than MEMBER_CACHE_TTL_S."""
    clock = Monotonic()
    other_recorder = Recorder(domain.store, None, "unit-other")
    other_workspaces = WorkspaceService(
        domain.store, InvitationService(domain.store), other_recorder
    )
    other = RoomService(
        domain.store,
        other_workspaces,
        5,
        timedelta(minutes=15),
        clock,
        hasher=cheap_hasher(),
        recorder=other_recorder,
    )
    owner, member = await domain.user("owner"), await domain.user("member")
    ws = await domain.workspaces.create(owner, "ws")
    await domain.workspaces.invite(owner, ws.id, member.id, None)
    [invitation] = await domain.workspaces.invitations.pending(member)
    await domain.workspaces.accept(member, invitation.id)
    room = await domain.rooms.create(owner, ws.id, "room", None)
    await domain.rooms.join(member, room.id, None)
    await other.require_room_member(member, room.id)

    events = (await domain.workspaces.leave(member, ws.id)).events
    assert [(e.room_id, e.action) for e in events] == [(room.id, "room_member_left")]
    for event in events:
        domain.rooms.apply(event)  # this instance hears them as it publishes them
    with pytest.raises(ChatError) as here:
        await domain.rooms.require_room_member(member, room.id)
    assert here.value.code is Code.FORBIDDEN
    assert (await other.require_room_member(member, room.id)).id == room.id  # cached
    clock.now += MEMBER_CACHE_TTL_S + 0.1
    with pytest.raises(ChatError) as elsewhere:
        await other.require_room_member(member, room.id)
    assert elsewhere.value.code is Code.FORBIDDEN
