"""The live sidebar in a real browser (issue 25, bug 3): what others change in the
workspace shows at once, with no reload.

Two or three users, each in their own browser context, against a real server
(conftest.py): rooms made, renamed, given a passcode and deleted by Alice appear, change
and disappear in Bob's room list (an open room that is deleted closes with a notice), and
an invitation Alice sends shows in Carol's page as it is sent; she accepts it and sees the
workspace's rooms. Each at desktop and phone size. Nothing waits by sleeping; a marker
set on the page proves it was never reloaded.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_read_state_ui import room_button
from tests.browser.test_room_events_ui import SocketSwitch
from tests.browser.test_ui_fixes import api
from tests.browser.test_web_client import (
    PHONE,
    ServerProcess,
    accept_invitation,
    add_member,
    api_login,
    create_room,
    create_workspace,
    open_room,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def mark_page(page: Any) -> None:
    """A marker that a reload (or any navigation) would wipe."""
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def room_id(server: ServerProcess, token: str, workspace_id: int, name: str) -> int:
    rooms = api(server, "GET", f"/api/v1/room-chats/workspace/{workspace_id}", token)
    return next(int(r["id"]) for r in rooms if r["name"] == name)


def workspace_id(server: ServerProcess, token: str, name: str) -> int:
    return next(
        int(w["id"]) for w in api(server, "GET", "/api/v1/workspaces/", token) if w["name"] == name
    )


@pytest.mark.parametrize("size", SIZES)
def test_rooms_made_renamed_and_deleted_show_live(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    alice = new_page()
    bob = new_page(size)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    expect(bob.locator("#no-rooms")).to_be_visible()
    mark_page(bob)
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")

    # Made: it shows in Bob's list as Alice creates it.
    create_room(alice, "Lobby")
    expect(room_button(bob, "Lobby")).to_be_visible()
    expect(bob.locator("#no-rooms")).to_be_hidden()

    # Renamed, then a passcode set: Bob (not in the room) sees both in his list.
    lobby = room_id(server, token, ws, "Lobby")
    api(server, "PATCH", f"/api/v1/room-chats/{lobby}", token, json={"name": "Hall"})
    expect(room_button(bob, "Hall")).to_be_visible()
    expect(room_button(bob, "Lobby")).to_have_count(0)
    expect(room_button(bob, "Hall").locator(".lock")).to_have_count(0)
    api(server, "PATCH", f"/api/v1/room-chats/{lobby}", token, json={"passcode": "4321"})
    expect(room_button(bob, "Hall").locator(".lock")).to_have_text("passcode")

    # Deleted while Bob is not in it: it leaves his list.
    api(server, "DELETE", f"/api/v1/room-chats/{lobby}", token)
    expect(room_button(bob, "Hall")).to_have_count(0)
    expect(bob.locator("#no-rooms")).to_be_visible()

    # Deleted while Bob has it open: it closes, and he is told why.
    create_room(alice, "Temp")
    expect(room_button(bob, "Temp")).to_be_visible()
    open_room(bob, "Temp")
    expect(bob.locator("#room-title")).to_have_text("Temp")
    expect(bob.locator("#older-status")).not_to_have_text("Loading…")
    temp = room_id(server, token, ws, "Temp")
    api(server, "DELETE", f"/api/v1/room-chats/{temp}", token)
    expect(bob.locator("#toast")).to_have_text("#Temp was deleted.")
    expect(bob.locator("#chat-notice")).to_have_text("#Temp was deleted.")
    expect(bob.locator("#chat-inner")).to_be_hidden()
    expect(room_button(bob, "Temp")).to_have_count(0)
    expect(bob.locator("#no-rooms")).to_be_visible()  # on a phone: back to the list
    assert_not_reloaded(bob)


@pytest.mark.parametrize("size", SIZES)
def test_invitation_shows_live_and_accepting_it_shows_the_rooms(
    new_page: Any, size: dict[str, int]
) -> None:
    alice = new_page()
    carol = new_page(size)
    sign_up(alice, "alice", "Alice")
    sign_up(carol, "carol", "Carol")
    create_workspace(alice, "Team")
    create_room(alice, "Lobby")
    expect(carol.locator("#no-workspace")).to_be_visible()
    expect(carol.locator("#invitations")).to_be_hidden()
    mark_page(carol)

    add_member(alice, "carol")
    invitation = carol.locator("#invitation-list li").filter(has_text="Team")
    expect(invitation).to_be_visible()
    expect(invitation).to_contain_text("from Alice")
    expect(carol.locator("#toast")).to_have_text("Alice invited you to Team")

    invitation.get_by_role("button", name="Accept").click()
    expect(carol.locator("#workspace-select option:checked")).to_have_text("Team")
    expect(carol.locator("#invitations")).to_be_hidden()
    expect(room_button(carol, "Lobby")).to_be_visible()
    # Followed from now on: a room Alice makes next shows too.
    create_room(alice, "Later")
    expect(room_button(carol, "Later")).to_be_visible()
    assert_not_reloaded(carol)


def test_direct_conversation_and_new_member_show_live(new_page: Any, server: ServerProcess) -> None:
    """A member who joins shows in the "New message" picker while it is open; a direct
    conversation they start shows in the other's list, named by them."""
    alice = new_page()
    bob = new_page(PHONE)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    alice.locator("#new-dm-btn").click()
    expect(alice.locator("#dm-none")).to_be_visible()
    # Invited from elsewhere (the picker is modal), Bob accepts while it is open.
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")
    api(server, "POST", f"/api/v1/workspaces/{ws}/members", token, json={"username": "bob"})
    accept_invitation(bob, "Team")
    person = alice.locator("#dm-people label").filter(has_text="Bob")
    expect(person).to_be_visible()
    alice.locator("#dm-close").click()
    mark_page(alice)

    bob.locator("#new-dm-btn").click()
    bob.locator("#dm-people label").filter(has_text="Alice").click()
    bob.locator("#dm-start").click()
    expect(bob.locator("#room-title")).to_have_text("Alice")
    dm = alice.locator("#dm-list button").filter(has_text="Bob")
    expect(dm).to_be_visible()
    assert_not_reloaded(alice)


