"""Domain services on a real store: seq, idempotency, passcode limits, membership."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from roomchat.domain.models import User
from roomchat.errors import ChatError, Code
from roomchat.store.tables import passcode_failures
from tests.unit.conftest import Domain

PASSCODE = "open-sesame"


async def join_workspace(domain: Domain, owner: User, workspace_id: int, user: User) -> None:
    """Invited by the owner, the user accepts: how anyone joins a workspace."""
    await domain.workspaces.invite(owner, workspace_id, user.id, None)
    [invitation] = await domain.workspaces.invitations.pending(user)
    await domain.workspaces.accept(user, invitation.id)


async def test_concurrent_sends_get_a_gapless_seq_per_room(domain: Domain) -> None:
    owner, other = await domain.user("owner"), await domain.user("other")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, other)
    first = await domain.rooms.create(owner, ws.id, "one", None)
    second = await domain.rooms.create(owner, ws.id, "two", None)
    await domain.rooms.join(other, first.id, None)
    await domain.rooms.join(other, second.id, None)

    sends = [
        domain.messages.send(user, room.id, f"{n}", None, None)
        for n in range(40)
        for user, room in ((owner, first), (other, first), (other, second))
    ]
    results = await asyncio.gather(*sends)
    by_room: dict[int, list[int]] = {first.id: [], second.id: []}
    for result in results:
        assert result.event is not None
        by_room[result.event.room_id].append(result.event.seq)
    # Seq 1 of each room is other's room_member_joined.
    assert sorted(by_room[first.id]) == list(range(2, 82))
    assert sorted(by_room[second.id]) == list(range(2, 42))
    page = await domain.messages.page(owner, first.id, None, None, 100)
    assert [m.seq for m in page.messages] == list(range(2, 82))
    assert await domain.store.rooms.last_seq(first.id) == 81


async def test_one_client_msg_id_sent_twice_at_once_stores_one_message(domain: Domain) -> None:
    owner = await domain.user()
    ws = await domain.workspaces.create(owner, "ws")
    room = await domain.rooms.create(owner, ws.id, "room", None)
    results = await asyncio.gather(
        *(domain.messages.send(owner, room.id, "hello", None, "same-id") for _ in range(3))
    )
    assert len({r.data for r in results}) == 1
    assert sum(r.event is not None for r in results) == 1  # broadcast once
    page = await domain.messages.page(owner, room.id, None, None, 10)
    assert [m.message_text for m in page.messages] == ["hello"]
    with pytest.raises(ChatError) as conflict:
        await domain.messages.send(owner, room.id, "different", None, "same-id")
    assert conflict.value.code is Code.CONFLICT


async def test_a_refused_message_does_not_use_up_a_seq(domain: Domain) -> None:
    owner = await domain.user()
    ws = await domain.workspaces.create(owner, "ws")
    room = await domain.rooms.create(owner, ws.id, "room", None)
    await domain.messages.send(owner, room.id, "one", None, None)
    for text, content in (("  ", None), ("x" * 4001, None), ("ok", "c" * (16 * 1024 + 1))):
        with pytest.raises(ChatError) as refused:
            await domain.messages.send(owner, room.id, text, content, None)
        assert refused.value.code is Code.VALIDATION_ERROR
    result = await domain.messages.send(owner, room.id, "two", None, None)
    assert result.event is not None and result.event.seq == 2


async def test_parallel_wrong_passcodes_cannot_exceed_the_limit(domain: Domain) -> None:
    owner, guesser = await domain.user("owner"), await domain.user("guesser")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, guesser)
    room = await domain.rooms.create(owner, ws.id, "locked", PASSCODE)

    async def guess(n: int) -> Code:
        try:
            await domain.rooms.join(guesser, room.id, f"guess-{n}")
        except ChatError as err:
            return err.code
        raise AssertionError("a wrong passcode was accepted")

    codes = list(await asyncio.gather(*(guess(n) for n in range(12))))
    assert Code.RATE_LIMITED in codes
    # Refused guesses were never checked; keep guessing one at a time until refused:
    # in all, exactly 5 guesses were checked (answered wrong_passcode).
    while codes[-1] is not Code.RATE_LIMITED or codes.count(Code.WRONG_PASSCODE) < 5:
        codes.append(await guess(len(codes)))
        assert len(codes) < 30
    assert codes.count(Code.WRONG_PASSCODE) == 5
    with pytest.raises(ChatError) as locked:
        await domain.rooms.join(guesser, room.id, PASSCODE)
    assert locked.value.code is Code.RATE_LIMITED


async def test_wrong_passcodes_older_than_the_window_no_longer_count(domain: Domain) -> None:
    owner, guesser = await domain.user("owner"), await domain.user("guesser")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, guesser)
    room = await domain.rooms.create(owner, ws.id, "locked", PASSCODE)
    long_ago = datetime.now(UTC) - timedelta(minutes=16)
    async with domain.store.engine.begin() as conn:
        await conn.execute(
            insert(passcode_failures),
            [{"room_id": room.id, "user_id": guesser.id, "failed_at": long_ago}] * 5,
        )
    joined = await domain.rooms.join(guesser, room.id, PASSCODE)
    assert joined.value.id == room.id
    assert await domain.store.rooms.is_member(room.id, guesser.id)


async def test_a_right_passcode_does_not_count_as_a_failure(domain: Domain) -> None:
    owner, guest = await domain.user("owner"), await domain.user("guest")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, guest)
    rooms = [await domain.rooms.create(owner, ws.id, f"r{n}", PASSCODE) for n in range(2)]
    for _ in range(4):
        with pytest.raises(ChatError):
            await domain.rooms.join(guest, rooms[0].id, "nope")
    await domain.rooms.join(guest, rooms[0].id, PASSCODE)
    since = datetime.now(UTC) - timedelta(minutes=15)
    assert await domain.store.rooms.passcode_failures_since(rooms[0].id, guest.id, since) == 4


async def test_room_membership_and_workspace_boundaries(domain: Domain) -> None:
    owner, member, outsider = (
        await domain.user("owner"),
        await domain.user("member"),
        await domain.user("outsider"),
    )
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, member)
    room = await domain.rooms.create(owner, ws.id, "room", None)

    for attempt in (
        domain.rooms.in_workspace(outsider, ws.id),
        domain.rooms.visible(outsider, room.id),
        domain.rooms.join(outsider, room.id, None),
        domain.rooms.join_by_token(outsider, room.join_token, None),
        domain.messages.send(outsider, room.id, "hi", None, None),
        domain.workspaces.members(outsider, ws.id),
        domain.workspaces.invite(member, ws.id, outsider.id, None),
    ):
        with pytest.raises(ChatError) as refused:
            await attempt
        assert refused.value.code is Code.FORBIDDEN

    with pytest.raises(ChatError) as not_member:
        await domain.messages.send(member, room.id, "hi", None, None)
    assert not_member.value.code is Code.FORBIDDEN
    await domain.rooms.join_by_token(member, room.join_token, None)
    await domain.messages.send(member, room.id, "hi", None, None)
    members = await domain.rooms.members(owner, room.id)
    assert [m.user.id for m in members] == [owner.id, member.id]


async def test_a_send_that_loses_the_race_with_the_rooms_deletion_is_not_found(
    domain: Domain,
) -> None:
    """The sender passed the membership check (cached) just before the room was
    deleted: the send gets not_found and takes no seq after the deletion's, and a
    send to another room in the same group commit is stored as usual."""
    owner = await domain.user("owner")
    ws = await domain.workspaces.create(owner, "ws")
    doomed = await domain.rooms.create(owner, ws.id, "doomed", None)
    other = await domain.rooms.create(owner, ws.id, "other", None)
    await domain.messages.send(owner, doomed.id, "before", None, None)
    await domain.messages.require_member(owner, doomed.id)  # now in the member cache
    async with domain.store.transaction() as tx:  # deleted by another instance
        assert await domain.store.rooms.mark_deleted(tx.conn, doomed.id)
    seq_before = await domain.store.rooms.last_seq(doomed.id)

    lost, kept = await asyncio.gather(
        domain.messages.send(owner, doomed.id, "too late", None, None),
        domain.messages.send(owner, other.id, "fine", None, None),
        return_exceptions=True,
    )
    assert isinstance(lost, ChatError) and lost.code == Code.NOT_FOUND
    assert not isinstance(kept, BaseException) and kept.message.message_text == "fine"
    assert await domain.store.rooms.last_seq(doomed.id) == seq_before
    assert [e.seq for e in await domain.store.events.after(doomed.id, 0, 10)] == [seq_before]
