"""The hub's ordering core on its own: no event loop, no database, plain events."""

from __future__ import annotations

from dataclasses import dataclass

from roomchat.realtime.ordering import EARLY, NEXT, REPEAT, WAITING, SeqOrder


@dataclass(frozen=True)
class Event:
    seq: int


def started(last_seq: int = 0) -> SeqOrder[Event]:
    order: SeqOrder[Event] = SeqOrder()
    order.start(last_seq)
    return order


def delivered(order: SeqOrder[Event], *seqs: int) -> list[int]:
    """Offer ``seqs`` in turn; the seqs that went out, in the order they went out."""
    out: list[int] = []
    for seq in seqs:
        if order.offer(Event(seq)) is NEXT:
            out.append(seq)
            while (following := order.next_held()) is not None:
                out.append(following.seq)
    return out


def test_events_in_order_go_out_at_once() -> None:
    order = started()
    assert [order.offer(Event(seq)) for seq in (1, 2, 3)] == [NEXT, NEXT, NEXT]
    assert order.delivered == 3
    assert order.held == {}
    assert order.missing() is None


def test_events_out_of_order_go_out_in_seq_order() -> None:
    order = started()
    assert delivered(order, 3, 1, 4, 2, 5) == [1, 2, 3, 4, 5]
    assert order.held == {}


def test_a_repeat_is_dropped_whether_delivered_or_held() -> None:
    order = started()
    assert delivered(order, 1, 2) == [1, 2]
    assert order.offer(Event(2)) is REPEAT
    assert order.offer(Event(1)) is REPEAT
    assert order.offer(Event(4)) is EARLY
    assert order.offer(Event(4)) is EARLY  # the bus said it twice: kept once
    assert list(order.held) == [4]
    assert delivered(order, 3) == [3, 4]


def test_a_gap_names_the_range_that_keeps_the_first_held_event_waiting() -> None:
    order = started(last_seq=1)
    assert order.offer(Event(8)) is EARLY
    assert order.offer(Event(5)) is EARLY
    assert order.missing() == (2, 4)  # up to the first held, not the last
    assert order.next_held() is None  # nothing can go out yet
    assert order.delivered == 1


def test_a_gap_filled_from_the_database_releases_what_was_held() -> None:
    order = started()
    assert delivered(order, 1, 4, 6) == [1]
    first, last = order.missing() or (0, 0)
    filled = delivered(order, *range(first, last + 1))  # as read back from the database
    assert filled == [2, 3, 4]
    assert order.missing() == (5, 5)
    assert delivered(order, 5) == [5, 6]
    assert order.missing() is None and order.held == {}


def test_before_the_start_everything_waits() -> None:
    order: SeqOrder[Event] = SeqOrder()
    assert not order.started
    assert [order.offer(Event(seq)) for seq in (6, 4, 5, 9)] == [WAITING] * 4
    assert order.missing() is None  # no gap can be told before the room's seq is known
    assert order.next_held() is None


def test_the_start_drops_what_was_stored_before_and_releases_the_rest() -> None:
    # A room opened again (someone joins it after everyone left): where it stands is
    # read afresh, and what a joiner's history already holds never goes out again.
    order: SeqOrder[Event] = SeqOrder()
    for seq in (6, 4, 5, 9):
        order.offer(Event(seq))
    order.start(last_seq=4)
    released = []
    while (following := order.next_held()) is not None:
        released.append(following.seq)
    assert released == [5, 6]
    assert order.delivered == 6
    assert order.missing() == (7, 8)
    assert order.offer(Event(4)) is REPEAT


def test_rooms_order_independently() -> None:
    one, other = started(), started(last_seq=10)
    assert delivered(one, 2) == []
    assert delivered(other, 11, 12) == [11, 12]
    assert delivered(one, 1) == [1, 2]
