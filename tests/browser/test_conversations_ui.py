"""The web client's threads, mentions and direct messages in a real browser (issue 23).

Two users, each in their own browser context, against a real server (conftest.py):
replies in a thread side panel (live both ways, never in the room's timeline), the
followed threads and their unread replies, the `@` autocomplete (keyboard and mouse),
mentions highlighted and counted in the sidebar until read, and a direct conversation
started from the "New message" picker that reaches the other user without a reload.
Every check is on what a user sees; nothing waits by sleeping.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_read_state_ui import go_to, room_button
from tests.browser.test_room_events_ui import act, enter_room, message, two_users_in_room
from tests.browser.test_web_client import (
    PHONE,
    accept_invitation,
    add_member,
    bubbles,
    create_room,
    create_workspace,
    exact,
    send,
    shot,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

MENTIONS_ME = re.compile(r"\bmentions-me\b")  # a message that mentions the user, as a whole


# ---------------------------------------------------------------- helpers


def panel(page: Any) -> Any:
    return page.locator("#thread-panel")


def thread_bubbles(page: Any, text: str) -> Any:
    """The thread panel's stored messages whose text is exactly `text`."""
    return page.locator("#thread-list .bubble").filter(has_text=exact(text))


def thread_message(page: Any, text: str) -> Any:
    return page.locator("#thread-list > li.msg").filter(
        has=page.locator(".bubble").filter(has_text=exact(text))
    )


def reply(page: Any, text: str) -> None:
    """Reply in the open thread; return once the server has stored it."""
    box = page.locator("#thread-input")
    stored = thread_bubbles(page, text).count()
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    expect(thread_bubbles(page, text)).to_have_count(stored + 1)


def summary(page: Any, root: str) -> Any:
    """A root's "N replies · last reply" line in the room's timeline."""
    return message(page, root).locator(".thread-summary")


def mention_badge(page: Any, room: str) -> Any:
    return room_button(page, room).locator(".mention-count")


def menu(page: Any, composer: str = "composer-input") -> Any:
    return page.locator(f"#{composer}-mentions")


def dm_button(page: Any, title: str) -> Any:
    name = page.locator(".room-name").filter(has_text=exact(title))
    return page.locator("#dm-list button").filter(has=name)


def start_direct(page: Any, *names: str) -> None:
    page.locator("#new-dm-btn").click()
    dialog = page.locator("#dm-dialog")
    expect(dialog).to_be_visible()
    start = dialog.get_by_role("button", name="Start conversation")
    expect(start).to_be_disabled()
    for name in names:
        dialog.get_by_role("checkbox", name=name).check()
    expect(start).to_be_enabled()
    start.click()
    expect(dialog).to_be_hidden()


# ---------------------------------------------------------------- threads


