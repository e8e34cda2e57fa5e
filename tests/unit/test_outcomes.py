"""One outcome per command: a domain command that records room events returns them with
its value (an ``Outcome``), and one adapter per transport replies and then publishes
them, so no REST route or WebSocket handler can forget to (or publish before replying)."""

from __future__ import annotations

import ast
from pathlib import Path

from roomchat.domain import kinds
from roomchat.domain.outcome import Outcome
from tests.unit.conftest import Domain
from tests.unit.test_domain import join_workspace

SRC = Path(__file__).resolve().parents[2] / "src" / "roomchat"
# Publishing by hand: to the hub (and the listeners) through fanout, or in a response's
# background task (then the reply has gone out).
PUBLISHERS = {"publish", "BackgroundTask", "then_publish"}
# The two adapters: the functions allowed to publish.
ADAPTERS = {("api/outcomes.py", "reply"), ("realtime/handlers.py", "_publish")}


def _publishing_calls(path: Path) -> list[tuple[str, int]]:
    """(the module's function or class method it is in, line) of each call that publishes."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    for func in [*tree.body, *(node for c in classes for node in c.body)]:
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
                callee = node.func
                name = callee.attr if isinstance(callee, ast.Attribute) else None
                if isinstance(callee, ast.Name):
                    name = callee.id
                if name in PUBLISHERS:
                    found.append((func.name, node.lineno))
    return found


def test_only_the_two_adapters_publish() -> None:
    transports = [*sorted((SRC / "api").rglob("*.py")), SRC / "realtime" / "handlers.py"]
    by_hand = set()
    adapters_seen = set()
    for path in transports:
        name = path.relative_to(SRC).as_posix()
        for function, line in _publishing_calls(path):
            if (name, function) in ADAPTERS:
                adapters_seen.add((name, function))
            else:
                by_hand.add(f"{name}:{line} in {function}()")
    assert not by_hand, f"publishing by hand, outside the adapters: {sorted(by_hand)}"
    assert adapters_seen == ADAPTERS


async def test_a_join_returns_its_member_joined_and_a_second_join_nothing(
    domain: Domain,
) -> None:
    owner, member = await domain.user("owner"), await domain.user("member")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, member)
    room = await domain.rooms.create(owner, ws.id, "room", None)

    joined = await domain.rooms.join(member, room.id, None)
    assert isinstance(joined, Outcome)
    assert joined.value.id == room.id
    assert [(e.action, e.seq) for e in joined.events] == [(kinds.MEMBER_JOINED, 1)]

    again = await domain.rooms.join(member, room.id, None)
    assert again.value.id == room.id and again.events == ()


async def test_room_commands_return_the_events_they_recorded(domain: Domain) -> None:
    owner, member = await domain.user("owner"), await domain.user("member")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, member)
    room = await domain.rooms.create(owner, ws.id, "room", None)

    added = await domain.rooms.add_member(owner, room.id, member.id)
    assert added.value.user.id == member.id
    assert [e.action for e in added.events] == [kinds.MEMBER_JOINED]
    assert (await domain.rooms.add_member(owner, room.id, member.id)).events == ()

    renamed = await domain.rooms.update(owner, room.id, "renamed", None, False)
    assert renamed.value.name == "renamed"
    assert [(e.action, e.seq) for e in renamed.events] == [(kinds.ROOM_UPDATED, 2)]

    rotated = await domain.rooms.rotate_link(owner, room.id)
    assert rotated.value.join_token != room.join_token
    assert [e.action for e in rotated.events] == [kinds.ROOM_UPDATED]

    removed = await domain.rooms.remove_member(owner, room.id, member.id)
    assert [(e.action, e.seq) for e in removed.events] == [(kinds.MEMBER_LEFT, 4)]
    assert removed.value == removed.events[0]

    deleted = await domain.rooms.delete(owner, room.id)
    assert [(e.action, e.seq) for e in deleted.events] == [(kinds.ROOM_DELETED, 5)]


async def test_leaving_a_workspace_returns_one_member_left_per_room(domain: Domain) -> None:
    owner, member = await domain.user("owner"), await domain.user("member")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, member)
    rooms = [await domain.rooms.create(owner, ws.id, f"room {n}", None) for n in range(2)]
    for room in rooms:
        await domain.rooms.join(member, room.id, None)

    left = await domain.workspaces.leave(member, ws.id)
    assert left.value is None
    assert sorted((e.room_id, e.action) for e in left.events) == [
        (room.id, kinds.MEMBER_LEFT) for room in rooms
    ]
