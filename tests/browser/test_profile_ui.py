"""Profiles and avatars in the web client (issue 25), in a real browser against a real server.

Bob changes his display name and picture from his account dialog; Alice's open page
shows both at once on Bob's old and new messages, in the members list and in "Seen by"
(user_updated, docs/protocol.md "Profiles: user_updated"), and again after a reload. A
name the client or the server refuses, and a picture that is too large or not a picture,
are refused with a message and change nothing. The picture loads under the page's
Content-Security-Policy. Every test runs at desktop and at phone size.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_conversations_ui import dm_button, start_direct
from tests.browser.test_room_events_ui import act, enter_room, message, notices
from tests.browser.test_web_client import (
    PHONE,
    accept_invitation,
    add_member,
    api_login,
    bubbles,
    create_room,
    create_workspace,
    send,
    shot,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

ServerProcess = Any

DESKTOP = {"width": 1280, "height": 800}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]

# Every CSP violation and console error of the page, from its first script on.
RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""

# What Chromium logs for a request answered 4xx.
REFUSED_REQUEST = re.compile(r"Failed to load resource: the server responded with a status of 4")
AVATAR_URL = re.compile(r"/api/v1/users/\d+/avatar/[^/]+$")


def png(width: int = 48, height: int = 32, colour: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


_console_errors: dict[Any, list[str]] = {}  # page -> its console errors (watch())


def recorded(page: Any, *, refused_requests: bool = False) -> list[str]:
    """The console errors (a CSP violation is one too) and CSP violations of a page
    watched from its start. `refused_requests`: a request the server refused on purpose
    (4xx) is logged by the browser; leave those out."""
    errors = _console_errors[page]
    if refused_requests:
        errors = [e for e in errors if not REFUSED_REQUEST.match(e)]
    return list(errors) + list(page.evaluate("window.__cspViolations || []"))


def watch(page: Any) -> Any:
    errors = _console_errors.setdefault(page, [])
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.add_init_script(RECORDER)
    return page


def setup(new_page: Any, size: dict[str, int]) -> tuple[Any, Any]:
    """Alice (owner) and Bob in #General, both watched for console errors and CSP
    violations; their pages at `size` once the room is open."""
    alice = watch(new_page())
    bob = watch(new_page())
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "General")
    enter_room(bob, "General")
    expect(notices(alice, "Bob joined")).to_have_count(1)
    alice.set_viewport_size(size)
    bob.set_viewport_size(size)
    return alice, bob


def open_profile(page: Any) -> None:
    """The account dialog, from the user's own picture and name in the top bar."""
    page.locator("#me-btn").click()
    expect(page.locator("#account-dialog")).to_be_visible()


def close_profile(page: Any) -> None:
    page.locator("#account-close").click()
    expect(page.locator("#account-dialog")).to_be_hidden()


def expect_loaded_picture(img: Any, url: str | None = None) -> None:
    """An <img> avatar that really loaded (not blocked, not broken), decorative."""
    expect(img).to_have_count(1)
    if url is not None:
        expect(img).to_have_attribute("src", url)
    expect(img).to_have_attribute("alt", "")
    expect(img).to_have_attribute("aria-hidden", "true")
    expect(img).to_have_attribute("width", re.compile(r"^\d+$"))
    expect(img).to_have_attribute("height", re.compile(r"^\d+$"))
    img.evaluate(
        "i => i.complete && i.naturalWidth > 0 ? true"
        " : new Promise((ok, no) => { i.onload = () => ok(true); i.onerror = () => no('broken'); })"
    )
    assert img.evaluate("i => i.naturalWidth") > 0


def member_row(page: Any, name: str) -> Any:
    return page.locator("#member-list li").filter(has_text=name)


def member_names(page: Any) -> Any:
    return page.locator("#member-list .names > span:first-child")


def show_members(page: Any) -> None:
    if page.locator("#members-panel").is_hidden():
        page.locator("#members-btn").click()
    expect(page.locator("#members-panel")).to_be_visible()


def hide_members(page: Any) -> None:
    if page.locator("#members-panel").is_visible():
        page.locator("#members-close").click()
    expect(page.locator("#members-panel")).to_be_hidden()


