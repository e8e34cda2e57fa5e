"""Issue 22, finding 2: the OpenAPI document is the REST contract, exactly.

A real server (SQLite and PostgreSQL) walks the guide's whole REST workflow through a
client that checks every response against the document the same server serves: the
status must be one the route lists, and the body must validate against that status's
schema (jsonschema, Draft 2020-12, as OpenAPI 3.1 says). Every operation is called at
least once with its success status, so a route whose schema is missing, stale or
loose fails here. Besides: each route lists its own errors (``/healthz`` none), the
error body's ``code`` is the catalogue, ids past 2^53-1 are a ``validation_error``, a
wrong method is ``method_not_allowed``, ``/docs`` works with no network, the AsyncAPI
document is served, and the committed snapshot (src/roomchat/contract/openapi.json) is
what the server says.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from roomchat.contract.openapi_export import SNAPSHOT, document, encoded
from roomchat.errors import Code
from tests.support.client import Account, Ws, unique
from tests.support.receiver import receiving
from tests.support.server import ServerProcess, module_server

pytestmark = pytest.mark.integration

MAX_SAFE = 2**53 - 1
# A 1x1 PNG: a profile picture.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
REST_SENDS_PER_MINUTE = 12
SETTINGS = {
    # Webhooks to a receiver on this machine, attempted at once.
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_poll_interval_s": "0.2",
    "webhook_backoff_initial_s": "0.2",
    "webhook_backoff_max_s": "0.5",
    # Low enough for one user to reach it (the 429 test); the workflow sends fewer.
    "rest_send_limit": f"{REST_SENDS_PER_MINUTE}/minute",
}


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(backend, tmp_path_factory, "openapi", **SETTINGS) as process:
        yield process


class Contract:
    """The server's OpenAPI document, and the check of one response against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        # Literal templates before parameterised ones: /join before /{room_id}.
        templates = sorted(doc["paths"], key=lambda t: (t.count("{"), t))
        self.routes = [(re.compile(_pattern(t)), t) for t in templates]
        self.seen: set[tuple[str, str, int]] = set()  # (method, template, status)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template in self.routes:
            operation = self.doc["paths"][template].get(method.lower())
            if operation is not None and pattern.fullmatch(path):
                return template, operation
        return None

    def check(self, response: httpx.Response) -> None:
        method, path = response.request.method, response.request.url.path
        found = self.operation(method, path)
        if found is None:
            return  # not an operation of the document (/openapi.json, /docs, a 405...)
        template, operation = found
        status = response.status_code
        where = f"{method} {template} answered {status}"
        listed = operation["responses"].get(str(status))
        assert listed is not None, f"{where}, which it does not list: {response.text[:500]}"
        media = listed.get("content", {}).get("application/json")
        assert media is not None, f"{where} with no JSON schema in the document"
        schema = {**media["schema"], "components": self.doc["components"]}
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        problems = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(response.json())
        ]
        assert not problems, f"{where}, not as its schema says: {problems}"
        self.seen.add((method, template, status))

    def operations(self) -> set[tuple[str, str]]:
        return {(m.upper(), t) for t, ops in self.doc["paths"].items() for m in ops}

    def success_seen(self) -> set[tuple[str, str]]:
        return {(m, t) for m, t, status in self.seen if status < 300}


def _pattern(template: str) -> str:
    return re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))


@pytest.fixture(scope="module")
def contract(server: ServerProcess) -> Contract:
    return Contract(httpx.get(f"{server.base_url}/openapi.json", timeout=30).json())


@pytest.fixture
async def http(server: ServerProcess, contract: Contract) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every response is checked against the document."""

    async def checked(response: httpx.Response) -> None:
        await response.aread()
        contract.check(response)

    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=30, event_hooks={"response": [checked]}
    ) as client:
        yield client


class Caller:
    """REST calls that expect a status, through the checked client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self, method: str, path: str, who: Account | str | None, expect: int = 200, **kw: Any
    ) -> Any:
        headers = kw.pop("headers", {})
        if who is not None:
            token = who if isinstance(who, str) else who.token
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.request(method, path, headers=headers, **kw)
        assert response.status_code == expect, f"{method} {path}: {response.text[:500]}"
        body = response.json()
        return body.get("data", body) if expect < 400 else body["error"]

    async def register(self, name: str) -> Account:
        body = {"username": unique(name), "password": "password-123", "display_name": name}
        data = await self("POST", "/api/v1/auth/register", None, 201, json=body)
        return Account(data["user"], data["access_token"])


