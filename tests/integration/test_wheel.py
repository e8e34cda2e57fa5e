"""The install docs/integration.md gives works: `python -m build --wheel` builds roomchat
from this checkout, and the wheel holds the client, the migrations, the contract
documents and the web client; installed on its own (no checkout on the path),
`roomchat.client` imports from it and talks to a real server."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def backend() -> str:
    """One build is enough: the client does not care which database the server has."""
    return "sqlite"


def test_the_wheel_builds_and_its_client_works(tmp_path: Path, server: ServerProcess) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = dist.glob("roomchat-*-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "roomchat/client/__init__.py",
        "roomchat/contract/asyncapi.yaml",
        "roomchat/contract/openapi.json",
        "roomchat/store/migrations/env.py",
        "roomchat/web/index.html",
        "roomchat/avatars.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]

    # Installed alone into a folder (its dependencies are this environment's), imported
    # from there and nowhere else, it registers and reads who it is.
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    script = f"""
import asyncio, sys, uuid
sys.path.insert(0, {str(target)!r})
import roomchat.client
assert roomchat.client.__file__.startswith({str(target)!r}), roomchat.client.__file__
from roomchat.client import Rest

async def main():
    rest = Rest({server.base_url!r})
    try:
        name = "wheel_" + uuid.uuid4().hex[:8]
        session = await rest.register(name, "password-123")
        me = await rest.me(session.token)
        assert me.username == name, me
    finally:
        await rest.aclose()

asyncio.run(main())
print("ok")
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stdout + ran.stderr
