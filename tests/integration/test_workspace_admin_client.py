"""roomchat.client with workspace administration and profiles, against real servers: the
member list and roles, pending invitations, a removal, a new name and picture, and the
live sidebar's typed events (WorkspaceRoomCreated, WorkspaceMemberLeft, UserUpdated,
InvitationReceived)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from PIL import Image

from roomchat.client import (
    Client,
    Event,
    InvitationReceived,
    RequestError,
    UserUpdated,
    WorkspaceMemberLeft,
    WorkspaceMemberUpdated,
    WorkspaceRoomCreated,
)
from tests.support.client import Api
from tests.support.server import ServerProcess

WAIT = 10.0


async def next_of(client: Client, match: Callable[[Event], bool]) -> Event:
    async with asyncio.timeout(WAIT):
        while True:
            event = await client.next_event()
            if match(event):
                return event


async def test_running_a_workspace_through_the_client(server: ServerProcess, api: Api) -> None:
    ann, bob, cat = await api.register("ann"), await api.register("bob"), await api.register("cat")
    workspace = await api.workspace(ann, bob)
    wid = workspace["id"]
    async with (
        Client(server.base_url, token=ann.token) as a,
        Client(server.base_url, token=bob.token) as b,
        Client(server.base_url, token=cat.token) as c,
    ):
        await b.subscribe_workspace(wid)
        room = await api.room(ann, wid)
        made = await next_of(b, lambda e: isinstance(e, WorkspaceRoomCreated))
        assert isinstance(made, WorkspaceRoomCreated)
        assert (made.workspace_id, made.room.id, made.room.name) == (wid, room["id"], room["name"])

        assert await a.set_role(wid, bob.id, "admin") == "admin"
        changed = await next_of(b, lambda e: isinstance(e, WorkspaceMemberUpdated))
        assert isinstance(changed, WorkspaceMemberUpdated) and changed.role == "admin"
        roles = {m.user.id: m.role for m in await a.members(wid)}
        assert roles == {ann.id: "owner", bob.id: "admin"}

        await b.rest.invite(b.token, wid, cat.user["username"])  # an admin invites
        invited = await next_of(c, lambda e: isinstance(e, InvitationReceived))
        assert isinstance(invited, InvitationReceived) and invited.workspace_id == wid
        [pending] = await a.pending_invitations(wid)
        assert (pending.id, pending.user.id, pending.invited_by.id) == (
            invited.invitation_id,
            cat.id,
            bob.id,
        )
        await b.cancel_invitation(pending.id)
        assert await a.pending_invitations(wid) == []
        try:
            await c.rest.accept_invitation(c.token, invited.invitation_id)
        except RequestError as error:
            assert error.code == "not_found"
        else:
            raise AssertionError("a cancelled invitation was accepted")

        renamed = await a.set_display_name("Ann Admin")
        assert renamed.display_name == "Ann Admin"
        told = await next_of(b, lambda e: isinstance(e, UserUpdated))
        assert isinstance(told, UserUpdated) and told.user == renamed
        out = io.BytesIO()
        Image.new("RGB", (40, 20), "green").save(out, "PNG")
        pictured = await a.set_avatar(out.getvalue())
        assert pictured.avatar_url is not None and pictured.avatar_url.endswith(".png")

        await a.remove_member(wid, bob.id)
        gone = await next_of(b, lambda e: isinstance(e, WorkspaceMemberLeft))
        assert isinstance(gone, WorkspaceMemberLeft)
        assert (gone.user_id, gone.removed_by) == (bob.id, ann.id)
        assert [m.user.id for m in await a.members(wid)] == [ann.id]
