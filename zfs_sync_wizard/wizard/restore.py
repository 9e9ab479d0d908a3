"""Getting data back: pick a job, a snapshot of its backup, and where it goes.

The plan and its exact commands are the runner's own dry run
(`zfs-sync-run --restore ... --dry-run`); the restore itself is the runner
on this terminal, so pv's progress shows as it happens.  The restored
dataset is new; swapping it into the original's place is offered only
after a second yes (default No), and never done otherwise.
"""

from __future__ import annotations

from datetime import datetime

from ..commands import zfs
from ..commands.pipeline import shell_join
from ..errors import ExitCode, UsageError, ZswError
from ..jobs import names, paths
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..planning import inventory
from ..planning import restore as rp
from ..running import busy
from ..running import restore as rr
from ..schedule import cron
from . import datasets, manage, schedule
from .context import Context

LOCAL = Endpoint()
SHOWN = 30  # snapshots offered, newest first
PLACE, BESIDE, OTHER = "place", "beside", "other"


def restore(ctx: Context, name: str | None, browse: bool = False) -> int:
    ui = ctx.ui
    name = name or choose_job(ctx)
    if name is None:
        return ExitCode.OK
    job = manage.load(ctx, name)
    ui.heading(f"Restore from {name}: {job.destination.endpoint.label}:{job.destination.dataset}")
    backup, snap = choose_snapshot(ctx, job)
    if browse:
        from . import browse as browsing  # only this mode needs it

        return browsing.browse(ctx, job, backup, snap)
    endpoint, target = choose_target(ctx, job, backup)
    argv = _runner(ctx, job, backup, snap, endpoint, target)
    ui.heading("Plan")
    ui.say("  dry run (nothing is changed; the listings are real):")
    dry = ctx.executor.run(LOCAL, argv + ["--dry-run"], changes=False, check=False)
    ui.block(dry.stdout)
    if dry.status != 0:
        ui.problem(dry.stderr.strip() or f"the dry run ended with exit status {dry.status}")
        return dry.status
    if not ui.confirm(f"Restore @{snap} into {endpoint.label}:{target} now?", default=True):
        ui.say("Nothing was restored.")
        return ExitCode.OK
    ui.say(f"Restoring (zfs-sync-run --restore {name}; progress below) ...")
    status = ctx.executor.attached(argv)
    if status != 0:
        ui.problem(f"the restore ended with exit status {status} (the runner's message is above)")
        return status
    ui.ok(f"restored and verified: {endpoint.label}:{target}@{snap} has the backup's GUID")
    _offer_swap(ctx, job, backup, endpoint, target)
    return ExitCode.OK


def choose_job(ctx: Context) -> str | None:
    jobs = sorted(p.stem for p in paths.jobs_dir(ctx.config_dir).glob("*.yaml"))
    if not jobs:
        ctx.ui.say("No jobs yet: there is no backup to restore from.")
        return None
    return ctx.ui.select("Restore from which job's backup?", [(n, n) for n in jobs], default=jobs[0])


def choose_snapshot(ctx: Context, job: Job) -> tuple[str, str]:
    """(backup dataset, snapshot): newest first, each with its date, how long ago, and its size."""
    ui, top, where = ctx.ui, job.destination.dataset, job.destination.endpoint
    listed = ctx.executor.run(where, zfs.listing(top, job.recursive, ["referenced"]), changes=False)
    inv = inventory.parse(listed.stdout)
    backup = top
    tree = [n for n in inventory.children(inv, top) if inv[n].snapshots]
    if len(tree) > 1:
        backup = ui.select("Which dataset of the backup?", [(n, n) for n in tree], default=top)
    snaps = list(reversed(inv[backup].snapshots)) if backup in inv else []
    if not snaps:
        raise UsageError(f"{where.label}:{backup} holds no snapshot to restore")
    now = ctx.now()
    choices = [(snapshot_title(s, now), s.name) for s in snaps[:SHOWN]]
    return backup, ui.select("Which snapshot? (newest first)", choices, default=snaps[0].name)