async def test_every_route_answers_what_its_schema_says(
    server: ServerProcess, contract: Contract, http: httpx.AsyncClient
) -> None:
    call = Caller(http)
    await call("GET", "/healthz", None)
    await call("GET", "/readyz", None)

    # Accounts, sessions, the profile.
    alice, bob, carol = [await call.register(n) for n in ("alice", "bob", "carol")]
    login = {"username": bob.user["username"], "password": "password-123"}
    second = await call("POST", "/api/v1/auth/login", None, json=login)
    refreshed = await call("POST", "/api/v1/auth/refresh", second["access_token"])
    await call("POST", "/api/v1/auth/ws-ticket", alice)
    await call("GET", "/api/v1/users/me", alice)
    await call("PATCH", "/api/v1/users/me", alice, json={"share_read_receipts": True})
    await call("PATCH", "/api/v1/users/me", alice, json={"display_name": "Alice A."})
    await call("PUT", "/api/v1/users/me/avatar", alice, content=PIXEL_PNG)

    # A workspace, its members by invitation.
    ws = await call("POST", "/api/v1/workspaces/", alice, 201, json={"name": unique("ws")})
    wid = ws["id"]
    await call("GET", "/api/v1/workspaces/", alice)
    for invitee in (bob, carol):
        body = {"user_id": invitee.id}
        await call("POST", f"/api/v1/workspaces/{wid}/members", alice, 202, json=body)
    [bobs] = await call("GET", "/api/v1/invitations", bob)
    await call("POST", f"/api/v1/invitations/{bobs['id']}/accept", bob)
    [carols] = await call("GET", "/api/v1/invitations", carol)
    await call("POST", f"/api/v1/invitations/{carols['id']}/decline", carol)
    await call("GET", f"/api/v1/workspaces/{wid}/members", alice)
    # Running it: a role, a rename, a pending invitation listed and cancelled, a removal.
    await call("PATCH", f"/api/v1/workspaces/{wid}/members/{bob.id}", alice, json={"role": "admin"})
    await call("PATCH", f"/api/v1/workspaces/{wid}", alice, json={"name": unique("renamed")})
    await call("POST", f"/api/v1/workspaces/{wid}/members", alice, 202, json={"user_id": carol.id})
    [pending] = await call("GET", f"/api/v1/workspaces/{wid}/invitations", bob)
    await call("DELETE", f"/api/v1/invitations/{pending['id']}", bob)
    dave = await call.register("dave")
    await call("POST", f"/api/v1/workspaces/{wid}/members", alice, 202, json={"user_id": dave.id})
    [daves] = await call("GET", "/api/v1/invitations", dave)
    await call("POST", f"/api/v1/invitations/{daves['id']}/accept", dave)
    await call("DELETE", f"/api/v1/workspaces/{wid}/members/{dave.id}", bob)

    # Rooms: made, listed page by page, looked at, joined both ways, changed.
    made = {"workspace_id": wid, "name": unique("room")}
    room = await call("POST", "/api/v1/room-chats/", alice, 201, json=made)
    locked_body = {"workspace_id": wid, "name": unique("locked"), "passcode": "4321"}
    locked = await call("POST", "/api/v1/room-chats/", alice, 201, json=locked_body)
    rid = room["id"]
    listed = await http.get(
        f"/api/v1/room-chats/workspace/{wid}", params={"limit": 1}, headers=_auth(bob)
    )
    assert listed.status_code == 200 and "next" in listed.links
    await call("GET", f"/api/v1/room-chats/{rid}", bob)  # not a member yet: no link
    await call("POST", f"/api/v1/room-chats/join/{room['link_token']}", bob)
    joined = await call(
        "POST",
        "/api/v1/room-chats/join",
        bob,
        json={"link_join": locked["link_join"], "passcode": "4321"},
    )
    assert joined["id"] == locked["id"] and joined["link_token"] == locked["link_token"]
    await call("PATCH", f"/api/v1/room-chats/{rid}", alice, json={"name": unique("renamed")})
    await call("POST", f"/api/v1/room-chats/{rid}/link/rotate", alice)

    # Room members.
    await call("GET", f"/api/v1/room-users/room/{rid}", alice)
    await call("DELETE", f"/api/v1/room-users/room/{rid}/users/{bob.id}", alice)
    await call("POST", f"/api/v1/room-users/room/{rid}", alice, 201, json={"user_id": bob.id})
    await call("POST", f"/api/v1/room-users/room/{rid}", alice, 200, json={"user_id": bob.id})

    # Messages: text, content as a string and as an object, a repeated client_msg_id.
    path = f"/api/v1/room-chats/{rid}/messages"
    first = await call("POST", path, alice, 201, json={"message_text": "hello"})
    rich = {"message_text": "see", "message_content": {"kind": "link", "n": [1, {"a": None}]}}
    sent = await call("POST", path, alice, 201, json=rich)
    assert sent["message_content"] == rich["message_content"]
    # A file (issue 24): uploaded (multipart), sent, looked up, listed.
    upload_path = f"/api/v1/room-chats/{rid}/attachments"
    upload = await call("POST", upload_path, bob, 201, files={"file": ("a.txt", b"notes")})
    with_file = {"message_text": "", "attachment_ids": [upload["id"]]}
    assert (await call("POST", path, bob, 201, json=with_file))["attachments"][0]["id"] == (
        upload["id"]
    )
    await call("GET", f"/api/v1/attachments/{upload['id']}", alice)
    assert (await call("GET", upload_path, alice))["attachments"][0]["id"] == upload["id"]
    empty = await call("POST", path, bob, 201, json={"message_text": "x", "message_content": ""})
    assert empty["message_content"] == ""
    retry = {"message_text": "once", "client_msg_id": unique("c")}
    once = await call("POST", path, bob, 201, json=retry)
    assert (await call("POST", path, bob, 200, json=retry))["id"] == once["id"]
    # A thread: a reply over REST, its page, the threads alice follows (she wrote the root).
    answer = {"message_text": "a reply", "thread_root_id": sent["id"]}
    assert (await call("POST", path, bob, 201, json=answer))["thread_root_id"] == sent["id"]
    thread = await call("GET", f"/api/v1/room-chats/{rid}/threads/{sent['id']}", alice)
    assert thread["messages"][0]["thread"]["reply_count"] == 1
    followed = await call("GET", f"/api/v1/workspaces/{wid}/threads", alice)
    assert followed["threads"][0]["unread_replies"] == 1
    await call("GET", f"/api/v1/workspaces/{wid}/unread", alice)

    # Changes over the WebSocket, so that the event log holds every kind of event.
    socket = await Ws.connect(server.ws_url, alice)
    try:
        await socket.join(rid)
        ids = {"room_id": rid, "message_id": first["id"]}
        for action, extra in (
            ("edit_room_chat_message", {"message_text": "hello!", "message_content": {"v": 2}}),
            ("add_room_chat_reaction", {"reaction": "👍"}),
            ("remove_room_chat_reaction", {"reaction": "👍"}),
            ("delete_room_chat_message", {}),
        ):
            reply = await socket.request(action, {**ids, **extra})
            assert reply["status"] == "success", reply
        await socket.request("mark_room_read", {"room_id": rid, "seq": once["seq"]})
    finally:
        await socket.close()
    page = await call("GET", path, bob, params={"after_seq": 0, "limit": 100})
    assert page["messages"][0]["id"] == first["id"]
    await call("GET", f"/api/v1/room-chats/{rid}/messages/{sent['id']}/readers", alice)
    events = await call("GET", f"/api/v1/room-chats/{rid}/events", bob, params={"limit": 100})
    kinds = {e["action"] for e in events["events"]}
    assert len(kinds) >= 8, kinds  # all but room_chat_deleted, which ends the log
    await call("GET", f"/api/v1/workspaces/{wid}/unread", bob)
    await call("GET", f"/api/v1/room-chats/workspace/{wid}", alice)  # with last_message

    # A direct conversation: made, then the same one again; listed by kind.
    direct = {"workspace_id": wid, "user_ids": [bob.id]}
    dm = await call("POST", "/api/v1/direct-chats/", alice, 201, json=direct)
    assert (
        await call(
            "POST", "/api/v1/direct-chats/", bob, 200, json={**direct, "user_ids": [alice.id]}
        )
    )["id"] == dm["id"]
    await call("GET", f"/api/v1/room-chats/workspace/{wid}", alice, params={"kind": "direct"})
    await call("GET", f"/api/v1/room-chats/{dm['id']}", bob)

    # API keys, and the bot they act as.
    keys = f"/api/v1/workspaces/{wid}/api-keys"
    issued = await call("POST", keys, alice, 201, json={"name": "Deploy notifier"})
    await call("GET", "/api/v1/users/me", issued["key"])
    await call("POST", path, issued["key"], 403, json={"message_text": "not a member"})
    await call("GET", keys, alice)
    await call("DELETE", f"{keys}/{issued['id']}", alice)

    # Webhooks, with a delivery attempt to list.
    hooks = f"/api/v1/workspaces/{wid}/webhooks"
    async with receiving() as receiver:
        body = {"url": receiver.url(), "events": ["new_room_chat_message"]}
        hook = await call("POST", hooks, alice, 201, json=body)
        one = f"{hooks}/{hook['id']}"
        await call("GET", hooks, alice)
        await call("GET", one, alice)
        await call("PATCH", one, alice, json={"enabled": True})
        await call("POST", f"{one}/secret/rotate", alice)
        await call("POST", path, alice, 201, json={"message_text": "to the hook"})
        await receiver.wait_for(lambda r: bool(r.accepted))
        attempts: list[Any] = []
        async with asyncio.timeout(20):  # recorded once the answer came: read until it is
            while not attempts:
                attempts = await call("GET", f"{one}/deliveries", alice)
        await call("DELETE", one, alice)

    # Handing on the workspace, leaving it, deleting a room, logging out.
    await call("POST", f"/api/v1/workspaces/{wid}/owner", alice, json={"user_id": bob.id})
    await call("DELETE", f"/api/v1/workspaces/{wid}/members/me", alice)
    await call("DELETE", f"/api/v1/room-chats/{locked['id']}", bob)
    await call("POST", "/api/v1/auth/logout", refreshed["access_token"], json={"all": False})

    missing = contract.operations() - contract.success_seen()
    assert not missing, f"operations never answered with success here: {sorted(missing)}"


