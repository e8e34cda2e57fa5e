"""The web client in a real browser against a real roomchat server.

Each test starts its own server (tests/browser/conftest.py) and drives headless
Chromium, one browser context per user. Some take pictures for the docs with `shot()`:
`make screenshots` runs them with ROOMCHAT_SCREENSHOT_DIR set (see test_screenshots.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 780}

expect.set_options(timeout=15_000)

# The `server` fixture's ServerProcess (tests/browser/conftest.py).
ServerProcess = Any


# ---------------------------------------------------------------- helpers


def exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def bubbles(page: Any, text: str) -> Any:
    """Confirmed messages (not the pending ones) whose text is exactly `text`."""
    return page.locator("#message-list .bubble").filter(has_text=exact(text))


def sign_up(page: Any, username: str, display_name: str, path: str = "/") -> None:
    page.goto(path)
    page.get_by_role("tab", name="Sign up").click()
    page.locator("#auth-username").fill(username)
    page.locator("#auth-display-name").fill(display_name)
    page.locator("#auth-password").fill(PASSWORD)
    page.locator("#auth-submit").click()
    expect(page.locator("#me-name")).to_have_text(display_name)
    expect(page.locator("#conn-state")).to_have_text("Connected")


def sign_in(page: Any, username: str) -> None:
    page.locator("#auth-username").fill(username)
    page.locator("#auth-password").fill(PASSWORD)
    page.locator("#auth-submit").click()
    expect(page.locator("#conn-state")).to_have_text("Connected")


def create_workspace(page: Any, name: str) -> None:
    page.locator("#workspace-create").evaluate("d => { d.open = true; }")
    page.locator("#workspace-name").fill(name)
    page.locator("#workspace-form button[type=submit]").click()
    expect(page.locator("#workspace-select")).to_have_value(re.compile(r"^\d+$"))
    expect(page.locator("#workspace-select option:checked")).to_have_text(name)
    expect(page.locator("#no-rooms")).to_be_visible()  # its (empty) room list has loaded


def add_member(page: Any, username: str) -> None:
    """The owner invites; the invitee still has to accept (accept_invitation)."""
    page.locator("#member-add").evaluate("d => { d.open = true; }")
    page.locator("#member-username").fill(username)
    page.locator("#member-form button[type=submit]").click()
    expect(page.locator("#toast")).to_contain_text("Invitation sent")


def accept_invitation(page: Any, workspace: str) -> None:
    """The invitee refreshes, sees the invitation and accepts: the workspace opens."""
    page.locator("#refresh-btn").click()
    invitation = page.locator("#invitation-list li").filter(has_text=workspace)
    invitation.get_by_role("button", name="Accept").click()
    expect(page.locator("#toast")).to_have_text(f"You joined {workspace}")
    expect(page.locator("#workspace-select option:checked")).to_have_text(workspace)
    expect(page.locator("#invitations")).to_be_hidden()


def create_room(page: Any, name: str, passcode: str = "") -> None:
    page.locator("#room-create").evaluate("d => { d.open = true; }")
    page.locator("#room-name").fill(name)
    page.locator("#room-passcode").fill(passcode)
    page.locator("#room-form button[type=submit]").click()
    expect(page.locator("#room-title")).to_have_text(name)
    expect(page.locator("#older-status")).not_to_have_text("Loading…")


def open_room(page: Any, name: str) -> None:
    room_name = page.locator(".room-name").filter(has_text=exact(name))
    page.locator("#room-list button").filter(has=room_name).click()


def send(page: Any, text: str, *, stored: bool = True) -> None:
    """Send `text` from the composer. With `stored`, return once the server has it (the
    sender's own message is confirmed), so a message another user sends next is ordered
    after it; without (sending while offline), once it is queued."""
    box = page.locator("#composer-input")
    confirmed = bubbles(page, text).count() if stored else 0
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    if stored:
        expect(bubbles(page, text)).to_have_count(confirmed + 1)


def shot(page: Any, directory: Path | None, name: str) -> None:
    if directory is not None:
        page.locator("#toast").evaluate("t => { t.hidden = true; }")  # transient; keep it out
        page.screenshot(path=str(directory / f"{name}.png"))


def api_login(server: ServerProcess, username: str) -> str:
    r = httpx.post(
        f"{server.base_url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    r.raise_for_status()
    return str(r.json()["data"]["access_token"])


@contextlib.contextmanager
def ws_client(server: ServerProcess, token: str) -> Iterator[Callable[[str, dict[str, Any]], Any]]:
    """A plain WebSocket client (a third party, or a seeding tool): yields call(action, payload)."""
    counter = itertools.count(1)
    with ws_connect(f"ws://127.0.0.1:{server.port}/ws?token={token}", open_timeout=10) as ws:

        def call(action: str, payload: dict[str, Any]) -> Any:
            rid = f"t{next(counter)}"
            ws.send(json.dumps({"action": action, "payload": payload, "request_id": rid}))
            while True:
                frame = json.loads(ws.recv(timeout=10))
                if frame.get("request_id") == rid:
                    assert frame["status"] == "success", frame
                    return frame["data"]

        yield call


# ---------------------------------------------------------------- tests


def test_two_users_chat(new_page: Any, screenshot_dir: Path | None) -> None:
    alice = new_page()
    bob = new_page()

    alice.goto("/")
    expect(alice.locator("#auth-form")).to_be_visible()
    shot(alice, screenshot_dir, "desktop-sign-in")

    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")

    # Alice: workspace, member, passcode room.
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    create_room(alice, "General", passcode="s3cret")
    expect(alice.locator("#room-list button[aria-current=true]")).to_contain_text("General")
    expect(alice.locator("#room-list button").filter(has_text="General")).to_contain_text(
        "passcode"
    )

    # Bob accepts the invitation and sees the workspace; the room asks for its passcode.
    accept_invitation(bob, "Team")
    open_room(bob, "General")
    dialog = bob.locator("#passcode-dialog")
    expect(dialog).to_be_visible()
    bob.locator("#passcode-input").fill("wrong")
    bob.locator("#passcode-submit").click()
    expect(bob.locator("#passcode-error")).to_have_text(re.compile("Wrong passcode"))
    shot(bob, screenshot_dir, "desktop-passcode")
    bob.locator("#passcode-input").fill("s3cret")
    bob.locator("#passcode-submit").click()
    expect(dialog).to_be_hidden()
    expect(bob.locator("#room-title")).to_have_text("General")
    expect(bob.locator("#older-status")).to_have_text(re.compile("No messages yet"))

    # Messages both ways.
    send(alice, "Hello Bob")
    expect(bubbles(bob, "Hello Bob")).to_have_count(1)
    send(bob, "Hi Alice")
    expect(bubbles(alice, "Hi Alice")).to_have_count(1)
    expect(bubbles(alice, "Hello Bob")).to_have_count(1)

    # Typing indicator: shown while Bob types, gone when he sends.
    bob.locator("#composer-input").press_sequentially("I am writ")
    expect(alice.locator("#typing")).to_have_text("Bob is typing…")
    shot(alice, screenshot_dir, "desktop-chat-typing")
    bob.locator("#composer-input").press_sequentially("ing this")
    bob.locator("#composer-input").press("Enter")
    expect(bubbles(alice, "I am writing this")).to_have_count(1)
    expect(alice.locator("#typing")).to_have_text("")

    # Markup is shown as text, never run or rendered.
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>'
    send(alice, evil)
    expect(bubbles(bob, evil)).to_have_count(1)
    assert bob.evaluate("window.__pwned") is None
    assert alice.evaluate("window.__pwned") is None
    assert bob.locator("#messages b, #messages img, #messages script").count() == 0

    # The members list.
    alice.locator("#members-btn").click()
    members = alice.locator("#member-list li")
    expect(members).to_have_count(2)
    expect(alice.locator("#member-list")).to_contain_text("Alice (you)")
    expect(alice.locator("#member-list")).to_contain_text("Bob")
    expect(alice.locator("#members-count")).to_have_text("(2)")
    shot(alice, screenshot_dir, "desktop-chat-members")

    # Reload: signed in still, back in the room, with the history.
    bob.reload()
    expect(bob.locator("#room-title")).to_have_text("General")
    for text in ("Hello Bob", "Hi Alice", "I am writing this", evil):
        expect(bubbles(bob, text)).to_have_count(1)
    expect(bob.locator("#message-list .msg")).to_have_count(4)
    assert bob.evaluate("window.__pwned") is None

    # Still live after the reload.
    send(alice, "Still there?")
    expect(bubbles(bob, "Still there?")).to_have_count(1)

    # A token the server no longer accepts leads back to the sign-in form.
    bob.evaluate("localStorage.setItem('roomchat.token', 'not-a-valid-token')")
    bob.reload()
    expect(bob.locator("#auth-error")).to_have_text(re.compile("session has expired"))
    expect(bob.locator("#auth-form")).to_be_visible()


def test_phone_layout_and_join_link(
    new_page: Any, server: ServerProcess, screenshot_dir: Path | None
) -> None:
    alice = new_page()
    carol = new_page(PHONE)
    sign_up(alice, "alice", "Alice")
    sign_up(carol, "carol", "Carol")
    create_workspace(alice, "Team")
    add_member(alice, "carol")
    accept_invitation(carol, "Team")
    create_room(alice, "Lobby")
    create_room(alice, "Secret", passcode="1234")
    send(alice, "Welcome to the secret room")

    # The join link, copied through the UI.
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"])
    alice.locator("#copy-link-btn").click()
    expect(alice.locator("#toast")).to_have_text("Join link copied")
    link = alice.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{re.escape(server.base_url)}/join/[^/]+", link), link

    # Carol, on a phone and signed out, opens the link: sign in, then straight into the room.
    carol.locator("#signout-btn").click()
    carol.goto(link)
    expect(carol.locator("#auth-invite-note")).to_be_visible()
    expect(carol).to_have_url(f"{server.base_url}/")
    shot(carol, screenshot_dir, "phone-sign-in-invite")
    sign_in(carol, "carol")
    # The link leads to a passcode room: it asks for the passcode, a wrong one is refused.
    expect(carol.locator("#passcode-dialog")).to_be_visible()
    expect(carol.locator("#passcode-room")).to_contain_text("protected")
    carol.locator("#passcode-input").fill("9999")
    carol.locator("#passcode-submit").click()
    expect(carol.locator("#passcode-error")).to_contain_text("Wrong passcode")
    carol.locator("#passcode-input").fill("1234")
    carol.locator("#passcode-submit").click()
    expect(carol.locator("#room-title")).to_have_text("Secret")
    expect(bubbles(carol, "Welcome to the secret room")).to_have_count(1)
    expect(carol.locator("#passcode-dialog")).to_be_hidden()
    send(carol, "Thanks, I'm in")
    expect(bubbles(alice, "Thanks, I'm in")).to_have_count(1)
    expect(carol.locator("#message-list .msg.mine")).to_have_count(1)

    # Dave guesses: after 5 wrong passcodes the server refuses further tries.
    dave = new_page()
    sign_up(dave, "dave", "Dave")
    add_member(alice, "dave")
    accept_invitation(dave, "Team")
    # Not a member of Secret: no join link to copy.
    open_room(dave, "Secret")
    expect(dave.locator("#copy-link-btn")).to_be_hidden()
    for guess in range(5):
        dave.locator("#passcode-input").fill(f"guess{guess}")
        dave.locator("#passcode-submit").click()  # closes the dialog until the server answers
        expect(dave.locator("#passcode-error")).to_contain_text("Wrong passcode")
    dave.locator("#passcode-input").fill("1234")
    dave.locator("#passcode-submit").click()
    expect(dave.locator("#passcode-error")).to_have_text(re.compile("Too many wrong attempts"))
    dave.locator("#passcode-cancel").click()
    expect(dave.locator("#passcode-dialog")).to_be_hidden()
    expect(dave.locator("#empty-chat")).to_be_visible()

    # Phone layout: chat and room list are separate panes.
    expect(carol.locator("#sidebar")).to_be_hidden()
    carol.locator("#back-btn").click()
    expect(carol.locator("#sidebar")).to_be_visible()
    expect(carol.locator("#chat")).to_be_hidden()

    # Alice on a phone: room list, then a room.
    alice_phone = new_page(PHONE)
    alice_phone.goto("/")
    alice_phone.evaluate(
        "t => localStorage.setItem('roomchat.token', t)", api_login(server, "alice")
    )
    alice_phone.goto("/")
    expect(alice_phone.locator("#me-name")).to_have_text("Alice")
    expect(alice_phone.locator("#room-list button")).to_have_count(2)
    open_room(alice_phone, "Secret")
    expect(bubbles(alice_phone, "Thanks, I'm in")).to_have_count(1)
    alice_phone.locator("#members-btn").click()
    expect(alice_phone.locator("#member-list li")).to_have_count(2)
    shot(alice_phone, screenshot_dir, "phone-members")


def test_older_messages_load_on_scroll(new_page: Any, server: ServerProcess) -> None:
    alice = new_page()
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    create_room(alice, "Busy")
    room_id = int(alice.evaluate("localStorage.getItem('roomchat.room')"))
    alice.locator("#signout-btn").click()
    expect(alice.locator("#auth-form")).to_be_visible()

    with ws_client(server, api_login(server, "alice")) as call:
        call("join_room_chat", {"room_id": room_id})
        for i in range(1, 131):
            call("send_room_chat_message", {"room_id": room_id, "message_text": f"m{i}"})

    sign_in(alice, "alice")
    open_room(alice, "Busy")
    expect(bubbles(alice, "m130")).to_be_visible()
    expect(alice.locator("#message-list .msg")).to_have_count(50)
    expect(bubbles(alice, "m80")).to_have_count(0)

    # Scrolling to the top pages back until the beginning.
    for expected in (100, 130):
        alice.locator("#messages").evaluate("el => { el.scrollTop = 0; }")
        expect(alice.locator("#message-list .msg")).to_have_count(expected)
    expect(alice.locator("#older-status")).to_have_text("This is the beginning of the room.")
    expect(bubbles(alice, "m1")).to_have_count(1)
    seqs = alice.locator("#message-list .msg").evaluate_all("els => els.map(e => +e.dataset.seq)")
    assert seqs == list(range(1, 131))


def test_reconnect_catches_up_after_server_restart(
    new_page: Any, server: ServerProcess, screenshot_dir: Path | None
) -> None:
    alice = new_page()
    # Alice's socket goes through a switch so she can be kept offline while others talk.
    blocked = {"on": False}

    def route(ws: Any) -> None:
        if blocked["on"]:
            ws.close(code=1013, reason="test: offline")
        else:
            ws.connect_to_server()

    alice.route_web_socket(re.compile(r".*/ws\?.*"), route)
    bob = new_page()
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "Ops", passcode="pass")
    bob.locator("#refresh-btn").click()
    open_room(bob, "Ops")
    bob.locator("#passcode-input").fill("pass")
    bob.locator("#passcode-submit").click()
    send(alice, "before the restart")
    expect(bubbles(bob, "before the restart")).to_have_count(1)

    # The server goes away: both pages say so.
    blocked["on"] = True
    server.stop()
    expect(alice.locator("#conn-state")).to_have_attribute(
        "data-state", re.compile("^(disconnected|recovering)$")
    )
    expect(alice.locator("#conn-banner")).to_be_visible()
    expect(bob.locator("#conn-banner")).to_be_visible()
    shot(alice, screenshot_dir, "desktop-reconnecting")

    # Alice writes while offline: queued, shown as pending.
    send(alice, "written while offline", stored=False)
    expect(alice.locator("#pending-list .msg")).to_have_count(1)
    expect(alice.locator("#pending-list .state")).to_have_text("Waiting for connection…")

    # Same port, same database. Bob reconnects by himself and talks; Alice is still offline.
    server.start()
    expect(bob.locator("#conn-state")).to_have_text("Connected", timeout=30_000)
    send(bob, "missed one")
    send(bob, "missed two")
    expect(bubbles(bob, "missed two")).to_have_count(1)
    expect(bubbles(alice, "missed one")).to_have_count(0)

    # Alice comes back: catches up via join_room_chat after_seq, and her queued message
    # goes out exactly once. "Retry now" shows while she waits between attempts; the SDK
    # may be trying already when it is pressed (the button is then hidden and the attempt,
    # now let through, connects), so the click event alone is sent: it ends a wait, and is
    # nothing otherwise.
    expect(alice.locator("#retry-now-btn")).to_be_visible()
    blocked["on"] = False
    alice.locator("#retry-now-btn").dispatch_event("click")
    expect(alice.locator("#conn-state")).to_have_text("Connected", timeout=30_000)
    expect(bubbles(alice, "missed one")).to_have_count(1)
    expect(bubbles(alice, "missed two")).to_have_count(1)
    expect(bubbles(alice, "written while offline")).to_have_count(1)
    expect(alice.locator("#pending-list .msg")).to_have_count(0)
    expect(bubbles(bob, "written while offline")).to_have_count(1)
    expect(alice.locator("#conn-banner")).to_be_hidden()

    # Order by seq, no duplicates, on both sides.
    for page in (alice, bob):
        seqs = page.locator("#message-list .msg").evaluate_all(
            "els => els.map(e => +e.dataset.seq)"
        )
        assert seqs == sorted(set(seqs)) and len(seqs) == 4, seqs

    # Live again.
    send(bob, "all good")
    expect(bubbles(alice, "all good")).to_have_count(1)


def test_invitations_decline_accept_and_leave(new_page: Any) -> None:
    alice = new_page()
    bob = new_page()
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    # Inviting someone who does not exist looks just the same.
    add_member(alice, "nobody-here")
    create_workspace(alice, "Other")
    add_member(alice, "bob")

    # Bob sees both invitations, from Alice; declines one, accepts the other.
    bob.locator("#refresh-btn").click()
    expect(bob.locator("#invitation-list li")).to_have_count(2)
    expect(bob.locator("#invitation-list")).to_contain_text("from Alice")
    other = bob.locator("#invitation-list li").filter(has_text="Other")
    other.get_by_role("button", name="Decline").click()
    expect(bob.locator("#invitation-list li")).to_have_count(1)
    accept_invitation(bob, "Team")
    expect(bob.locator("#workspace-select option")).to_have_count(1)
    expect(bob.locator("#member-add")).to_be_hidden()

    # Bob leaves: the workspace is gone from his list. The owner cannot leave.
    bob.locator("#workspace-leave").evaluate("d => { d.open = true; }")
    bob.locator("#workspace-leave-btn").click()
    expect(bob.locator("#toast")).to_have_text("You left Team")
    expect(bob.locator("#no-workspace")).to_be_visible()
    expect(alice.locator("#workspace-leave")).to_be_hidden()
