"""Which snapshots to prune on each side (pure, `now` passed in).

Only snapshots the job owns are ever candidates (`owned`: by default the
job's own replication snapshots, `<prefix>_<job>_<time>`; with
`snapshots.source: existing`, on the destination also those matching the
job's patterns), so a user's, sanoid's or another job's are never touched.

The counts are calendar windows counted back from `now` (UTC): `daily: 7`
keeps the newest snapshot of each of the 7 days ending today (today
included), `weekly: 4` the newest of each of the last 4 ISO weeks, and so
on for hours, months and years.  A period without a snapshot is not made
up for by an older one: a nightly job's `hourly: 24` keeps one snapshot
(the last 24 hours), never 24 nights.  Each side is counted on its own, so
the destination can keep a longer history than the source.

Never destroyed, whatever the counts say: the newest snapshot both sides
share (the next incremental's base) and anything newer, the `keep` newest
owned ones per side, a snapshot someone holds (`userrefs` > 0 in the
listing), and a snapshot created after `now`.

A dataset stuck in a conflict (`stuck`) gets a new replication snapshot
every run that can never be sent: on its source, of those newer than the
common one (or all of them, without a common one) only the newest
max(keep, 1) stay, so they never pile up while someone resolves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Union

from . import naming
from .inventory import Snapshot

PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
Owned = Union[str, Callable[[str], bool]]  # a replication snapshot stem, or a name test


def _index(period: str, stamp: int) -> int:
    """The number of the calendar period (UTC) that holds `stamp`; consecutive periods differ by 1."""
    if period == "hourly":
        return stamp // 3600
    if period == "daily":
        return stamp // 86400
    if period == "weekly":
        return (stamp // 86400 + 3) // 7  # ISO weeks start on Monday; 1970-01-01 was a Thursday
    when = datetime.fromtimestamp(stamp, timezone.utc)
    return when.year * 12 + when.month - 1 if period == "monthly" else when.year


def held(snap: Snapshot) -> bool:
    """Whether someone holds this snapshot (`userrefs` in the listing); unknown counts as not."""
    refs = snap.props.get("userrefs", "0")
    return refs.isdigit() and int(refs) > 0


def _owns(owned: Owned) -> Callable[[str], bool]:
    if isinstance(owned, str):
        return lambda name: naming.is_ours(owned, name)
    return owned


def prunable(
    owned: Owned,
    source: Sequence[Snapshot],
    destination: Sequence[Snapshot],
    keep: int,
    retention: Mapping[str, Mapping[str, int]] | None = None,
    stuck: bool = False,
    now: datetime | None = None,
    dst_owned: Owned | None = None,
) -> tuple[list[str], list[str]]:
    """(source names, destination names) of snapshots to destroy.

    `owned` says which snapshots are the job's (a stem or a name test);
    `dst_owned`, when given, says so for the destination (which may prune
    the job's patterns where the source prunes only its own snapshots).
    Without `now` no calendar window keeps anything (only `keep` does).
    """
    mine, theirs = _owns(owned), _owns(dst_owned if dst_owned is not None else owned)
    at_dst = {s.guid: s for s in destination}
    shared = [s for s in source if s.guid in at_dst]
    ours_src = [s for s in source if mine(s.name)]
    base = next((s for s in reversed(shared) if mine(s.name)), None)
    unsent = [s for s in ours_src if base is None or s.createtxg > base.createtxg]
    piled = [s.name for s in unsent[: -max(keep, 1)] if not held(s)] if stuck else []
    if not shared:
        return piled, []
    retention = retention or {}
    newest = shared[-1].guid  # the next incremental's base, whoever owns it
    dst_base = next((at_dst[s.guid] for s in reversed(shared) if theirs(at_dst[s.guid].name)), None)
    ours_dst = [s for s in destination if theirs(s.name)]
    return (
        older(ours_src, base, newest, keep, retention.get("source", {}), now) + piled,
        older(ours_dst, dst_base, newest, keep, retention.get("destination", {}), now),
    )


def older(
    snaps: Sequence[Snapshot],
    base: Snapshot | None,
    newest_common: int,
    keep: int,
    counts: Mapping[str, int],
    now: datetime | None,
) -> list[str]:
    """Names of `snaps` (one side's owned snapshots, oldest first) older than `base` (the newest
    owned one both sides share) that no rule keeps; `newest_common` (a GUID) is always kept."""
    if base is None:
        return []
    kept = {id(s) for s in snaps[max(0, len(snaps) - keep) :]} if keep else set()
    if now is not None:
        kept |= {id(s) for s in kept_by_period(snaps, counts, now)}
    return [
        s.name
        for s in snaps
        if s.createtxg < base.createtxg and s.guid != newest_common and id(s) not in kept and not held(s)
    ]


def kept_by_period(snaps: Sequence[Snapshot], counts: Mapping[str, int], now: datetime) -> list[Snapshot]:
    """The newest snapshot in each of the last `counts[period]` calendar periods up to `now`,
    and every snapshot created after `now` (a clock ahead of ours is no reason to destroy)."""
    stamp = int(now.timestamp())
    newest_first = sorted(snaps, key=lambda s: (s.creation, s.createtxg), reverse=True)
    kept = [s for s in newest_first if s.creation > stamp]
    for period in PERIODS:
        count = counts.get(period, 0)
        if not count:
            continue
        current = _index(period, stamp)
        seen: set[int] = set()
        for snap in newest_first:
            bucket = _index(period, snap.creation)
            if current - count < bucket <= current and bucket not in seen:
                seen.add(bucket)
                kept.append(snap)
    return list({id(s): s for s in kept}.values())
