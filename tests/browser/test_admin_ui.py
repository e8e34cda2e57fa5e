"""The workspace settings dialog in a real browser (issue 25): members and their roles,
making an admin, removing a member, pending invitations and their cancel, renaming the
workspace; and what each change does at once in the others' pages.

Three users in their own browser contexts against a real server (conftest.py), at
desktop and phone size. A plain member sees the members read-only; the owner sees
every control; an admin what an admin may do. Nothing waits by sleeping.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_live_sidebar_ui import workspace_id
from tests.browser.test_read_state_ui import room_button
from tests.browser.test_room_events_ui import confirm
from tests.browser.test_ui_fixes import accept_all_invitations, api, register
from tests.browser.test_web_client import (
    PHONE,
    ServerProcess,
    accept_invitation,
    api_login,
    create_room,
    create_workspace,
    open_room,
    shot,
    sign_up,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def open_admin(page: Any) -> Any:
    """Open the workspace settings from the sidebar (on a phone, back to it first)."""
    if page.locator("#back-btn").is_visible():
        page.locator("#back-btn").click()
    page.locator("#workspace-settings-btn").click()
    dialog = page.locator("#admin-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#admin-members li").first).to_be_visible()  # loaded
    return dialog


def close_admin(page: Any) -> None:
    page.locator("#admin-close").click()
    expect(page.locator("#admin-dialog")).to_be_hidden()


def member_row(page: Any, name: str) -> Any:
    names = page.locator(".admin-member-name").filter(has_text=re.compile(rf"^{name}( \(you\))?$"))
    return page.locator("#admin-members li").filter(has=names)


def role_of(page: Any, name: str) -> Any:
    return member_row(page, name).locator(".role-pill")


def three_in_team(new_page: Any, server: ServerProcess, size: dict[str, int]) -> tuple[Any, ...]:
    """Alice owns Team (a room, Lobby); Bob and Carol accepted her invitations."""
    alice, bob, carol = new_page(size), new_page(size), new_page(size)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    sign_up(carol, "carol", "Carol")
    create_workspace(alice, "Team")
    create_room(alice, "Lobby")
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")
    for name in ("bob", "carol"):
        api(server, "POST", f"/api/v1/workspaces/{ws}/members", token, json={"username": name})
    accept_invitation(bob, "Team")
    accept_invitation(carol, "Team")
    return alice, bob, carol


@pytest.mark.parametrize("size", SIZES)
def test_owner_manages_members_and_others_see_it_live(
    new_page: Any, server: ServerProcess, size: dict[str, int], screenshot_dir: Path | None
) -> None:
    alice, bob, carol = three_in_team(new_page, server, size)

    # Bob, a plain member: the members, read-only.
    open_admin(bob)
    expect(role_of(bob, "Alice")).to_have_text("owner")
    expect(role_of(bob, "Bob")).to_have_text("member")
    expect(role_of(bob, "Carol")).to_have_text("member")
    expect(member_row(bob, "Bob")).to_contain_text("@bob")
    expect(member_row(bob, "Bob")).to_contain_text("joined")
    expect(bob.locator("#admin-members button")).to_have_count(0)
    expect(bob.locator("#admin-rename-form")).to_be_hidden()
    expect(bob.locator("#admin-invite-form")).to_be_hidden()
    expect(bob.locator("#admin-invitations-section")).to_be_hidden()
    close_admin(bob)
    expect(bob.locator("#member-add")).to_be_hidden()

    # Alice, the owner: every control but on herself.
    open_admin(alice)
    expect(role_of(alice, "Alice")).to_have_text("owner")
    expect(member_row(alice, "Alice").get_by_role("button")).to_have_count(0)
    expect(member_row(alice, "Carol").get_by_role("button", name="Remove Carol")).to_be_visible()
    expect(alice.locator("#admin-rename-form")).to_be_visible()
    expect(alice.locator("#admin-no-invitations")).to_have_text("No pending invitations.")

    # Bob made an admin: his page shows an admin's controls at once.
    member_row(alice, "Bob").get_by_role("button", name="Make admin").click()
    expect(role_of(alice, "Bob")).to_have_text("admin")
    expect(alice.locator("#admin-status")).to_have_text("Bob is now an admin.")
    expect(member_row(alice, "Bob").get_by_role("button", name="Make member")).to_be_visible()
    shot(
        alice,
        screenshot_dir,
        "phone-workspace-settings" if size == PHONE else "desktop-workspace-settings",
    )
    expect(bob.locator("#toast")).to_have_text("You are now an admin of Team")
    expect(bob.locator("#member-add")).to_be_visible()
    open_admin(bob)
    expect(role_of(bob, "Bob")).to_have_text("admin")
    expect(member_row(bob, "Carol").get_by_role("button", name="Remove Carol")).to_be_visible()
    expect(member_row(bob, "Alice").get_by_role("button")).to_have_count(0)
    expect(bob.locator("#admin-members").get_by_role("button", name="Make admin")).to_have_count(0)
    expect(bob.locator("#admin-invitations-section")).to_be_visible()
    expect(bob.locator("#admin-rename-form")).to_be_hidden()
    close_admin(bob)

    # Carol, in Lobby, removed: the workspace and its rooms leave her page at once.
    open_room(carol, "Lobby")
    expect(carol.locator("#room-title")).to_have_text("Lobby")
    member_row(alice, "Carol").get_by_role("button", name="Remove Carol").click()
    confirm(alice, "Remove Carol?")
    expect(member_row(alice, "Carol")).to_have_count(0)
    expect(alice.locator("#admin-status")).to_have_text("Carol was removed.")
    text = "You were removed from the workspace Team by Alice."
    expect(carol.locator("#chat-notice")).to_have_text(text)
    expect(carol.locator("#chat-inner")).to_be_hidden()
    expect(carol.locator("#no-workspace")).to_be_visible()
    expect(carol.locator("#workspace-select")).to_be_hidden()
    expect(room_button(carol, "Lobby")).to_have_count(0)

    # A pending invitation (Carol again), seen live by her, cancelled by Alice: it
    # leaves Carol's list at once (invitation_cancelled), with no reload.
    alice.locator("#admin-invite-username").fill("carol")
    alice.locator("#admin-invite-submit").click()
    expect(alice.locator("#admin-status")).to_contain_text('Invitation sent: if "carol"')
    pending = alice.locator("#admin-invitations li").filter(has_text="Carol")
    expect(pending).to_contain_text("invited by Alice")
    invitation = carol.locator("#invitation-list li").filter(has_text="Team")
    expect(invitation).to_be_visible()
    pending.get_by_role("button", name="Cancel the invitation of Carol").click()
    expect(alice.locator("#admin-invitations li")).to_have_count(0)
    expect(alice.locator("#admin-no-invitations")).to_be_visible()
    expect(invitation).to_have_count(0)
    expect(carol.locator("#invitations")).to_be_hidden()

    # Renamed: Bob's switcher shows the new name at once.
    alice.locator("#admin-name").fill("Crew")
    alice.locator("#admin-rename-submit").click()
    expect(alice.locator("#admin-title")).to_have_text("Crew: settings")
    expect(alice.locator("#workspace-select option:checked")).to_have_text("Crew")
    expect(bob.locator("#workspace-select option:checked")).to_have_text("Crew")
    expect(bob.locator("#workspace-select option")).to_have_count(1)


def test_owner_hands_the_workspace_on_after_a_warning(new_page: Any, server: ServerProcess) -> None:
    alice, bob, carol = three_in_team(new_page, server, DESKTOP)
    open_admin(alice)
    hand_to_bob = member_row(alice, "Bob").get_by_role("button", name="Make Bob the owner")
    expect(
        member_row(alice, "Carol").get_by_role("button", name="Make Carol the owner")
    ).to_be_visible()
    expect(member_row(alice, "Alice").get_by_role("button")).to_have_count(0)

    # Asked first, with what goes with it; cancelled, nothing changes.
    hand_to_bob.click()
    expect(alice.locator("#confirm-title")).to_have_text("Make Bob the owner?")
    expect(alice.locator("#confirm-text")).to_contain_text("API keys are revoked")
    alice.locator("#confirm-cancel").click()
    expect(alice.locator("#confirm-dialog")).to_be_hidden()
    expect(role_of(alice, "Bob")).to_have_text("member")
    expect(role_of(alice, "Alice")).to_have_text("owner")

    hand_to_bob.click()
    confirm(alice, "Make Bob the owner?")
    expect(alice.locator("#admin-status")).to_have_text("Bob is now the owner.")
    expect(role_of(alice, "Bob")).to_have_text("owner")
    expect(role_of(alice, "Alice")).to_have_text("member")
    # Alice, a member now: the list read-only, no rename, no invitations.
    expect(alice.locator("#admin-members button")).to_have_count(0)
    expect(alice.locator("#admin-rename-form")).to_be_hidden()
    expect(alice.locator("#admin-invitations-section")).to_be_hidden()
    close_admin(alice)
    expect(alice.locator("#member-add")).to_be_hidden()

    # Bob is told at once and has the owner's controls, Alice's row included.
    expect(bob.locator("#toast")).to_have_text("You now own Team")
    open_admin(bob)
    expect(role_of(bob, "Bob")).to_have_text("owner")
    expect(bob.locator("#admin-rename-form")).to_be_visible()
    expect(
        member_row(bob, "Alice").get_by_role("button", name="Make Alice the owner")
    ).to_be_visible()
    # Carol, who stayed a member, sees the new owner when she looks.
    open_admin(carol)
    expect(role_of(carol, "Bob")).to_have_text("owner")
    expect(carol.locator("#admin-members button")).to_have_count(0)


def test_rename_conflict_and_refusals_are_told(new_page: Any, server: ServerProcess) -> None:
    alice, bob, _carol = three_in_team(new_page, server, PHONE)
    token = api_login(server, "alice")
    api(server, "POST", "/api/v1/workspaces/", token, json={"name": "Other"})

    open_admin(alice)
    alice.locator("#admin-name").fill("other")
    alice.locator("#admin-rename-submit").click()
    expect(alice.locator("#admin-error")).to_have_text(
        "You already have a workspace with that name."
    )
    expect(alice.locator("#workspace-select option:checked")).to_have_text("Team")
    alice.locator("#admin-invite-username").fill("not a name!")
    alice.locator("#admin-invite-submit").click()
    expect(alice.locator("#admin-error")).to_have_text('"not a name!" is not a valid username')
    expect(alice.locator("#admin-status")).to_be_hidden()

    # Bob, an admin with the dialog open, is made a member again: his controls go at once.
    ws = workspace_id(server, token, "Team")
    bob_id = api(server, "GET", "/api/v1/users/me", api_login(server, "bob"))["id"]
    api(server, "PATCH", f"/api/v1/workspaces/{ws}/members/{bob_id}", token, json={"role": "admin"})
    expect(bob.locator("#member-add")).to_be_visible()
    open_admin(bob)
    remove = member_row(bob, "Carol").get_by_role("button", name="Remove Carol")
    expect(remove).to_be_visible()
    # The server refuses what a stale page offers: the refusal is told, not swallowed.
    bob.route(
        re.compile(r".*/api/v1/workspaces/\d+/members/\d+$"),
        lambda route: route.fulfill(
            status=403,
            content_type="application/json",
            body='{"error": {"code": "forbidden", "message": "Forbidden"}}',
        ),
    )
    remove.click()
    confirm(bob, "Remove Carol?")
    expect(bob.locator("#admin-error")).to_have_text(
        "Could not remove Carol: you are not allowed to do that in this workspace."
    )
    bob.unroute(re.compile(r".*/api/v1/workspaces/\d+/members/\d+$"))
    api(
        server,
        "PATCH",
        f"/api/v1/workspaces/{ws}/members/{bob_id}",
        token,
        json={"role": "member"},
    )
    expect(bob.locator("#toast")).to_have_text("You are no longer an admin of Team")
    expect(remove).to_have_count(0)
    expect(bob.locator("#admin-members button")).to_have_count(0)
    expect(bob.locator("#member-add")).to_be_hidden()


MANY = {
    "ROOMCHAT_REGISTER_LIMIT_PER_ADDRESS": "1000/hour",
    "ROOMCHAT_INVITATION_RATE_LIMIT": "1000/hour",
}


@pytest.mark.parametrize("server_env", [MANY])
@pytest.mark.parametrize("size", SIZES)
def test_members_load_page_by_page(
    new_page: Any, server: ServerProcess, size: dict[str, int]
) -> None:
    """More members than a page: the first 50 show, "Load more members" shows the rest."""
    alice = new_page(size)
    sign_up(alice, "alice", "Alice")
    create_workspace(alice, "Team")
    token = api_login(server, "alice")
    ws = workspace_id(server, token, "Team")
    for n in range(52):
        name = f"user{n:02d}"
        member_token = register(server, name, f"User {n:02d}")
        api(server, "POST", f"/api/v1/workspaces/{ws}/members", token, json={"username": name})
        accept_all_invitations(server, member_token)

    open_admin(alice)
    rows = alice.locator("#admin-members li")
    expect(rows).to_have_count(50)
    more = alice.locator("#admin-more")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(53)
    expect(more).to_be_hidden()
    expect(member_row(alice, "User 51")).to_contain_text("@user51")
    expect(role_of(alice, "User 51")).to_have_text("member")