def test_thread_replies_live_in_the_side_panel_never_in_the_timeline(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    send(alice, "Lunch at noon?")
    expect(bubbles(bob, "Lunch at noon?")).to_have_count(1)
    expect(summary(bob, "Lunch at noon?")).to_be_hidden()

    # Alice answers in a thread, from the message's actions: the panel opens on it.
    act(alice, "Lunch at noon?", "Reply in thread")
    expect(panel(alice)).to_be_visible()
    expect(alice.locator("#thread-list > li.msg .bubble")).to_have_text(["Lunch at noon?"])
    reply(alice, "I can do 12:30")

    # Bob sees the root's reply count, live; the reply is in no timeline.
    expect(summary(bob, "Lunch at noon?")).to_contain_text("1 reply")
    expect(summary(bob, "Lunch at noon?")).to_contain_text("last reply")
    expect(bubbles(bob, "I can do 12:30")).to_have_count(0)
    expect(bubbles(alice, "I can do 12:30")).to_have_count(0)

    # He opens it from the count: the root first, then the reply.
    summary(bob, "Lunch at noon?").click()
    expect(panel(bob)).to_be_visible()
    expect(bob.locator("#thread-list > li.msg .bubble")).to_have_text(
        ["Lunch at noon?", "I can do 12:30"]
    )

    # He answers, naming Alice with the mouse in the panel's own autocomplete.
    box = bob.locator("#thread-input")
    box.click()
    box.press_sequentially("@al")
    expect(menu(bob, "thread-input").get_by_role("option")).to_have_count(1)
    menu(bob, "thread-input").get_by_role("option", name="Alice").click()
    expect(box).to_have_value("@alice ")
    box.press_sequentially("12:30 works")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(thread_bubbles(bob, "@alice 12:30 works")).to_have_count(1)

    # Alice, whose panel is open, gets it live, her name highlighted as hers.
    expect(thread_bubbles(alice, "@alice 12:30 works")).to_have_count(1)
    mention = thread_message(alice, "@alice 12:30 works").locator(".mention-me")
    expect(mention).to_have_text("@alice")
    expect(summary(alice, "Lunch at noon?")).to_contain_text("2 replies")
    expect(summary(bob, "Lunch at noon?")).to_contain_text("2 replies")

    # Replies have a message's actions: Alice edits hers and reacts to Bob's.
    mine = thread_message(alice, "I can do 12:30")
    mine.hover()
    mine.locator(".actions").get_by_role("button", name="Edit").click()
    editor = alice.locator("#thread-list").get_by_role("textbox", name="Edit message")
    expect(editor).to_have_value("I can do 12:30")
    editor.fill("I can do 12:45")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    expect(thread_bubbles(bob, "I can do 12:45")).to_have_count(1)
    expect(thread_message(bob, "I can do 12:45").locator(".edited")).to_be_visible()
    theirs = thread_message(alice, "@alice 12:30 works")
    theirs.hover()
    theirs.locator(".actions").get_by_role("button", name="React with 👍").click()
    chip = thread_message(bob, "@alice 12:30 works").locator(".reaction").filter(has_text="👍")
    expect(chip.locator(".count")).to_have_text("1")
    # "Mark unread" reads the room, not a thread: replies do not offer it.
    expect(theirs.locator(".actions").get_by_role("button", name="Mark unread")).to_have_count(0)

    # Read afresh from the server, the timeline still holds the root alone.
    bob.reload()
    expect(bob.locator("#room-title")).to_have_text("General")
    expect(summary(bob, "Lunch at noon?")).to_contain_text("2 replies")
    for text in ("I can do 12:45", "@alice 12:30 works"):
        expect(bubbles(bob, text)).to_have_count(0)
        expect(bubbles(alice, text)).to_have_count(0)


def test_reply_written_offline_waits_in_the_thread_and_is_stored_once(new_page: Any) -> None:
    alice = new_page()
    # Alice's socket goes through a switch: closed, and refused while it is off.
    blocked = {"on": False}
    sockets: list[Any] = []

    def route(ws: Any) -> None:
        if blocked["on"]:
            ws.close(code=1013, reason="test: offline")
        else:
            ws.connect_to_server()
            sockets.append(ws)

    alice.route_web_socket(re.compile(r".*/ws\?.*"), route)
    bob = new_page()
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "General")
    enter_room(bob, "General")
    send(bob, "Anyone around?")
    act(alice, "Anyone around?", "Reply in thread")
    expect(alice.locator("#thread-list > li.msg .bubble")).to_have_text(["Anyone around?"])
    expect(summary(bob, "Anyone around?")).to_be_hidden()  # no replies yet

    # Offline, Alice's reply waits in the thread, never in the room's own pending list.
    blocked["on"] = True
    for ws in sockets:
        ws.close(code=1013, reason="test: offline")
    expect(alice.locator("#conn-state")).not_to_have_text("Connected")
    box = alice.locator("#thread-input")
    box.fill("I am, from a train")
    box.press("Enter")
    expect(alice.locator("#thread-pending-list .msg")).to_have_count(1)
    expect(alice.locator("#thread-pending-list .state")).to_have_text("Waiting for connection…")
    expect(alice.locator("#pending-list .msg")).to_have_count(0)

    # Back online: stored once, in the thread for both, in neither timeline.
    blocked["on"] = False  # the client's next attempt (its backoff is at most 15 s) gets through
    expect(alice.locator("#conn-state")).to_have_text("Connected", timeout=30_000)
    expect(thread_bubbles(alice, "I am, from a train")).to_have_count(1)
    expect(alice.locator("#thread-pending-list .msg")).to_have_count(0)
    expect(summary(bob, "Anyone around?")).to_contain_text("1 reply")
    summary(bob, "Anyone around?").click()
    expect(thread_bubbles(bob, "I am, from a train")).to_have_count(1)
    expect(bubbles(alice, "I am, from a train")).to_have_count(0)
    expect(bubbles(bob, "I am, from a train")).to_have_count(0)


