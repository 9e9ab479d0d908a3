"""Running a restore: the job in reverse through the runner's own steps.

check both sides, list the backup, refuse an existing target, send one
snapshot in full through the same pipeline code (`transfer.run_pair`, so the
same stages, retries, raw sends and progress), then verify by GUID that the
new dataset holds the backup's snapshot.  In a dry run the listings are
real and every command that would change something is printed instead.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime

from ..commands import zfs
from ..commands.pipeline import shell_join
from ..errors import CommandFailed, ConnectionFailed
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..planning import restore as rp
from . import listing, verify
from .check import check
from .context import Outcome, RunOptions, RunState
from .execute import Executor
from .progress import Progress
from .transfer import run_pair


@dataclass
class Restored:
    """What a restore did: the runner's outcome, and the GUID checked on the new dataset."""

    outcome: Outcome
    guid: int | None = None  # the snapshot's GUID, on the backup and (when verified) on the target
    verified: bool = False
    notes: list[str] = field(default_factory=list)


def restore(job: Job, request: rp.Request, opts: RunOptions, echo=print) -> Restored:
    """Restore `request`; raises RestoreRefused (nothing changed) or ZswError before any send."""
    rp.check_target(job, request)
    reverse = rp.reversed_job(job, request)
    control_dir = tempfile.mkdtemp(prefix="zsw-ssh-")
    ex = Executor(dry_run=opts.dry_run, control_dir=control_dir, echo=echo)
    state = RunState(
        reverse,
        opts,
        ex,
        progress=Progress(bar=opts.progress and not opts.dry_run, interval=job.logs["progress_interval"]),
    )
    try:
        return _restore(state, request, opts.now or datetime.now())
    finally:
        ex.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def _restore(s: RunState, request: rp.Request, now: datetime) -> Restored:
    ex = s.ex
    found = check(s.job, ex)
    s.src_caps, s.dst_caps = found[s.src][1], found[s.dst][1]
    backups = listing.list_side(s, s.src, request.dataset, required=False)
    pair = rp.plan(backups.get(request.dataset), request, s.src.label)
    if exists(ex, s.dst, request.target):
        raise rp.RestoreRefused(rp.exists_message(request, now))
    snap = pair.plan.sends[0]
    done = Restored(s.outcome, snap.target_guid)
    if ex.dry_run:
        ex.echo(
            f"restore {s.src.label}:{request.dataset}@{snap.target} (guid {snap.target_guid}) -> "
            f"{s.dst.label}:{request.target} (new dataset, full send)"
        )
    parent = request.target.rpartition("/")[0]
    if "/" in parent and not exists(ex, s.dst, parent):
        ex.run(s.dst, zfs.create_parents(parent), changes=True)
    run_pair(s, pair, rp.until(backups[request.dataset], snap.target))
    if s.outcome.errors or ex.dry_run:
        return done
    after = listing.list_side(s, s.dst, request.target, required=False)
    done.verified = bool(verify.verify(s, [pair], after))
    return done


def exists(ex: Executor, endpoint: Endpoint, dataset: str) -> bool:
    """Whether `dataset` exists on `endpoint` (a read-only question; ssh failures are raised)."""
    result = ex.run(endpoint, zfs.value("type", dataset), changes=False, check=False)
    if result.status == 0:
        return True
    if "does not exist" in result.stderr:
        return False
    error = ConnectionFailed if result.status == 255 and not endpoint.is_local else CommandFailed
    raise error(endpoint.label, shell_join(zfs.value("type", dataset)), result.status, result.stderr)


def swap_commands(original: str, restored: str, now: datetime) -> list[list[str]]:
    """The renames that put a restored dataset in the original's place (the original kept aside).

    Unmounted first: a dataset in use is then refused before anything is renamed.
    """
    return [
        zfs.unmount(original),
        zfs.rename(original, rp.set_aside(original, now)),
        zfs.rename(restored, original),
    ]


def swap_hint(endpoint: Endpoint, original: str, restored: str, now: datetime) -> list[str]:
    """How to swap the restored dataset into place, as lines to print (never run here)."""
    where = "" if endpoint.is_local else f" (on {endpoint.label})"
    line = " && ".join(shell_join(argv) for argv in swap_commands(original, restored, now))
    return [
        f"to put it in place of {original}{where}:",
        f"  {line}",
        f"  then mount both: zfs mount {original} && zfs mount {rp.set_aside(original, now)}",
    ]
