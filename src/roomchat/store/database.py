"""Engine creation and the few database-wide operations (health, migrations), and
what counts as the database being unavailable."""

from __future__ import annotations

import asyncio
import errno
import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long the server waits on its database before the request fails.

    The defaults are for tools (migrations, the CLI): no statement timeout, and the
    pool's waits as they always were. The server passes its settings.
    """

    statement_s: float | None = None  # None: a statement may run as long as it takes
    pool_s: float | None = None  # a connection: a free one, or a new one opened
    readiness_s: float = 2.0  # /readyz's ping, all of it


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, pool_size: int = 10, timeouts: Timeouts | None = None) -> AsyncEngine:
    timeouts = timeouts or Timeouts()
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer, and a single connection turns lock
        # contention ("database is locked") into an orderly queue for the pool.
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=timeouts.pool_s or 60
        )
        # A local file never stops answering; what can make a statement wait is another
        # process's lock (the CLI, a second instance): that wait is the statement timeout.
        busy_timeout_ms = int((timeouts.statement_s or 5) * 1000)
        pragmas = functools.partial(_sqlite_pragmas, busy_timeout_ms=busy_timeout_ms)
        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    connect_args: dict[str, float] = {}
    if timeouts.statement_s is not None:
        # asyncpg's own timeout, on the client: it also fires when the database cannot
        # be reached at all (a partition), where a server-side statement_timeout never
        # would. The statement is cancelled on the server, the request fails.
        connect_args["command_timeout"] = timeouts.statement_s
    if timeouts.pool_s is not None:
        connect_args["timeout"] = timeouts.pool_s  # opening a connection (asyncpg: 60 s)
    # A fixed pool: overflow connections would be opened (and TLS-negotiated) and
    # closed again under load. No pre-ping: it costs a round trip per checkout; a
    # connection broken by a database restart fails once and is replaced.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeouts.pool_s or 30,
        pool_recycle=3600,
        connect_args=connect_args,
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
    cursor.close()


def reads_of(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads: no BEGIN and ROLLBACK around each one.

    A read of one statement needs no transaction of its own; in autocommit it costs
    one round trip to PostgreSQL instead of three.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def ping(engine: AsyncEngine, timeout_s: float) -> None:
    """A round trip to the database, within ``timeout_s`` in all (TimeoutError past it):
    a readiness probe must answer while the database does not."""
    async with asyncio.timeout(timeout_s), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def is_unavailable(error: BaseException) -> bool:
    """The database could not be reached, or did not answer in time: nothing the caller
    did, and trying again later may work (the error catalogue's ``unavailable``)."""
    if isinstance(error, exc.TimeoutError):
        return True  # no connection free in the pool within its timeout
    if isinstance(error, TimeoutError | ConnectionError):
        return True  # asyncpg's statement or connect timeout; refused, reset
    if isinstance(error, OSError) and error.errno in _UNREACHABLE_ERRNOS:
        return True  # no route to the database's host
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True  # the connection broke under the statement
    # PostgreSQL refusing for now: connection trouble (08), out of connections or
    # memory (53), shutting down, starting up, a cancelled statement (57).
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
        return True
    # SQLite: another process's write lock outlasted the busy timeout. (Its other
    # OperationalErrors are bugs: "no such table", a syntax error.)
    name = getattr(error.orig, "sqlite_errorname", "")
    return isinstance(name, str) and name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
_UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
)
