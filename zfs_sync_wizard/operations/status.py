"""What `zfs-sync-run --status` tells about a job: its last run, what it
holds as the next incremental's base, and the errors it ended with."""

from __future__ import annotations

from pathlib import Path

import humanize

from ..jobs.job import Job
from ..running import records
from . import notice


def lines(job: Job, state_dir: Path) -> list[str]:
    last = records.last(state_dir, job.name)
    if not last:
        return [f"{job.name}: never run"]
    size = humanize.naturalsize(last.get("bytes", 0), binary=True)
    out = [
        f"{job.name}: last run {last['end'] or last['start']}: {last['result']} (exit {last['exit_code']}), {size} sent"
    ]
    for snap in last.get("held", []):
        out.append(
            f"{job.name}: {snap} is held (zfs hold {job.hold_tag}) on both sides as the next incremental's base; "
            f"'zfs destroy' refuses it (dataset is busy / it's being held) until a newer common snapshot exists "
            f"(or release it: zfs release {job.hold_tag} SNAPSHOT)"
        )
    for error in last.get("errors", []):
        out.append(f"{job.name}: error: {error}")
    out += [f"{job.name}: {line}" for line in notice.undelivered(last)]
    return out
