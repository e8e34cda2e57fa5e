"""Telling a partition log the broker lost from an end offset that trails for a moment.

A broker that lost its log (restarted without storage, topic recreated) starts the
partition's offsets again at 0: a consumer waiting at its old position hears nothing
until the new log grows past it, so it must read the partition again from its start.
But a reported end offset also trails what was just fetched, for a moment: a busy
broker answers ListOffsets late (behind by one with nothing wrong; thousands behind
while a backlog is published, as after every outage), and a new leader's high
watermark dips. Reading a partition from its start re-delivers all of it (on a real
Kafka topic, its whole retention), so one reading never decides, outage or not:

* a partition is *suspect* when its end is before our position; the position then
  is noted, with the time;
* each later check reads the end again: one that reached the noted position clears
  the suspicion (the log was there; it only answered late);
* the log is lost once the end stayed short of the noted position for ``confirm_s``
  and over ``readings`` readings (a process frozen for longer than ``confirm_s``
  still reads the end again before deciding);
* an outage clears every suspicion: what was read before it says nothing of the log
  after it, and the first reading after it is confirmed like any other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Suspect:
    position: int  # ours when the end was first seen before it
    since: float
    readings: int


class LostLogs:
    """Sans-I/O: fed each partition's position and freshly read end, says when to
    read the partition again from its start."""

    def __init__(self, confirm_s: float, readings: int = 3) -> None:
        self._confirm_s = confirm_s
        self._readings = readings
        self._suspects: dict[int, _Suspect] = {}

    def forget(self) -> None:
        """An outage: start observing afresh."""
        self._suspects.clear()

    def lost(self, partition: int, position: int, end: int, now: float) -> bool:
        """Whether the partition's log is lost, given a fresh reading of its end."""
        if position <= end:
            self._suspects.pop(partition, None)
            return False
        suspect = self._suspects.get(partition)
        if suspect is None or end >= suspect.position:
            # First seen short, or it reached where we were and trails us again since.
            self._suspects[partition] = _Suspect(position, now, 1)
            return False
        suspect.readings += 1
        if suspect.readings < self._readings or now - suspect.since < self._confirm_s:
            return False
        del self._suspects[partition]
        return True
