"""Operator commands as an operator runs them: real processes on a real database,
their output and exit codes, and a server on the same database that sees the result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.databases import database_url
from tests.support.server import ServerProcess

PASSWORD = "operator-made-secret-9"


def roomchat(
    url: str, data_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "ROOMCHAT_DATABASE_URL": url,
        "ROOMCHAT_DATA_DIR": str(data_dir),
        "ROOMCHAT_LOG_LEVEL": "warning",
    }
    return subprocess.run(
        [sys.executable, "-m", "roomchat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_users_and_workspaces_created_from_the_command_line(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        made = roomchat(
            url,
            tmp_path,
            "users",
            "create",
            "opal",
            "--password-stdin",
            "--json",
            stdin=PASSWORD + "\n",
        )
        assert made.returncode == 0, made.stderr
        user = json.loads(made.stdout)
        assert user["username"] == "opal"
        assert PASSWORD not in made.stdout + made.stderr

        again = roomchat(
            url, tmp_path, "users", "create", "opal", "--password-stdin", stdin="x" * 12
        )
        assert again.returncode == 1 and "conflict" in again.stderr

        short = roomchat(
            url, tmp_path, "users", "create", "quartz", "--password-stdin", stdin="a\n"
        )
        assert short.returncode == 1 and "validation_error" in short.stderr

        no_tty = roomchat(url, tmp_path, "users", "create", "ruby")  # no stdin flag, no terminal
        assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr

        workspace = roomchat(url, tmp_path, "workspaces", "create", "Ops", "--owner", "opal")
        assert workspace.returncode == 0, workspace.stderr
        assert workspace.stdout.startswith("created workspace ") and "opal" in workspace.stdout

        nobody = roomchat(url, tmp_path, "workspaces", "create", "X", "--owner", "ghost")
        assert nobody.returncode == 1 and "not_found" in nobody.stderr

        usage = roomchat(url, tmp_path, "users", "frobnicate")
        assert usage.returncode == 2

        # A server on the same database: the user logs in and owns the workspace.
        server = ServerProcess(url, tmp_path / "server").start()
        try:
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                session = http.post(
                    "/api/v1/auth/login", json={"username": "opal", "password": PASSWORD}
                )
                assert session.status_code == 200, session.text
                token = session.json()["data"]["access_token"]
                listed = http.get(
                    "/api/v1/workspaces/", headers={"Authorization": f"Bearer {token}"}
                ).json()["data"]
            assert [w["name"] for w in listed] == ["Ops"]
            assert listed[0]["owner_id"] == user["id"]
        finally:
            server.stop()


def test_api_keys_made_and_revoked_from_the_command_line(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        made = roomchat(
            url, tmp_path, "users", "create", "pearl", "--password-stdin", stdin=PASSWORD
        )
        assert made.returncode == 0, made.stderr
        workspace = roomchat(
            url, tmp_path, "workspaces", "create", "Ops", "--owner", "pearl", "--json"
        )
        workspace_id = str(json.loads(workspace.stdout)["id"])

        key = roomchat(
            url,
            tmp_path,
            "api-keys",
            "create",
            "--workspace",
            workspace_id,
            "--name",
            "Nightly",
            "--json",
        )
        assert key.returncode == 0, key.stderr
        created = json.loads(key.stdout)
        assert created["key"].startswith("rck_") and created["user"]["display_name"] == "Nightly"
        assert created["user"]["username"].startswith("bot-") and created["revoked_at"] is None
        readable = roomchat(
            url, tmp_path, "api-keys", "create", "--workspace", workspace_id, "--name", "Hourly"
        )
        assert readable.returncode == 0, readable.stderr
        line, shown = readable.stdout.splitlines()
        assert line.startswith("created API key ") and "'Hourly'" in line and "bot-" in line
        assert shown.startswith("the key, shown this once: rck_")

        for args, code, says in (
            (("--workspace", "999999", "--name", "x"), 1, "not_found"),
            (("--workspace", workspace_id, "--name", " "), 1, "validation_error"),
            (("--workspace", "abc", "--name", "x"), 2, "not an id"),
            (("--workspace", "0", "--name", "x"), 2, "not an id"),
            (("--name", "x"), 2, "--workspace"),
        ):
            refused = roomchat(url, tmp_path, "api-keys", "create", *args)
            assert (refused.returncode, refused.stdout) == (code, ""), refused.stderr
            assert says in refused.stderr

        # A server on the same database takes the key, and refuses it once revoked.
        server = ServerProcess(url, tmp_path / "server").start()
        try:
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                bot = {"Authorization": f"Bearer {created['key']}"}
                me = http.get("/api/v1/users/me", headers=bot)
                assert me.status_code == 200 and me.json()["data"]["id"] == created["user"]["id"]
                revoked = roomchat(url, tmp_path, "api-keys", "revoke", str(created["id"]))
                assert revoked.returncode == 0, revoked.stderr
                assert revoked.stdout.startswith(f"revoked API key {created['id']} 'Nightly'")
                assert http.get("/api/v1/users/me", headers=bot).status_code == 401
        finally:
            server.stop()
        assert created["key"] not in revoked.stdout + revoked.stderr

        unknown = roomchat(url, tmp_path, "api-keys", "revoke", "999999")
        assert unknown.returncode == 1 and "not_found" in unknown.stderr
        assert roomchat(url, tmp_path, "api-keys", "revoke", "-3").returncode == 2
        assert roomchat(url, tmp_path, "api-keys", "frobnicate").returncode == 2