def _auth(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def test_errors_are_those_each_route_lists(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """Each error below is checked by the client: listed by its route, in the envelope."""
    call = Caller(http)
    alice, outsider = await call.register("alice"), await call.register("outsider")
    ws = await call("POST", "/api/v1/workspaces/", alice, 201, json={"name": unique("ws")})
    body = {"workspace_id": ws["id"], "name": unique("room")}
    room = await call("POST", "/api/v1/room-chats/", alice, 201, json=body)
    assert (await call("GET", "/api/v1/users/me", None, 401))["code"] == "unauthorized"
    assert (await call("GET", f"/api/v1/room-chats/{room['id']}", outsider, 403))["code"] == (
        "forbidden"
    )
    assert (await call("GET", f"/api/v1/room-chats/{MAX_SAFE}", alice, 404))["code"] == (
        "not_found"
    )
    taken = {"username": alice.user["username"], "password": "password-123"}
    assert (await call("POST", "/api/v1/auth/register", None, 409, json=taken))["code"] == (
        "conflict"
    )
    as_json = {"Content-Type": "application/json"}
    bad = await call("POST", "/api/v1/workspaces/", alice, 400, content=b"{no", headers=as_json)
    assert bad["code"] == "bad_request"
    huge = await call("POST", "/api/v1/auth/login", None, 413, content=b"x" * (2 * 1024 * 1024))
    assert huge["code"] == "payload_too_large"
    wrong = await call("POST", "/api/v1/workspaces/", alice, 422, json={"name": 5})
    assert wrong["code"] == "validation_error" and wrong["details"]
    path = f"/api/v1/room-chats/{room['id']}/messages"
    for content in ([1], 2, True):  # a string, an object or null: nothing else
        body = {"message_text": "x", "message_content": content}
        assert (await call("POST", path, alice, 422, json=body))["code"] == "validation_error"

    # Every limit's error says when to try again: retry_after_ms, and Retry-After.
    for n in range(REST_SENDS_PER_MINUTE):
        await call("POST", path, alice, 201, json={"message_text": f"m{n}"})
    limited = await http.post(path, json={"message_text": "one more"}, headers=_auth(alice))
    assert limited.status_code == 429, limited.text
    error = limited.json()["error"]
    assert error["code"] == "rate_limited" and 0 < error["retry_after_ms"] <= 60_000
    assert int(limited.headers["Retry-After"]) == -(-error["retry_after_ms"] // 1000)


async def test_each_route_lists_only_its_own_errors(contract: Contract) -> None:
    paths = contract.doc["paths"]
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert set(paths["/api/v1/users/me"]["get"]["responses"]) == {"200", "401", "429", "503"}
    assert set(paths["/api/v1/auth/login"]["post"]["responses"]) == {
        "200", "400", "401", "413", "422", "429", "503"
    }  # fmt: skip
    assert "409" not in paths["/api/v1/room-chats/{room_id}"]["get"]["responses"]
    join = paths["/api/v1/room-chats/join"]["post"]["responses"]
    assert {"403", "404", "422", "429"} <= set(join)
    lists = {tuple(sorted(op["responses"])) for ops in paths.values() for op in ops.values()}
    assert len(lists) >= 8, lists  # not one list everywhere
    schemas = contract.doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 shape is never answered
    error = schemas["ErrorBody"]["properties"]
    assert error["code"]["$ref"] == "#/components/schemas/Code"
    assert schemas["Code"]["enum"] == [c.value for c in Code]
    assert {"details", "retry_after_ms"} <= set(error)
    for ops in paths.values():
        for op in ops.values():
            success = [s for s in op["responses"] if s.startswith("2")]
            for status in success:
                assert op["responses"][status]["content"]["application/json"]["schema"]


async def test_ids_past_javascripts_safe_integers_are_a_validation_error(
    contract: Contract, http: httpx.AsyncClient
) -> None:
    call = Caller(http)
    alice = await call.register("alice")
    ws = await call("POST", "/api/v1/workspaces/", alice, 201, json={"name": unique("ws")})
    too_big = MAX_SAFE + 1
    for method, path, kw in (
        ("GET", f"/api/v1/room-chats/{too_big}", {}),
        ("GET", f"/api/v1/workspaces/{ws['id']}/webhooks/{too_big}", {}),
        ("POST", "/api/v1/room-chats/", {"json": {"workspace_id": too_big, "name": "x"}}),
        ("POST", f"/api/v1/workspaces/{ws['id']}/owner", {"json": {"user_id": too_big}}),
        ("GET", f"/api/v1/room-chats/{MAX_SAFE}/events", {"params": {"after_seq": too_big}}),
    ):
        refused = await call(method, path, alice, 422, **kw)
        assert refused["code"] == "validation_error", (method, path)
    # The largest one is an id like any other: it names nothing here.
    await call("GET", f"/api/v1/room-chats/{MAX_SAFE}", alice, 404)

    for template, ops in contract.doc["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["name"].endswith("_id"):
                    schema = param["schema"]
                    assert schema["type"] == "integer", (method, template, param)
                    assert (schema["minimum"], schema["maximum"]) == (1, MAX_SAFE)
    create_room = contract.doc["components"]["schemas"]["CreateRoom"]["properties"]
    assert create_room["workspace_id"]["maximum"] == MAX_SAFE


async def test_a_wrong_method_is_method_not_allowed(http: httpx.AsyncClient) -> None:
    for method, path, allowed in (
        ("PUT", "/api/v1/users/me", {"GET", "PATCH"}),
        ("GET", "/api/v1/auth/login", {"POST"}),
        ("DELETE", "/healthz", {"GET"}),
    ):
        response = await http.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}
    unknown = await http.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


async def test_docs_work_offline(http: httpx.AsyncClient) -> None:
    page = await http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"(https?:)?//", html), "an external URL in /docs"
    assert "<script>" not in html.replace(" ", "")  # no inline script: the CSP forbids it
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', html) if a != "data:,"]
    assert len(assets) == 3, assets
    for asset in assets:
        response = await http.get(f"/{asset}")
        assert response.status_code == 200, asset
        kind = "css" if asset.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], (asset, response.headers)
    init = (await http.get("/docs/assets/roomchat-docs.js")).text
    assert "openapi.json" in init and not re.search(r"https?://", init)


async def test_the_asyncapi_document_is_served(http: httpx.AsyncClient) -> None:
    response = await http.get("/asyncapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    packaged = (resources.files("roomchat.contract") / "asyncapi.yaml").read_bytes()
    assert response.content == packaged
    assert str(yaml.safe_load(response.content)["asyncapi"]).startswith("3.")


async def test_the_snapshot_is_what_the_server_says(http: httpx.AsyncClient) -> None:
    served = (await http.get("/openapi.json")).json()
    assert encoded(served) == SNAPSHOT.read_text(encoding="utf-8"), (
        "src/roomchat/contract/openapi.json is stale: "
        "run python -m roomchat.contract.openapi_export"
    )


def test_the_snapshot_is_current() -> None:
    """Without a server: what create_app() says, byte for byte (the SDK's types are
    generated from the snapshot)."""
    assert encoded(document()) == SNAPSHOT.read_text(encoding="utf-8"), (
        "src/roomchat/contract/openapi.json is stale: "
        "run python -m roomchat.contract.openapi_export"
    )


def test_the_package_ships_the_documents() -> None:
    contract = resources.files("roomchat.contract")
    assert (contract / "openapi.json").is_file() and (contract / "asyncapi.yaml").is_file()
