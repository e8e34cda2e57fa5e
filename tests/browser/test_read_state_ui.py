"""The web client's read state and presence in a real browser: unread badges kept live
through subscribe_workspace, the "new messages" line, marking read as messages come
into view, "Seen by" under one's latest message (and not for someone who stopped
sharing read receipts), and who is online in a room.

Two or three users, each in their own browser context, against a real server
(conftest.py). Every check is on what a user sees; nothing waits by sleeping.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_room_events_ui import act, enter_room, message, notices, two_users_in_room
from tests.browser.test_web_client import (
    accept_invitation,
    add_member,
    bubbles,
    create_room,
    exact,
    open_room,
    send,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)


@pytest.fixture
def server_env() -> dict[str, str]:
    """Presence waits this long before showing someone gone (5 s by default)."""
    return {"ROOMCHAT_PRESENCE_GRACE_S": "1"}


# ---------------------------------------------------------------- helpers


def room_button(page: Any, room: str) -> Any:
    name = page.locator(".room-name").filter(has_text=exact(room))
    return page.locator("#room-list button").filter(has=name)


def badge(page: Any, room: str) -> Any:
    return room_button(page, room).locator(".badge")


def seen_by(page: Any) -> Any:
    """The "Seen by" line (there is at most one: under the user's latest message)."""
    return page.locator("#message-list .seen-by")


def go_to(page: Any, room: str) -> None:
    open_room(page, room)
    expect(page.locator("#room-title")).to_have_text(room)
    expect(page.locator("#older-status")).not_to_have_text("Loading…")


def share_read_receipts(page: Any, share: bool) -> None:
    page.locator("#account-btn").click()
    box = page.get_by_role("checkbox", name="Share read receipts")
    expect(box).to_be_enabled()  # the setting as stored has loaded
    expect(box).to_be_checked(checked=not share)
    box.click()
    expect(page.locator("#toast")).to_have_text(
        "Others now see when you have read their messages"
        if share
        else "Your read receipts are private now"
    )
    expect(box).to_be_checked(checked=share)
    page.locator("#account-close").click()
    expect(page.locator("#account-dialog")).to_be_hidden()


def member_row(page: Any, name: str) -> Any:
    return page.locator("#member-list li").filter(has_text=name)


# ---------------------------------------------------------------- tests


def test_unread_badge_live_and_new_messages_line(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    create_room(alice, "Random")
    enter_room(bob, "Random")

    # Bob reads what Alice writes while he is in the room: nothing unread there.
    send(alice, "before")
    expect(bubbles(bob, "before")).to_have_count(1)
    expect(badge(bob, "Random")).to_be_hidden()
    go_to(bob, "General")
    expect(badge(bob, "Random")).to_be_hidden()
    expect(room_button(bob, "Random").locator(".room-preview")).to_have_text("Alice: before")

    # Alice writes on in Random, which Bob is not viewing: his badge counts, live.
    send(alice, "one")
    expect(badge(bob, "Random")).to_have_text("1")
    send(alice, "two")
    send(alice, "three")
    expect(badge(bob, "Random")).to_have_text("3")
    expect(room_button(bob, "Random").locator(".room-preview")).to_have_text("Alice: three")
    expect(badge(bob, "General")).to_be_hidden()

    # Bob opens it: the line sits where he stopped reading, right before "one".
    go_to(bob, "Random")
    expect(badge(bob, "Random")).to_be_hidden()
    expect(bob.locator("#message-list .unread-divider")).to_have_count(1)
    expect(message(bob, "one").locator(".unread-divider")).to_be_visible()
    expect(message(bob, "one").locator(".unread-divider")).to_have_text("New messages")
    first_unread = bob.locator("#message-list > li.msg").filter(has=bob.locator(".unread-divider"))
    expect(first_unread.locator(".bubble")).to_have_text("one")

    # While he reads it, the room he is in shows no badge, and the line stays put.
    send(alice, "four")
    expect(bubbles(bob, "four")).to_have_count(1)
    expect(badge(bob, "Random")).to_be_hidden()
    expect(message(bob, "one").locator(".unread-divider")).to_have_count(1)

    # Back in General: Random stays at 0, because he read it (not just looked away).
    go_to(bob, "General")
    expect(badge(bob, "Random")).to_be_hidden()
    expect(room_button(bob, "Random").locator(".room-preview")).to_have_text("Alice: four")

    # Reopening it shows no line: nothing was new.
    go_to(bob, "Random")
    expect(bubbles(bob, "four")).to_have_count(1)
    expect(bob.locator("#message-list .unread-divider")).to_have_count(0)


def test_seen_by_follows_receipts_and_stops_when_sharing_is_off(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    carol = new_page()
    sign_up(carol, "carol", "Carol")
    add_member(alice, "carol")
    accept_invitation(carol, "Team")

    # Bob is in the room: he reads Alice's message as it arrives.
    send(alice, "hello")
    expect(bubbles(bob, "hello")).to_have_count(1)
    expect(seen_by(alice)).to_have_count(1)
    expect(message(alice, "hello").locator(".seen-by")).to_have_text("Seen by Bob")

    # It follows Alice's latest message.
    send(alice, "again")
    expect(message(alice, "again").locator(".seen-by")).to_have_text("Seen by Bob")
    expect(seen_by(alice)).to_have_count(1)
    expect(message(alice, "hello").locator(".seen-by")).to_have_count(0)
    # Bob sees no "Seen by" of his own: he has written nothing.
    expect(seen_by(bob)).to_have_count(0)

    # Bob stops sharing his read receipts, then leaves for another room.
    share_read_receipts(bob, False)
    create_room(bob, "Quiet")

    # Alice writes again; Bob's badge shows it, he reads it, and back in Quiet his
    # badge for General is 0 again: his read is stored.
    send(alice, "newer")
    expect(badge(bob, "General")).to_have_text("1")
    go_to(bob, "General")
    expect(bubbles(bob, "newer")).to_have_count(1)
    go_to(bob, "Quiet")
    expect(badge(bob, "General")).to_be_hidden()

    # Carol (who shares) joins and reads it: Alice sees Carol, never Bob.
    enter_room(carol, "General")
    expect(notices(alice, "Carol joined")).to_have_count(1)
    expect(message(alice, "newer").locator(".seen-by")).to_have_text("Seen by Carol")

    # Read afresh from the server (GET .../readers), it is still Carol alone.
    alice.reload()
    expect(alice.locator("#room-title")).to_have_text("General")
    expect(message(alice, "newer").locator(".seen-by")).to_have_text("Seen by Carol")
    expect(seen_by(alice)).to_have_count(1)

    # Sharing again: the setting shows as stored.
    share_read_receipts(bob, True)


def test_online_dots_follow_who_is_in_the_room(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    alice.locator("#members-btn").click()
    expect(alice.locator("#members-panel")).to_be_visible()
    expect(member_row(alice, "Alice").locator(".presence-dot")).to_have_count(1)
    expect(member_row(alice, "Bob").locator(".presence-dot")).to_have_count(1)

    # Bob goes to another room: after the grace period he is no longer shown here.
    create_room(bob, "Elsewhere")
    expect(member_row(alice, "Bob")).to_have_count(1)
    expect(member_row(alice, "Bob").locator(".presence-dot")).to_have_count(0)

    # He opens the room again: online.
    go_to(bob, "General")
    expect(member_row(alice, "Bob").locator(".presence-dot")).to_have_count(1)
    expect(member_row(alice, "Bob").locator(".presence-dot")).to_have_attribute(
        "aria-label", "online"
    )

    # He closes his page: gone once the grace period is over; Alice is still online.
    bob.close()
    expect(member_row(alice, "Bob").locator(".presence-dot")).to_have_count(0)
    expect(member_row(alice, "Alice").locator(".presence-dot")).to_have_count(1)


def test_mark_unread_from_a_message_stays_until_the_room_is_read_again(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    create_room(alice, "Random")  # and she is in it now
    enter_room(bob, "Random")
    go_to(alice, "General")
    go_to(bob, "General")
    for text in ("one", "two", "three"):
        send(alice, text)
    expect(bubbles(bob, "three")).to_have_count(1)
    # His own messages offer no such action (they never count as unread).
    send(bob, "mine")
    mine = message(bob, "mine")
    mine.hover()
    expect(mine.locator(".actions").get_by_role("button", name="Edit")).to_be_visible()
    expect(mine.locator(".actions").get_by_role("button", name="Mark unread")).to_have_count(0)

    # Bob has read them all; he marks them unread from "two" on (his own not counted).
    act(bob, "two", "Mark unread")
    expect(bob.locator("#toast")).to_have_text("2 messages marked unread")
    expect(message(bob, "two").locator(".unread-divider")).to_have_text("New messages")

    # Staying in the room did not read them again: elsewhere, the badge says 2 ...
    go_to(bob, "Random")
    expect(badge(bob, "General")).to_have_text("2")
    # ... and so does the server, after a reload.
    bob.reload()
    expect(badge(bob, "General")).to_have_text("2")

    # Opening the room reads them again.
    go_to(bob, "General")
    expect(bubbles(bob, "three")).to_have_count(1)
    go_to(bob, "Random")
    expect(badge(bob, "General")).to_be_hidden()


def test_a_message_arriving_while_marking_unread_does_not_read_the_room_again(
    new_page: Any,
) -> None:
    """Marking unread takes a round trip; a message that comes into view meanwhile must
    not send a mark_room_read after it (that would read everything again)."""
    alice, bob = two_users_in_room(new_page, "General")
    create_room(alice, "Random")
    enter_room(bob, "Random")
    go_to(alice, "General")
    # Bob's socket goes through the test, which holds the reply to mark_room_unread.
    held: list[Any] = []
    hold = {"on": True}
    marks: list[str] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        unread_ids: set[Any] = set()

        def to_server(text: str | bytes) -> None:
            frame = json.loads(text)
            if frame.get("action") in ("mark_room_read", "mark_room_unread"):
                marks.append(frame["action"])
            if frame.get("action") == "mark_room_unread":
                unread_ids.add(frame.get("request_id"))
            server.send(text)

        def to_page(text: str | bytes) -> None:
            frame = json.loads(text)
            if hold["on"] and frame.get("request_id") in unread_ids:
                held.append((ws, text))
            else:
                ws.send(text)

        ws.on_message(to_server)
        server.on_message(to_page)

    bob.route_web_socket(re.compile(r".*/ws\?.*"), route)
    bob.reload()
    expect(bob.locator("#conn-state")).to_have_text("Connected")
    go_to(bob, "General")
    for text in ("one", "two", "three"):
        send(alice, text)
    expect(bubbles(bob, "three")).to_have_count(1)

    act(bob, "two", "Mark unread")
    deadline = time.monotonic() + 15
    while "mark_room_unread" not in marks:  # the route handler runs while Playwright waits
        assert time.monotonic() < deadline, "mark_room_unread was never sent"
        bob.wait_for_timeout(20)
    # The reply is held; a new message comes into Bob's view meanwhile. A mark read is
    # due 500 ms after that at the latest: given a second to go wrong, nothing is sent.
    send(alice, "four")
    expect(bubbles(bob, "four")).to_have_count(1)
    bob.wait_for_timeout(1000)
    hold["on"] = False
    for ws, text in held:
        ws.send(text)
    expect(bob.locator("#toast")).to_have_text("2 messages marked unread")
    after = marks[marks.index("mark_room_unread") + 1 :]
    assert "mark_room_read" not in after, marks
    # The server kept all three unread ("two", "three", "four"), as a reload shows.
    go_to(bob, "Random")
    bob.reload()
    expect(badge(bob, "General")).to_have_text("3")


def test_seen_by_arriving_after_the_room_opens_keeps_the_newest_message_in_view(
    new_page: Any,
) -> None:
    """The line is drawn once GET .../readers answers, after the room is shown at its
    bottom: it must not push the newest message below the fold."""
    alice, bob = two_users_in_room(new_page, "General")
    texts = [f"message {n}: " + " ".join(["a long line that wraps"] * 8) for n in range(20)]
    for text in texts:
        send(alice, text)
    expect(bubbles(bob, texts[-1])).to_have_count(1)
    expect(message(alice, texts[-1]).locator(".seen-by")).to_have_text("Seen by Bob")

    alice.reload()
    seen = message(alice, texts[-1]).locator(".seen-by")
    expect(seen).to_have_text("Seen by Bob")
    in_view = seen.evaluate(
        """(line) => {
            let box = line.parentElement;
            while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
            const view = box.getBoundingClientRect();
            return line.getBoundingClientRect().bottom <= view.bottom + 1;
        }"""
    )
    assert in_view, "the newest message's Seen by line is below the fold"
