"""Room events and signals: their frames, and how they travel in Kafka records."""

from __future__ import annotations

from datetime import UTC, datetime

from roomchat import jsoncodec
from roomchat.bus import kafka_records
from roomchat.domain.events import (
    RoomEvent,
    RoomSignal,
    message_data,
    new_message_event,
    typing_signal,
)
from roomchat.domain.kinds import NEW_MESSAGE
from roomchat.domain.models import Message, User
from roomchat.frames import action_of

ANN = User(3, "ann", "Ann \u00e9", None)
MESSAGE = Message(
    id=11,
    room_id=7,
    seq=5,
    user=ANN,
    message_text='a "quoted"\nline',
    message_content=None,
    client_msg_id="c-1",
    created_at=datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC),
)


def test_a_new_message_broadcast_is_the_guides_envelope_byte_for_byte() -> None:
    event = new_message_event(MESSAGE, "i1")
    expected = jsoncodec.dumps(
        {"action": "new_room_chat_message", "status": "success", "data": MESSAGE.to_dict()}
    )
    assert event.frame == expected
    assert (event.room_id, event.seq, event.action, event.origin) == (7, 5, NEW_MESSAGE, "i1")
    assert action_of(event.frame) == NEW_MESSAGE
    # Rebuilt from the database or built live: the same bytes.
    assert new_message_event(MESSAGE, "i1", message_data(MESSAGE)).frame == event.frame


def test_a_typing_signal_is_the_guides_typing_indicator() -> None:
    signal = typing_signal(7, 3, True, "i1")
    assert jsoncodec.loads(signal.frame) == {
        "action": "typing_indicator",
        "status": "success",
        "data": {"room_id": 7, "user_id": 3, "is_typing": True},
    }
    assert signal.sender_id == 3


def test_kafka_records_carry_events_and_signals_unchanged() -> None:
    event = RoomEvent.build(7, 5, "room_chat_message_edited", b'{"room_id":7}', "i1")
    headers = kafka_records.event_headers(event)
    assert kafka_records.decode(headers, event.frame) == event
    signal = typing_signal(7, 3, False, "i2")
    assert kafka_records.decode(kafka_records.signal_headers(signal), signal.frame) == signal
    assert isinstance(signal, RoomSignal)


def test_records_of_other_kinds_are_not_events() -> None:
    assert kafka_records.decode(kafka_records.heartbeat_headers("i1"), b"1.0") is None
    # What an instance of the previous version sends: skipped, the gap is filled from
    # the database.
    old = [("kind", b"message"), ("room", b"7"), ("seq", b"5"), ("origin", b"i0")]
    assert kafka_records.decode(old, b"{}") is None
