"""Findings 9, 10 (REST side) and 6 (login side): ids, NUL, forged claims, look-alike names.

Any id below -2^63 or from 2^63 on gave a 500 with a traceback, a NUL in a username
gave a 500 on PostgreSQL, and a token's ``sub`` was read with int(). Now every id is
1..2^53-1, what a JavaScript number holds exactly (issue 22; 422 validation_error
otherwise, strict: "1", 1.0 and true are not ids),
NUL never reaches the database, a token must carry iss, aud, jti and a plain ASCII
decimal sub (401 otherwise), and usernames are NFKC-normalised on login as on
registration, with look-alikes and hidden characters refused.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest
import websockets

from tests.support.client import Api, login, unique
from tests.support.server import ServerProcess

MAX_ID = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER (issue 22)
BAD_PATH_IDS = [
    "0",
    "-1",
    str(-(2**63) - 1),
    str(2**53),
    str(2**63),
    "9" * 40,
    "1.0",
    " 1",
    "+1",
    "1_0",
    "01",
    "١",  # Arabic-Indic one
]


def id_paths(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation with an integer path parameter."""
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params):
                found.append((method.upper(), path))
    return found


async def test_every_out_of_range_path_id_is_a_422(api: Api) -> None:
    alice = await api.register("alice")
    openapi = (await api.http.get("/openapi.json")).json()
    routes = id_paths(openapi)
    assert len(routes) >= 4, routes
    for method, path in routes:
        for bad in BAD_PATH_IDS:
            concrete = _fill(path, bad)
            response = await api.http.request(method, concrete, headers=alice.headers, json={})
            assert response.status_code == 422, f"{method} {concrete}: {response.text}"
            assert response.json()["error"]["code"] == "validation_error"


def _fill(path: str, value: str) -> str:
    out, rest = "", path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out += head + (value if name.endswith("id") else "x")
    return out + rest


async def test_the_openapi_schema_states_the_id_range(api: Api) -> None:
    openapi = (await api.http.get("/openapi.json")).json()
    for method, path in id_paths(openapi):
        for param in openapi["paths"][path][method.lower()]["parameters"]:
            if param["in"] == "path" and param["schema"].get("type") == "integer":
                assert param["schema"]["minimum"] == 1, (method, path)
                assert param["schema"]["maximum"] == MAX_ID, (method, path)


@pytest.mark.parametrize(
    "workspace_id", ["1", 1.0, True, 0, -1, -(2**63) - 1, 2**53, 2**63, 10**30, None]
)
async def test_body_ids_are_strict_and_bounded(api: Api, workspace_id: Any) -> None:
    alice = await api.register("alice")
    response = await api.http.post(
        "/api/v1/room-chats/",
        json={"workspace_id": workspace_id, "name": "x"},
        headers=alice.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def forge(server: ServerProcess, **overrides: Any) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "iss": "roomchat",
        "aud": "roomchat",
        "sub": "1",
        "iat": now,
        "exp": int(now) + 3600,
        "jti": "forged-jti-0001",
        "sid": "forged-session-0001",
        "auth_time": now,
    }
    for key, value in overrides.items():
        if value is None:
            claims.pop(key)
        else:
            claims[key] = value
    return jwt.encode(claims, server.env["ROOMCHAT_JWT_SECRET"], algorithm="HS256")


FORGERIES: dict[str, dict[str, Any]] = {
    "sub-spaces": {"sub": " {id} "},
    "sub-arabic-indic": {"sub": "{arabic}"},
    "sub-leading-zero": {"sub": "0{id}"},
    "sub-plus": {"sub": "+{id}"},
    "sub-2^63": {"sub": str(2**63)},
    "sub-huge": {"sub": "9" * 40},
    "sub-negative": {"sub": "-1"},
    "sub-zero": {"sub": "0"},
    "sub-int": {"sub": 1},
    "sub-newline": {"sub": "{id}\n"},
    "no-iss": {"iss": None},
    "no-aud": {"aud": None},
    "wrong-iss": {"iss": "someone-else"},
    "wrong-aud": {"aud": "another-service"},
    "no-jti": {"jti": None},
    "jti-not-a-string": {"jti": 7},
    "no-iat": {"iat": None},
    "no-sid": {"sid": None},
    "sid-not-a-string": {"sid": 7},
    "no-auth-time": {"auth_time": None},
}


