"""Frames checked against the AsyncAPI document (src/roomchat/contract/asyncapi.yaml).

Every frame the test helpers send or receive (tests/support/client.py, ``Ws``) passes
through a ``FrameAudit``; what breaks the document is recorded here, and an autouse
fixture of the integration and security suites (``frames_follow_the_document``) fails
the test that recorded anything. So the document cannot drift from the server.

Which schema a frame is checked against comes from the document itself, never from a
list kept here: a client frame by its ``action`` (the operations the server
``receive``s), a server frame by its ``action`` and ``status`` (the operations' replies
and the ``send`` operations), an error reply by its ``status`` alone.

A frame a test sends on purpose against the document (bad input) is not a violation
when the server refuses it: such frames are held until their reply, and only a
*success* reply to one is recorded (the server accepted what the document forbids).
Frames sent through the raw socket (``Ws.send_raw``, ``Ws.conn.send``) are not checked
at all: that path exists for frames no client would send. What the server sends back is
checked whichever way it is read.

Violations name the path and the schema's complaint, shortened: frames carry no
secrets (tokens never travel in them), but a long value would drown the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

from roomchat import jsoncodec

Frame = dict[str, Any]
DOCUMENT_PATH = "src/roomchat/contract/asyncapi.yaml"
_BASE_URI = "urn:roomchat:asyncapi"
_MESSAGE_CHARS = 160  # of one complaint: enough to read, short enough to scan
_MAX_RECORDED = 200  # violations kept per test (a broken schema breaks every frame)
_MAX_PENDING = 1000  # outgoing frames awaiting their reply, per connection


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # where in the frame: $.data.messages[3].edited_at
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class CloseCode:
    code: int
    reason: str | None  # None: any reason; "name": the reason is "name" or "name: ..."
    final: bool
    retryable: bool
    retry: str

    def matches(self, code: int, reason: str) -> bool:
        if code != self.code:
            return False
        return self.reason is None or reason == self.reason or reason.startswith(self.reason + ":")


class Contract:
    """The document's frames, indexed the way frames are told apart on the wire."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = DRAFT7.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(_BASE_URI, resource)
        self._validators: dict[str, Draft7Validator] = {}
        self.client_frames: dict[str, str] = {}  # action -> schema name
        # (action, status) -> schema names; action None: any action (the error reply)
        self.server_frames: dict[tuple[str | None, str], list[str]] = {}
        self.replies: dict[str, list[str]] = {}  # client action -> its reply schemas
        self.broadcasts: set[str] = set()  # schema names of what the server sends unasked
        for operation in document["operations"].values():
            self._index(operation)
        channel = document["channels"]["ws"]
        self.close_codes = [
            CloseCode(c["code"], c["reason"], c["final"], c["retryable"], c["retry"])
            for c in channel["x-close-codes"]
        ]

    # -- the index ---------------------------------------------------------------------

    def _index(self, operation: dict[str, Any]) -> None:
        names = [self._schema_name(ref["$ref"]) for ref in operation["messages"]]
        if operation["action"] == "send":
            self.broadcasts.update(names)
            for name in names:
                self._add_server_frame(name)
            return
        replies = [self._schema_name(r["$ref"]) for r in operation["reply"]["messages"]]
        for name in names:
            action = self.frame_action(name)
            assert action is not None, f"{name}: a client frame without an action const"
            self.client_frames[action] = name
            self.replies[action] = replies
        for name in replies:
            self._add_server_frame(name)

    def _add_server_frame(self, name: str) -> None:
        key = (self.frame_action(name), self.frame_status(name))
        if name not in self.server_frames.setdefault(key, []):
            self.server_frames[key].append(name)

    def resolve(self, ref: str) -> Any:
        """What a local ``$ref`` points at, following references to references."""
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if isinstance(node, dict) and set(node) == {"$ref"}:
            return self.resolve(node["$ref"])
        return node

    def _schema_name(self, message_ref: str) -> str:
        payload_ref: str = self.resolve(message_ref)["payload"]["$ref"]
        return payload_ref.rsplit("/", 1)[1]

    def schema(self, name: str) -> dict[str, Any]:
        return dict(self.document["components"]["schemas"][name])

    def frame_action(self, name: str) -> str | None:
        """The action a frame schema fixes (None: any action, as for an error reply)."""
        action = self.schema(name)["properties"]["action"].get("const")
        return None if action is None else str(action)

    def frame_status(self, name: str) -> str:
        return str(self.schema(name)["properties"]["status"]["const"])

    # -- checks ------------------------------------------------------------------------

    def validator(self, name: str) -> Draft7Validator:
        if name not in self._validators:
            self.document["components"]["schemas"][name]  # KeyError for a name not there
            ref = {"$ref": f"{_BASE_URI}#/components/schemas/{name}"}
            self._validators[name] = Draft7Validator(ref, registry=self._registry)
        return self._validators[name]

    def check(self, name: str, instance: Any) -> list[Violation]:
        """``instance`` against the named schema of components.schemas."""
        found: list[Violation] = []
        for error in self.validator(name).iter_errors(instance):
            found.extend(_leaves(error))
        return found

    def check_outgoing(self, frame: Any) -> list[Violation]:
        """A frame a client sends."""
        if not isinstance(frame, dict):
            return [Violation("$", "a frame is a JSON object")]
        name = self.client_frames.get(frame.get("action"))  # type: ignore[arg-type]
        if name is None:
            return [Violation("$.action", _short(f"{frame.get('action')!r} is no action"))]
        return self.check(name, frame)

    def check_incoming(self, frame: Any) -> list[Violation]:
        """A frame the server sends: a reply, an error reply or a broadcast."""
        if not isinstance(frame, dict):
            return [Violation("$", "a frame is a JSON object")]
        action, status = frame.get("action"), frame.get("status")
        if not isinstance(action, str) or not isinstance(status, str):
            return [Violation("$", "a server frame has a string action and status")]
        candidates = self.server_frames.get((action, status), []) + self.server_frames.get(
            (None, status), []
        )
        if not candidates:
            return [Violation("$.action", _short(f"no {status} frame {action!r} in the document"))]
        has_request_id = "request_id" in frame
        outcomes = []
        for name in candidates:
            found = self.check(name, frame)
            if not found:
                return []
            # The reply and the broadcast of one action (typing_indicator) are told apart
            # by request_id: on a tie, report against the one the frame looks like.
            looks_like = (name in self.broadcasts) != has_request_id
            outcomes.append((len(found), not looks_like, found))
        return min(outcomes, key=lambda o: (o[0], o[1]))[2]

    def check_close(self, code: int, reason: str) -> list[Violation]:
        if any(c.matches(code, reason) for c in self.close_codes):
            return []
        return [Violation("close", _short(f"close code {code} ({reason!r}) is not documented"))]

    def is_broadcast_action(self, action: str) -> bool:
        return any(self.frame_action(name) == action for name in self.broadcasts)


