"""The docs' screenshots, each a scene staged for it and checked before it is taken.

`make screenshots` runs the browser tests with ROOMCHAT_SCREENSHOT_DIR set and so
rewrites every picture in docs/screenshots; without it nothing is written, but every scene
is still staged and checked, so a scene that no longer shows what its picture claims
fails here, in every run (tests/unit/test_screenshots_current.py checks that every
picture in docs/screenshots is written by a `shot(` call and every one the docs show
exists).

A scene is a test: take the `acme` workspace (three people, four rooms, direct
conversations, messages with reactions, an edit, a thread, an image and a file, all
made over the API in a second), stage what the scene adds with `Team`'s methods, open
a page as someone with `team.open_as(...)`, assert what the picture must show, then
`settle(page)` and `shot(page, screenshot_dir, "<name>")`. For example:

    def test_scene_members(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
        page = acme.open_as(new_page, "alice", room="General")
        page.locator("#members-btn").click()
        expect(page.locator("#member-list li")).to_have_count(3)
        settle(page)
        shot(page, screenshot_dir, "desktop-members")
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_conversations_ui import dm_button, panel, summary
from tests.browser.test_files_ui import file_message, open_files, wait_loaded
from tests.browser.test_read_state_ui import go_to, room_button
from tests.browser.test_room_events_ui import chip, message
from tests.browser.test_web_client import PASSWORD, PHONE, bubbles, shot, ws_client

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

# The `server` fixture's ServerProcess (tests/browser/conftest.py).
ServerProcess = Any

THUMBS = "👍"
PARTY = "🎉"
EYES = "👀"

# What the acme workspace says, named once: the scenes look these up.
NOTES = "Morning all! The **2.4 release notes** are up: https://example.com/releases/2.4"
FIX_SENT = "Nice. Small fix: `retry_after` is in seconds"
FIX = "Nice. One fix: `retry_after` is in *seconds*, not milliseconds"
SHIP = "Thanks both! Shipping after lunch 🚀"
REPLIES = (
    ("bob", "Need a hand with the changelog?"),
    ("alice", "Yes please: the API part"),
    ("carol", "I'll take the migration notes"),
)
DASHBOARD = "New dashboard, first cut:"
CHECKLIST = "And the checklist for Friday:"
ASK = "@alice could you look at the onboarding flow before standup?"
PR = "Can you approve my PR when you have a minute?"


# ---------------------------------------------------------------- staging


@dataclass
class Person:
    username: str
    name: str
    token: str
    id: int


@dataclass
class Team:
    """People, a workspace and what they say, staged over REST and the WebSocket (fast,
    and exactly what a client would have made). Rooms are named by their name,
    people by their username."""

    server: ServerProcess
    stack: contextlib.ExitStack
    people: dict[str, Person] = field(default_factory=dict)
    rooms: dict[str, int] = field(default_factory=dict)
    workspace_id: int = 0
    _sockets: dict[str, Callable[[str, dict[str, Any]], Any]] = field(default_factory=dict)
    _joined: set[tuple[str, int]] = field(default_factory=set)

    def api(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        reply = httpx.request(
            method,
            f"{self.server.base_url}{path}",
            headers={"Authorization": f"Bearer {self.people[who].token}"},
            timeout=10,
            **kwargs,
        )
        assert reply.status_code < 300, reply.text
        return reply.json()["data"]

    def person(self, username: str, name: str) -> Person:
        reply = httpx.post(
            f"{self.server.base_url}/api/v1/auth/register",
            json={"username": username, "password": PASSWORD, "display_name": name},
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        data = reply.json()["data"]
        self.people[username] = Person(username, name, data["access_token"], data["user"]["id"])
        return self.people[username]

    def workspace(self, owner: str, name: str, *, invite: tuple[str, ...] = ()) -> int:
        """`owner`'s new workspace; `invite` are invited (accept() lets them in)."""
        ws = self.api(owner, "POST", "/api/v1/workspaces/", json={"name": name})
        for username in invite:
            self.api(
                owner, "POST", f"/api/v1/workspaces/{ws['id']}/members", json={"username": username}
            )
        return int(ws["id"])

    def picture(self, who: str, data: bytes) -> None:
        """`who`'s profile picture (PUT /api/v1/users/me/avatar, the image's bytes)."""
        reply = httpx.put(
            f"{self.server.base_url}/api/v1/users/me/avatar",
            headers={"Authorization": f"Bearer {self.people[who].token}"},
            content=data,
            timeout=10,
        )
        assert reply.status_code == 200, reply.text

    def accept(self, who: str) -> None:
        for invitation in self.api(who, "GET", "/api/v1/invitations"):
            self.api(who, "POST", f"/api/v1/invitations/{invitation['id']}/accept")

    def room(self, name: str, *, by: str, members: tuple[str, ...], passcode: str = "") -> int:
        body: dict[str, Any] = {"workspace_id": self.workspace_id, "name": name}
        if passcode:
            body["passcode"] = passcode
        room_id = int(self.api(by, "POST", "/api/v1/room-chats/", json=body)["id"])
        for username in members:
            self.api(
                by,
                "POST",
                f"/api/v1/room-users/room/{room_id}",
                json={"user_id": self.people[username].id},
            )
        self.rooms[name] = room_id
        return room_id

    def direct(self, who: str, *others: str) -> int:
        """The direct conversation of `who` and `others`, named "dm:<who>,<others...>"."""
        ids = [self.people[o].id for o in others]
        data = self.api(
            who,
            "POST",
            "/api/v1/direct-chats/",
            json={"workspace_id": self.workspace_id, "user_ids": ids},
        )
        self.rooms["dm:" + ",".join((who, *others))] = int(data["id"])
        return int(data["id"])

    def upload(self, who: str, room: str, filename: str, mime: str, data: bytes) -> int:
        att = self.api(
            who,
            "POST",
            f"/api/v1/room-chats/{self.rooms[room]}/attachments",
            files={"file": (filename, data, mime)},
        )
        return int(att["id"])

    def say(
        self,
        who: str,
        room: str,
        text: str,
        *,
        thread: int | None = None,
        files: tuple[int, ...] = (),
    ) -> int:
        """`who` sends `text` to `room` (a reply in `thread`, with `files`): its id."""
        body: dict[str, Any] = {"message_text": text}
        if thread is not None:
            body["thread_root_id"] = thread
        if files:
            body["attachment_ids"] = list(files)
        return int(
            self.api(who, "POST", f"/api/v1/room-chats/{self.rooms[room]}/messages", json=body)[
                "id"
            ]
        )

    def socket(self, who: str, room: str) -> Callable[[str, dict[str, Any]], Any]:
        """`who`'s WebSocket (opened once, open until the test ends), joined to `room`.
        While it is open, `who` is online there."""
        if who not in self._sockets:
            self._sockets[who] = self.stack.enter_context(
                ws_client(self.server, self.people[who].token)
            )
        call = self._sockets[who]
        if (who, self.rooms[room]) not in self._joined:
            call("join_room_chat", {"room_id": self.rooms[room]})
            self._joined.add((who, self.rooms[room]))
        return call

    def react(self, who: str, room: str, message_id: int, reaction: str) -> None:
        payload = {"room_id": self.rooms[room], "message_id": message_id, "reaction": reaction}
        self.socket(who, room)("add_room_chat_reaction", payload)

    def edit(self, who: str, room: str, message_id: int, text: str) -> None:
        payload = {"room_id": self.rooms[room], "message_id": message_id, "message_text": text}
        self.socket(who, room)("edit_room_chat_message", payload)

    def read(self, who: str, room: str) -> None:
        """`who` has read `room` to its end (its threads aside)."""
        self.socket(who, room)("mark_room_read", {"room_id": self.rooms[room], "seq": 2**53 - 1})

    def open_as(
        self, new_page: Any, who: str, *, viewport: dict[str, int] | None = None, room: str = ""
    ) -> Any:
        """A browser page signed in as `who` (its token put where the client keeps it),
        connected, in `room` when given."""
        page = new_page(viewport or DESKTOP)
        page.goto("/")
        page.evaluate("t => localStorage.setItem('roomchat.token', t)", self.people[who].token)
        page.goto("/")
        expect(page.locator("#me-name")).to_have_text(self.people[who].name)
        expect(page.locator("#conn-state")).to_have_text("Connected")
        if room:
            go_to(page, room)
        return page


