"""The web client bugs of issue 25, each in a real browser against a real server.

The sidebar that grew sideways, styles the page's own CSP refused, a dead connection
noticed only after ~38 s and a restarted server found only ~14 s after it was back,
the phone's action bar that stayed open over the message above, the favicon and the
unread mentions in the title, the composer's silent cut at 4,000 characters, bots in
"Seen by", the sign-up form's password rule, and a room's details for its members.

Each test starts its own server (conftest.py) and drives headless Chromium, one
browser context per user, at desktop and phone sizes where the layout differs.
Nothing waits by sleeping: every wait is for what a user would see, with a timeout;
the timing tests measure how long that took.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_room_events_ui import (
    chip,
    enter_room,
    message,
    notices,
    open_settings,
    two_users_in_room,
)
from tests.browser.test_web_client import (
    PASSWORD,
    PHONE,
    accept_invitation,
    add_member,
    api_login,
    bubbles,
    create_room,
    create_workspace,
    send,
    sign_up,
    ws_client,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

# The `server` fixture's ServerProcess (tests/browser/conftest.py).
ServerProcess = Any

DESKTOP = {"width": 1280, "height": 800}

# Every Content-Security-Policy violation of the page, from its first script on.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
});
"""


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__cspViolations || []"))


def api(server: ServerProcess, method: str, path: str, token: str, **kwargs: Any) -> Any:
    reply = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )
    assert reply.status_code < 300, reply.text
    return reply.json()["data"]


def register(server: ServerProcess, username: str, display_name: str) -> str:
    reply = httpx.post(
        f"{server.base_url}/api/v1/auth/register",
        json={"username": username, "password": PASSWORD, "display_name": display_name},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["data"]["access_token"])


def accept_all_invitations(server: ServerProcess, token: str) -> None:
    for invitation in api(server, "GET", "/api/v1/invitations", token):
        api(server, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token)


def room_row(page: Any, room: str) -> Any:
    name = page.locator(".room-name").filter(has_text=re.compile(rf"^\s*{re.escape(room)}\s*$"))
    return page.locator("#room-list button").filter(has=name)


def stored_texts(server: ServerProcess, username: str, room_id: int) -> list[str]:
    token = api_login(server, username)
    page = api(
        server, "GET", f"/api/v1/room-chats/{room_id}/messages", token, params={"limit": 100}
    )
    return [m["message_text"] for m in page["messages"]]


def open_room_id(page: Any) -> int:
    return int(page.evaluate("localStorage.getItem('roomchat.room')"))


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


class SocketHole:
    """Routes a page's WebSockets through the test. `silent` drops every frame both
    ways without closing anything: a network that died without a word (the socket
    looks open, nothing arrives). `heal()` lets frames through again and closes the
    dead sockets, as the network coming back would."""

    def __init__(self, page: Any) -> None:
        self.silent = False
        self.open: list[Any] = []
        page.route_web_socket(re.compile(r".*/ws\?.*"), self._route)

    def _route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        self.open.append(ws)

        def to_server(message: str | bytes) -> None:
            if not self.silent:
                server.send(message)

        def to_page(message: str | bytes) -> None:
            if not self.silent:
                ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    def heal(self) -> None:
        self.silent = False
        for ws in self.open:
            ws.close(code=1001, reason="test: the network is back")
        self.open.clear()


def owner_in_room(page: Any, room: str = "General") -> None:
    sign_up(page, "alice", "Alice")
    create_workspace(page, "Team")
    create_room(page, room)


