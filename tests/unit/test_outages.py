"""A background loop's failures in the log (roomchat/outages.py): the database out of reach
is one line when it starts and one when it ends, never a traceback; anything else keeps
its traceback, every time. (tests/integration/test_database_partition.py shows the
loops of a real server doing so through a real partition.)"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import exc

from roomchat.outages import OutageLog
from roomchat.store.database import is_unavailable

log = logging.getLogger("roomchat.test.outages")


def raised(error: BaseException) -> BaseException:
    """``error`` as an ``except`` clause gets it: raised, with its traceback."""
    try:
        raise error
    except BaseException as caught:
        return caught


def unreachable() -> BaseException:
    """A pool that found no connection in time, as SQLAlchemy raises it."""
    return raised(exc.TimeoutError("QueuePool limit of size 10 overflow 0 reached"))


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, bool]]:
    # Once roomchat's logging is set up (another test may have done it), its redaction
    # filter turns a record's exc_info into redacted exc_text: either is a traceback.
    return [
        (r.levelname, r.getMessage(), r.exc_info is not None or bool(r.exc_text))
        for r in caplog.records
    ]


def test_an_outage_is_one_line_when_it_begins_and_one_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = OutageLog(log, "polling", is_unavailable)
    with caplog.at_level(logging.INFO, logger=log.name):
        outage.succeeded()  # nothing to say: it never failed
        for _ in range(5):
            outage.failed(unreachable())
        assert outage.out
        outage.succeeded()
        outage.succeeded()
    said = lines(caplog)
    assert [(level, traced) for level, _, traced in said] == [
        ("WARNING", False),
        ("WARNING", False),
    ]
    assert said[0][1] == (
        "polling failed: the database is out of reach (TimeoutError); "
        "retrying, quietly until it works"
    )
    assert said[1][1].startswith("polling works again: the database was out of reach for ")
    assert said[1][1].endswith("(5 tries failed)")
    assert not outage.out


def test_a_cause_out_of_reach_counts_and_a_bug_keeps_its_traceback_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = OutageLog(log, "sweeping", is_unavailable)
    wrapped: BaseException
    try:
        try:
            raise ConnectionResetError("reset by peer")
        except ConnectionResetError as reset:
            raise RuntimeError("reading the room failed") from reset
    except RuntimeError as error:
        wrapped = error
    with caplog.at_level(logging.INFO, logger=log.name):
        outage.failed(wrapped)
        outage.failed(raised(KeyError("room 7")), "room 7")
        outage.failed(raised(KeyError("room 7")), "room 7")
    said = lines(caplog)
    assert said[0] == (
        "WARNING",
        "sweeping failed: the database is out of reach (ConnectionResetError); "
        "retrying, quietly until it works",
        False,
    )
    assert said[1:] == [("ERROR", "sweeping failed (room 7)", True)] * 2
