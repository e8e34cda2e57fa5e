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
