"""The hub's sweep: a message lost on the bus at a room's end still reaches its clients."""

from __future__ import annotations

from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable
from tests.unit.test_hub import ROOM, Database, FakeConnection, joined, message


def hub_over(db: Database) -> Hub:
    # A long gap delay: only the sweep can deliver what the bus never brought.
    return Hub(
        db,
        60.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )


async def test_a_tail_message_the_bus_lost_is_delivered_after_a_whole_sweep() -> None:
    db = Database(last_seq=0)
    hub = hub_over(db)
    conn = FakeConnection(1)
    await joined(hub, conn)
    hub.deliver(message(1))
    # seq 2 is stored, but its event never arrives and nothing follows it.
    db.newest = 2
    db.stored[2] = message(2)
    await hub.sweep()  # first sight of seq 2: it may still be on its way
    assert conn.seqs == [1]
    await hub.sweep()  # a whole sweep later it is still missing: read it
    assert conn.seqs == [1, 2]
    assert db.fills == [(2, 2)]


async def test_a_message_that_arrives_between_sweeps_is_not_read_again() -> None:
    db = Database(last_seq=0)
    hub = hub_over(db)
    conn = FakeConnection(1)
    await joined(hub, conn)
    db.newest = 1
    db.stored[1] = message(1)
    await hub.sweep()
    hub.deliver(message(1))  # the bus was only slow
    await hub.sweep()
    assert conn.seqs == [1]
    assert db.fills == []
    assert ROOM in conn.rooms
