"""Test databases: a SQLite file, or a throwaway database on the real PostgreSQL.

The one place that talks to PostgreSQL directly (asyncpg, outside the app): the tests
and scripts/cluster.py create, drop and inspect their databases through it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

POSTGRES_URL = os.environ.get(
    "ROOMCHAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


async def connect(url: URL | str) -> asyncpg.Connection:
    """A plain asyncpg connection to the database a SQLAlchemy URL names."""
    url = make_url(url)
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )


async def _admin(url: URL, sql: str | None = None) -> None:
    conn = await connect(url)
    try:
        if sql:
            await conn.execute(sql)
    finally:
        await conn.close()


def create_database(server: URL, name: str) -> str:
    """CREATE DATABASE ``name`` on the server; the URL of the new database."""
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(server: URL, name: str) -> None:
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_postgres() -> None:
    """Skip when PostgreSQL does not answer, saying why; under CI=true, fail instead."""
    url = make_url(POSTGRES_URL)
    try:
        asyncio.run(_admin(url))
    except Exception as exc:
        reason = f"PostgreSQL at {url.render_as_string()} does not answer: {exc!r}"
        if IN_CI:
            pytest.fail(f"CI=true needs PostgreSQL: {reason}")
        pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """CREATE a database of its own on the test server; DROP it afterwards."""
    require_postgres()
    server = make_url(POSTGRES_URL)
    name = f"roomchat_t_{uuid.uuid4().hex[:12]}"
    url = create_database(server, name)
    try:
        yield url
    finally:
        drop_database(server, name)


@contextmanager
def database_url(backend: str, directory: Path) -> Iterator[str]:
    if backend == "postgres":
        with fresh_postgres_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{directory / 'roomchat.db'}"
