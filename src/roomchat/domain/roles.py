"""A member's role in a workspace, and the rights each role carries."""

from __future__ import annotations

OWNER = "owner"
# Manages the workspace's rooms and its members (inviting, removing, cancelling
# invitations) but not the owner, other admins, roles, API keys, webhooks or the
# workspace itself (docs/protocol.md, "Workspace administration").
ADMIN = "admin"
MEMBER = "member"
# A workspace's bot, one per API key (domain/api_keys.py): a member of that workspace
# only, never of another (it cannot create one, be invited to one or leave its own).
BOT = "bot"
# The roles with the owner's rights over every room of the workspace (changing,
# deleting, adding and removing members, deleting messages). A bot has them so a
# backend can manage rooms; the workspace itself (invitations, handing it on, its API
# keys) stays the owner's, so a leaked key cannot give it away or mint more keys.
ROOM_MANAGERS = frozenset({OWNER, ADMIN, BOT})
# Who may invite, list and cancel invitations and remove members.
MEMBER_MANAGERS = frozenset({OWNER, ADMIN})
# The roles PATCH .../members/{user_id} may give (the owner's only by handing it on).
ASSIGNABLE = (ADMIN, MEMBER)


def may_remove(actor_role: str | None, target_role: str) -> bool:
    """The owner removes anyone but themselves; an admin, members only (a bot leaves
    when its key is revoked; nobody removes the owner)."""
    if target_role in (OWNER, BOT):
        return False
    if actor_role == OWNER:
        return True
    return actor_role == ADMIN and target_role == MEMBER


def manages_room(user_id: int, created_by: int, workspace_role: str | None) -> bool:
    """Whether a user may manage a room: its creator, or a room manager of its workspace."""
    return user_id == created_by or workspace_role in ROOM_MANAGERS