class Offline(SocketSwitch):
    """SocketSwitch for a page with no room open (no banner): the top bar says it."""

    def drop(self) -> None:
        self.blocked = True
        for ws in self.open:
            ws.close(code=1013, reason="test: dropped")
        self.open.clear()
        expect(self.page.locator("#conn-state")).not_to_have_attribute(
            "data-state", re.compile("^connected$")
        )


@pytest.mark.parametrize("size", SIZES)
def test_after_a_reconnect_what_was_missed_is_read_again(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    """The workspace signals are lost while offline: the reconnect reads the room list
    and the workspaces again."""
    alice = new_page()
    bob = new_page(size)
    switch = Offline(bob)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    create_room(alice, "Lobby")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    expect(room_button(bob, "Lobby")).to_be_visible()
    mark_page(bob)

    switch.drop()
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")
    api(server, "POST", "/api/v1/room-chats/", token, json={"workspace_id": ws, "name": "Missed"})
    api(server, "PATCH", f"/api/v1/workspaces/{ws}", token, json={"name": "Crew"})
    lobby = room_id(server, token, ws, "Lobby")
    api(server, "DELETE", f"/api/v1/room-chats/{lobby}", token)
    expect(room_button(bob, "Missed")).to_have_count(0)  # offline: nothing came

    switch.restore()
    expect(room_button(bob, "Missed")).to_be_visible()
    expect(room_button(bob, "Lobby")).to_have_count(0)
    expect(bob.locator("#workspace-select option:checked")).to_have_text("Crew")
    assert_not_reloaded(bob)


@pytest.mark.parametrize("size", SIZES)
def test_removed_while_offline_loses_the_workspace_on_reconnect(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    alice = new_page()
    bob = new_page(size)
    switch = Offline(bob)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    create_room(alice, "Lobby")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    expect(room_button(bob, "Lobby")).to_be_visible()

    switch.drop()
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")
    bob_id = api(server, "GET", "/api/v1/users/me", api_login(server, "bob"))["id"]
    api(server, "DELETE", f"/api/v1/workspaces/{ws}/members/{bob_id}", token)
    expect(room_button(bob, "Lobby")).to_be_visible()  # offline: nothing came

    switch.restore()
    expect(bob.locator("#no-workspace")).to_be_visible()
    expect(room_button(bob, "Lobby")).to_have_count(0)
    expect(bob.locator("#workspace-select")).to_be_hidden()