def test_followed_threads_list_their_unread_replies(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    send(bob, "Release on Friday?")
    expect(bubbles(alice, "Release on Friday?")).to_have_count(1)
    act(alice, "Release on Friday?", "Reply in thread")
    reply(alice, "Friday works")
    # Bob wrote the root: he follows its thread. Alice closes her panel and writes on.
    expect(summary(bob, "Release on Friday?")).to_contain_text("1 reply")
    alice.locator("#thread-close").click()
    expect(panel(alice)).to_be_hidden()

    # Bob, elsewhere, sees unread replies marked: on the room and on "Threads".
    create_room(bob, "Elsewhere")
    summary(alice, "Release on Friday?").click()
    reply(alice, "Or Monday")
    expect(room_button(bob, "General").locator(".thread-mark")).to_be_visible()
    expect(bob.locator("#threads-unread")).to_be_visible()

    # The list shows the thread with its unread replies; choosing it opens room and thread.
    bob.locator("#threads-btn").click()
    item = bob.locator("#followed-threads .thread-item").filter(has_text="Release on Friday?")
    expect(item).to_have_count(1)
    expect(item.locator(".badge")).to_have_text("2")
    item.click()
    expect(bob.locator("#room-title")).to_have_text("General")
    expect(bob.locator("#thread-list > li.msg .bubble")).to_have_text(
        ["Release on Friday?", "Friday works", "Or Monday"]
    )
    # Opening it read it: the markers go.
    expect(bob.locator("#threads-unread")).to_be_hidden()
    expect(room_button(bob, "General").locator(".thread-mark")).to_be_hidden()
    follow = bob.locator("#thread-follow-btn")
    expect(follow).to_have_attribute("aria-pressed", "true")

    # Unfollowed, a new reply is no longer counted for him.
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "false")
    bob.locator("#thread-close").click()
    go_to(bob, "Elsewhere")
    reply(alice, "Monday then")
    expect(bubbles(alice, "Monday then")).to_have_count(0)
    bob.locator("#threads-btn").click()
    expect(bob.locator("#no-threads")).to_be_visible()
    expect(bob.locator("#threads-unread")).to_be_hidden()


# ---------------------------------------------------------------- mentions


def test_mention_from_autocomplete_badge_highlight_and_read(
    new_page: Any, screenshot_dir: Path | None
) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    create_room(bob, "Random")  # Bob is in another room from now on

    # `@` lists the room's other members and @room; arrows move, Escape closes.
    box = alice.locator("#composer-input")
    box.click()
    box.press_sequentially("Hey @")
    options = menu(alice).get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(1)).to_contain_text("@room")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(menu(alice)).to_be_hidden()
    expect(box).to_have_value("Hey @")

    # Typing on narrows it to Bob; Enter picks him (and does not send).
    box.press_sequentially("b")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Bob")
    shot(alice, screenshot_dir, "desktop-mention-autocomplete")
    box.press("Enter")
    expect(menu(alice)).to_be_hidden()
    expect(box).to_have_value("Hey @bob ")
    expect(bubbles(alice, "Hey @bob")).to_have_count(0)
    box.press_sequentially("lunch?")
    box.press("Enter")
    expect(bubbles(alice, "Hey @bob lunch?")).to_have_count(1)
    # Alice sees Bob's name as a mention, not as hers.
    expect(message(alice, "Hey @bob lunch?").locator(".mention")).to_have_text("@bob")
    expect(message(alice, "Hey @bob lunch?").locator(".mention-me")).to_have_count(0)
    expect(message(alice, "Hey @bob lunch?")).not_to_have_class(MENTIONS_ME)

    # Bob, in Random, gets a mention badge on General next to its unread count.
    expect(mention_badge(bob, "General")).to_have_text("@1")
    expect(room_button(bob, "General").locator(".badge")).to_have_text("1")
    expect(mention_badge(bob, "Random")).to_be_hidden()

    # In the room the mention is his: highlighted strongly, the message as a whole too.
    go_to(bob, "General")
    msg = message(bob, "Hey @bob lunch?")
    expect(msg.locator(".mention-me")).to_have_text("@bob")
    expect(msg).to_have_class(MENTIONS_ME)
    expect(mention_badge(bob, "General")).to_be_hidden()
    shot(bob, screenshot_dir, "desktop-mentioned")

    # He read it: back in Random, General has no badge left.
    go_to(bob, "Random")
    expect(mention_badge(bob, "General")).to_be_hidden()
    expect(room_button(bob, "General").locator(".badge")).to_be_hidden()

    # A message that names someone who is not a member highlights nothing.
    send(alice, "ask @nobody")
    expect(message(alice, "ask @nobody").locator(".mention")).to_have_count(0)


