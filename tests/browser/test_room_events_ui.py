"""The web client's room events in a real browser: edits, deletes, reactions, joining,
leaving and removal, room settings, and catching up on them after a dropped socket.

Two users, each in their own browser context, against a real server (conftest.py).
Every check is on what a user sees; nothing waits by sleeping.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_web_client import (
    accept_invitation,
    add_member,
    bubbles,
    create_room,
    create_workspace,
    exact,
    open_room,
    send,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

THUMBS = "👍"
HEART = "❤️"
PARTY = "🎉"


# ---------------------------------------------------------------- helpers


def message(page: Any, text: str) -> Any:
    """The confirmed message whose text is exactly `text`."""
    return page.locator("#message-list > li.msg").filter(
        has=page.locator(".bubble").filter(has_text=exact(text))
    )


def tombstones(page: Any) -> Any:
    return page.locator("#message-list > li.msg.deleted")


def notices(page: Any, text: str | re.Pattern[str]) -> Any:
    """Quiet timeline lines (joins, leaves, room changes)."""
    return page.locator("#message-list > li.notice").filter(has_text=text)


def chip(page: Any, text: str, reaction: str) -> Any:
    """The reaction count shown under a message."""
    return message(page, text).locator(f'.reactions button[data-reaction="{reaction}"]')


def act(page: Any, text: str, button: str) -> None:
    """Point at a message, then click one of the actions that show over it (on a phone,
    where nothing hovers, a tap on the message shows them)."""
    msg = message(page, text)
    msg.hover()
    actions = msg.locator(".actions")
    if not actions.is_visible():
        msg.locator(".bubble").click()
    actions.get_by_role("button", name=button).click()


def react(page: Any, text: str, reaction: str) -> None:
    """Add (or take back) a reaction from the message's quick reactions."""
    act(page, text, f"React with {reaction}")


def expect_count(page: Any, text: str, reaction: str, count: int, *, mine: bool) -> None:
    c = chip(page, text, reaction)
    expect(c).to_have_count(1)
    expect(c.locator(".count")).to_have_text(str(count))
    expect(c).to_have_attribute("aria-pressed", "true" if mine else "false")


def confirm(page: Any, title: str | re.Pattern[str]) -> None:
    expect(page.locator("#confirm-title")).to_have_text(title)
    page.locator("#confirm-ok").click()
    expect(page.locator("#confirm-dialog")).to_be_hidden()


def edit(page: Any, old: str, new: str) -> None:
    act(page, old, "Edit")
    box = page.get_by_role("textbox", name="Edit message")
    expect(box).to_have_value(old)
    box.fill(new)
    box.press("Enter")
    expect(box).to_have_count(0)


def delete(page: Any, text: str) -> None:
    act(page, text, "Delete")
    confirm(page, re.compile("^Delete .*message\\?$"))


def open_settings(page: Any) -> None:
    page.locator("#settings-btn").click()
    expect(page.locator("#settings-dialog")).to_be_visible()


def seqs(page: Any) -> list[int]:
    return list(
        page.locator("#message-list > li").evaluate_all("els => els.map(e => +e.dataset.seq)")
    )


def two_users_in_room(new_page: Any, room: str = "General") -> tuple[Any, Any]:
    """Alice (workspace owner, room creator) and Bob (a member) both in `room`."""
    alice = new_page()
    bob = new_page()
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, room)
    enter_room(bob, room)
    expect(notices(alice, "Bob joined")).to_have_count(1)
    return alice, bob


def enter_room(page: Any, room: str) -> None:
    page.locator("#refresh-btn").click()
    open_room(page, room)
    expect(page.locator("#room-title")).to_have_text(room)
    expect(page.locator("#older-status")).not_to_have_text("Loading…")


class SocketSwitch:
    """Routes a page's WebSockets so that the test can drop them and keep them down."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.blocked = False
        self.open: list[Any] = []
        page.route_web_socket(re.compile(r".*/ws\?.*"), self._route)

    def _route(self, ws: Any) -> None:
        if self.blocked:
            ws.close(code=1013, reason="test: offline")
        else:
            ws.connect_to_server()
            self.open.append(ws)

    def drop(self) -> None:
        """Close the page's socket (as a lost connection would) and refuse new ones."""
        self.blocked = True
        for ws in self.open:
            ws.close(code=1013, reason="test: dropped")
        self.open.clear()
        expect(self.page.locator("#conn-banner")).to_be_visible()

    def restore(self) -> None:
        self.blocked = False
        # The socket's own retry may be under way as we click (the banner then covers
        # the button, or hides it): send the click event itself, which is a no-op
        # unless the socket is closed, and allow for one backoff (at most 15 s).
        self.page.locator("#retry-now-btn").dispatch_event("click")
        expect(self.page.locator("#conn-state")).to_have_text("Connected", timeout=20_000)


