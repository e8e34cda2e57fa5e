"""The web client on the JavaScript SDK (@roomchat/client, served at /sdk/), in a real
browser: a message written while the connection is down waits as pending and is stored
once after the reconnect, also when the reply to its sending was lost; a refused message
shows as failed, to send again or drop; a session revoked elsewhere lands on the sign-in
screen.

Each page's WebSocket goes through the test (Playwright's WebSocket routes), which can
refuse it, cut it, and drop what the server sends. Nothing waits by sleeping.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_room_events_ui import two_users_in_room
from tests.browser.test_web_client import (
    api_login,
    bubbles,
    create_room,
    create_workspace,
    open_room,
    send,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

# The `server` fixture's ServerProcess (tests/browser/conftest.py).
ServerProcess = Any


class SocketCutter:
    """Routes a page's WebSockets through the test: it can keep the page offline, and cut
    a socket right after a message with a given text went to the server, dropping the
    server's reply."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.blocked = False
        self.cut_after: str | None = None
        self.cut = False
        self.open: list[Any] = []
        self.sent: list[dict[str, Any]] = []
        page.route_web_socket(re.compile(r".*/ws\?.*"), self._route)

    def _route(self, ws: Any) -> None:
        if self.blocked:
            ws.close(code=1013, reason="test: offline")
            return
        server = ws.connect_to_server()
        self.open.append(ws)
        lost = {"reply": False}

        def to_server(message: str | bytes) -> None:
            server.send(message)
            frame = json.loads(message)
            self.sent.append(frame)
            text = frame.get("payload", {}).get("message_text")
            if frame.get("action") == "send_room_chat_message" and text == self.cut_after:
                self.cut_after = None
                lost["reply"] = True  # whatever the server says now never reaches the page
                ws.close(code=1012, reason="test: cut before the reply")
                server.close()
                self.cut = True

        def to_page(message: str | bytes) -> None:
            if not lost["reply"]:
                ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    def drop(self) -> None:
        """Close the page's socket (as a lost connection would) and refuse new ones."""
        self.blocked = True
        for ws in self.open:
            ws.close(code=1013, reason="test: dropped")
        self.open.clear()
        expect(self.page.locator("#conn-banner")).to_be_visible()

    def restore(self) -> None:
        self.blocked = False
        # The SDK may be trying already (the button is then hidden): the click event alone
        # ends a wait, and is nothing otherwise.
        self.page.locator("#retry-now-btn").dispatch_event("click")
        expect(self.page.locator("#conn-state")).to_have_text("Connected", timeout=20_000)

    def sendings(self, text: str) -> list[dict[str, Any]]:
        """The send_room_chat_message frames the page sent with `text`."""
        return [
            frame
            for frame in self.sent
            if frame.get("action") == "send_room_chat_message"
            and frame.get("payload", {}).get("message_text") == text
        ]


def stored_messages(server: ServerProcess, username: str, room_id: int) -> list[dict[str, Any]]:
    """The room's messages as the server has stored them (REST, as `username`)."""
    token = api_login(server, username)
    reply = httpx.get(
        f"{server.base_url}/api/v1/room-chats/{room_id}/messages",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {token}"},
    )
    reply.raise_for_status()
    return list(reply.json()["data"]["messages"])


def open_room_id(page: Any) -> int:
    return int(page.evaluate("localStorage.getItem('roomchat.room')"))


# ---------------------------------------------------------------- tests