# ---------------------------------------------------------------- direct messages


def test_direct_message_from_the_picker_reaches_the_other_live(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    expect(alice.locator("#no-dms")).to_be_visible()

    # Alice picks Bob: the conversation opens, named after him, with no room settings.
    start_direct(alice, "Bob")
    expect(alice.locator("#room-title")).to_have_text("Bob")
    expect(alice.locator("#room-subtitle")).to_contain_text("direct message")
    expect(alice.locator("#settings-btn")).to_be_hidden()
    expect(alice.locator("#copy-link-btn")).to_be_hidden()
    expect(dm_button(alice, "Bob")).to_have_attribute("aria-current", "true")
    send(alice, "Psst, got a minute?")

    # Bob, in General, sees it appear under "Direct messages" without a reload.
    expect(dm_button(bob, "Alice")).to_have_count(1)
    expect(dm_button(bob, "Alice").locator(".badge")).to_have_text("1")
    expect(dm_button(bob, "Alice").locator(".room-preview")).to_have_text(
        "Alice: Psst, got a minute?"
    )
    expect(bob.locator("#room-list .room-name")).to_have_text(["General"])

    # He reads it and answers; Alice gets the answer live.
    dm_button(bob, "Alice").click()
    expect(bob.locator("#room-title")).to_have_text("Alice")
    expect(bubbles(bob, "Psst, got a minute?")).to_have_count(1)
    send(bob, "Sure, what's up?")
    expect(bubbles(alice, "Sure, what's up?")).to_have_count(1)
    go_to(bob, "General")
    expect(dm_button(bob, "Alice").locator(".badge")).to_be_hidden()

    # Picking Bob again opens the same conversation, with what was said.
    go_to(alice, "General")
    start_direct(alice, "Bob")
    expect(alice.locator("#room-title")).to_have_text("Bob")
    expect(bubbles(alice, "Psst, got a minute?")).to_have_count(1)
    expect(bubbles(alice, "Sure, what's up?")).to_have_count(1)
    expect(alice.locator("#dm-list button")).to_have_count(1)


# ---------------------------------------------------------------- phone


def test_thread_panel_covers_the_timeline_on_a_phone(
    new_page: Any, screenshot_dir: Path | None
) -> None:
    alice = new_page(PHONE)
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    create_room(alice, "General")
    send(alice, "Who is in?")
    act(alice, "Who is in?", "Reply in thread")
    expect(panel(alice)).to_be_visible()
    # The panel is on top of the timeline, the full width of the screen.
    on_top = alice.evaluate(
        "() => document.elementFromPoint(innerWidth / 2, innerHeight / 2)"
        ".closest('#thread-panel') !== null"
    )
    assert on_top
    box = panel(alice).bounding_box()
    assert box is not None and box["width"] == PHONE["width"]
    reply(alice, "Me")
    expect(summary(alice, "Who is in?")).to_contain_text("1 reply")
    shot(alice, screenshot_dir, "phone-thread")
    # Its close button brings the timeline back.
    alice.locator("#thread-close").click()
    expect(panel(alice)).to_be_hidden()
    expect(alice.locator("#composer-input")).to_be_visible()
    expect(bubbles(alice, "Me")).to_have_count(0)
