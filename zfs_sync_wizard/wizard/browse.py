"""Single files out of a backup snapshot (`zfs-sync-wizard restore NAME --browse`).

The snapshot is opened read-only on the destination: its `.zfs/snapshot/SNAP`
folder where the backup dataset is mounted, else (a backup is received
unmounted; zfs-fuse has no .zfs at all) a temporary read-only clone mounted
under /tmp, destroyed afterwards, also after Ctrl-C (running/snapshot_files.py,
shared with `--verify --deep`).  Chosen paths go back
as `tar -c` there piped into `tar -x` at the target, through the runner's
pipeline code over ssh; a file that exists at the target is kept unless the
person asks to overwrite (`tar --skip-old-files`).
"""

from __future__ import annotations

import shlex

from ..commands import pipeline as pl
from ..commands import zfs
from ..errors import ExitCode, ZswError
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..planning import restore as rp
from ..running.execute import Executor
from ..running.snapshot_files import snapshot_dir
from .context import Context

DEPTH = 4  # how deep the listing goes (a deeper path is copied by naming its folder)
SHOWN = 60


def browse(ctx: Context, job: Job, backup: str, snap: str) -> int:
    ui, ex, where = ctx.ui, ctx.executor, job.destination.endpoint
    home = job.source.endpoint
    with snapshot_dir(ex, where, backup, snap, purpose="browse") as root:
        entries = listing(ex, where, root)
        ui.heading(f"{backup}@{snap} on {where.label} (read-only)")
        shown = sorted(entries)[:SHOWN]
        ui.block("\n".join(f"{entries[p]:<4} {p}" for p in shown) or "(empty)")
        if len(entries) > SHOWN:
            ui.note(f"... and {len(entries) - SHOWN} more (listed {DEPTH} levels deep)")
        chosen = ui.text(
            "Paths to copy (separated by spaces, quoted if they hold one)",
            check=lambda a: _check_paths(a, entries),
        )
        folder = ui.text(
            f"Copy into which folder on {home.label}?",
            default=_mountpoint(ex, home, rp.original(job, backup)) or "",
            check=_check_folder,
        )
        overwrite = ui.confirm("Overwrite files that exist there already?", default=False)
        ex.pipeline(copy_stages(where, root, chosen, home, folder, overwrite))
    kept = "" if overwrite else " (files that existed there were kept)"
    ui.ok(f"copied {', '.join(chosen)} into {home.label}:{folder}{kept}")
    return ExitCode.OK


def _mountpoint(ex: Executor, endpoint: Endpoint, dataset: str) -> str | None:
    """Where `dataset` is mounted, None when it is not (or does not exist)."""
    try:
        result = ex.run(endpoint, zfs.value("mounted,mountpoint", dataset), changes=False, check=False)
    except ZswError:
        return None
    values = result.stdout.split() if result.status == 0 else []
    return values[1] if len(values) == 2 and values[0] == "yes" and values[1].startswith("/") else None


def listing(ex: Executor, where: Endpoint, root: str) -> dict[str, str]:
    """{path relative to root: 'dir', 'file' or 'link'}, DEPTH levels deep."""
    script = f"cd {shlex.quote(root)} && find . -mindepth 1 -maxdepth {DEPTH} -printf '%y %P\\n'"
    kinds = {"d": "dir", "f": "file", "l": "link"}
    out = {}
    for line in ex.shell(where, script).stdout.splitlines():
        kind, _, path = line.partition(" ")
        out[path] = kinds.get(kind, "other")
    return out


def _check_paths(answer: str, entries: dict[str, str]) -> list[str]:
    try:
        paths = [p.strip("/") for p in shlex.split(answer)]
    except ValueError as exc:
        raise ValueError(f"cannot read the paths: {exc}") from None
    if not paths:
        raise ValueError("name at least one path from the list")
    for path in paths:
        if path not in entries:
            raise ValueError(f"{path!r} is not in the snapshot (paths are relative to its top, as listed)")
    return paths


def _check_folder(answer: str) -> str:
    if not answer.startswith("/") or "\n" in answer:
        raise ValueError("expected an absolute folder path, e.g. /tank/media")
    return answer


def copy_stages(
    where: Endpoint, root: str, paths: list[str], home: Endpoint, folder: str, overwrite: bool
) -> list[pl.Stage]:
    """tar out of the snapshot on the destination, into the folder on the source host."""
    keep = [] if overwrite else ["--skip-old-files"]
    return [
        pl.Stage("tar -c", ("tar", "-C", root, "-cf", "-", "--", *paths), where),
        pl.Stage("tar -x", ("tar", "-C", folder, *keep, "-xf", "-"), home),
    ]
