"""Read state against a model: Hypothesis drives three users in one room over real
sockets on a real server (SQLite and PostgreSQL, the shared ``server`` fixture), and
after every step the server's numbers must be the model's.

The steps: a user sends a message, deletes one of their own messages (one not deleted
yet), marks the room read up to a seq, or marks it unread from a seq on (seqs drawn from
0 to the room's seq + 5). Alice created the room; Bob and Carol join it (a durable
event, taking a seq) just before their first step.

The model (docs/protocol.md, "Read state"): every durable event (a message, a delete, a
member joining) takes the room's next seq; a new member starts at 0; per user,
``last_read_seq`` becomes

- mark_room_read {seq}: max(current, min(seq, room seq)), never backwards;
- mark_room_unread {seq}: max(0, min(seq - 1, room seq)), backwards on purpose;
- sending a message: max(current, the message's seq);

and ``unread_count`` is the number of messages after it, by someone else, not deleted.

Checked after every step, for every user: the reply of a mark ({room_id, last_read_seq,
unread_count}); the room's entry in the room list (``last_read_seq``, ``unread_count``,
``last_message``: the newest message not deleted; all null for a non-member); the
workspace summary ({rooms: [{room_id, unread_count}], total}); and the seqs the send,
delete and join replies carry.

Each example gets a fresh workspace, room and connections (the read limit is per
connection: a burst of 20, more than an example's steps). Bounded and reproducible:
MAX_EXAMPLES per backend, derandomised, no example database, no deadline.
"""

from __future__ import annotations

import json
import uuid
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

MAX_EXAMPLES = 80
MAX_STEPS = 16  # each user's marks stay under the read burst of a fresh connection (20)
REPLY_TIMEOUT_S = 10.0
NAMES = ("alice", "bob", "carol")  # alice (0) creates the room
KINDS = ("send", "delete", "mark_room_read", "mark_room_unread")
# Sends make everything else interesting (something to delete, to read, to count):
# drawn twice as often.
WEIGHTED_KINDS = ("send", *KINDS)


@dataclass(frozen=True)
class Step:
    """``user`` does ``kind``; ``pick`` chooses the seq of a mark (pick mod room seq + 6)
    or which of the user's live messages a delete takes (pick mod their number)."""

    kind: str
    user: int
    pick: int = 0

    def __repr__(self) -> str:
        return f"Step({self.kind!r}, {NAMES[self.user]}, {self.pick})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # Hypothesis' pretty-printer: the short form


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
    deleted: bool = False


@dataclass
class Model:
    """What the server should hold: the room's seq, its messages, each member's position."""

    room_seq: int = 0
    messages: list[Message] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=lambda: {0: 0})

    def next_seq(self) -> int:
        self.room_seq += 1
        return self.room_seq

    def unread(self, user: int) -> int:
        after = self.positions[user]
        return sum(1 for m in self.messages if m.seq > after and m.author != user and not m.deleted)

    def last_message_id(self) -> int | None:
        live = [m for m in self.messages if not m.deleted]
        return live[-1].id if live else None

    def mark_read(self, user: int, seq: int) -> None:
        self.positions[user] = max(self.positions[user], min(seq, self.room_seq))

    def mark_unread(self, user: int, seq: int) -> None:
        self.positions[user] = max(0, min(seq - 1, self.room_seq))