def me(server: ServerProcess, username: str) -> dict[str, Any]:
    token = api_login(server, username)
    reply = httpx.get(
        f"{server.base_url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    reply.raise_for_status()
    return dict(reply.json()["data"])


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("size", SIZES)
def test_new_name_and_picture_show_live_everywhere(
    new_page: Any, server: ServerProcess, size: dict[str, int], screenshot_dir: Path | None
) -> None:
    alice, bob = setup(new_page, size)
    send(bob, "an old message from bob")
    send(alice, "hello bob")
    # Bob's page is open on the room: he has read it, and Alice's "Seen by" names him.
    seen = message(alice, "hello bob").locator(".seen-by")
    expect(seen).to_have_text("Seen by Bob")
    old = message(alice, "an old message from bob")
    expect(old.locator(".author")).to_have_text("Bob")
    # No picture yet: the initial on its colour, no <img>.
    expect(old.locator(".meta .avatar")).to_have_attribute("data-initial", "B")
    expect(old.locator(".meta img")).to_have_count(0)

    # Bob changes his name and picture from his account dialog.
    open_profile(bob)
    expect(bob.locator("#profile-display-name")).to_have_value("Bob")
    bob.locator("#profile-display-name").fill("Robert Tables")
    bob.locator("#profile-name-save").click()
    expect(bob.locator("#toast")).to_have_text("Your display name is now Robert Tables")
    bob.locator("#profile-file").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect(bob.locator("#toast")).to_have_text("Your picture is updated")
    preview = bob.locator("#profile-avatar img")
    expect(preview).to_have_attribute("src", AVATAR_URL)
    url = preview.get_attribute("src")
    assert url is not None and url.startswith(server.base_url)
    expect_loaded_picture(preview, url)
    assert me(server, "bob")["avatar_url"] == url
    shot(bob, screenshot_dir, "phone-profile" if size == PHONE else "desktop-profile")
    close_profile(bob)
    # His own top bar: the new picture at once (and the name, where the bar shows it).
    expect_loaded_picture(bob.locator("#me-avatar img"), url)
    expect(bob.locator("#me-btn")).to_have_attribute("aria-label", "Your profile: Robert Tables")
    if size == DESKTOP:
        expect(bob.locator("#me-name")).to_have_text("Robert Tables")
    expect(message(bob, "an old message from bob").locator(".author")).to_have_text("Robert Tables")

    # Alice's open page, no reload: his old message, "Seen by", the members list.
    expect(old.locator(".author")).to_have_text("Robert Tables")
    expect_loaded_picture(old.locator(".meta img"), url)
    expect(seen).to_have_text("Seen by Robert Tables")
    expect_loaded_picture(seen.locator("img"), url)
    show_members(alice)
    expect_loaded_picture(member_row(alice, "Robert Tables").locator("img"), url)
    shot(
        alice,
        screenshot_dir,
        "phone-avatars-members" if size == PHONE else "desktop-avatars-members",
    )
    expect(member_names(alice)).to_have_text(["Alice (you)", "Robert Tables"])
    hide_members(alice)

    # A new message of his: the same.
    send(bob, "a new message from robert")
    new = message(alice, "a new message from robert")
    expect(new.locator(".author")).to_have_text("Robert Tables")
    expect_loaded_picture(new.locator(".meta img"), url)
    shot(
        alice,
        screenshot_dir,
        "phone-avatars-timeline" if size == PHONE else "desktop-avatars-timeline",
    )

    # The thread panel (his old message as its root), and the @ autocomplete.
    act(alice, "an old message from bob", "Reply in thread")
    root = alice.locator("#thread-list > li.msg").first
    expect(root.locator(".author")).to_have_text("Robert Tables")
    expect_loaded_picture(root.locator(".meta img"), url)
    alice.locator("#thread-close").click()
    expect(alice.locator("#thread-panel")).to_be_hidden()
    alice.locator("#composer-input").fill("@rob")
    option = alice.locator("#composer-input-mentions li").filter(has_text="Robert Tables")
    expect_loaded_picture(option.locator("img"), url)
    alice.locator("#composer-input").fill("")

    # After a reload, the history is drawn with what the members list says.
    alice.reload()
    expect(alice.locator("#conn-state")).to_have_text("Connected")
    expect(old.locator(".author")).to_have_text("Robert Tables")
    expect_loaded_picture(old.locator(".meta img"), url)

    for page in (alice, bob):
        assert recorded(page) == [], recorded(page)


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_display_name_says_why_and_changes_nothing(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    alice, bob = setup(new_page, size)
    send(bob, "still bob")
    open_profile(bob)
    name = bob.locator("#profile-display-name")
    error = bob.locator("#profile-name-error")
    save = bob.locator("#profile-name-save")

    # What the client knows already: said before anything is sent.
    name.fill("x" * 65)
    save.click()
    expect(error).to_have_text("A display name has at most 64 characters (this one has 65).")
    name.fill("Bob\u0007")
    save.click()
    expect(error).to_contain_text("cannot contain control characters")
    name.fill("   ")
    save.click()
    expect(error).to_have_text("Enter a display name.")

    # What only the server checks (a right-to-left override): its own message.
    name.fill("Bob\u202eevil")
    save.click()
    expect(error).to_have_text(
        "Not saved: display_name must not contain control or format characters"
    )
    expect(error).to_be_visible()

    # Nothing changed: the server, his page, Alice's.
    assert me(server, "bob")["display_name"] == "Bob"
    expect(bob.locator("#account-title")).to_have_text("Bob")
    close_profile(bob)
    expect(bob.locator("#me-btn")).to_have_attribute("aria-label", "Your profile: Bob")
    expect(message(alice, "still bob").locator(".author")).to_have_text("Bob")
    show_members(alice)
    expect(member_names(alice)).to_have_text(["Alice (you)", "Bob"])
    assert recorded(alice) == [], recorded(alice)
    assert recorded(bob, refused_requests=True) == [], recorded(bob)


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_picture_says_why_and_changes_nothing(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    _alice, bob = setup(new_page, size)
    uploads: list[str] = []
    bob.on(
        "request",
        lambda r: uploads.append(r.url) if r.method == "PUT" and "/avatar" in r.url else None,
    )
    open_profile(bob)
    error = bob.locator("#profile-picture-error")
    chooser = bob.locator("#profile-file")

    # Over 2 MiB: refused here, before a byte is sent.
    big = png() + b"\0" * (2 * 1024 * 1024)
    chooser.set_input_files(files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
    expect(error).to_have_text("That picture is 2.0 MB: the limit is 2 MB. Choose a smaller one.")
    expect(error).to_be_visible()
    assert uploads == []

    # Not a picture type the server takes.
    chooser.set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    expect(error).to_have_text("Choose a PNG, JPEG, GIF or WebP picture.")
    assert uploads == []

    # Named a PNG, but not one: the server's validation_error, in its words.
    chooser.set_input_files(
        files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"not a picture at all"}]
    )
    expect(error).to_contain_text("That file cannot be used as a picture:")
    assert len(uploads) == 1

    # The server's 413 (a body over its limit): said plainly too.
    too_large = {
        "status": "error",
        "error": {
            "code": "payload_too_large",
            "message": "the request body is larger than 2097152 bytes",
        },
    }
    bob.route(
        re.compile(r".*/api/v1/users/me/avatar$"),
        lambda route: route.fulfill(
            status=413, content_type="application/json", body=json.dumps(too_large)
        ),
    )
    chooser.set_input_files(files=[{"name": "ok.png", "mimeType": "image/png", "buffer": png()}])
    expect(error).to_have_text(
        "That picture is too large: the limit is 2 MB. Choose a smaller one."
    )
    assert len(uploads) == 2

    # Nothing changed.
    assert me(server, "bob")["avatar_url"] is None
    expect(bob.locator("#profile-avatar img")).to_have_count(0)
    expect(bob.locator("#me-avatar img")).to_have_count(0)


@pytest.mark.parametrize("size", SIZES)
def test_a_direct_conversation_and_the_people_picker_follow_a_new_profile(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    alice, _bob = setup(new_page, size)
    if size == PHONE:
        alice.locator("#back-btn").click()
    start_direct(alice, "Bob")
    expect(alice.locator("#room-title")).to_have_text("Bob")

    # Bob writes in it and changes his profile from another client (the API): Alice's
    # page follows, the sidebar's "Bob: ..." preview too.
    token = api_login(server, "bob")
    auth = {"Authorization": f"Bearer {token}"}
    base = server.base_url
    [workspace] = httpx.get(f"{base}/api/v1/workspaces/", headers=auth).json()["data"]
    listed = httpx.get(
        f"{base}/api/v1/room-chats/workspace/{workspace['id']}",
        params={"kind": "direct"},
        headers=auth,
    ).json()["data"]
    [direct] = listed["rooms"] if isinstance(listed, dict) else listed
    said = httpx.post(
        f"{base}/api/v1/room-chats/{direct['id']}/messages",
        json={"message_text": "ping from bob"},
        headers=auth,
    )
    assert said.status_code == 201, said.text
    expect(bubbles(alice, "ping from bob")).to_have_count(1)
    renamed = httpx.patch(f"{base}/api/v1/users/me", json={"display_name": "Robert"}, headers=auth)
    renamed.raise_for_status()
    reply = httpx.put(f"{base}/api/v1/users/me/avatar", content=png(), headers=auth)
    reply.raise_for_status()
    url = reply.json()["data"]["avatar_url"]

    expect(alice.locator("#room-title")).to_have_text("Robert")
    if size == PHONE:
        alice.locator("#back-btn").click()
    expect(dm_button(alice, "Robert")).to_have_count(1)
    preview = dm_button(alice, "Robert").locator(".room-preview")
    expect(preview).to_have_text("Robert: ping from bob")
    alice.locator("#new-dm-btn").click()
    row = alice.locator("#dm-people li").filter(has_text="Robert")
    expect(row.get_by_role("checkbox", name="Robert")).to_have_count(1)
    expect_loaded_picture(row.locator("img"), url)
    assert recorded(alice) == [], recorded(alice)