def _leaves(error: ValidationError) -> Iterator[Violation]:
    """The errors worth reporting: inside a oneOf/anyOf, those of the branch the value
    was meant for (its type fits, then its consts and required keys, then the fewest
    errors) instead of "not valid under any of the given schemas"."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)

        def fit(errors: list[ValidationError]) -> tuple[int, int, int]:
            """Wrong type at the root, then a missing key or a const that differs."""
            wrong_type = sum(1 for e in errors if e.validator == "type" and not e.relative_path)
            misses = sum(
                1
                for e in errors
                if e.validator == "const" or (e.validator == "required" and not e.relative_path)
            )
            return wrong_type, misses, len(errors)

        for sub in min(branches.values(), key=fit):
            yield from _leaves(sub)
        return
    if error.validator == "not":
        message = f"must not match {jsoncodec.dumps(error.validator_value).decode()}"
    elif error.validator == "oneOf":
        message = "matches more than one of its oneOf schemas"
    else:
        message = error.message
    yield Violation(_path(error), _short(message))


def _path(error: ValidationError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _short(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


@cache
def contract() -> Contract:
    """The document, loaded once per test process (from the package, as it is served)."""
    text = files("roomchat.contract").joinpath("asyncapi.yaml").read_text(encoding="utf-8")
    return Contract(yaml.safe_load(text))


def check_outgoing(frame: Any) -> list[Violation]:
    return contract().check_outgoing(frame)


def check_incoming(frame: Any) -> list[Violation]:
    return contract().check_incoming(frame)


def check_close(code: int, reason: str) -> list[Violation]:
    return contract().check_close(code, reason)


# -- what the suites record ------------------------------------------------------------

_recorded: list[str] = []


def record(violation: str) -> None:
    if len(_recorded) < _MAX_RECORDED:
        _recorded.append(violation)


def take_violations() -> list[str]:
    """Everything recorded since the last call (and forget it)."""
    taken = list(_recorded)
    _recorded.clear()
    return taken


@pytest.fixture(autouse=True)
def frames_follow_the_document() -> Iterator[None]:
    """Fails the test if a frame it sent or received broke the AsyncAPI document.

    Its teardown runs after the test's own fixtures' (an autouse fixture is set up
    first), so frames read while they close their sockets count too."""
    yield
    broken = take_violations()
    assert not broken, f"{len(broken)} frame violation(s) of {DOCUMENT_PATH}:\n" + "\n".join(
        broken[:30]
    )


@dataclass
class _Pending:
    action: str
    violations: list[Violation]


@dataclass
class FrameAudit:
    """One connection's frames, checked as they pass (see the module's docstring)."""

    label: str = "ws"
    report: Callable[[str], None] = record
    _by_request_id: dict[tuple[str, Any], _Pending] = field(default_factory=dict)
    _without_id: list[_Pending] = field(default_factory=list)
    _close_checked: bool = False

    def sent(self, frame: Frame) -> None:
        """A frame sent through the client path (not the raw socket)."""
        # What the server gets: the frame as encoded (tuples become arrays, and so on).
        wire = jsoncodec.loads(jsoncodec.dumps(frame))
        violations = check_outgoing(wire)
        if not violations:
            return
        pending = _Pending(str(wire.get("action")), violations)
        request_id = wire.get("request_id")
        if request_id is None:
            self._without_id.append(pending)
            del self._without_id[:-_MAX_PENDING]
        elif len(self._by_request_id) < _MAX_PENDING:
            self._by_request_id[_key(request_id)] = pending

    def received(self, frame: Frame) -> None:
        for violation in check_incoming(frame):
            self.report(f"{self.label} received {_what(frame)}: {violation}")
        self._settle(frame)

    def received_raw(self, raw: str | bytes) -> None:
        try:
            frame = jsoncodec.loads(raw)
        except jsoncodec.JSONDecodeError:
            self.report(f"{self.label} received a frame that is not JSON")
            return
        self.received(frame)

    def closed(self, code: int | None, reason: str) -> None:
        """The server's close frame (None: the connection dropped without one)."""
        if code is None or self._close_checked:
            return
        self._close_checked = True  # every later read raises the same close again
        for violation in check_close(code, reason):
            self.report(f"{self.label} {violation}")

    def _settle(self, frame: Frame) -> None:
        """A reply settles the outgoing frame it answers: refused is what a frame the
        document forbids should be; accepted, the document and the server disagree."""
        request_id = frame.get("request_id")
        if request_id is not None:
            pending = self._by_request_id.pop(_key(request_id), None)
        else:
            pending = self._answered_without_id(frame)
        if pending is not None and frame.get("status") == "success":
            for violation in pending.violations:
                self.report(
                    f"{self.label} sent {pending.action} that the document forbids, and the "
                    f"server accepted it: {violation}"
                )

    def _answered_without_id(self, frame: Frame) -> _Pending | None:
        action, status = frame.get("action"), frame.get("status")
        if status == "success" and contract().is_broadcast_action(str(action)):
            return None  # a broadcast, not a reply (typing_indicator is both)
        for index, pending in enumerate(self._without_id):
            if action == pending.action or (status == "error" and action == "error"):
                return self._without_id.pop(index)
        return None


def _key(request_id: Any) -> tuple[str, Any]:
    return (type(request_id).__name__, request_id)


def _what(frame: Frame) -> str:
    return f"{frame.get('action')}/{frame.get('status')}"