def test_message_written_while_down_is_pending_then_stored_once(
    new_page: Any, server: ServerProcess
) -> None:
    alice, bob = two_users_in_room(new_page)
    cutter = SocketCutter(alice)
    alice.reload()  # her socket now goes through the cutter
    expect(alice.locator("#conn-state")).to_have_text("Connected")
    # The room joined again (its history drawn, not merely not loading yet): a message
    # written before the join's reply shows as pending only once the room is joined.
    expect(alice.locator("#older-status")).to_have_text(
        re.compile("^(No messages yet|This is the beginning)")
    )
    room_id = open_room_id(alice)

    # The connection is down: the state machine's state and its reason show.
    cutter.drop()
    pill = alice.locator("#conn-state")
    expect(pill).to_have_attribute("data-state", re.compile("^(disconnected|recovering)$"))
    expect(pill).to_have_attribute("data-reason", "too_slow")  # 1013: try again later
    expect(alice.locator("#conn-banner-text")).to_contain_text("server asked to try again later")

    # Written meanwhile: pending, waiting for the connection; nobody has it yet.
    send(alice, "written while down", stored=False)
    pending = alice.locator("#pending-list .msg")
    expect(pending).to_have_count(1)
    expect(pending.locator(".bubble")).to_have_text("written while down")
    expect(pending.locator(".state")).to_have_text("Waiting for connection…")
    expect(pending.get_by_role("button", name="Retry")).to_be_hidden()
    expect(bubbles(alice, "written while down")).to_have_count(0)
    assert cutter.sendings("written while down") == []

    # Back: sent, shown once where it belongs, on both sides.
    cutter.restore()
    expect(bubbles(alice, "written while down")).to_have_count(1)
    expect(pending).to_have_count(0)
    expect(bubbles(bob, "written while down")).to_have_count(1)
    expect(alice.locator("#conn-banner")).to_be_hidden()

    # Sent, but the connection goes before the reply: sent again on the next connection
    # (the same client_msg_id), or found in the catch-up. Stored once either way.
    cutter.cut_after = "reply lost"
    send(alice, "reply lost", stored=False)
    expect(alice.locator("#conn-state")).to_have_text("Connected", timeout=20_000)
    expect(bubbles(alice, "reply lost")).to_have_count(1)
    expect(pending).to_have_count(0)
    expect(bubbles(bob, "reply lost")).to_have_count(1)
    assert cutter.cut
    sendings = cutter.sendings("reply lost")
    assert {frame["payload"]["client_msg_id"] for frame in sendings} == {
        sendings[0]["payload"]["client_msg_id"]
    }

    stored = stored_messages(server, "alice", room_id)
    texts = [m["message_text"] for m in stored]
    assert texts.count("written while down") == 1, texts
    assert texts.count("reply lost") == 1, texts
    lost = next(m for m in stored if m["message_text"] == "reply lost")
    assert lost["client_msg_id"] == sendings[0]["payload"]["client_msg_id"]

    # Live again, both ways.
    send(bob, "still here")
    expect(bubbles(alice, "still here")).to_have_count(1)


@pytest.mark.parametrize("server_env", [{"ROOMCHAT_MAX_MESSAGE_TEXT_CHARS": "20"}])
def test_refused_message_is_failed_with_retry_and_discard(
    new_page: Any, server: ServerProcess
) -> None:
    alice = new_page()
    cutter = SocketCutter(alice)
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    create_room(alice, "General")
    room_id = open_room_id(alice)
    too_long = "this is longer than the room allows"

    send(alice, too_long, stored=False)
    failed = alice.locator("#pending-list .msg")
    expect(failed).to_have_count(1)
    expect(failed).to_have_class(re.compile(r"\bfailed\b"))
    expect(failed.locator(".state")).to_have_text(re.compile("^Not sent: "))
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()
    assert len(cutter.sendings(too_long)) == 1

    # Retry sends it again, with the same client_msg_id; refused again, failed again.
    failed.get_by_role("button", name="Retry").click()
    expect(failed.locator(".state")).to_have_text(re.compile("^Not sent: "))
    sendings = cutter.sendings(too_long)
    assert len(sendings) == 2, sendings
    assert sendings[0]["payload"]["client_msg_id"] == sendings[1]["payload"]["client_msg_id"]

    # Discarded: gone, and nothing was stored.
    failed.get_by_role("button", name="Discard").click()
    expect(failed).to_have_count(0)
    expect(alice.locator("#older-status")).to_have_text(re.compile("No messages yet"))
    assert stored_messages(server, "alice", room_id) == []

    # A message within the bound goes through as usual.
    send(alice, "short one")


def test_revoked_session_lands_on_the_sign_in_screen(new_page: Any, server: ServerProcess) -> None:
    alice = new_page()
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    create_room(alice, "General")
    send(alice, "before")

    # Alice signs out everywhere from another device: this page's socket closes with
    # 4401 token_revoked, a final close.
    elsewhere = api_login(server, "alice")
    httpx.post(
        f"{server.base_url}/api/v1/auth/logout",
        json={"all": True},
        headers={"Authorization": f"Bearer {elsewhere}"},
    ).raise_for_status()

    expect(alice.locator("#auth-form")).to_be_visible()
    expect(alice.locator("#app-view")).to_be_hidden()
    expect(alice.locator("#auth-error")).to_have_text("You were signed out.")
    assert alice.evaluate("localStorage.getItem('roomchat.token')") is None

    # A reload stays signed out; signing in again works.
    alice.reload()
    expect(alice.locator("#auth-form")).to_be_visible()
    alice.locator("#auth-username").fill("alice")
    alice.locator("#auth-password").fill("correct-horse-battery")
    alice.locator("#auth-submit").click()
    expect(alice.locator("#conn-state")).to_have_text("Connected")
    open_room(alice, "General")
    expect(bubbles(alice, "before")).to_have_count(1)