# ---------------------------------------------------------------- 1. the sidebar


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_long_preview_ellipsizes_and_badges_stay_in_the_sidebar(
    new_page: Any, server: ServerProcess, viewport: dict[str, int]
) -> None:
    alice = new_page(viewport)
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    bob_token = register(server, "bob", "Bob")
    add_member(alice, "bob")
    accept_all_invitations(server, bob_token)
    create_room(alice, "Ops", passcode="s3cret")
    ops = open_room_id(alice)
    if viewport is PHONE:
        alice.locator("#back-btn").click()  # the room list is a pane of its own
    create_room(alice, "Lobby")  # Alice reads Lobby: Ops collects an unread badge
    if viewport is PHONE:
        alice.locator("#back-btn").click()

    long_text = "A very long status update that goes on and on " * 8
    with ws_client(server, bob_token) as call:
        call("join_room_chat", {"room_id": ops, "passcode": "s3cret"})
        call("send_room_chat_message", {"room_id": ops, "message_text": long_text})

    row = room_row(alice, "Ops")
    badge = row.locator(".badge")
    expect(badge).to_have_text("1")
    expect(row.locator(".room-preview")).to_contain_text("Bob: A very long status")
    sidebar = alice.locator("#sidebar")
    # Nothing of the sidebar is wider than the sidebar.
    widths = sidebar.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert widths[0] <= widths[1], f"the sidebar scrolls sideways: {widths}"
    # The preview ellipsizes; the badge and the passcode pill are in view, inside the row.
    preview = row.locator(".room-preview")
    assert preview.evaluate("p => p.scrollWidth > p.clientWidth"), "the preview is not cut"
    side = sidebar.bounding_box()
    row_box = row.bounding_box()
    assert side is not None and row_box is not None
    for part in (badge, row.locator(".lock")):
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= row_box["x"] + row_box["width"] + 0.5, (box, row_box)
        assert box["x"] + box["width"] <= side["x"] + side["width"] + 0.5, (box, side)


# ---------------------------------------------------------------- 2. CSP-safe styles


def test_avatar_colours_and_copy_fallback_pass_the_csp(
    new_page: Any, server: ServerProcess
) -> None:
    alice, _bob = two_users_in_room(new_page)
    # The page served over plain HTTP from another host has no async clipboard: the
    # copy falls back to a hidden textarea (as here, where it is taken away).
    alice.context.add_init_script(CSP_RECORDER)
    alice.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });"
    )
    alice.reload()
    expect(alice.locator("#conn-state")).to_have_text("Connected")
    expect(alice.locator("#room-title")).to_have_text("General")

    alice.locator("#copy-link-btn").click()
    expect(alice.locator("#toast")).to_contain_text("Join link")
    assert alice.evaluate("typeof navigator.clipboard") == "undefined"

    alice.locator("#members-btn").click()
    avatars = alice.locator("#member-list .avatar")
    expect(avatars).to_have_count(2)
    colours = avatars.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    accent = alice.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert len(set(colours)) == 2, f"every avatar has the same colour: {colours} ({accent})"
    assert csp_violations(alice) == []


# ---------------------------------------------------------------- 4. a dead connection


def test_dead_socket_is_found_within_ten_seconds_and_unsent_is_marked(
    new_page: Any, server: ServerProcess
) -> None:
    alice = new_page()
    hole = SocketHole(alice)
    owner_in_room(alice)
    room_id = open_room_id(alice)
    send(alice, "before")
    pill = alice.locator("#conn-state")

    # The network dies without a close: nothing arrives any more.
    hole.silent = True
    started = time.monotonic()
    send(alice, "into the void", stored=False)
    pending = alice.locator("#pending-list li.msg")
    expect(pending).to_have_count(1)
    # Marked as not sent while the heartbeat finds out, not left "Sending…".
    expect(pending).to_have_class(re.compile(r"\bunsent\b"), timeout=5_000)
    expect(pending.locator(".state")).not_to_have_text("Sending…")
    expect(pill).not_to_have_attribute("data-state", "connected", timeout=11_000)
    found_after = time.monotonic() - started
    assert found_after < 10.5, f"the dead socket was found after {found_after:.1f} s"
    expect(alice.locator("#conn-banner")).to_be_visible()
    expect(pending.locator(".state")).to_have_text("Waiting for connection…")

    # Back: the message goes out, exactly once.
    hole.heal()
    expect(pill).to_have_text("Connected", timeout=20_000)
    expect(bubbles(alice, "into the void")).to_have_count(1)
    expect(pending).to_have_count(0)
    assert stored_texts(server, "alice", room_id).count("into the void") == 1