class Room:
    """One example's world: a fresh workspace of the three users, a room of Alice's, one
    socket per user, the model, and the steps taken so far (for the failure message)."""

    def __init__(
        self,
        server: ServerProcess,
        http: httpx.Client,
        users: list[Account],
        sequence: list[Step],
    ) -> None:
        self.sequence = sequence
        self.http = http
        self.users = users
        self.model = Model()
        self.trace: list[str] = []
        alice = users[0]
        ws = self.call(alice, "POST", "/api/v1/workspaces/", json={"name": unique("ws")})
        self.workspace_id = int(ws["id"])
        for member in users[1:]:
            self.call(
                alice,
                "POST",
                f"/api/v1/workspaces/{self.workspace_id}/members",
                json={"user_id": member.id},
            )
            pending = [
                i
                for i in self.call(member, "GET", "/api/v1/invitations")
                if i["workspace_id"] == self.workspace_id
            ]
            assert len(pending) == 1, pending
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
        """One socket per user (closed by close(), also when this fails half way)."""
        for account in self.users:
            url = f"{self.ws_url}?token={account.token}"
            self.conns.append(
                self.sockets.enter_context(connect(url, compression=None, open_timeout=10))
            )
        # Alice is a member since she created the room: joining her socket takes no seq.
        joined = self.request(0, "join_room_chat", {"room_id": self.room_id})
        self.expect(joined["seq"] == 0, f"the creator's join: seq {joined['seq']}, not 0")

    def close(self) -> None:
        self.sockets.close()

    # I/O ------------------------------------------------------------------------------

    def call(self, account: Account, method: str, path: str, **kw: Any) -> Any:
        response = self.http.request(method, path, headers=account.headers, **kw)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()["data"]

    def request(self, user: int, action: str, payload: dict[str, Any]) -> Any:
        """Send and wait for the reply (broadcasts before it are skipped); its data."""
        conn, request_id = self.conns[user], uuid.uuid4().hex
        conn.send(json.dumps({"action": action, "payload": payload, "request_id": request_id}))
        while True:
            frame = json.loads(conn.recv(timeout=REPLY_TIMEOUT_S))
            if frame.get("request_id") == request_id:
                self.expect(frame["status"] == "success", f"{NAMES[user]} {action}: {frame}")
                return frame["data"]

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            trace = "\n  ".join(self.trace)
            raise AssertionError(
                f"{what}\nsteps so far:\n  {trace}\nmodel: {self.model}\n"
                f"the example: {self.sequence!r}"
            )

    # Steps ----------------------------------------------------------------------------

    def run(self, step: Step) -> None:
        user, model = step.user, self.model
        if user not in model.positions:
            joined = self.request(user, "join_room_chat", {"room_id": self.room_id})
            model.next_seq()
            model.positions[user] = 0
            self.trace.append(f"{NAMES[user]} joins (seq {model.room_seq})")
            self.expect(
                joined["seq"] == model.room_seq,
                f"join reply seq {joined['seq']}, model {model.room_seq}",
            )
            self.check_everyone()
        if step.kind == "send":
            sent = self.request(
                user,
                "send_room_chat_message",
                {"room_id": self.room_id, "message_text": f"from {NAMES[user]}"},
            )
            seq = model.next_seq()
            self.trace.append(f"{NAMES[user]} sends message {sent['id']} (seq {sent['seq']})")
            self.expect(sent["seq"] == seq, f"send reply seq {sent['seq']}, model {seq}")
            model.messages.append(Message(int(sent["id"]), seq, user))
            model.positions[user] = max(model.positions[user], seq)
        elif step.kind == "delete":
            mine = [m for m in model.messages if m.author == user and not m.deleted]
            if not mine:
                self.trace.append(f"{NAMES[user]} has nothing to delete (skipped)")
                return
            target = mine[step.pick % len(mine)]
            deleted = self.request(
                user,
                "delete_room_chat_message",
                {"room_id": self.room_id, "message_id": target.id},
            )
            seq = model.next_seq()
            self.trace.append(
                f"{NAMES[user]} deletes message {target.id} of seq {target.seq} "
                f"(seq {deleted['seq']})"
            )
            self.expect(deleted["seq"] == seq, f"delete reply seq {deleted['seq']}, model {seq}")
            target.deleted = True
        else:
            seq = step.pick % (model.room_seq + 6)
            reply = self.request(user, step.kind, {"room_id": self.room_id, "seq": seq})
            if step.kind == "mark_room_read":
                model.mark_read(user, seq)
            else:
                model.mark_unread(user, seq)
            self.trace.append(f"{NAMES[user]} {step.kind} seq {seq} -> {reply}")
            self.expect(
                reply == self.position(user),
                f"{NAMES[user]} {step.kind} {seq}: reply {reply}, model {self.position(user)}",
            )
        self.check_everyone()

    # Checks ---------------------------------------------------------------------------

    def position(self, user: int) -> dict[str, int]:
        return {
            "room_id": self.room_id,
            "last_read_seq": self.model.positions[user],
            "unread_count": self.model.unread(user),
            # No thread or mention here (test_threads.py, test_mention_model.py have them).
            "thread_unread": 0,
            "mention_count": 0,
        }

    def check_everyone(self) -> None:
        """Every user's room list entry and workspace summary against the model."""
        model, wid = self.model, self.workspace_id
        asked = [
            (user, path)
            for user in range(len(self.users))
            for path in (f"/api/v1/room-chats/workspace/{wid}", f"/api/v1/workspaces/{wid}/unread")
        ]
        answers = [self.call(self.users[user], "GET", path) for user, path in asked]
        for user in range(len(self.users)):
            rooms, summary = answers[2 * user], answers[2 * user + 1]
            entry = next(r for r in rooms if r["id"] == self.room_id)
            last = entry["last_message"]
            got = (entry["last_read_seq"], entry["unread_count"], last and last["id"])
            if user in model.positions:
                count = model.unread(user)
                want = (model.positions[user], count, model.last_message_id())
                rooms_want = [
                    {
                        "room_id": self.room_id,
                        "unread_count": count,
                        "thread_unread": 0,
                        "mention_count": 0,
                    }
                ]
                want_summary: dict[str, Any] = {
                    "rooms": rooms_want,
                    "total": count,
                    "thread_unread": 0,
                    "mentions": 0,
                }
            else:
                want = (None, None, None)
                want_summary = {"rooms": [], "total": 0, "thread_unread": 0, "mentions": 0}
            self.expect(
                got == want,
                f"{NAMES[user]}'s room list (last_read_seq, unread_count, last_message id): "
                f"{got}, model {want}",
            )
            self.expect(
                summary == want_summary,
                f"{NAMES[user]}'s workspace unread: {summary}, model {want_summary}",
            )


