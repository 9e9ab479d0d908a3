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
    def __init__(self, label: str, out: TextIO | None):
        self.label = label
        self.bytes = 0
        self.out = out

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
            rate = humanize.naturalsize(count / elapsed, binary=True) if elapsed > 0 else "-"
            size = humanize.naturalsize(count, binary=True)
            self.out.write(f"\r{self.label}: {size} sent, {rate}/s   ")
            self.out.flush()


class Progress:
    def __init__(self, enabled: bool, out: TextIO = sys.stderr):
        self.out = out if enabled else None

    @contextlib.contextmanager
    def stream(self, label: str):
        counter = Counter(label, self.out)
        try:
            yield counter
        finally:
            if self.out and counter.bytes:
                self.out.write("\n")
