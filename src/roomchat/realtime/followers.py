"""Who follows what here beyond the rooms they joined: every open connection of each
user (a signal ``to_user`` reaches them, joined to its room or not), and the
connections following each workspace's activity (``subscribe_workspace``)."""

from __future__ import annotations

from collections.abc import Collection

from roomchat.realtime.connection import Connection

_NOBODY: frozenset[Connection] = frozenset()


class Followers:
    def __init__(self) -> None:
        self._users: dict[int, set[Connection]] = {}
        # Each followed workspace's followers (read it; follow/unfollow change it).
        self.workspaces: dict[int, set[Connection]] = {}

    def attach(self, conn: Connection) -> None:
        """A new connection: it gets its user's signals until ``detach``."""
        self._users.setdefault(conn.user.id, set()).add(conn)

    def detach(self, conn: Connection) -> None:
        """A closed connection: it follows nothing any more."""
        for workspace_id in list(conn.workspaces):
            self.unfollow(conn, workspace_id)
        mine = self._users.get(conn.user.id)
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self._users[conn.user.id]

    def of_user(self, user_id: int) -> Collection[Connection]:
        return self._users.get(user_id, _NOBODY)

    def follow(self, conn: Connection, workspace_id: int) -> None:
        conn.workspaces.add(workspace_id)
        self.workspaces.setdefault(workspace_id, set()).add(conn)

    def unfollow(self, conn: Connection, workspace_id: int) -> None:
        conn.workspaces.discard(workspace_id)
        followers = self.workspaces.get(workspace_id)
        if followers is not None:
            followers.discard(conn)
            if not followers:
                del self.workspaces[workspace_id]

    def of_workspace(self, workspace_id: int) -> set[Connection]:
        return self.workspaces.get(workspace_id, set())
