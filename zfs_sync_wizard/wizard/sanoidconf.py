"""sanoid.conf on each side of a job: `zfs-sync-wizard sanoid NAME`, and the
save step of create/edit when the job replicates sanoid's snapshots.

Each side's file is read over the Executor (`cat`, over ssh for a remote
side), our section written into it by the pure sanoid/edit.py, the change
shown as a unified diff, and, once the person says yes, written back
atomically: a temporary file in the same folder (a copy of the old one, so
mode and owner stay), then `mv` over it, the old file kept as
`sanoid.conf.bak-YYYYmmddHHMMSS`.  The write is refused if the file changed
since it was read.  Whether sanoid is installed and scheduled there is
checked, and what is missing said with the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CommandFailed, ConfigError, ExitCode, ZswError
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..sanoid import edit, scheduling
from . import manage, preview
from .context import Context

# the file's cksum line ("none": no file), then the file
READ = '[ -e "$1" ] || { echo none; exit 0; }; cksum < "$1" && cat -- "$1"'
# $1 file, $2 backup, $3 the cksum line it had when read; stdin: the new text
WRITE = """\
set -eu
f=$1; b=$2; was=$3
if [ -e "$f" ]; then now=$(cksum < "$f"); else now=none; fi
if [ "$now" != "$was" ]; then echo "$f changed since it was read; nothing written" >&2; exit 3; fi
d=$(dirname -- "$f"); mkdir -p -- "$d"
t="$d/.sanoid.conf.zsw-tmp.$$"
trap 'rm -f -- "$t"' EXIT
if [ -e "$f" ]; then cp -p -- "$f" "$b"; cp -p -- "$f" "$t"; fi
cat > "$t"
[ -e "$f" ] || chmod 644 "$t"
mv -f -- "$t" "$f"
trap - EXIT
"""


@dataclass
class Change:
    """One side's sanoid.conf: as read, and with our section written."""

    side: str  # "source" or "destination"
    endpoint: Endpoint
    path: str
    stamp: str  # the cksum line when read; "none" for no file
    old: str
    new: str
    advice: list = field(default_factory=list)  # sanoid missing or not scheduled, and how to fix it
    notes: list = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.endpoint.label}:{self.path}"


def conf_path(given: str | None) -> str:
    """The file for `--sanoid-conf`: a path ending in .conf is the file, else a folder holding sanoid.conf."""
    if not given:
        return scheduling.CONF
    return given if given.endswith(".conf") else given.rstrip("/") + "/sanoid.conf"


def want(job: Job, side: str) -> edit.Want:
    """The section for `side`: the source's sanoid takes and prunes, the destination's only prunes."""
    source = side == "source"
    dataset = job.source.dataset if source else job.destination.dataset
    recursive = None
    if job.recursive:  # one atomic `zfs snapshot -r` on the source, so every child has each snapshot
        recursive = "zfs" if source else "yes"
    return edit.Want(job.name, dataset, job.retention[side], autosnap=source, recursive=recursive)


def prepare(ctx: Context, job: Job, side: str, path: str) -> Change:
    """Read the side's file and write our section into it (nothing is changed yet).

    Raises ConfigError for a hand-written section of the dataset, ZswError when the file cannot be read.
    """
    endpoint = (job.source if side == "source" else job.destination).endpoint
    read = ctx.executor.run(endpoint, ["sh", "-c", READ, "sh", path], changes=False, check=False)
    stamp, _, old = read.stdout.partition("\n")
    if read.status != 0 or not stamp:
        raise CommandFailed(endpoint.label, f"cat {path}", read.status, read.stderr)
    old = "" if stamp == "none" else old
    wanted = want(job, side)
    new = edit.update(old, wanted, where=f"{endpoint.label}:{path}")
    probe = ctx.executor.shell(endpoint, scheduling.PROBE, check=False)
    state = scheduling.parse(probe.stdout) if probe.status == 0 else None
    advice = scheduling.advice(state, endpoint.label, path)
    notes = edit.notes(new, wanted) + edit.left_behind(
        new, job.name, {job.source.dataset, job.destination.dataset}
    )
    return Change(side, endpoint, path, stamp, old, new, advice, notes)


def show(ctx: Context, change: Change) -> None:
    ui = ctx.ui
    for line in change.advice:
        ui.warn(line)
    for line in change.notes:
        ui.note(line)
    if change.new == change.old:
        ui.ok(f"{change.where}: the {change.side}'s section is up to date")
        return
    ui.say(f"  changes to sanoid.conf on {change.endpoint.label} ({change.side}):")
    ui.block(preview.diff(change.old, change.new, change.path))


def write(ctx: Context, change: Change) -> None:
    """Write the change atomically, the previous file kept beside it."""
    if change.new == change.old:
        return
    backup = f"{change.path}.bak-{ctx.now().strftime('%Y%m%d%H%M%S')}"
    argv = ["sh", "-c", WRITE, "sh", change.path, backup, change.stamp]
    ctx.executor.run(change.endpoint, argv, changes=True, input=change.new)
    kept = f" (the previous one kept as {backup})" if change.stamp != "none" else ""
    ctx.ui.ok(f"wrote {change.where}{kept}")


def command(ctx: Context, name: str, source_conf: str | None, destination_conf: str | None) -> int:
    """`zfs-sync-wizard sanoid NAME`: each side's section, after its diff and a question."""
    ui = ctx.ui
    job = manage.load(ctx, name)
    ui.heading(f"sanoid.conf for job {name}")
    if job.take_snapshots:
        ui.note(
            "this job takes its own replication snapshots (snapshots: take: true); sanoid's, taken "
            "between runs, are sent with them, and sanoid prunes its own"
        )
    change = prepare(ctx, job, "source", conf_path(source_conf))
    show(ctx, change)
    if change.new != change.old and ui.confirm(f"Write {change.where}?", default=True):
        write(ctx, change)
    question = (
        f"Also the destination's section on {job.destination.endpoint.label} "
        "(its sanoid prunes what arrives and takes no snapshots)?"
    )
    if not ui.confirm(question, default=True):
        return ExitCode.OK
    change = prepare(ctx, job, "destination", conf_path(destination_conf))
    show(ctx, change)
    if change.new != change.old and ui.confirm(f"Write {change.where}?", default=True):
        write(ctx, change)
    return ExitCode.OK


def preview_sides(ctx: Context, job: Job) -> list[Change]:
    """Create/edit: both sides' changes, shown before the save question; a side that
    cannot be read or is hand-written is said and left out."""
    changes = []
    for side in ("source", "destination"):
        try:
            change = prepare(ctx, job, side, scheduling.CONF)
        except ConfigError as exc:
            ctx.ui.warn(f"{exc}\n(the job is saved all the same; then: zfs-sync-wizard sanoid {job.name})")
            continue
        except ZswError as exc:
            ctx.ui.warn(
                f"cannot read sanoid.conf on the {side}: {exc}; later: zfs-sync-wizard sanoid {job.name}"
            )
            continue
        show(ctx, change)
        changes.append(change)
    return changes


def write_sides(ctx: Context, changes: list[Change]) -> None:
    """Create/edit, once saved: write what was shown; a failure is said, the job stays saved."""
    for change in changes:
        try:
            write(ctx, change)
        except ZswError as exc:
            ctx.ui.problem(f"sanoid.conf on the {change.side} was not written: {exc}")
