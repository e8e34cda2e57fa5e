"""Engine creation and the few database-wide operations (health, migrations)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer, and a single connection turns lock
        # contention ("database is locked") into an orderly queue for the pool.
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A fixed pool: overflow connections would be opened (and TLS-negotiated) and
    # closed again under load. No pre-ping: it costs a round trip per checkout; a
    # connection broken by a database restart fails once and is replaced.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=3600
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def reads_of(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads: no BEGIN and ROLLBACK around each one.

    A read of one statement needs no transaction of its own; in autocommit it costs
    one round trip to PostgreSQL instead of three.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
