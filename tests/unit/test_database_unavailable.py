"""Which database failures are `unavailable` (try again later) and which stay bugs, on
real databases: a locked SQLite file, a PostgreSQL that refuses or cannot be reached."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from roomchat.store.database import Timeouts, create_engine, is_unavailable
from tests.support.databases import POSTGRES_URL, require_postgres
from tests.support.proxy import Proxy
from tests.support.server import free_port

QUICK = Timeouts(statement_s=0.5, pool_s=1.0)


@pytest.fixture
def postgres() -> str:
    """The test PostgreSQL's URL (a skip, or under CI a failure, when it does not answer)."""
    require_postgres()
    return POSTGRES_URL


async def failure_of(url: str, sql: str) -> BaseException:
    engine = create_engine(url, timeouts=QUICK)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    except Exception as exc:
        return exc
    finally:
        await engine.dispose()
    raise AssertionError(f"{sql!r} did not fail")


async def test_sqlite_locked_by_another_process_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        failure = await failure_of(f"sqlite+aiosqlite:///{path}", "INSERT INTO t VALUES (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_unavailable(failure), repr(failure)


async def test_a_bad_statement_on_sqlite_is_a_bug_not_unavailable(tmp_path: Path) -> None:
    failure = await failure_of(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "SELECT * FROM nope")
    assert not is_unavailable(failure), repr(failure)


@pytest.mark.postgres
async def test_a_bad_statement_on_postgres_is_a_bug_not_unavailable(postgres: str) -> None:
    failure = await failure_of(postgres, "SELECT * FROM nope")
    assert not is_unavailable(failure), repr(failure)


@pytest.mark.postgres
async def test_postgres_refusing_connections_is_unavailable(postgres: str) -> None:
    nobody = (
        make_url(postgres)
        .set(host="127.0.0.1", port=free_port())
        .render_as_string(hide_password=False)
    )
    assert is_unavailable(await failure_of(nobody, "SELECT 1"))


@pytest.mark.postgres
async def test_postgres_dropping_connections_is_unavailable(postgres: str) -> None:
    proxy = await Proxy.before(postgres).start()
    proxy.accepting = False  # accepted, then reset at once
    try:
        assert is_unavailable(await failure_of(proxy.database_url(postgres), "SELECT 1"))
    finally:
        await proxy.aclose()


@pytest.mark.postgres
async def test_postgres_answering_nothing_is_unavailable(postgres: str) -> None:
    proxy = await Proxy.before(postgres).start()
    proxy.partition()
    try:
        assert is_unavailable(await failure_of(proxy.database_url(postgres), "SELECT 1"))
    finally:
        await proxy.aclose()
