"""An edit or a delete rewrites the message's stored events in its own transaction:
what the hub's gap fill, a catch-up join and a REST page read of the log shows the
message as it is now, on the same seqs; and finding those events uses an index."""

from __future__ import annotations

from sqlalchemy import text

from roomchat import jsoncodec
from roomchat.domain.kinds import MESSAGE_EDITED, NEW_MESSAGE
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.replay import Replay
from roomchat.frames import data_of
from roomchat.store import event_log
from roomchat.store.recorder import Recorder
from tests.unit.conftest import Domain

EARLIER = (b"version one", b"file one", b"version two", b"draft one")


async def test_gap_fill_and_catch_up_read_each_message_as_it_is_now(domain: Domain) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    room = await domain.rooms.create(owner, workspace.id, "r", None)
    changes = MessageChanges(
        domain.rooms,
        Recorder(domain.store, None, "unit"),
        domain.messages.limits,
        mentions=Mentions(domain.store, "unit"),
    )
    gone = (await domain.messages.send(owner, room.id, "version one", "file one", None)).message
    await changes.edit(owner, room.id, gone.id, "version two", None, keep_content=True)
    kept = (await domain.messages.send(owner, room.id, "draft one", None, None)).message
    await changes.edit(owner, room.id, kept.id, "draft now", None, keep_content=True)
    unchanged = await changes.edit(owner, room.id, kept.id, "draft now", None, keep_content=True)
    assert unchanged.events == ()
    before = await domain.store.events.between(room.id, 1, 100)
    [deleted] = (await changes.delete(owner, room.id, gone.id)).events

    replay = Replay(domain.store, domain.rooms, "unit", max_bytes=1024 * 1024)
    filled = await replay.events_between(room.id, 1, deleted.seq)  # the hub's gap fill
    assert [e.seq for e in filled] == list(range(1, deleted.seq + 1))
    assert [(e.seq, e.action) for e in filled[:-1]] == [(e.seq, e.action) for e in before]
    for event in filled:
        assert not any(earlier in event.frame for earlier in EARLIER), event.frame
    shown = {e.seq: jsoncodec.loads(data_of(e)) for e in filled}
    tombstones = [shown[gone.seq], shown[gone.seq + 1]["message"]]
    for tomb in tombstones:
        assert tomb["id"] == gone.id and tomb["seq"] == gone.seq
        assert tomb["message_text"] is None and tomb["message_content"] is None
        assert tomb["deleted_at"] is not None and tomb["edited_at"] is not None
    assert shown[kept.seq]["message_text"] == "draft now"
    assert shown[kept.seq + 1]["message"]["message_text"] == "draft now"
    # Events of nothing that changed are as they were, byte for byte.
    untouched = {gone.seq, gone.seq + 1, kept.seq}
    assert [e for e in before if e.seq not in untouched] == [
        stored
        for stored in await domain.store.events.between(room.id, 1, deleted.seq - 1)
        if stored.seq not in untouched
    ]

    caught_up = await replay.catch_up(room.id, 0)
    page = await replay.page(owner, room.id, 0, 100)
    assert caught_up.encoded == page.items
    assert len(page.items) == deleted.seq
    assert not any(earlier in item for item in page.items for earlier in EARLIER)


async def test_a_messages_events_are_found_by_index(domain: Domain) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    room = await domain.rooms.create(owner, workspace.id, "r", None)
    changes = MessageChanges(
        domain.rooms,
        Recorder(domain.store, None, "unit"),
        domain.messages.limits,
        mentions=Mentions(domain.store, "unit"),
    )
    sent = (await domain.messages.send(owner, room.id, "one", None, None)).message
    for n in range(3):
        await changes.edit(owner, room.id, sent.id, f"one, take {n}", None, keep_content=True)
    async with domain.store.transaction() as tx:
        found = await event_log.message_events(tx.conn, room.id, sent.seq, sent.id)
        assert [e.action for e in found] == [NEW_MESSAGE] + [MESSAGE_EDITED] * 3
        assert [e.seq for e in found] == list(range(sent.seq, sent.seq + 4))

        # The edits through the partial index on message_id, not a scan of the log.
        postgres = domain.store.engine.dialect.name == "postgresql"
        if postgres:
            await tx.conn.execute(text("SET LOCAL enable_seqscan = off"))
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        plan = await tx.conn.execute(
            text(f"{explain} SELECT seq FROM room_events WHERE message_id = :m AND room_id = :r"),
            {"m": sent.id, "r": room.id},
        )
        assert "ix_room_events_message_id" in str(plan.all())