def snapshot_title(snap: inventory.Snapshot, now: datetime) -> str:
    moment = datetime.fromtimestamp(snap.creation, now.tzinfo)
    size = snap.props.get("referenced", "")
    shown = datasets.size(int(size)) if size.isdigit() else "?"
    return f"@{snap.name}  {moment:%Y-%m-%d %H:%M} ({schedule.in_words(moment, now)}), {shown}"


def choose_target(ctx: Context, job: Job, backup: str) -> tuple[Endpoint, str]:
    """Back in place only when the original is gone; else a new name beside it, or anywhere named."""
    ui, home = ctx.ui, job.source.endpoint
    original = rp.original(job, backup)
    new = rp.beside(original, ctx.now())
    gone = not rr.exists(ctx.executor, home, original)
    choices = []
    if gone:
        ui.note(f"{home.label}:{original} no longer exists: it can go back to its place")
        choices.append((f"Back to its place: {home.label}:{original} (it no longer exists)", PLACE))
    choices.append((f"Beside it, as a new dataset: {home.label}:{new}", BESIDE))
    choices.append(("Another dataset or host...", OTHER))
    where = ui.select("Where should it go?", choices, default=PLACE if gone else BESIDE)
    if where == PLACE:
        return home, original
    if where == BESIDE:
        return home, new
    host = ui.text(
        "Host ([user@]host; empty for this machine)",
        default="" if home.is_local else home.target,
        check=lambda a: a and names.host(a) and a,
    )
    endpoint = rp.endpoint_for(host, job) if host else LOCAL
    target = ui.text("New dataset (must not exist yet)", default=new, check=names.dataset)
    return endpoint, target


def _runner(ctx: Context, job: Job, backup: str, snap: str, endpoint: Endpoint, target: str) -> list[str]:
    """The runner's command line for this restore, once it is known to start."""
    name = job.name
    program = ctx.run_program or cron.runner_program()
    cron.check_runner(ctx.executor, program)
    state = ctx.state_dir if ctx.state_dir_given else None
    argv = cron.run_argv(name, ctx.config_dir, state, program)[:-1]
    to = target if endpoint.is_local else f"{endpoint.target}:{target}"
    argv += ["--restore", name, "--snapshot", snap, "--to", to]
    return argv + (["--dataset", backup] if backup != job.destination.dataset else [])


def _offer_swap(ctx: Context, job: Job, backup: str, endpoint: Endpoint, target: str) -> None:
    """The swap, shown always; done only after two yeses (both default No)."""
    ui, original, now = ctx.ui, rp.original(job, backup), ctx.now()
    if endpoint != job.source.endpoint or target == original:
        return
    commands = rr.swap_commands(original, target, now)
    line = " && ".join(shell_join(argv) for argv in commands)
    if not rr.exists(ctx.executor, endpoint, original):
        commands = commands[2:]  # nothing to move aside
        line = shell_join(commands[0])
    ui.note(f"to put it in place of {original} (on {endpoint.label}): {line}")
    if not ui.confirm("Swap the restored dataset into place now?", default=False):
        ui.note("not swapped; the restored dataset stays beside the original")
        return
    if not ui.confirm(f"Sure? This runs: {line}", default=False):
        ui.note("not swapped")
        return
    done = []
    try:
        for argv in commands:
            if argv[1] == "rename":  # zfs-fuse calls a dataset it just unmounted busy for a moment
                busy.run(ctx.executor, endpoint, argv)
            else:  # a dataset in use refuses its unmount at once, before anything is renamed
                ctx.executor.run(endpoint, argv, changes=True)
            done.append(shell_join(argv))
    except ZswError as exc:
        raise ZswError(
            f"the swap stopped: {exc}\n  done before that: {'; '.join(done) or 'nothing'}"
        ) from None
    finally:
        for dataset in (original, rp.set_aside(original, now)):  # whatever exists is mounted again
            ctx.executor.run(endpoint, zfs.mount(dataset), changes=True, check=False)
    ui.ok(f"{original} is now the restored data; the one it replaced is {rp.set_aside(original, now)}")
    ui.note(
        f"the job's next run continues from that snapshot; backup snapshots newer than it are refused "
        f"as diverged unless allowed (zfs-sync-run --rollback {job.name})"
    )