def chart_png(width: int = 1280, height: int = 720) -> bytes:
    """A dashboard mock: a title bar, four tiles and a bar chart, as a PNG."""
    img = Image.new("RGB", (width, height), (246, 247, 251))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, 72), fill=(52, 84, 209))
    draw.rectangle((32, 24, 280, 48), fill=(210, 220, 250))
    tiles = ((96, 160, 120), (52, 168, 83), (251, 188, 5), (234, 67, 53))
    tile_w = (width - 5 * 32) // 4
    for i, colour in enumerate(tiles):
        x = 32 + i * (tile_w + 32)
        draw.rounded_rectangle((x, 104, x + tile_w, 224), radius=12, fill=(255, 255, 255))
        draw.rectangle((x + 24, 136, x + 24 + tile_w // 2, 152), fill=(200, 204, 214))
        draw.rectangle((x + 24, 168, x + 24 + tile_w // 3, 200), fill=colour)
    draw.rounded_rectangle((32, 256, width - 32, height - 32), radius=12, fill=(255, 255, 255))
    bars = (0.35, 0.5, 0.42, 0.66, 0.58, 0.8, 0.72, 0.9, 0.86, 0.95)
    base, top = height - 72, 300
    bar_w = (width - 160) // len(bars)
    for i, share in enumerate(bars):
        x = 80 + i * bar_w
        draw.rectangle(
            (x, base - int((base - top) * share), x + bar_w - 24, base), fill=(52, 84, 209)
        )
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def portrait_png(background: tuple[int, int, int], shirt: tuple[int, int, int]) -> bytes:
    """A profile picture mock: a head and shoulders on a plain background."""
    img = Image.new("RGB", (256, 256), background)
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 170, 216, 330), fill=shirt)
    draw.ellipse((84, 52, 172, 150), fill=(241, 200, 170))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def pdf_bytes(size: int = 48_000) -> bytes:
    return b"%PDF-1.4\n" + b"%" * (size - 9)


@pytest.fixture
def acme(server: ServerProcess) -> Iterator[Team]:
    """The workspace every scene starts from, made over the API. Alice Martin owns
    "Acme"; Bob Chen and Carol Diaz are members. Alice has read General and Random;
    Design has 2 unread for her, one mentioning her; Releases (a passcode room) 1;
    Bob's direct message to her is unread. In General: bold and a link, an edited
    message, reactions, a thread of three replies, an image and a PDF."""
    with contextlib.ExitStack() as stack:
        team = Team(server, stack)
        team.person("alice", "Alice Martin")
        team.person("bob", "Bob Chen")
        team.person("carol", "Carol Diaz")
        team.picture("bob", portrait_png((214, 228, 247), (52, 84, 209)))
        team.picture("carol", portrait_png((232, 244, 234), (52, 168, 83)))
        team.workspace_id = team.workspace("alice", "Acme", invite=("bob", "carol"))
        team.accept("bob")
        team.accept("carol")
        everyone = ("bob", "carol")
        for name in ("General", "Design"):
            team.room(name, by="alice", members=everyone)
        team.room("Releases", by="alice", members=everyone, passcode="ship-it")
        team.room("Random", by="alice", members=everyone)

        team.say("bob", "General", NOTES)
        fix = team.say("carol", "General", FIX_SENT)
        team.edit("carol", "General", fix, FIX)
        ship = team.say("alice", "General", SHIP)
        team.react("bob", "General", ship, THUMBS)
        team.react("carol", "General", ship, THUMBS)
        team.react("bob", "General", ship, PARTY)
        for who, text in REPLIES:
            team.say(who, "General", text, thread=ship)
        image = team.upload("carol", "General", "dashboard.png", "image/png", chart_png())
        team.say("carol", "General", DASHBOARD, files=(image,))
        pdf = team.upload("bob", "General", "release-checklist.pdf", "application/pdf", pdf_bytes())
        checklist = team.say("bob", "General", CHECKLIST, files=(pdf,))
        team.react("alice", "General", checklist, EYES)
        team.read("alice", "General")

        team.say("bob", "Random", "Anyone up for coffee at 3?")
        team.read("alice", "Random")
        team.say("carol", "Releases", "2.4 is tagged; the deploy window is 14:00-15:00 UTC")
        team.say("bob", "Design", ASK)
        team.say("carol", "Design", "Mockups: https://example.com/design/onboarding")

        team.direct("bob", "alice")
        team.say("bob", "dm:bob,alice", PR)
        team.direct("carol", "alice")
        team.say("carol", "dm:carol,alice", "Thanks for the review!")
        team.say("alice", "dm:carol,alice", "Anytime 🙂")
        yield team


def settle(page: Any) -> None:
    """Before a picture: no pointer over a message (its actions would show), no focus
    ring, every image drawn, no transition half-way."""
    page.mouse.move(1, 1)
    page.evaluate("() => document.activeElement?.blur()")
    page.wait_for_function(
        "() => [...document.images]"
        ".every((i) => !i.offsetParent || (i.complete && i.naturalWidth > 0))"
    )
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")


def scroll_to_newest(page: Any) -> None:
    """The reader scrolls down to the newest message. The room opens at its bottom, but
    "Seen by" under Alice's own message comes a moment later and pushes the newest
    message partly out of view (the view does not follow it down)."""
    expect(page.locator("#message-list .seen-by")).to_be_visible()
    page.locator("#messages").evaluate("el => { el.scrollTop = el.scrollHeight; }")


def expect_general(page: Any) -> None:
    """General's timeline as acme made it, its newest messages in view."""
    notes = message(page, NOTES.replace("**", ""))
    expect(notes.locator(".bubble strong")).to_have_text("2.4 release notes")
    wait_loaded(notes.locator("img.avatar-img").first)  # Bob's picture
    expect(notes.locator(".bubble a")).to_have_attribute("href", "https://example.com/releases/2.4")
    fix = message(page, FIX.replace("`", "").replace("*", ""))
    expect(fix.locator(".edited")).to_be_visible()
    expect(fix.locator(".bubble code")).to_have_text("retry_after")
    expect(chip(page, SHIP, THUMBS).locator(".count")).to_have_text("2")
    expect(chip(page, SHIP, PARTY).locator(".count")).to_have_text("1")
    expect(summary(page, SHIP)).to_contain_text("3 replies")
    thumb = file_message(page, "dashboard.png").locator("img.att-thumb")
    wait_loaded(thumb)
    file_chip = file_message(page, "release-checklist.pdf").locator("a.att-file")
    expect(file_chip.locator(".att-name")).to_have_text("release-checklist.pdf")
    expect(message(page, SHIP).locator(".seen-by")).to_have_text("Seen by Bob Chen and Carol Diaz")
    scroll_to_newest(page)
    for newest in (thumb, file_chip, chip(page, CHECKLIST, EYES)):
        expect(newest).to_be_in_viewport(ratio=1)
    for reply in REPLIES:  # replies stay in their thread
        expect(bubbles(page, reply[1])).to_have_count(0)


def expect_sidebar(page: Any) -> None:
    """Alice's room list: unread and mention badges, the passcode pill, her DMs."""
    expect(page.locator("#room-list .room-name")).to_have_count(4)  # in any order
    for room in ("General", "Design", "Releases", "Random"):
        expect(room_button(page, room)).to_be_visible()
    expect(room_button(page, "Design").locator(".badge")).to_have_text("2")
    expect(room_button(page, "Design").locator(".mention-count")).to_have_text("@1")
    expect(room_button(page, "Releases").locator(".badge")).to_have_text("1")
    expect(room_button(page, "Releases").locator(".lock")).to_be_visible()
    expect(room_button(page, "Random").locator(".badge")).to_be_hidden()
    expect(room_button(page, "Random").locator(".room-preview")).to_have_text(
        "Bob Chen: Anyone up for coffee at 3?"
    )
    expect(dm_button(page, "Bob Chen").locator(".badge")).to_have_text("1")
    expect(dm_button(page, "Bob Chen").locator(".room-preview")).to_have_text(f"Bob Chen: {PR}")
    expect(dm_button(page, "Carol Diaz").locator(".badge")).to_be_hidden()


# ---------------------------------------------------------------- desktop scenes


def test_scene_desktop_chat(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    """The README's picture: a busy room and a sidebar with something to read."""
    acme.socket("bob", "General")  # Bob is online in General
    alice = acme.open_as(new_page, "alice", room="General")
    expect_sidebar(alice)
    expect_general(alice)
    expect(room_button(alice, "General")).to_have_attribute("aria-current", "true")
    expect(room_button(alice, "General").locator(".badge")).to_be_hidden()
    settle(alice)
    shot(alice, screenshot_dir, "desktop-chat")


def test_scene_desktop_thread(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    alice = acme.open_as(new_page, "alice", room="General")
    summary(alice, SHIP).click()
    expect(panel(alice)).to_be_visible()
    expect(alice.locator("#thread-list > li.msg .bubble")).to_have_text(
        [SHIP, *(text for _, text in REPLIES)]
    )
    expect(alice.locator("#thread-follow-btn")).to_have_attribute("aria-pressed", "true")
    expect(alice.locator("#thread-input")).to_be_visible()
    scroll_to_newest(alice)
    expect(file_message(alice, "release-checklist.pdf")).to_be_in_viewport(ratio=1)
    settle(alice)
    shot(alice, screenshot_dir, "desktop-thread")


def test_scene_desktop_files(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    diagram = acme.upload("alice", "General", "architecture.png", "image/png", chart_png(900, 900))
    acme.say("alice", "General", "The architecture diagram, updated", files=(diagram,))
    notes = acme.upload("carol", "General", "meeting-notes.txt", "text/plain", b"Agenda\n" * 400)
    acme.say("carol", "General", "Notes from the planning meeting", files=(notes,))
    acme.read("alice", "General")
    alice = acme.open_as(new_page, "alice", room="General")
    scroll_to_newest(alice)
    open_files(alice)
    rows = alice.locator("#files-list li.files-row")
    expect(rows.locator(".att-name")).to_have_text(
        ["meeting-notes.txt", "architecture.png", "release-checklist.pdf", "dashboard.png"]
    )
    expect(alice.locator("#files-title")).to_have_text("Files in General")
    for i in (1, 3):
        wait_loaded(rows.nth(i).locator("img.att-thumb"))
    expect(rows.nth(2).locator("a.att-file .att-size")).to_have_text("47 KB")
    settle(alice)
    shot(alice, screenshot_dir, "desktop-files")


def test_scene_desktop_direct_messages(
    new_page: Any, acme: Team, screenshot_dir: Path | None
) -> None:
    acme.direct("alice", "bob", "carol")
    acme.say("carol", "dm:alice,bob,carol", "Team lunch on Friday? 🍜")
    acme.socket("carol", "dm:carol,alice")  # Carol is online
    alice = acme.open_as(new_page, "alice", room="General")
    dm_button(alice, "Carol Diaz").click()
    expect(alice.locator("#room-title")).to_have_text("Carol Diaz")
    expect(alice.locator("#room-subtitle")).to_contain_text("direct message")
    expect(bubbles(alice, "Thanks for the review!")).to_be_visible()
    expect(bubbles(alice, "Anytime 🙂")).to_be_visible()
    expect(alice.locator("#dm-list .room-name")).to_have_count(3)
    expect(dm_button(alice, "Bob Chen").locator(".badge")).to_have_text("1")
    expect(dm_button(alice, "Bob Chen, Carol Diaz").locator(".badge")).to_have_text("1")
    expect(dm_button(alice, "Carol Diaz")).to_have_attribute("aria-current", "true")
    settle(alice)
    shot(alice, screenshot_dir, "desktop-direct-messages")


def test_scene_desktop_invitations(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    """Dave, new here, is invited to two workspaces: he answers each."""
    acme.person("dave", "Dave Okafor")
    acme.api(
        "alice",
        "POST",
        f"/api/v1/workspaces/{acme.workspace_id}/members",
        json={"username": "dave"},
    )
    acme.workspace("carol", "Design Guild", invite=("dave",))
    dave = acme.open_as(new_page, "dave")
    expect(dave.locator("#no-workspace")).to_be_visible()
    # No workspace: no rooms section (nor its Threads button), and the page says what to do.
    expect(dave.locator("#rooms-section")).to_be_hidden()
    expect(dave.locator("#empty-chat-hint")).to_have_text(
        "Create a workspace, or accept an invitation, to start chatting."
    )
    invitations = dave.locator("#invitation-list li")
    expect(invitations).to_have_count(2)
    for workspace, sender in (("Acme", "Alice Martin"), ("Design Guild", "Carol Diaz")):
        row = invitations.filter(has_text=workspace)
        expect(row).to_contain_text(f"from {sender}")
        for line in (row.locator(".invitation-workspace"), row.get_by_text(f"from {sender}")):
            # each on one line (they wrapped word by word beside the buttons)
            assert line.evaluate("e => e.getClientRects().length === 1 && e.offsetHeight < 30")
        expect(row.get_by_role("button", name="Accept")).to_be_visible()
        expect(row.get_by_role("button", name="Decline")).to_be_visible()
    settle(dave)
    shot(dave, screenshot_dir, "desktop-invitations")


# ---------------------------------------------------------------- phone scenes


def test_scene_phone_rooms(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    alice = acme.open_as(new_page, "alice", viewport=PHONE)
    expect(alice.locator("#sidebar")).to_be_visible()
    expect(alice.locator("#chat")).to_be_hidden()
    expect_sidebar(alice)
    expect(room_button(alice, "General").locator(".room-preview")).to_contain_text(CHECKLIST)
    settle(alice)
    shot(alice, screenshot_dir, "phone-rooms")


def test_scene_phone_chat(new_page: Any, acme: Team, screenshot_dir: Path | None) -> None:
    alice = acme.open_as(new_page, "alice", viewport=PHONE, room="General")
    expect(alice.locator("#sidebar")).to_be_hidden()
    expect(alice.locator("#back-btn")).to_be_visible()
    expect_general(alice)
    expect(alice.locator("#composer-input")).to_be_in_viewport()
    settle(alice)
    shot(alice, screenshot_dir, "phone-chat")