def test_offline_is_noticed_at_once_and_online_reconnects_at_once(
    new_page: Any, server: ServerProcess
) -> None:
    alice = new_page()
    hole = SocketHole(alice)
    owner_in_room(alice)
    room_id = open_room_id(alice)
    pill = alice.locator("#conn-state")

    # The browser says it is offline (the socket itself says nothing).
    hole.silent = True
    alice.context.set_offline(True)
    expect(pill).not_to_have_attribute("data-state", "connected", timeout=2_000)
    expect(alice.locator("#conn-banner")).to_contain_text("offline")
    send(alice, "written offline", stored=False)
    expect(alice.locator("#pending-list .state")).to_have_text("Waiting for connection…")

    # Online again: it connects at once and the message is stored once.
    hole.heal()
    alice.context.set_offline(False)
    expect(pill).to_have_text("Connected", timeout=5_000)
    expect(bubbles(alice, "written offline")).to_have_count(1)
    assert stored_texts(server, "alice", room_id).count("written offline") == 1


# ---------------------------------------------------------------- 5. capped backoff

# One record per connection attempt that failed: the wait the page shows for it.
ATTEMPT_RECORDER = """
() => {
  window.__waits = [];
  const pill = document.getElementById("conn-state");
  new MutationObserver(() => {
    if (pill.dataset.state !== "disconnected") return;
    const m = pill.textContent.match(/retrying in (\\d+)s/);
    if (m) window.__waits.push(Number(m[1]));
  }).observe(pill, { attributes: true, attributeFilter: ["data-state"] });
}
"""


def test_backoff_is_capped_and_a_restarted_server_is_found_within_seconds(
    new_page: Any, server: ServerProcess
) -> None:
    alice = new_page()
    owner_in_room(alice)
    send(alice, "before the restart")
    alice.evaluate(ATTEMPT_RECORDER)

    server.stop()
    # Down long enough for the waits to grow to their cap (the SDK's default was 15 s).
    alice.wait_for_function("() => window.__waits.length >= 7", timeout=60_000)
    waits = alice.evaluate("window.__waits")
    assert max(waits) <= 3, f"waits between attempts (s): {waits}"

    server.start()
    ready = time.monotonic()
    expect(alice.locator("#conn-state")).to_have_text("Connected", timeout=20_000)
    back_after = time.monotonic() - ready
    assert back_after < 6, f"connected {back_after:.1f} s after the server was ready"
    send(alice, "after the restart")


def test_phone_room_header_shows_the_whole_room_name(new_page: Any) -> None:
    """Beside Copy join link, Files, Members and the gear, a phone cut the room's name to
    "Ge…": it has a line of its own, and the buttons stay in view."""
    alice = new_page(PHONE)
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    create_room(alice, "Engineering")
    title = alice.locator("#room-title")
    expect(title).to_have_text("Engineering")
    assert title.evaluate("t => t.scrollWidth <= t.clientWidth"), "the room's name is cut"
    head = alice.locator(".chat-head")
    assert head.evaluate("h => h.scrollWidth <= h.clientWidth"), "the header scrolls sideways"
    for button in ("#copy-link-btn", "#members-btn", "#settings-btn"):
        expect(alice.locator(button)).to_be_in_viewport(ratio=1)


# ---------------------------------------------------------------- 6. the phone's action bar


def test_phone_action_bar_closes_and_covers_nothing(new_page: Any) -> None:
    alice = new_page(PHONE)
    owner_in_room(alice)
    send(alice, "first")
    # On a phone the actions show on a tap (there is no hover).
    message(alice, "first").locator(".bubble").click()
    message(alice, "first").locator(".actions").get_by_role("button", name="Edit").click()
    editor = alice.get_by_role("textbox", name="Edit message")
    editor.fill("first!")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    first = message(alice, "first!")
    expect(first.locator(".edited")).to_be_visible()
    send(alice, "second")
    second = message(alice, "second")
    bar = second.locator(".actions")
    expect(bar).to_be_hidden()

    # A tap opens the bar, which covers neither the message above nor its "(edited)".
    second.locator(".bubble").click()
    expect(bar).to_be_visible()
    bar_box = bar.bounding_box()
    for other in (first, first.locator(".edited")):
        other_box = other.bounding_box()
        assert bar_box is not None and other_box is not None
        assert not boxes_overlap(bar_box, other_box), (bar_box, other_box)
    expect(first.locator(".edited")).to_be_visible()

    # Using it closes it.
    bar.get_by_role("button", name="React with 👍").click()
    expect(chip(alice, "second", "👍")).to_have_count(1)
    expect(bar).to_be_hidden()

    # A tap elsewhere closes it; so does opening another message's.
    second.locator(".bubble").click()
    expect(bar).to_be_visible()
    alice.locator("#room-title").click()
    expect(bar).to_be_hidden()
    second.locator(".bubble").click()
    expect(bar).to_be_visible()
    first.locator(".bubble").click()
    expect(first.locator(".actions")).to_be_visible()
    expect(bar).to_be_hidden()


