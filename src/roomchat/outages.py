"""How a background loop reports its failures.

The database out of reach (``is_unavailable``) is news for operators, not a bug: it is
said in one line without traceback when the loop's work starts failing for that
reason, and in one more when it works again; the ticks in between say nothing (a loop
ticking every second would otherwise write a traceback a second for the whole outage).
Any other failure is a bug: logged as an error with its traceback, every time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# Whether an error says the database is out of reach (the store's ``is_unavailable``,
# given by whoever builds the loop: this module knows no database).
Unavailability = Callable[[BaseException], bool]

CAUSES_LOOKED_AT = 5  # a driver's error wrapped by SQLAlchemy, maybe wrapped again


def database_unavailable(
    error: BaseException, is_unavailable: Unavailability
) -> BaseException | None:
    """The error, or what it was raised from, if ``is_unavailable`` says it is the
    database out of reach."""
    seen: BaseException | None = error
    for _ in range(CAUSES_LOOKED_AT):
        if seen is None:
            return None
        if is_unavailable(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _named(error: BaseException) -> str:
    """The class only, as for requests (api/responses.py): enough to tell a timeout from
    a refusal, and no message that could quote a URL. SQLAlchemy's wrapper names the
    driver's."""
    driver = getattr(error, "orig", None)
    return type(driver if isinstance(driver, BaseException) else error).__name__


class OutageLog:
    """One loop's failures, ``doing`` naming its work ("polling token revocations")."""

    def __init__(self, logger: logging.Logger, doing: str, is_unavailable: Unavailability) -> None:
        self._log = logger
        self._doing = doing
        self._is_unavailable = is_unavailable
        self._since: float | None = None  # when the outage was first seen (monotonic)
        self._failures = 0

    @property
    def out(self) -> bool:
        """The last try failed because the database was out of reach."""
        return self._since is not None

    def failed(self, error: BaseException, about: str = "") -> None:
        """``about``: what the failed try was on, for a bug's report ("endpoint 7")."""
        unavailable = database_unavailable(error, self._is_unavailable)
        if unavailable is None:
            where = f" ({about})" if about else ""
            self._log.error("%s failed%s", self._doing, where, exc_info=error)
            return
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            self._log.warning(
                "%s failed: the database is out of reach (%s); retrying, quietly until it works",
                self._doing,
                _named(unavailable),
            )

    def succeeded(self) -> None:
        if self._since is None:
            return
        lasted = time.monotonic() - self._since
        self._log.warning(
            "%s works again: the database was out of reach for %.1f s (%d tries failed)",
            self._doing,
            lasted,
            self._failures,
        )
        self._since = None
        self._failures = 0
