"""Thumbnail workers run at a lower CPU priority than the event loop's thread (the
upload benchmark's fan-out p99 while uploading fell from ~1.55x to ~1.38x of without)."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from roomchat.files.thumbs import THUMBNAIL_NICENESS, lower_priority


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_a_thumbnail_worker_is_nicer_than_the_thread_that_made_it() -> None:
    mine = niceness()
    with ThreadPoolExecutor(max_workers=1, initializer=lower_priority) as pool:
        worker = pool.submit(niceness).result()
    assert worker == min(19, mine + THUMBNAIL_NICENESS)
    assert niceness() == mine  # the caller's own thread is untouched
