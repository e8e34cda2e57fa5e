"""Who may connect: tokens over REST and the WebSocket handshake, register and login."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
import websockets

from tests.support.client import Account, Api, Ws, login, register_sync, unique
from tests.support.server import ServerProcess


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs512(claims: dict[str, Any], secret: str) -> str:
    """Signed with the right secret but an algorithm the server does not pin."""
    signing_input = f"{b64({'alg': 'HS512', 'typ': 'JWT'})}.{b64(claims)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def forged_tokens(server: ServerProcess, user_id: int) -> dict[str, str]:
    secret = server.env["ROOMCHAT_JWT_SECRET"]
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + 3600}
    return {
        "garbage": "not-a-jwt",
        "expired": jwt.encode(
            {**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"
        ),
        "other-secret": jwt.encode(
            claims, "some-other-secret-that-is-long-enough-0000", algorithm="HS256"
        ),
        "alg-none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "other-algorithm": hs512(claims, secret),
        "no-exp": jwt.encode({"sub": str(user_id)}, secret, algorithm="HS256"),
        "no-such-user": jwt.encode({**claims, "sub": str(10**9)}, secret, algorithm="HS256"),
        "sub-not-a-number": jwt.encode({**claims, "sub": "alice"}, secret, algorithm="HS256"),
    }


BAD = [
    "garbage",
    "expired",
    "other-secret",
    "alg-none",
    "other-algorithm",
    "no-exp",
    "no-such-user",
    "sub-not-a-number",
]


async def assert_ws_refused(url: str, reason: str, **kw: Any) -> None:
    """The handshake is accepted and the socket closed at once with 4401 and ``reason``,
    before anything is served (a ping sent at once is not answered)."""
    async with websockets.connect(url, **kw) as conn:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await conn.send(json.dumps({"action": "ping", "payload": {}}))
            async with asyncio.timeout(10):
                await conn.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, reason)


@pytest.fixture(scope="module")
def alice(server: ServerProcess) -> Account:
    return register_sync(server.base_url, "alice")[0]


@pytest.mark.parametrize("kind", BAD)
async def test_a_bad_token_is_refused_by_rest_and_the_websocket(
    server: ServerProcess, api: Api, alice: Account, kind: str
) -> None:
    token = forged_tokens(server, alice.id)[kind]
    response = await api.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == "unauthorized"
    # Every one is token_invalid, "expired" too: it lacks claims every token of ours has.
    await assert_ws_refused(f"{server.ws_url}?token={token}", "token_invalid")
    await assert_ws_refused(
        server.ws_url, "token_invalid", additional_headers={"Authorization": f"Bearer {token}"}
    )


async def test_websocket_without_a_token_is_refused(server: ServerProcess) -> None:
    await assert_ws_refused(server.ws_url, "token_missing")
    await assert_ws_refused(f"{server.ws_url}?token=", "token_missing")
    basic = {"Authorization": "Basic x"}
    await assert_ws_refused(server.ws_url, "token_missing", additional_headers=basic)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/workspaces/"),
        ("POST", "/api/v1/workspaces/"),
        ("GET", "/api/v1/workspaces/1/members"),
        ("POST", "/api/v1/room-chats/"),
        ("GET", "/api/v1/room-chats/workspace/1"),
        ("GET", "/api/v1/room-chats/1"),
        ("GET", "/api/v1/room-chats/1/messages"),
        ("GET", "/api/v1/room-chats/1/events"),
        ("POST", "/api/v1/room-chats/join/sometoken"),
        ("GET", "/api/v1/room-users/room/1"),
    ],
)
async def test_rest_without_a_token_is_401_unauthorized(api: Api, method: str, path: str) -> None:
    response = await api.http.request(method, path)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]


async def test_a_valid_token_works_in_the_query_and_the_authorization_header(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    me = await api.call("GET", "/api/v1/users/me", alice)
    assert me == {**alice.user, "share_read_receipts": True}
    assert set(me) == {"id", "username", "display_name", "avatar_url", "share_read_receipts"}
    by_query = await Ws.connect(server.ws_url, alice)
    by_header = Ws(
        await websockets.connect(server.ws_url, additional_headers=alice.headers, compression=None)
    )
    try:
        for conn in (by_query, by_header):
            pong = await conn.request("ping", {})
            assert pong["action"] == "pong" and pong["status"] == "success"
    finally:
        await by_query.close()
        await by_header.close()


async def test_register_then_login_gives_a_working_token(server: ServerProcess, api: Api) -> None:
    username = unique("carol")
    response = await api.http.post(
        "/api/v1/auth/register",
        json={"username": username, "password": "s3cret-pass", "display_name": "Carol"},
    )
    assert response.status_code == 201
    registered = response.json()["data"]
    assert registered["token_type"] == "bearer"
    assert registered["user"]["username"] == username.lower()
    assert registered["user"]["display_name"] == "Carol"
    assert "password" not in response.text and "s3cret-pass" not in response.text

    session = await login(api, username.upper(), "s3cret-pass")
    assert session["user"] == registered["user"]
    assert session["token_type"] == "bearer"
    account = Account(session["user"], session["access_token"])
    assert (await api.call("GET", "/api/v1/users/me", account))["id"] == account.id
    conn = await Ws.connect(server.ws_url, account)
    try:
        assert (await conn.request("ping", {}))["status"] == "success"
    finally:
        await conn.close()


async def test_registering_a_taken_username_is_a_conflict(api: Api) -> None:
    username = unique("dave")
    body = {"username": username, "password": "password-123"}
    await api.call("POST", "/api/v1/auth/register", None, 201, json=body)
    error = await api.call("POST", "/api/v1/auth/register", None, 409, json=body)
    assert error["code"] == "conflict"
    # Usernames are case-insensitive.
    error = await api.call(
        "POST",
        "/api/v1/auth/register",
        None,
        409,
        json={**body, "username": username.upper()},
    )
    assert error["code"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "password": "password-123"},
        {"username": "has space", "password": "password-123"},
        {"username": "fine_name", "password": "short"},
        {"username": "fine_name"},
        {"password": "password-123"},
        {"username": 5, "password": "password-123"},
    ],
)
async def test_registering_with_bad_fields_is_a_validation_error(
    api: Api, body: dict[str, Any]
) -> None:
    error = await api.call("POST", "/api/v1/auth/register", None, 422, json=body)
    assert error["code"] == "validation_error"


async def test_login_with_a_wrong_password_or_unknown_user_is_unauthorized(api: Api) -> None:
    erin = await api.register("erin", password="right-password")
    error = await login(api, erin.user["username"], "wrong-password", expect=401)
    assert error["code"] == "unauthorized"
    error = await login(api, unique("nobody"), "right-password", expect=401)
    assert error["code"] == "unauthorized"
    await login(api, erin.user["username"], "right-password")


async def test_a_body_that_is_not_json_is_a_bad_request(api: Api) -> None:
    response = await api.http.post(
        "/api/v1/auth/login",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_a_nul_character_in_a_display_name_is_a_validation_error(api: Api) -> None:
    body = {"username": unique("nul"), "password": "password-123", "display_name": "a\x00b"}
    error = await api.call("POST", "/api/v1/auth/register", None, 422, json=body)
    assert error["code"] == "validation_error"
    # Nothing was created: the same username is still free.
    await api.call("POST", "/api/v1/auth/register", None, 201, json={**body, "display_name": "ab"})
