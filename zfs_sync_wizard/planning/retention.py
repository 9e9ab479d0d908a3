"""Which of the job's own replication snapshots to prune (pure).

Only snapshots whose name starts with the job's stem (`<prefix>_<job>_`) are
ever candidates, so a user's or sanoid's snapshots are never touched, nor
those of another job.  The newest replication snapshot both sides share is
always kept (it is the next incremental's base), and so are the `keep`
newest replication snapshots on each side, and, per side, the newest
snapshot of each of the last N hours, days, weeks and months that have one
(the job's `retention` counts, as sanoid counts them; periods in UTC).
Older ones go only once a newer common one exists.

A dataset stuck in a conflict (`stuck`) gets a new replication snapshot
every run that can never be sent: on its source, of those newer than the
common one (or all of them, without a common one) only the newest
max(keep, 1) stay, so they never pile up while someone resolves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from . import naming
from .inventory import Snapshot

PERIODS = {
    "hourly": "%Y-%m-%dT%H",
    "daily": "%Y-%m-%d",
    "weekly": "%G-W%V",
    "monthly": "%Y-%m",
}


def prunable(
    stem: str,
    source: Sequence[Snapshot],
    destination: Sequence[Snapshot],
    keep: int,
    retention: Mapping[str, Mapping[str, int]] | None = None,
    stuck: bool = False,
) -> tuple[list[str], list[str]]:
    """(source names, destination names) of replication snapshots to destroy."""
    ours_src = [s for s in source if naming.is_ours(stem, s.name)]
    ours_dst = [s for s in destination if naming.is_ours(stem, s.name)]
    dst_guids = {s.guid for s in ours_dst}
    common = next((s for s in reversed(ours_src) if s.guid in dst_guids), None)
    unsent = ours_src[ours_src.index(common) + 1 :] if common is not None else ours_src
    piled = [s.name for s in unsent[: -max(keep, 1)]] if stuck else []
    if common is None:
        return piled, []
    retention = retention or {}
    return (
        _older(ours_src, common.guid, keep, retention.get("source", {})) + piled,
        _older(ours_dst, common.guid, keep, retention.get("destination", {})),
    )


def _older(snaps: Sequence[Snapshot], common_guid: int, keep: int, counts: Mapping[str, int]) -> list[str]:
    position = next(i for i, s in enumerate(snaps) if s.guid == common_guid)
    kept = {s.guid for s in snaps[max(0, len(snaps) - keep) :]} if keep else set()
    kept |= kept_by_period(snaps, counts)
    return [s.name for s in snaps[:position] if s.guid not in kept]


def kept_by_period(snaps: Sequence[Snapshot], counts: Mapping[str, int]) -> set[int]:
    """GUIDs of the newest snapshot in each of the last `counts[period]` periods that have one."""
    kept: set[int] = set()
    for period, count in counts.items():
        if not count:
            continue
        seen: list[str] = []
        for snap in sorted(snaps, key=lambda s: (s.creation, s.createtxg), reverse=True):
            bucket = datetime.fromtimestamp(snap.creation, timezone.utc).strftime(PERIODS[period])
            if bucket not in seen:
                if len(seen) == count:
                    break
                seen.append(bucket)
                kept.add(snap.guid)
    return kept
