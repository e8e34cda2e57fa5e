"""Workspace signals (the live sidebar) and user_updated, without a server: the hub hands
a workspace signal to that workspace's followers only, a workspace_member_left ends its
member's following after they got it, a user_updated addressed to the user refreshes
their connections' profile, and the Kafka layout carries the workspace across."""

from __future__ import annotations

from datetime import UTC, datetime

from roomchat.bus.kafka_records import decode, signal_headers
from roomchat.domain import sidebar
from roomchat.domain.models import Invitation, User, Workspace
from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable
from tests.unit.test_hub import Database, FakeConnection

NOW = datetime(2026, 12, 9, tzinfo=UTC)


def hub() -> Hub:
    return Hub(
        Database(),
        5.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )


def test_a_workspace_signal_reaches_its_followers_and_a_departure_ends_following() -> None:
    h = hub()
    alice, bob, bob_phone, carol = (FakeConnection(n) for n in (1, 2, 2, 3))
    for conn in (alice, bob, bob_phone, carol):
        h.attach(conn)  # type: ignore[arg-type]
    for conn in (alice, bob, bob_phone):
        h.follow(conn, 7)  # type: ignore[arg-type]
    h.follow(carol, 8)  # type: ignore[arg-type]

    h.signal(sidebar.workspace_updated(Workspace(7, "Acme", 1, NOW), 1, "test"))
    assert [len(c.frames) for c in (alice, bob, bob_phone, carol)] == [1, 1, 1, 0]

    h.signal(sidebar.member_left(7, 2, 1, "test"))
    for conn in (alice, bob, bob_phone):
        assert conn.frames[-1]["action"] == "workspace_member_left"
    # bob's two connections follow workspace 7 no more; alice still does.
    assert h.followers(7) == {alice}
    assert bob.workspaces == set() and bob_phone.workspaces == set()
    h.signal(sidebar.room_deleted(7, 40, 1, "test"))
    assert [len(c.frames) for c in (alice, bob, bob_phone)] == [3, 2, 2]


def test_user_updated_refreshes_the_users_own_connections() -> None:
    h = hub()
    alice, bob = FakeConnection(1), FakeConnection(2)
    h.attach(alice)  # type: ignore[arg-type]
    h.attach(bob)  # type: ignore[arg-type]
    renamed = User(1, "u1", "Alice Liddell", "https://x/a.png")
    signals = sidebar.user_updated(renamed, [40, 41], [7], "test")
    assert [(s.to_user, s.room_id, s.to_workspace) for s in signals] == [
        (1, 0, None),
        (None, 40, None),
        (None, 41, None),
        (None, 0, 7),
    ]
    assert all(s.sender_id == sidebar.NOBODY for s in signals)  # the user's own sockets too
    h.signal(signals[0])
    assert (
        alice.user == renamed and alice.frames[0]["data"]["user"]["display_name"] == "Alice Liddell"
    )
    assert bob.user.display_name == "U2" and bob.frames == []


def test_workspace_and_user_signals_cross_the_bus_intact() -> None:
    inviter = User(1, "owner", "Owner", None)
    invitation = Invitation(99, 7, "Acme", inviter, NOW)
    for signal in (
        sidebar.member_joined(7, User(2, "bob", "Bob", None), "member", NOW, "a"),
        sidebar.invitation_received(2, invitation, "a"),
        sidebar.invitation_cancelled(2, 99, 7, 1, "a"),
    ):
        again = decode(signal_headers(signal), signal.frame)
        assert again == signal
    assert sidebar.unfollowing(sidebar.member_left(7, 2, 1, "a")) == (7, 2)
    assert sidebar.unfollowing(sidebar.member_updated(7, 2, "admin", 1, "a")) is None