@pytest.mark.parametrize("kind", sorted(FORGERIES))
async def test_forged_claims_are_refused(server: ServerProcess, api: Api, kind: str) -> None:
    alice = await api.register("alice")
    arabic = "".join(chr(0x0660 + int(d)) for d in str(alice.id))
    overrides = {
        k: v.format(id=alice.id, arabic=arabic) if isinstance(v, str) else v
        for k, v in FORGERIES[kind].items()
    }
    if overrides.get("sub") == 1:
        overrides["sub"] = alice.id
    token = forge(server, **overrides)
    response = await api.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    # The WebSocket accepts the upgrade and closes it at once, saying why.
    async with websockets.connect(f"{server.ws_url}?token={token}") as conn:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "token_invalid")
    # The same claims done right are accepted: the test forges only what it names.
    good = forge(server, sub=str(alice.id))
    ok = await api.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "username", ["ali\x00ce", "\x00", "alice\x00" * 8, "\x00" * 64], ids=["mid", "only", "x8", "64"]
)
async def test_nul_in_a_login_username_is_no_500(api: Api, username: str) -> None:
    response = await api.http.post(
        "/api/v1/auth/login", json={"username": username, "password": "password-123"}
    )
    assert response.status_code in {401, 422}, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nul\x00name", "password": "password-123"},
        {"username": "fine_name_n", "password": "password-123", "display_name": "a\x00b"},
        {"username": "fine_name_p", "password": "pass\x00word-123"},
    ],
    ids=["username", "display_name", "password"],
)
async def test_nul_in_registration_is_no_500(api: Api, body: dict[str, Any]) -> None:
    body = {**body, "username": unique(body["username"])[:32]}
    response = await api.http.post("/api/v1/auth/register", json=body)
    assert response.status_code in {201, 422}, response.text
    if "\x00" in body.get("password", ""):
        assert response.status_code == 201  # a password may hold any character


async def test_look_alike_usernames_are_refused_and_login_normalises(api: Api) -> None:
    base = unique("alice").replace("_", "")  # e.g. alice1a2b3c4d
    first = await api.call(
        "POST",
        "/api/v1/auth/register",
        None,
        201,
        json={"username": base, "password": "password-123"},
    )
    fullwidth = "".join(chr(ord(c) - 0x21 + 0xFF01) if c.isalnum() else c for c in base.upper())
    look_alike = base.replace("l", "1", 1)
    for name, status in [(base + "\n", 422), (fullwidth, 409), (look_alike, 409)]:
        response = await api.http.post(
            "/api/v1/auth/register", json={"username": name, "password": "password-123"}
        )
        assert response.status_code == status, (name, response.text)
    # Logging in, the name is normalised the same way: the full-width spelling is alice.
    session = await login(api, fullwidth, "password-123")
    assert session["user"]["id"] == first["user"]["id"]
    await login(api, base + "\n", "password-123", expect=401)


async def test_look_alikes_that_fold_in_sequence_are_refused(api: Api) -> None:
    """ "c1ear" is "clear" once 1 reads as l; the "cl"/"d" fold must not hide that."""
    tag = unique("x").replace("_", "")
    await api.call(
        "POST",
        "/api/v1/auth/register",
        None,
        201,
        json={"username": f"clear{tag}", "password": "password-123"},
    )
    for name in (f"c1ear{tag}", f"cIear{tag}", f"dear{tag}"):
        response = await api.http.post(
            "/api/v1/auth/register", json={"username": name, "password": "password-123"}
        )
        assert response.status_code == 409, (name, response.text)


@pytest.mark.parametrize("display_name", ["two\nlines", "tab\there", "evil\u202eexe.txt"])
async def test_display_names_with_hidden_characters_are_refused(
    api: Api, display_name: str
) -> None:
    response = await api.http.post(
        "/api/v1/auth/register",
        json={"username": unique("dn"), "password": "password-123", "display_name": display_name},
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"username": 5, "password": "password-123"},
        {"username": ["a"], "password": "password-123"},
        {"username": "alice", "password": 12345678},
        {"username": "x" * 65, "password": "password-123"},
    ],
)
async def test_auth_bodies_are_strict(api: Api, body: dict[str, Any]) -> None:
    for path in ("/api/v1/auth/login", "/api/v1/auth/register"):
        response = await api.http.post(path, json=body)
        assert response.status_code == 422, (path, response.text)


async def test_no_500_for_odd_auth_headers(api: Api) -> None:
    for header in ["Bearer", "Bearer  x", "Bearer " + "x" * 10_000, "Bearer a.b.c", "Basic Zm9v"]:
        response = await api.http.get("/api/v1/users/me", headers={"Authorization": header})
        assert response.status_code in {401, 403}, (header[:20], response.text)


async def test_query_numbers_are_plain_decimals(api: Api) -> None:
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    room = await api.room(alice, workspace["id"])
    path = f"/api/v1/room-chats/{room['id']}/messages"
    await api.call("GET", path, alice, params={"limit": "5", "after_seq": "0"})
    for name, bad in [("limit", "1.0"), ("before_seq", " 1"), ("after_seq", "+1"), ("limit", "0")]:
        response = await api.http.get(path, headers=alice.headers, params={name: bad})
        assert response.status_code == 422, (name, bad, response.text)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/room-chats/", '{"workspace_id": %d, "name": "r", "passcode": "ab\\ud800cd"}'),
        ("/api/v1/room-chats/", '{"workspace_id": %d, "name": "\\udfff"}'),
        ("/api/v1/workspaces/", '{"name": "\\ud800 %d"}'),
        ("/api/v1/auth/login", '{"username": "x%d", "password": "\\ud800\\ud800xxxxxx"}'),
    ],
)
async def test_lone_surrogates_in_a_body_are_bad_json_not_500(
    api: Api, path: str, body: str
) -> None:
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    response = await api.http.post(
        path,
        content=(body % workspace["id"]).encode(),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
