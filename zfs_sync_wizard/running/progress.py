"""Byte counts and the progress line, from pv's numeric output.

pv runs with `-n -b -t` and prints "ELAPSED BYTES" lines on stderr; they
arrive here (from sh's reader thread, never the data stream).  The last
count goes into the run record; on a terminal a humanized line is redrawn.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

import humanize


class Counter:
    def __init__(self, label: str, out: TextIO | None, size: int | None = None):
        self.label = label
        self.bytes = 0
        self.out = out
        self.size = size  # the estimate, for the percentage and the time left

    def __call__(self, line: str) -> None:
        parts = line.split()
        if len(parts) != 2:
            return
        try:
            elapsed, count = float(parts[0]), int(parts[1])
        except ValueError:
            return
        self.bytes = count
        if self.out:
            self.out.write(f"\r{line_of(self.label, count, elapsed, self.size)}   ")
            self.out.flush()


def line_of(label: str, count: int, elapsed: float, size: int | None) -> str:
    """'tank/media: 12.0 MiB of 40.0 MiB (30%), 4.0 MiB/s, 7 s left' (pure)."""
    sent = humanize.naturalsize(count, binary=True)
    speed = count / elapsed if elapsed > 0 else 0.0
    rate = f"{humanize.naturalsize(speed, binary=True)}/s" if speed else "-/s"
    if not size:
        return f"{label}: {sent} sent, {rate}"
    percent = min(100, int(count * 100 / size))
    text = f"{label}: {sent} of {humanize.naturalsize(size, binary=True)} ({percent}%), {rate}"
    if speed and count < size:
        text += f", {_duration((size - count) / speed)} left"
    return text


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    def __init__(self, enabled: bool, out: TextIO = sys.stderr):
        self.out = out if enabled else None

    def note(self, text: str) -> None:
        """A failure or a retry, shown on the terminal when it happens (the run's summary repeats failures)."""
        if self.out:
            self.out.write(f"{text}\n")
            self.out.flush()

    @contextlib.contextmanager
    def stream(self, label: str, size: int | None = None):
        counter = Counter(label, self.out, size)
        try:
            yield counter
        finally:
            if self.out and counter.bytes:
                self.out.write("\n")
