"""`zfs-sync-run --verify [--deep] NAME`: are both sides equal?

One listing per side gives every dataset pair's snapshots, compared by GUID
(planning/compare.py).  With `deep`, the newest snapshot each pair holds on
both sides by name is read file by file on both sides at once, and the two
checksum streams are merged as they arrive (planning/content.py).  Nothing
is changed on either side, apart from a temporary read-only clone where a
snapshot cannot be read otherwise, which is destroyed again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone

from ..errors import VerificationFailed
from ..jobs.job import Job
from ..planning import compare, content
from ..running import listing
from ..running.context import RunOptions, RunState
from ..running.execute import Executor
from ..running.snapshot_files import checksum_lines, snapshot_dir


def rules(job: Job) -> compare.Rules:
    return compare.Rules(
        job.snapshot_stem,
        every_snapshot=job.incremental == "intermediate",
        keep=job.keep,
        retention=(job.retention or {}).get("destination", {}) if job.take_snapshots else None,
        now=datetime.now(timezone.utc),
    )


def verify(job: Job, deep: bool = False, echo: Callable[[str], None] = print) -> bool:
    """Print the report; True when both sides are equal."""
    control_dir = tempfile.mkdtemp(prefix="zsw-ssh-")
    ex = Executor(control_dir=control_dir)
    s = RunState(job, RunOptions(), ex)
    try:
        src_inv = listing.list_side(s, s.src, job.source.dataset, required=True)
        dst_inv = listing.list_side(s, s.dst, job.destination.dataset, required=False)
        reports = compare.compare_job(
            src_inv, dst_inv, job.source.dataset, job.destination.dataset, rules(job)
        )
        for line in compare.lines(job.name, reports):
            echo(line)
        equal = all(r.ok for r in reports)
        if deep:
            for r in reports:
                if r.source is not None and r.destination in dst_inv:
                    snap = compare.newest_shared(
                        src_inv[r.source].snapshots, dst_inv[r.destination].snapshots
                    )
                    equal = _deep(s, r, snap, echo) and equal
        return equal
    finally:
        ex.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def _deep(s: RunState, r: compare.Report, snap: str | None, echo: Callable[[str], None]) -> bool:
    where = f"{s.job.name}: {r.source} -> {r.destination}"
    if snap is None:
        echo(f"{where}: no snapshot of the same name on both sides: content not compared")
        return False
    with (
        snapshot_dir(s.ex, s.src, r.source, snap) as src_dir,
        snapshot_dir(s.ex, s.dst, r.destination, snap) as dst_dir,
    ):
        with checksum_lines(s.ex, s.src, src_dir) as left, checksum_lines(s.ex, s.dst, dst_dir) as right:
            try:
                found = content.compare(left, right)
            except ValueError as exc:
                raise VerificationFailed(f"{where}: {exc}") from None
    for line in content.lines(where, snap, found):
        echo(line)
    return not found.count
