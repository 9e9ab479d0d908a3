"""The names of a job's own replication snapshots (pure): `<stem><UTC time>`,
where the stem is `<prefix>_<job>_`.  Only names of exactly this shape are
ever pruned as the job's own."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_TIME = r"\d{8}T\d{6}Z(\.\d+)?"


def snapshot_name(stem: str, now: datetime, taken: set[str] = frozenset()) -> str:
    """A new replication snapshot name: the stem plus UTC time, unique among `taken`."""
    base = stem + now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}.{n}"
    return name


def is_ours(stem: str, name: str) -> bool:
    # the whole name, not just the stem: job "home" must not take "home_offsite"'s snapshots
    return re.fullmatch(re.escape(stem) + _TIME, name) is not None
