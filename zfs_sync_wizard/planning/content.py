"""`--verify --deep`: two streams of file checksums compared as they are read (pure).

Each side lists its snapshot's regular files sorted by path (bytes, C
locale) with `sha256sum` (commands/checksums.py), so one pass over both
streams, one line of each in hand at a time, finds every path that is
missing, extra or different: memory stays flat however many files there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MISSING = "missing on the destination"
EXTRA = "only on the destination"
DIFFERS = "content differs"
SHOWN = 10  # differences kept (and printed) by path; the rest are counted


@dataclass(frozen=True)
class Entry:
    path: bytes  # as the source tree names it, starting "./"
    digest: str


@dataclass
class Differences:
    files: int = 0  # paths seen on either side
    count: int = 0
    first: list[tuple[str, bytes]] = field(default_factory=list)  # (kind, path), in path order

    def add(self, kind: str, path: bytes) -> None:
        self.count += 1
        if len(self.first) < SHOWN:
            self.first.append((kind, path))


def parse(line: bytes) -> Entry:
    """One `sha256sum` line: `DIGEST  PATH`, or `\\DIGEST  ESCAPED` for a path with `\\` or a newline."""
    line = line.rstrip(b"\n")
    escaped = line.startswith(b"\\")
    digest, sep, path = line[escaped:].partition(b"  ")
    if not sep or not digest:
        raise ValueError(f"unexpected checksum line: {line[:200]!r}")
    if escaped:
        path = _unescape(path)
    return Entry(path, digest.decode("ascii", "replace"))


def _unescape(path: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(path):
        if path[i : i + 1] == b"\\" and i + 1 < len(path):
            out += {b"n": b"\n", b"r": b"\r", b"\\": b"\\"}.get(path[i + 1 : i + 2], path[i : i + 2])
            i += 2
        else:
            out += path[i : i + 1]
            i += 1
    return bytes(out)


def compare(source: Iterable[bytes], destination: Iterable[bytes]) -> Differences:
    """Merge two path-sorted checksum streams."""
    found = Differences()
    left, right = _entries(source), _entries(destination)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        found.files += 1
        if b is None or (a is not None and a.path < b.path):
            found.add(MISSING, a.path)
            a = next(left, None)
        elif a is None or b.path < a.path:
            found.add(EXTRA, b.path)
            b = next(right, None)
        else:
            if a.digest != b.digest:
                found.add(DIFFERS, a.path)
            a, b = next(left, None), next(right, None)
    return found


def _entries(lines: Iterable[bytes]) -> Iterator[Entry]:
    previous = None
    for line in lines:
        entry = parse(line)
        if previous is not None and entry.path <= previous:
            raise ValueError(f"checksum stream out of order at {entry.path!r}")  # would hide differences
        previous = entry.path
        yield entry


def lines(where: str, snapshot: str, found: Differences) -> list[str]:
    """What --deep prints for one dataset pair."""
    if not found.count:
        return [f"{where}: content of @{snapshot} equal ({found.files} file{'s' * (found.files != 1)})"]
    out = [f"{where}: content of @{snapshot} DIFFERENT ({found.count} of {found.files} files)"]
    for kind, path in found.first:
        out.append(f"  {kind}: {path[2:].decode(errors='backslashreplace')!r}")
    if found.count > len(found.first):
        out.append(f"  and {found.count - len(found.first)} more")
    return out