# ---------------------------------------------------------------- 7. favicon and title


def test_favicon_and_unread_mentions_in_the_title(new_page: Any, server: ServerProcess) -> None:
    for path, kind in (("/favicon.ico", "image/"), ("/favicon.svg", "image/svg+xml")):
        reply = httpx.get(f"{server.base_url}{path}", timeout=10)
        assert reply.status_code == 200, (path, reply.status_code)
        assert reply.headers["content-type"].startswith(kind), reply.headers["content-type"]
        assert len(reply.content) > 100

    alice, bob = two_users_in_room(new_page)
    icon = bob.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
    assert icon == 200
    expect(bob).to_have_title("roomchat")
    create_room(alice, "Elsewhere")
    enter_room(bob, "Elsewhere")  # Bob reads another room now

    alice.locator("#room-list button").filter(has_text="General").first.click()
    expect(alice.locator("#room-title")).to_have_text("General")
    send(alice, "@bob can you look at this?")
    expect(bob).to_have_title("(1) roomchat")
    send(alice, "and this, @bob!")  # (a name at the caret opens the @ picker instead)
    expect(bob).to_have_title("(2) roomchat")
    send(alice, "no mention here")
    expect(room_row(bob, "General").locator(".badge")).to_have_text("3")
    expect(bob).to_have_title("(2) roomchat")

    # Reading the room reads the mentions.
    room_row(bob, "General").click()
    expect(bubbles(bob, "no mention here")).to_have_count(1)
    expect(bob).to_have_title("roomchat")


# ---------------------------------------------------------------- 9. the composer's limit


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_composer_says_the_limit_instead_of_cutting(
    new_page: Any, server: ServerProcess, viewport: dict[str, int]
) -> None:
    alice = new_page(viewport)
    owner_in_room(alice)
    room_id = open_room_id(alice)
    box = alice.locator("#composer-input")
    count = alice.locator("#composer-count")
    expect(count).to_be_hidden()

    pasted = "0123456789" * 450  # 4,500 characters
    box.fill(pasted)
    assert box.evaluate("b => b.value.length") == 4500, "the paste was cut"
    expect(count).to_be_visible()
    expect(count).to_have_text("4,500 / 4,000")
    expect(count).to_have_class(re.compile(r"\bover\b"))

    box.press("Enter")
    expect(alice.locator("#toast")).to_contain_text("Too long to send")
    expect(box).to_have_value(pasted)  # kept, to shorten
    expect(alice.locator("#pending-list li")).to_have_count(0)

    # Near the limit: the count shows, not in red; it sends.
    fits = "x" * 3990
    box.fill(fits)
    expect(count).to_have_text("3,990 / 4,000")
    expect(count).not_to_have_class(re.compile(r"\bover\b"))
    box.press("Enter")
    expect(box).to_have_value("")
    expect(count).to_be_hidden()
    expect(alice.locator("#message-list .msg")).to_have_count(1)
    assert stored_texts(server, "alice", room_id) == [fits]


# ---------------------------------------------------------------- 10. bots in "Seen by"


