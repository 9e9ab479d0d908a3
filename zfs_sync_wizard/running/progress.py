"""Byte counts and progress lines in the log, from pv's numeric output.

The counting pv runs with `-n -b -t` and prints "ELAPSED BYTES" lines on
its stderr; they arrive here (from sh's reader thread, never the data
stream).  The last count goes into the run record, and every `interval`
seconds of the transfer (pv's own clock) a progress line goes to the log:
bytes so far, the rate since the last line, and the time left where the
size is known, so a long transfer can be followed with `tail -f`.  On a
terminal a second pv draws its own bar (commands/pipeline.py).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Callable, TextIO

from ..planning import sizes

log = logging.getLogger("zfs_sync_wizard")


def parse(line: str) -> tuple[float, int] | None:
    """pv's "ELAPSED BYTES" line; None for anything else (an error message)."""
    parts = line.split()
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), int(parts[1])
    except ValueError:
        return None


def _size(count: float) -> str:
    return sizes.human(count)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def line(label: str, count: int, size: int | None, rate: float) -> str:
    """One progress line: `tank/media: 12.0 MiB of 100.0 MiB (12%), 1.0 MiB/s, 0:01:28 left`."""
    text = f"progress {label}: {_size(count)}"
    if size:
        text += f" of {_size(size)} ({min(100, count * 100 // size)}%)"
    text += f", {_size(rate)}/s"
    if size and rate > 0 and count < size:
        text += f", {_duration((size - count) / rate)} left"
    return text


class Counter:
    """Fed pv's lines; keeps the byte count and logs a progress line every `interval` s."""

    def __init__(self, label: str, size: int | None, interval: float, out: Callable[[str], None]):
        self.label, self.size, self.interval, self.out = label, size, interval, out
        self.bytes = 0
        self._mark = (0.0, 0)  # elapsed and bytes at the last progress line

    def __call__(self, text: str) -> None:
        found = parse(text)
        if found is None:
            return
        elapsed, count = found
        self.bytes = count
        since, before = self._mark
        if elapsed - since >= self.interval:
            rate = (count - before) / (elapsed - since)
            self.out(line(self.label, count, self.size, rate))
            self._mark = (elapsed, count)


class Progress:
    """Whether a bar is drawn (a terminal), and how often the log hears of a transfer."""

    def __init__(self, bar: bool = False, interval: float = 30, out: TextIO | None = None):
        self.bar = bar
        self.interval = interval
        self.out = out or sys.stderr

    def note(self, text: str) -> None:
        """A failure or a retry, shown on the terminal when it happens (the run's summary repeats failures)."""
        if self.bar:
            self.out.write(f"{text}\n")
            self.out.flush()

    @contextlib.contextmanager
    def stream(self, label: str, size: int | None = None):
        yield Counter(label, size, self.interval, lambda text: log.info("%s", text))
