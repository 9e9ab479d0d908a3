"""Which of the job's own replication snapshots to prune (pure).

Only snapshots whose name starts with the job's stem (`<prefix>_<job>_`) are
ever candidates, so a user's or sanoid's snapshots are never touched, nor
those of another job.  The newest replication snapshot both sides share is
always kept (it is the next incremental's base), and so are the `keep`
newest replication snapshots on each side; older ones go, on both sides,
only once a newer common one exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from .inventory import Snapshot


def snapshot_name(stem: str, now: datetime, taken: set[str] = frozenset()) -> str:
    """A new replication snapshot name: the stem plus UTC time, unique among `taken`."""
    base = stem + now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}.{n}"
    return name


def prunable(
    stem: str, source: Sequence[Snapshot], destination: Sequence[Snapshot], keep: int
) -> tuple[list[str], list[str]]:
    """(source names, destination names) of replication snapshots to destroy."""
    # the whole name, not just the stem: job "home" must not take "home_offsite"'s snapshots
    ours = re.compile(re.escape(stem) + r"\d{8}T\d{6}Z(\.\d+)?")
    ours_src = [s for s in source if ours.fullmatch(s.name)]
    ours_dst = [s for s in destination if ours.fullmatch(s.name)]
    dst_guids = {s.guid for s in ours_dst}
    common = next((s for s in reversed(ours_src) if s.guid in dst_guids), None)
    if common is None:
        return [], []
    return _older(ours_src, common.guid, keep), _older(ours_dst, common.guid, keep)


def _older(snaps: Sequence[Snapshot], common_guid: int, keep: int) -> list[str]:
    position = next(i for i, s in enumerate(snaps) if s.guid == common_guid)
    kept_by_count = {s.guid for s in snaps[max(0, len(snaps) - keep) :]} if keep else set()
    return [s.name for s in snaps[:position] if s.guid not in kept_by_count]