# ---------------------------------------------------------------- tests


def test_member_joined_line_and_members_list(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    # Alice saw Bob join (two_users_in_room), and her member list has him without a reload.
    alice.locator("#members-btn").click()
    expect(alice.locator("#members-count")).to_have_text("(2)")
    expect(alice.locator("#member-list")).to_contain_text("Bob")
    # Bob's own join is in his history already: no line about himself.
    expect(bob.locator("#message-list > li.notice")).to_have_count(0)
    # A quiet line is not a message: the room still invites the first one.
    expect(alice.locator("#older-status")).to_have_text(re.compile("No messages yet"))


def test_edit_own_message_shows_edited_to_both(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(alice, "Helo everyone")
    # Bob replies once he has Alice's message (send() returns once the server has it,
    # so Bob's reply takes the higher seq and is shown below it).
    expect(bubbles(bob, "Helo everyone")).to_have_count(1)
    send(bob, "Hi Alice")
    expect(bubbles(alice, "Hi Alice")).to_have_count(1)
    for page in (alice, bob):
        expect(page.locator("#message-list > li.msg .bubble")).to_have_text(
            ["Helo everyone", "Hi Alice"]
        )

    # Only the author may edit; Bob is not a moderator, so he cannot delete Alice's either.
    expect(message(bob, "Helo everyone").get_by_role("button", name="Edit")).to_have_count(0)
    expect(message(bob, "Helo everyone").get_by_role("button", name="Delete")).to_have_count(0)
    expect(message(bob, "Hi Alice").get_by_role("button", name="Edit")).to_have_count(1)
    # What Bob can do with Alice's message: react (+: more reactions, the emoji
    # picker), reply in a thread, and mark the room unread from it.
    expect(message(bob, "Helo everyone").locator(".actions")).to_have_text(
        "👍❤️😂🎉+Reply in threadMark unread"
    )

    edit(alice, "Helo everyone", "Hello everyone")
    for page in (alice, bob):
        expect(bubbles(page, "Helo everyone")).to_have_count(0)
        expect(message(page, "Hello everyone").locator(".edited")).to_have_text("(edited)")
        expect(message(page, "Hello everyone").locator(".edited")).to_be_visible()
        expect(message(page, "Hi Alice").locator(".edited")).to_be_hidden()
    # Still in its place: the edit did not move it after Bob's reply.
    expect(bob.locator("#message-list > li.msg .bubble")).to_have_text(
        ["Hello everyone", "Hi Alice"]
    )

    # Esc leaves the editor without changing anything.
    act(bob, "Hi Alice", "Edit")
    box = bob.get_by_role("textbox", name="Edit message")
    box.fill("something else")
    box.press("Escape")
    expect(box).to_have_count(0)
    expect(message(bob, "Hi Alice").locator(".edited")).to_be_hidden()
    expect(message(alice, "Hi Alice").locator(".edited")).to_be_hidden()

    # Markup in an edit is text, as in a new message.
    evil = '<img src=x onerror="window.__pwned = 1"><b>bold</b>'
    edit(bob, "Hi Alice", evil)
    expect(bubbles(alice, evil)).to_have_count(1)
    assert alice.evaluate("window.__pwned") is None
    assert alice.locator("#messages b, #messages img").count() == 0


def test_delete_own_message_leaves_a_tombstone(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(bob, "first")
    send(bob, "oops, wrong room")
    send(bob, "third")
    # Alice reacts once all three are on her screen: one arriving between act()'s hover
    # and its click would move the hovered row away from under the pointer.
    expect(bubbles(alice, "third")).to_have_count(1)
    react(alice, "oops, wrong room", THUMBS)
    expect_count(bob, "oops, wrong room", THUMBS, 1, mine=False)

    delete(bob, "oops, wrong room")
    for page in (alice, bob):
        expect(bubbles(page, "oops, wrong room")).to_have_count(0)
        stone = tombstones(page)
        expect(stone).to_have_count(1)
        expect(stone.locator(".bubble")).to_have_text("message deleted")
        # No reactions, nothing to do with it any more.
        expect(stone.locator(".reactions button")).to_have_count(0)
        expect(stone.get_by_role("button")).to_have_count(0)
        # It keeps its place between the others.
        expect(page.locator("#message-list > li.msg .bubble")).to_have_text(
            ["first", "message deleted", "third"]
        )


def test_moderator_deletes_another_users_message(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(alice, "rules: be nice")
    send(bob, "something rude")
    expect(bubbles(alice, "something rude")).to_have_count(1)

    # Alice created the room: she may delete Bob's message (not edit it).
    theirs = message(alice, "something rude")
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(1)
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)
    act(alice, "something rude", "Delete")
    confirm(alice, "Delete Bob's message?")

    for page in (alice, bob):
        expect(bubbles(page, "something rude")).to_have_count(0)
        expect(tombstones(page)).to_have_count(1)
        expect(tombstones(page).locator(".bubble")).to_have_text("message deleted")
        expect(bubbles(page, "rules: be nice")).to_have_count(1)


def test_reactions_counted_for_both_and_toggled_off(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(alice, "Lunch at noon?")
    expect(bubbles(bob, "Lunch at noon?")).to_have_count(1)

    react(bob, "Lunch at noon?", THUMBS)
    expect_count(bob, "Lunch at noon?", THUMBS, 1, mine=True)
    expect_count(alice, "Lunch at noon?", THUMBS, 1, mine=False)

    # Alice clicks the count to add hers; then a second kind.
    chip(alice, "Lunch at noon?", THUMBS).click()
    expect_count(alice, "Lunch at noon?", THUMBS, 2, mine=True)
    expect_count(bob, "Lunch at noon?", THUMBS, 2, mine=True)
    react(alice, "Lunch at noon?", HEART)
    expect_count(bob, "Lunch at noon?", HEART, 1, mine=False)
    expect(message(bob, "Lunch at noon?").locator(".reactions button")).to_have_count(2)

    # Clicking a reaction you gave takes it back.
    chip(bob, "Lunch at noon?", THUMBS).click()
    expect_count(bob, "Lunch at noon?", THUMBS, 1, mine=False)
    expect_count(alice, "Lunch at noon?", THUMBS, 1, mine=True)
    # So does the quick reaction of one you gave; the last one gone, so is its count.
    react(alice, "Lunch at noon?", THUMBS)
    for page in (alice, bob):
        expect(chip(page, "Lunch at noon?", THUMBS)).to_have_count(0)
        expect_count(page, "Lunch at noon?", HEART, 1, mine=page is alice)


def test_leave_room_shows_a_quiet_line_to_the_others(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(alice, "see you")
    expect(bubbles(bob, "see you")).to_have_count(1)

    open_settings(bob)
    expect(bob.locator("#settings-manage")).to_be_hidden()  # not his room to manage
    bob.locator("#leave-room-btn").click()
    confirm(bob, "Leave #General?")

    expect(bob.locator("#chat-notice")).to_have_text("You left #General.")
    expect(bob.locator("#chat-inner")).to_be_hidden()
    expect(notices(alice, exact("Bob left"))).to_have_count(1)
    alice.locator("#members-btn").click()
    expect(alice.locator("#members-count")).to_have_text("(1)")
    expect(alice.locator("#member-list")).not_to_contain_text("Bob")


def test_creator_removes_a_member(new_page: Any) -> None:
    alice = new_page()
    bob = new_page()
    received: list[str] = []
    bob.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.append(str(data))))
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "Lounge")
    create_room(alice, "General")
    enter_room(bob, "General")
    expect(notices(alice, "Bob joined")).to_have_count(1)
    send(alice, "before removal")
    expect(bubbles(bob, "before removal")).to_have_count(1)

    # Bob sees no Remove buttons; Alice, the room's creator, does (not for herself).
    bob.locator("#members-btn").click()
    expect(bob.locator("#member-list li")).to_have_count(2)
    expect(
        bob.locator("#member-list").get_by_role("button", name=re.compile("^Remove"))
    ).to_have_count(0)
    alice.locator("#members-btn").click()
    expect(alice.locator("#member-list li")).to_have_count(2)
    expect(alice.get_by_role("button", name=re.compile("^Remove"))).to_have_count(1)
    alice.get_by_role("button", name="Remove Bob from the room").click()
    confirm(alice, "Remove Bob from #General?")

    expect(bob.locator("#chat-notice")).to_have_text("You were removed from #General by Alice.")
    expect(bob.locator("#chat-inner")).to_be_hidden()
    expect(notices(alice, exact("Bob was removed by you"))).to_have_count(1)
    expect(alice.locator("#member-list li")).to_have_count(1)

    # Bob gets nothing more of General: Alice writes there, then in the Lounge, where
    # Bob is now. Once Bob has the Lounge's message, General's would have come before.
    send(alice, "after removal")
    enter_room(bob, "Lounge")
    alice.locator("#room-list button").filter(has_text="Lounge").click()
    expect(alice.locator("#room-title")).to_have_text("Lounge")
    send(alice, "in the lounge")
    expect(bubbles(bob, "in the lounge")).to_have_count(1)
    expect(bob.get_by_text("after removal")).to_have_count(0)
    assert not any("after removal" in frame for frame in received)


def test_removed_while_offline_is_not_let_back_in(new_page: Any) -> None:
    """Bob's socket is down when Alice removes him from a passcode room: on reconnect
    his catch-up is refused (he is no longer a member), and he is told so."""
    alice = new_page()
    bob = new_page()
    switch = SocketSwitch(bob)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "Private", passcode="s3cret")
    bob.locator("#refresh-btn").click()
    open_room(bob, "Private")
    bob.locator("#passcode-input").fill("s3cret")
    bob.locator("#passcode-submit").click()
    expect(bob.locator("#room-title")).to_have_text("Private")
    expect(notices(alice, "Bob joined")).to_have_count(1)

    switch.drop()
    alice.locator("#members-btn").click()
    alice.get_by_role("button", name="Remove Bob from the room").click()
    confirm(alice, "Remove Bob from #Private?")
    expect(notices(alice, exact("Bob was removed by you"))).to_have_count(1)

    switch.restore()
    expect(bob.locator("#chat-notice")).to_have_text("You are no longer a member of #Private.")
    expect(bob.locator("#chat-inner")).to_be_hidden()
    # Not let back in with the passcode his tab remembered: no second join.
    send(alice, "members only")
    expect(bubbles(alice, "members only")).to_have_count(1)
    expect(notices(alice, "Bob joined")).to_have_count(1)
    expect(alice.locator("#member-list li")).to_have_count(1)


def test_room_settings_seen_by_the_other_user(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    bob.context.grant_permissions(["clipboard-read", "clipboard-write"])
    send(alice, "welcome")
    expect(bubbles(bob, "welcome")).to_have_count(1)

    # Rename.
    open_settings(alice)
    expect(alice.locator("#settings-manage")).to_be_visible()
    alice.locator("#settings-name").fill("Announcements")
    alice.locator("#rename-submit").click()
    expect(alice.locator("#settings-title")).to_have_text("#Announcements")
    for page in (alice, bob):
        expect(page.locator("#room-title")).to_have_text("Announcements")
        expect(page.locator("#room-list button[aria-current=true]")).to_contain_text(
            "Announcements"
        )
        expect(notices(page, "The room was renamed to #Announcements")).to_have_count(1)

    # Set a passcode, then clear it.
    alice.locator("#settings-passcode").fill("9876")
    alice.locator("#settings-passcode-submit").click()
    expect(alice.locator("#passcode-status")).to_contain_text("has a passcode")
    expect(bob.locator("#room-subtitle")).to_have_text("Team · passcode")
    expect(bob.locator("#room-list button[aria-current=true]")).to_contain_text("passcode")
    expect(notices(bob, re.compile("^A passcode was set"))).to_have_count(1)
    alice.locator("#passcode-clear-btn").click()
    expect(alice.locator("#passcode-status")).to_contain_text("No passcode")
    expect(bob.locator("#room-subtitle")).to_have_text("Team")
    expect(bob.locator("#room-list button[aria-current=true]")).not_to_contain_text("passcode")
    expect(notices(bob, "The passcode was removed")).to_have_count(1)

    # Replace the join link: Bob's copy of it is the new one.
    old_link = copy_join_link(bob)
    expect(alice.locator("#settings-link")).to_have_text(old_link)
    alice.locator("#rotate-link-btn").click()
    confirm(alice, "Replace the join link?")
    expect(alice.locator("#settings-link")).not_to_have_text(old_link)
    new_link = alice.locator("#settings-link").inner_text()
    expect(notices(bob, re.compile("^The join link was replaced"))).to_have_count(1)
    assert copy_join_link(bob) == new_link != old_link

    # Delete the room: gone for both.
    alice.locator("#delete-room-btn").click()
    confirm(alice, "Delete #Announcements?")
    for page in (alice, bob):
        expect(page.locator("#chat-notice")).to_have_text("#Announcements was deleted.")
        expect(page.locator("#chat-inner")).to_be_hidden()
        expect(page.locator("#room-list button")).to_have_count(0)
    expect(alice.locator("#settings-dialog")).to_be_hidden()


def copy_join_link(page: Any) -> str:
    page.locator("#toast").evaluate("t => { t.hidden = true; }")
    page.locator("#copy-link-btn").click()
    expect(page.locator("#toast")).to_have_text("Join link copied")
    return str(page.evaluate("navigator.clipboard.readText()"))


def _catch_up_scenario(new_page: Any) -> tuple[Any, Any]:
    """Bob's socket drops; Alice edits, deletes, reacts, writes and renames meanwhile;
    Bob reconnects. Returns (alice, bob) after Bob is back."""
    alice = new_page()
    bob = new_page()
    switch = SocketSwitch(bob)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "General")
    enter_room(bob, "General")
    for text in ("keep me", "edit me", "delete me"):
        send(alice, text)
    expect(bubbles(bob, "delete me")).to_have_count(1)
    react(bob, "keep me", HEART)
    expect_count(alice, "keep me", HEART, 1, mine=False)

    switch.drop()
    edit(alice, "edit me", "edited while away")
    delete(alice, "delete me")
    react(alice, "keep me", THUMBS)
    chip(alice, "keep me", HEART).click()  # Alice adds hers to Bob's: 2
    send(alice, "new while away")
    open_settings(alice)
    alice.locator("#settings-name").fill("Renamed")
    alice.locator("#rename-submit").click()
    expect(alice.locator("#room-title")).to_have_text("Renamed")
    alice.locator("#settings-close").click()
    expect_count(alice, "keep me", HEART, 2, mine=True)
    # Bob is offline: none of it has reached him.
    expect(bubbles(bob, "edit me")).to_have_count(1)
    expect(chip(bob, "keep me", THUMBS)).to_have_count(0)

    switch.restore()
    return alice, bob


def _expect_caught_up(alice: Any, bob: Any) -> None:
    expect(bob.locator("#room-title")).to_have_text("Renamed")
    expect(notices(bob, "The room was renamed to #Renamed")).to_have_count(1)
    expect(bubbles(bob, "new while away")).to_have_count(1)
    expect(bubbles(bob, "edit me")).to_have_count(0)
    expect(message(bob, "edited while away").locator(".edited")).to_be_visible()
    expect(bubbles(bob, "delete me")).to_have_count(0)
    expect(tombstones(bob)).to_have_count(1)
    # Each change applied exactly once: one 👍, Bob's ❤️ and Alice's.
    expect_count(bob, "keep me", THUMBS, 1, mine=False)
    expect_count(bob, "keep me", HEART, 2, mine=True)
    expect(bob.locator("#message-list > li.msg")).to_have_count(4)
    order = seqs(bob)
    assert order == sorted(set(order)), order
    expect(bob.locator("#message-list > li.msg .bubble")).to_have_text(
        ["keep me", "edited while away", "message deleted", "new while away"]
    )

    # Live again, and the counts stay right.
    react(alice, "new while away", PARTY)
    expect_count(bob, "new while away", PARTY, 1, mine=False)
    chip(bob, "keep me", HEART).click()
    expect_count(alice, "keep me", HEART, 1, mine=True)
    expect_count(bob, "keep me", HEART, 1, mine=False)
    expect_count(bob, "keep me", THUMBS, 1, mine=False)


def test_reconnect_catches_up_on_changes_exactly_once(new_page: Any) -> None:
    requests: list[str] = []
    alice, bob = _catch_up_scenario(_recording(new_page, requests))
    _expect_caught_up(alice, bob)
    # All of it came in the join reply's `events`: nothing was paged by REST.
    assert not any("/events?" in url for url in requests), requests


@pytest.mark.parametrize("server_env", [{"ROOMCHAT_CATCH_UP_LIMIT": "2"}])
def test_reconnect_catch_up_pages_the_rest_by_rest(new_page: Any) -> None:
    """The join reply holds 2 events (has_more): the client pages the others by REST."""
    requests: list[str] = []
    alice, bob = _catch_up_scenario(_recording(new_page, requests))
    _expect_caught_up(alice, bob)
    assert any("/events?after_seq=" in url for url in requests), requests


def _recording(new_page: Any, requests: list[str]) -> Any:
    """new_page, recording the second page's (Bob's) request URLs."""
    made: list[Any] = []

    def make(*args: Any, **kwargs: Any) -> Any:
        page = new_page(*args, **kwargs)
        made.append(page)
        if len(made) == 2:
            page.on("request", lambda req: requests.append(req.url))
        return page

    return make