@pytest.fixture(scope="module")
def users(server: ServerProcess) -> list[Account]:
    return register_sync(server.base_url, *NAMES)


A, B, C = 0, 1, 2
# Sequences every run takes first, whatever Hypothesis draws: the documented edges.
EXPLICIT = [
    # Bob joins after two messages: he starts at 0, both unread; one deleted stops counting.
    [Step("send", A), Step("send", A), Step("mark_room_read", B, 0), Step("delete", A, 1)],
    # Reading past the room's seq clamps; reading backwards does nothing; unread goes back,
    # to 0 from seq 0 or 1, and past the room's seq clamps too.
    [
        Step("send", A),
        Step("send", C),
        Step("mark_room_read", B, 63),
        Step("mark_room_read", B, 1),
        Step("mark_room_unread", B, 3),
        Step("mark_room_unread", B, 0),
        Step("mark_room_unread", B, 1),
        Step("mark_room_unread", B, 9),
    ],
    # Sending marks read up to one's own message, not backwards after marking further;
    # one's own messages and deleted ones never count, also after marking unread.
    [
        Step("send", B),
        Step("send", C),
        Step("mark_room_read", B, 5),
        Step("send", A),
        Step("send", B),
        Step("delete", C),
        Step("mark_room_unread", B, 1),
        Step("mark_room_unread", C, 1),
        Step("delete", B, 1),
        Step("mark_room_unread", A, 0),
    ],
]


def test_read_state_follows_the_model(server: ServerProcess, users: list[Account]) -> None:
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
            room = Room(server, http, users, sequence)
            try:
                room.start()
                for step in sequence:
                    room.run(step)
            finally:
                room.close()

        for sequence in reversed(EXPLICIT):
            run = example(sequence=sequence)(run)
        run()
