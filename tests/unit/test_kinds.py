"""The event catalogue (domain/kinds.py) is the one list of broadcast action names: it
names every action the protocol documents a server sending, and no other module of the
server spells one out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from roomchat.domain import kinds
from roomchat.domain.kinds import KINDS, Membership, MessageChange
from roomchat.domain.webhooks import clean_events
from roomchat.errors import ChatError
from roomchat.realtime.handlers import Handlers

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "roomchat"
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
# Names a server sends that are replies, not broadcasts (docs/protocol.md).
REPLY_ONLY = {"error", "pong"}
# Out of the scan: the clients (they read the protocol, they do not define it) and the
# migrations (frozen copies of the code as of their revision).
NOT_SCANNED = ("web", "client", "store/migrations")
# A WebSocket command spelled like the signal it sends: the gateway's action table
# names commands, which are not kinds.
ALLOWED = {("realtime/handlers.py", kinds.TYPING)}


def commands() -> set[str]:
    """The WebSocket actions a client sends (the gateway's action table)."""
    return set(Handlers.__new__(Handlers).table())


def test_every_kind_is_documented_and_every_documented_action_is_known() -> None:
    for name in KINDS:
        assert f"`{name}`" in PROTOCOL or f'"action": "{name}"' in PROTOCOL, name
    documented = set(re.findall(r'"action": "([a-z_]+)"', PROTOCOL))
    unknown = documented - commands() - set(KINDS) - REPLY_ONLY
    assert not unknown, f"docs/protocol.md names actions the catalogue lacks: {unknown}"


def _literals(path: Path) -> set[str]:
    """The string constants of a module, docstrings aside."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    }


def test_no_module_but_the_catalogue_spells_an_action_name() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative == "domain/kinds.py" or relative.startswith(NOT_SCANNED):
            continue
        for name in _literals(path) & set(KINDS):
            if (relative, name) not in ALLOWED:
                found.append(f"{relative}: {name!r}")
    assert not found, "action names outside domain/kinds.py: " + ", ".join(found)


def test_the_table_says_what_each_kind_does() -> None:
    durable = {k.name for k in KINDS.values() if k.durable}
    assert durable == set(kinds.WEBHOOK_TYPES)  # every stored kind may be sent, only those
    assert kinds.WEBHOOK_TYPES[0] == kinds.NEW_MESSAGE
    ending, members, activity = kinds.ENDING, kinds.CHANGES_MEMBERS, kinds.MOVES_ACTIVITY
    assert ending == {kinds.MEMBER_LEFT, kinds.ROOM_DELETED}
    assert KINDS[kinds.ROOM_DELETED].membership is Membership.ENDS_ALL
    assert members == {kinds.MEMBER_JOINED, kinds.MEMBER_LEFT}
    assert activity == {kinds.NEW_MESSAGE, kinds.MESSAGE_EDITED, kinds.MESSAGE_DELETED}
    assert KINDS[kinds.NEW_MESSAGE].message is MessageChange.NEW
    assert not kinds.is_durable(kinds.TYPING) and kinds.of("no_such_action") is None


def test_webhooks_offer_exactly_the_durable_kinds() -> None:
    assert clean_events(list(reversed(kinds.WEBHOOK_TYPES))) == kinds.WEBHOOK_TYPES
    with pytest.raises(ChatError):
        clean_events([kinds.TYPING])