def test_bots_are_left_out_of_seen_by(new_page: Any, server: ServerProcess) -> None:
    alice, bob = two_users_in_room(new_page)
    room_id = open_room_id(alice)
    token = api_login(server, "alice")
    workspace_id = api(server, "GET", f"/api/v1/room-chats/{room_id}", token)["workspace_id"]
    key = api(
        server,
        "POST",
        f"/api/v1/workspaces/{workspace_id}/api-keys",
        token,
        json={"name": "Deploy notifier"},
    )
    bot = api(server, "GET", "/api/v1/users/me", key["key"])
    api(
        server,
        "POST",
        f"/api/v1/room-users/room/{room_id}",
        key["key"],
        json={"user_id": bot["id"]},
    )

    send(alice, "deploying now")
    expect(bubbles(bob, "deploying now")).to_have_count(1)  # Bob has it in view: read
    expect(alice.locator("#message-list .seen-by")).to_have_text("Seen by Bob")
    # The bot posts: sending marks the room read up to its message, so the bot "read"
    # Alice's message too.
    api(
        server,
        "POST",
        f"/api/v1/room-chats/{room_id}/messages",
        key["key"],
        json={"message_text": "deploy finished"},
    )
    expect(bubbles(alice, "deploy finished")).to_have_count(1)
    assert bot["username"] in [
        u["username"]
        for u in api(
            server,
            "GET",
            f"/api/v1/room-chats/{room_id}/messages/"
            f"{message(alice, 'deploying now').get_attribute('data-message-id')}/readers",
            token,
        )["readers"]
    ]
    # What the readers endpoint says after a reload: Bob, and no bot.
    alice.reload()
    expect(bubbles(alice, "deploying now")).to_have_count(1)
    expect(alice.locator("#message-list .seen-by")).to_have_text("Seen by Bob")
    expect(message(alice, "deploying now").locator(".seen-by")).to_have_count(1)


# ---------------------------------------------------------------- 11. the password rule


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_sign_up_says_the_password_rule_before_it_fails(
    new_page: Any, server: ServerProcess, viewport: dict[str, int]
) -> None:
    page = new_page(viewport)
    page.goto("/")
    hint = page.locator("#auth-password-hint")
    expect(hint).to_be_hidden()  # signing in: no rule to follow
    page.get_by_role("tab", name="Sign up").click()
    expect(hint).to_be_visible()
    expect(hint).to_have_text("At least 8 characters.")
    expect(page.locator("#auth-error")).to_be_hidden()

    page.locator("#auth-username").fill("erin")
    page.locator("#auth-password").fill("short")
    page.locator("#auth-submit").click()
    expect(page.locator("#auth-error")).to_have_text("Choose a password of at least 8 characters.")
    reply = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"username": "erin", "password": "short"},
        timeout=10,
    )
    assert reply.status_code == 401  # nothing was made

    page.locator("#auth-password").fill("long enough now")
    page.locator("#auth-submit").click()
    expect(page.locator("#conn-state")).to_have_text("Connected")


# ---------------------------------------------------------------- 12. a room's details


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_members_see_a_rooms_details_read_only(
    new_page: Any, server: ServerProcess, viewport: dict[str, int]
) -> None:
    alice = new_page()
    bob = new_page(viewport)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "Vault", passcode="s3cret")
    bob.locator("#refresh-btn").click()
    room_row(bob, "Vault").click()
    bob.locator("#passcode-input").fill("s3cret")
    bob.locator("#passcode-submit").click()
    expect(bob.locator("#room-title")).to_have_text("Vault")
    expect(notices(alice, "Bob joined")).to_have_count(1)

    open_settings(bob)
    details = bob.locator("#settings-details")
    expect(details).to_be_visible()
    expect(bob.locator("#details-creator")).to_have_text("Alice")
    expect(bob.locator("#details-passcode")).to_contain_text("Set")
    expect(bob.locator("#details-member-count")).to_have_text("2 members")
    expect(bob.locator("#details-members li")).to_have_text(
        [re.compile(r"^Alice\s*@alice$"), re.compile(r"^Bob \(you\)\s*@bob$")]
    )
    # Read-only: nothing to change, but leaving is there.
    expect(bob.locator("#settings-manage")).to_be_hidden()
    expect(bob.locator("#settings-name")).to_be_hidden()
    expect(bob.locator("#leave-room-btn")).to_be_visible()

    # The creator sees the same details (and can change them).
    open_settings(alice)
    expect(alice.locator("#details-creator")).to_have_text("You")
    expect(alice.locator("#details-member-count")).to_have_text("2 members")
    expect(alice.locator("#settings-manage")).to_be_visible()
    # A change shows in the open dialog of the member.
    alice.locator("#passcode-clear-btn").click()
    expect(alice.locator("#toast")).to_have_text("Passcode removed")
    expect(bob.locator("#details-passcode")).to_contain_text("None")
