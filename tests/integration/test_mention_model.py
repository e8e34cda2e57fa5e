"""Mention counts against a model: Hypothesis drives three members of one room over real
sockets on a real server (SQLite and PostgreSQL, the shared ``server`` fixture), and
after every step the server's counts must be the model's.

The steps: a member sends a top-level message or a reply in the room's thread (its root
is the first top-level message), naming some of the others (``pick``'s bits: bob,
carol, alice in turn, the author left out by the server); edits one of their live
messages to name another set; deletes one; marks the room read up to a seq; marks the
thread read up to a seq (seqs drawn from 0 to the room's seq + 5).

The model (docs/protocol.md, "Mentions" and "Threads"): a top-level message takes one
seq, a reply two (its own, then ``room_chat_thread_updated``), an edit that changes the
text one, a delete one. Per member, the room position moves as in the unread model
(sending a top-level message reads up to it; a reply does not); the thread position
moves to one's own reply and with mark_thread_read (max, clamped to the room's seq).
``mention_count`` is the messages by someone else, not deleted, naming the member,
after their room position, and, for a reply, after their thread position too.

Checked after every step, for every member: the room list row's ``mention_count``, the
workspace summary's ``mentions`` (and its room entry), and the mark replies'. At the end
each member's ``room_chat_mention`` signals: exactly one per message that ever named
them (an edit that names them again is not announced twice).

Bounded and reproducible: MAX_EXAMPLES per backend, derandomised, no example database,
no deadline.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from tests.support.client import Account, register_sync, unique
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 30
# The whole property run, all examples (the suite's default is per test: too short here).
RUN_TIMEOUT_S = 600
MAX_STEPS = 14  # marks stay under the read burst of a fresh connection (20)
REPLY_TIMEOUT_S = 10.0
NAMES = ("alice", "bob", "carol")  # alice (0) creates the room
KINDS = ("send", "reply", "edit", "delete", "mark_room_read", "mark_thread_read")
WEIGHTED_KINDS = ("send", "reply", *KINDS)  # something to count first


@dataclass(frozen=True)
class Step:
    """``user`` does ``kind``; ``pick``'s low bits choose whom a text names, the rest
    which message an edit or delete takes, or the seq of a mark (pick mod room seq + 6)."""

    kind: str
    user: int
    pick: int = 0

    def __repr__(self) -> str:
        return f"Step({self.kind!r}, {NAMES[self.user]}, {self.pick})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


steps = st.lists(
    st.builds(Step, st.sampled_from(WEIGHTED_KINDS), st.integers(0, 2), st.integers(0, 63)),
    min_size=2,
    max_size=MAX_STEPS,
)


@dataclass
class Message:
    id: int
    seq: int
    author: int
    named: set[int]
    reply: bool
    deleted: bool = False


@dataclass
class Model:
    room_seq: int = 0
    messages: list[Message] = field(default_factory=list)
    room_read: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})
    thread_read: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})
    announced: Counter[tuple[int, int]] = field(default_factory=Counter)  # (message, user)

    def root(self) -> Message | None:
        return next((m for m in self.messages if not m.reply), None)

    def mentions(self, user: int) -> int:
        return sum(
            1
            for m in self.messages
            if not m.deleted
            and user in m.named
            and m.author != user
            and m.seq > self.room_read[user]
            and (not m.reply or m.seq > self.thread_read[user])
        )


def named_by(pick: int, author: int) -> set[int]:
    """Whom a text names: bit 0 bob, bit 1 carol, bit 2 alice (the author too, if drawn:
    the server leaves them out)."""
    drawn = {user for bit, user in ((1, 1), (2, 2), (4, 0)) if pick & bit}
    return drawn - {author}


class World:
    """One example: a fresh workspace and room of the three, their sockets, the model."""

    def __init__(self, server: ServerProcess, http: httpx.Client, users: list[Account]) -> None:
        self.http = http
        self.users = users
        self.model = Model()
        self.trace: list[str] = []
        self.signals: Counter[tuple[int, int]] = Counter()  # (message id, user) announced
        self.edits = 0
        alice = users[0]
        ws = self.call(alice, "POST", "/api/v1/workspaces/", json={"name": unique("ws")})
        self.workspace_id = int(ws["id"])
        for member in users[1:]:
            path = f"/api/v1/workspaces/{self.workspace_id}/members"
            self.call(alice, "POST", path, json={"user_id": member.id})
            pending = [
                i
                for i in self.call(member, "GET", "/api/v1/invitations")
                if i["workspace_id"] == self.workspace_id
            ]
            self.call(member, "POST", f"/api/v1/invitations/{pending[0]['id']}/accept")
        room = self.call(
            alice,
            "POST",
            "/api/v1/room-chats/",
            json={"workspace_id": self.workspace_id, "name": unique("room")},
        )
        self.room_id = int(room["id"])
        self.ws_url = server.ws_url
        self.sockets = ExitStack()
        self.conns: list[ClientConnection] = []

    def start(self) -> None:
        for account in self.users:
            url = f"{self.ws_url}?token={account.token}"
            self.conns.append(
                self.sockets.enter_context(connect(url, compression=None, open_timeout=10))
            )
        for user in range(3):  # bob and carol join: a seq each
            self.request(user, "join_room_chat", {"room_id": self.room_id})
            if user:
                self.model.room_seq += 1

    def close(self) -> None:
        self.sockets.close()

    # I/O ------------------------------------------------------------------------------

    def call(self, account: Account, method: str, path: str, **kw: Any) -> Any:
        response = self.http.request(method, path, headers=account.headers, **kw)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()["data"]

    def request(self, user: int, action: str, payload: dict[str, Any]) -> Any:
        """Send and wait for the reply; the mentions on the way are counted."""
        conn, request_id = self.conns[user], uuid.uuid4().hex
        conn.send(json.dumps({"action": action, "payload": payload, "request_id": request_id}))
        return self._until(user, request_id)["data"]

    def _until(self, user: int, request_id: str) -> Any:
        while True:
            frame = json.loads(self.conns[user].recv(timeout=REPLY_TIMEOUT_S))
            if frame.get("action") == "room_chat_mention":
                self.signals[(frame["data"]["message"]["id"], user)] += 1
            if frame.get("request_id") == request_id:
                self.expect(frame["status"] == "success", f"{NAMES[user]}: {frame}")
                return frame

    def drain(self) -> None:
        """Every signal sent so far has reached its socket (a ping's pong comes after)."""
        for user in range(3):
            request_id = uuid.uuid4().hex
            self.conns[user].send(json.dumps({"action": "ping", "request_id": request_id}))
            self._until(user, request_id)

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            trace = "\n  ".join(self.trace)
            raise AssertionError(f"{what}\nsteps so far:\n  {trace}\nmodel: {self.model}")

    def text(self, named: set[int]) -> str:
        self.edits += 1
        names = " ".join("@" + str(self.users[u].user["username"]) for u in sorted(named))
        return f"n{self.edits} {names}".strip()

    # Steps ----------------------------------------------------------------------------

    def run(self, step: Step) -> None:
        user, model = step.user, self.model
        named = named_by(step.pick, user)
        mine = [m for m in model.messages if m.author == user and not m.deleted]
        if step.kind == "send" or (step.kind == "reply" and model.root() is None):
            sent = self.request(user, "send_room_chat_message", self._message(named))
            model.room_seq += 1
            self.expect(sent["seq"] == model.room_seq, f"send seq {sent['seq']}")
            model.messages.append(Message(int(sent["id"]), sent["seq"], user, named, False))
            model.room_read[user] = max(model.room_read[user], sent["seq"])
            self._announced(int(sent["id"]), named)
            self.trace.append(f"{NAMES[user]} sends {sent['id']} naming {sorted(named)}")
        elif step.kind == "reply":
            root = model.root()
            assert root is not None
            if root.deleted:  # a deleted root takes no reply (not_found): nothing to model
                self.trace.append(f"{NAMES[user]}: the thread's root is deleted (skipped)")
                return
            payload = {**self._message(named), "thread_root_id": root.id}
            sent = self.request(user, "send_room_chat_message", payload)
            model.room_seq += 2
            self.expect(sent["seq"] == model.room_seq - 1, f"reply seq {sent['seq']}")
            model.messages.append(Message(int(sent["id"]), sent["seq"], user, named, True))
            model.thread_read[user] = max(model.thread_read[user], sent["seq"])
            self._announced(int(sent["id"]), named)
            self.trace.append(f"{NAMES[user]} replies {sent['id']} naming {sorted(named)}")
        elif step.kind in ("edit", "delete"):
            if not mine:
                self.trace.append(f"{NAMES[user]} has nothing to {step.kind} (skipped)")
                return
            target = mine[(step.pick >> 3) % len(mine)]
            ids = {"room_id": self.room_id, "message_id": target.id}
            if step.kind == "edit":
                changed = self.request(
                    user, "edit_room_chat_message", {**ids, "message_text": self.text(named)}
                )
                target.named = named
                self._announced(target.id, named)
            else:
                changed = self.request(user, "delete_room_chat_message", ids)
                target.deleted = True
            model.room_seq += 1
            self.expect(changed["seq"] == model.room_seq, f"{step.kind} seq {changed['seq']}")
            self.trace.append(f"{NAMES[user]} {step.kind}s {target.id} naming {sorted(named)}")
        elif step.kind == "mark_room_read":
            seq = step.pick % (model.room_seq + 6)
            reply = self.request(user, "mark_room_read", {"room_id": self.room_id, "seq": seq})
            model.room_read[user] = max(model.room_read[user], min(seq, model.room_seq))
            self.trace.append(f"{NAMES[user]} marks the room read to {seq}: {reply}")
            self.expect(
                reply["mention_count"] == model.mentions(user),
                f"mark reply {reply}, model {model.mentions(user)}",
            )
        else:
            root = model.root()
            if root is None:
                self.trace.append(f"{NAMES[user]}: no thread to read (skipped)")
                return
            seq = step.pick % (model.room_seq + 6)
            payload = {"room_id": self.room_id, "thread_root_id": root.id, "seq": seq}
            reply = self.request(user, "mark_thread_read", payload)
            model.thread_read[user] = max(model.thread_read[user], min(seq, model.room_seq))
            self.trace.append(f"{NAMES[user]} marks the thread read to {seq}: {reply}")
        self.check_everyone()

    def _message(self, named: set[int]) -> dict[str, Any]:
        return {"room_id": self.room_id, "message_text": self.text(named)}

    def _announced(self, message_id: int, named: set[int]) -> None:
        """A mention is announced the first time a message names the member."""
        for user in named:
            self.model.announced[(message_id, user)] = 1

    # Checks ---------------------------------------------------------------------------

    def check_everyone(self) -> None:
        wid = self.workspace_id
        for user in range(3):
            rows = self.call(self.users[user], "GET", f"/api/v1/room-chats/workspace/{wid}")
            summary = self.call(self.users[user], "GET", f"/api/v1/workspaces/{wid}/unread")
            row = next(r for r in rows if r["id"] == self.room_id)
            want = self.model.mentions(user)
            got = (row["mention_count"], summary["mentions"], summary["rooms"][0]["mention_count"])
            self.expect(got == (want,) * 3, f"{NAMES[user]}'s mentions {got}, model {want}")

    def check_announced(self) -> None:
        self.drain()
        self.expect(
            self.signals == self.model.announced,
            f"room_chat_mention {dict(self.signals)}, model {dict(self.model.announced)}",
        )


@pytest.fixture(scope="module")
def users(server: ServerProcess) -> list[Account]:
    return register_sync(server.base_url, *NAMES)


A, B, C = 0, 1, 2
EXPLICIT = [
    # Named, then the name taken out and put back: counted again, announced once; a
    # delete and a read each take it away.
    [
        Step("send", A, 1),
        Step("edit", A, 0),
        Step("edit", A, 1),
        Step("send", C, 3),
        Step("delete", C, 0),
        Step("mark_room_read", B, 63),
    ],
    # A mention in a reply counts until the room or the thread is read past it; a
    # reply does not read the room; the author naming themselves is nobody.
    [
        Step("send", A, 0),
        Step("reply", C, 1),
        Step("reply", B, 6),
        Step("mark_thread_read", B, 63),
        Step("reply", A, 7),
        Step("mark_room_read", B, 63),
    ],
]


@pytest.mark.timeout(RUN_TIMEOUT_S)
def test_mention_counts_follow_the_model(server: ServerProcess, users: list[Account]) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )
        @given(sequence=steps)
        def run(sequence: list[Step]) -> None:
            world = World(server, http, users)
            try:
                world.start()
                for step in sequence:
                    world.run(step)
                world.check_announced()
            finally:
                world.close()

        for sequence in reversed(EXPLICIT):
            run = example(sequence=sequence)(run)
        run()
