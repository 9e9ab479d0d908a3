"""One run of one job, its steps in order: check, list, resume partials,
plan, snapshot, send, verify, hold, prune.

The decisions are the pure modules' (planning/, commands/); every command
goes through the Executor, so `--dry-run` walks the same path, runs only
the read-only commands and prints the rest.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from datetime import datetime

from ..commands import zfs
from ..jobs.job import Job
from ..planning import capabilities, exclusion, naming, plan, selection, text, unchanged
from ..planning.inventory import Inventory
from . import holds, listing, prune, tree, verify
from .check import check, no_resume_notice
from .context import Outcome, RunOptions, RunState
from .execute import Executor
from .parallel import run_pairs
from .partials import resume_partials
from .progress import Progress

__all__ = ["Outcome", "RunOptions", "check", "run"]
log = logging.getLogger("zfs_sync_wizard")


def run(job: Job, opts: RunOptions, echo=print) -> Outcome:
    control_dir = tempfile.mkdtemp(prefix="zsw-ssh-")
    ex = Executor(dry_run=opts.dry_run, control_dir=control_dir, echo=echo)
    state = RunState(job, opts, ex)
    try:
        _run(state)
        return state.outcome
    finally:
        ex.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def _run(s: RunState) -> None:
    job, ex, opts = s.job, s.ex, s.opts
    s.progress = Progress(bar=opts.progress and not opts.dry_run, interval=job.logs["progress_interval"])
    found = check(job, ex)
    s.src_caps, s.dst_caps = found[s.src][1], found[s.dst][1]
    if not s.resumable:  # in the log and --check; not printed, so cron stays quiet
        log.info("%s", no_resume_notice(s.src, s.dst))
    s.receive_options, note = capabilities.receive_options(
        s.dst_caps, job.receive_set, job.receive_exclude, s.dst.label
    )
    notes = [note] if note else []
    src_inv = listing.list_side(s, s.src, job.source.dataset, required=True)
    left_out = exclusion.excluded(src_inv, job.source.dataset, job.source_exclude) if job.recursive else {}
    src_inv = exclusion.without(src_inv, left_out)
    notes += [f"left out: {name} ({why})" for name, why in left_out.items()]
    for line in notes:
        log.info("%s: %s", job.name, line)
    dst_inv, kept = _destination(s, src_inv)
    chosen = selection.for_job(job)
    empties = listing.empty_destinations(s, dst_inv)
    planned, pairs = _plan(s, src_inv, dst_inv, empties, kept, notes)
    if opts.dry_run:
        chosen_line = [f"snapshots: {chosen.describe()}"] if chosen.source != selection.OWN else []
        ex.echo(text.summary(job, pairs, planned, chosen_line + notes))
    if planned and plan.transfers(pairs):
        _snapshot(s, list(src_inv) if left_out else [], planned)
        if not opts.dry_run:
            pairs = _taken(pairs, planned, listing.taken_guids(s, src_inv, planned))
    _ensure_parent(s, dst_inv)
    for pair in plan.transfers(
        pairs
    ):  # an empty destination is received over unmounted (zfs-fuse fails otherwise)
        if pair.destination in empties:
            ex.run(s.dst, zfs.unmount(pair.destination), changes=True)
    one = tree.planned(s, src_inv, pairs, whole=not left_out and not kept) if plan.transfers(pairs) else None
    as_tree = bool(one) and tree.send(s, *one, src_inv, pairs)
    if one and not as_tree:  # what the one stream carried stays; the rest goes one by one
        src_inv, dst_inv, pairs = _again(s)
    if not as_tree:
        run_pairs(s, pairs, src_inv)
    _set_readonly(s)
    if opts.dry_run:
        src_after, dst_after = plan.predicted(src_inv, dst_inv, pairs, planned, int(time.time()))
        arrived = plan.transfers(pairs)
    elif not plan.transfers(pairs):  # nothing sent: the destination is as listed
        src_after, dst_after = src_inv, dst_inv
        s.outcome.destination = dst_after
        arrived = []
    else:
        src_after = src_inv
        dst_after = listing.list_side(s, s.dst, job.destination.dataset, required=False)
        s.outcome.destination = dst_after
        arrived = verify.verify(s, pairs, dst_after)
    stuck = frozenset(p.source for p in pairs if isinstance(p.plan, plan.Conflict))
    holds.move(s, arrived)
    holds.reconcile(s, src_after, dst_after, stuck)
    prune.prune(s, src_after, dst_after, stuck)


def _plan(
    s: RunState, src_inv: Inventory, dst_inv: Inventory, empties: frozenset, kept, notes: list
) -> tuple[str | None, list[plan.Pair]]:
    """(the replication snapshot to take or None, every dataset's plan).  Nothing new on the
    source, nothing done: where it can tell (planning/unchanged.py), no snapshot is taken."""
    job = s.job
    now = s.opts.now or datetime.now()
    planned = naming.snapshot_name(job.snapshot_stem, now, _names(src_inv)) if job.take_snapshots else None
    pairs = _plan_all(s, src_inv, dst_inv, empties, kept, planned)
    if planned and job.when_unchanged == unchanged.SKIP:
        as_is = _plan_all(s, src_inv, dst_inv, empties, kept, None)
        if unchanged.nothing_new(
            src_inv, dst_inv, as_is
        ):  # nothing written since the snapshot both sides have
            notes.append("nothing written on the source since its newest snapshot: no snapshot taken")
            log.info("%s: %s", job.name, notes[-1])
            return None, as_is
    return planned, pairs


def _plan_all(
    s: RunState, src_inv: Inventory, dst_inv: Inventory, empties: frozenset, kept, planned: str | None
) -> list[plan.Pair]:
    job = s.job
    policy = plan.Policy(job.incremental, job.initial, job.rollback or s.opts.rollback)
    chosen = selection.for_job(job)
    pairs = plan.plan_datasets(
        src_inv,
        dst_inv,
        job.source.dataset,
        job.destination.dataset,
        policy,
        empties,
        planned,
        (job.snapshot_stem, job.hold_tag),
        chosen.carried if chosen.filtered else None,
    )
    return [p for p in pairs if p.destination not in kept]  # their partial receives wait for the next run


def _again(s: RunState) -> tuple[Inventory, Inventory, list[plan.Pair]]:
    """After a tree stream failed: both sides listed again, the partial receive it left
    resumed, and every dataset planned again (the replication snapshot exists now)."""
    job = s.job
    src_inv = listing.list_side(s, s.src, job.source.dataset, required=True)
    dst_inv, kept = _destination(s, src_inv)
    empties = listing.empty_destinations(s, dst_inv)
    return src_inv, dst_inv, _plan_all(s, src_inv, dst_inv, empties, kept, None)


def _destination(s: RunState, src_inv: Inventory) -> tuple[Inventory, set[str]]:
    """The destination's listing once the partial receives an earlier stream left are resumed or
    aborted (listed again where there were any), and the datasets whose partial receive waits."""
    dst_inv = listing.list_side(s, s.dst, s.job.destination.dataset, required=False)
    found, kept = resume_partials(s, src_inv, dst_inv)
    if found and not s.opts.dry_run:
        dst_inv = listing.list_side(s, s.dst, s.job.destination.dataset, required=False)
    return dst_inv, kept


def _set_readonly(s: RunState) -> None:
    """readonly=on for every destination received in full: one command for all of them."""
    if not s.fresh:
        return
    result = s.ex.run(s.dst, zfs.set_readonly(*s.fresh), changes=True, check=False)
    if result is not None and result.status != 0:
        s.outcome.errors.append(
            f"{s.dst.label}: zfs set readonly=on {' '.join(s.fresh)}: {result.stderr.strip()}"
        )


def _snapshot(s: RunState, datasets: list[str], name: str) -> None:
    """The replication snapshot: recursive on the job's dataset, or, when children are left
    out, on each dataset of the job (one atomic command where zfs takes several: OpenZFS)."""
    job = s.job
    if not datasets:
        s.ex.run(s.src, zfs.snapshot(job.source.dataset, name, job.recursive), changes=True)
        return
    for group in [datasets] if s.src_caps.batch_destroy else [[d] for d in datasets]:
        s.ex.run(s.src, zfs.snapshots(group, name), changes=True)


def _names(inv: Inventory) -> set[str]:
    return {snap.name for ds in inv.values() for snap in ds.snapshots}


def _taken(pairs: list[plan.Pair], planned: str, guids: dict[str, int]) -> list[plan.Pair]:
    """The plans once the planned snapshot exists, with its GUID on each dataset."""
    out = []
    for pair in pairs:
        if isinstance(pair.plan, plan.Transfer) and pair.source in guids:
            pair = plan.Pair(pair.source, pair.destination, pair.plan.taken(planned, guids[pair.source]))
        out.append(pair)
    return out


def _ensure_parent(s: RunState, dst_inv: Inventory) -> None:
    dataset = s.job.destination.dataset
    parent = dataset.rpartition("/")[0]
    if dataset not in dst_inv and "/" in parent:
        s.ex.run(s.dst, zfs.create_parents(parent), changes=True)
