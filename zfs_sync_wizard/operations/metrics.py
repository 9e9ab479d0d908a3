"""Prometheus metrics for node_exporter's textfile collector.

With `metrics: textfile_dir: DIR` in a job (or defaults.yaml), every run
ends by writing `DIR/zfs_sync_<job>.prom` atomically (a temporary file
node_exporter ignores, then a rename).  `render` is pure.  The file is
written only at the end of a run, so alert on the newest snapshot's age,
`time() - zfs_sync_newest_snapshot_timestamp_seconds`, which keeps growing
when cron stops running the job; `zfs_sync_lag_seconds` is the lag at the
end of the last run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from ..errors import ZswError
from ..jobs import store
from ..jobs.job import Job
from ..planning import lag
from ..planning.inventory import Inventory
from ..running import listing
from ..running.execute import Executor
from .facts import SUCCESS, last_success

log = logging.getLogger("zfs_sync_wizard")

HELP = {
    "zfs_sync_last_run_success": ("gauge", "1 if the job's last run succeeded (ok or nothing to do), else 0"),
    "zfs_sync_last_run_exit_code": ("gauge", "exit status of the job's last run (zfs-sync-run(8))"),
    "zfs_sync_last_run_info": ("gauge", "the result of the job's last run, as a label"),
    "zfs_sync_last_run_timestamp_seconds": ("gauge", "when the job's last run ended (Unix time)"),
    "zfs_sync_last_success_timestamp_seconds": ("gauge", "when the job's last successful run ended"),
    "zfs_sync_duration_seconds": ("gauge", "how long the job's last run took"),
    "zfs_sync_sent_bytes": ("gauge", "bytes the job's last run sent"),
    "zfs_sync_lag_seconds": ("gauge", "age of the newest snapshot on the destination at the end of the run"),
    "zfs_sync_newest_snapshot_timestamp_seconds": (
        "gauge",
        "creation time of the newest snapshot on the destination dataset (Unix time)",
    ),
}


def file_name(job: str) -> str:
    return f"zfs_sync_{job}.prom"


def render(job: str, record: dict, success: str | None, newest: dict[str, int | None], now: int) -> str:
    """The textfile for one job: its last run `record`, when it last succeeded, and the
    creation time of each destination dataset's newest snapshot (None: no snapshot)."""
    samples: dict[str, list[str]] = {name: [] for name in HELP}

    def add(name: str, value, **labels) -> None:
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in {"job": job, **labels}.items())
        samples[name].append(f"{name}{{{text}}} {value}")

    result = record.get("result", "")
    add("zfs_sync_last_run_success", int(result in SUCCESS))
    add("zfs_sync_last_run_exit_code", int(record.get("exit_code", 0)))
    add("zfs_sync_last_run_info", 1, result=result)
    ended = _epoch(record.get("end") or record.get("start"))
    if ended is not None:
        add("zfs_sync_last_run_timestamp_seconds", ended)
    if _epoch(success) is not None:
        add("zfs_sync_last_success_timestamp_seconds", _epoch(success))
    start = _epoch(record.get("start"))
    if start is not None and ended is not None:
        add("zfs_sync_duration_seconds", max(0, ended - start))
    add("zfs_sync_sent_bytes", int(record.get("bytes", 0)))
    for dataset, created in sorted(newest.items()):
        if created is not None:
            add("zfs_sync_lag_seconds", max(0, now - created), dataset=dataset)
            add("zfs_sync_newest_snapshot_timestamp_seconds", created, dataset=dataset)
    out = []
    for name, lines in samples.items():
        if lines:
            kind, text = HELP[name]
            out += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *lines]
    return "\n".join(out) + "\n"


def newest_of(inv: Inventory) -> dict[str, int | None]:
    return {name: lag.newest_creation(inv, name) for name in inv}


def after_run(job: Job, state_dir: Path, record: dict, destination: Inventory | None, now: int) -> None:
    """Write the job's .prom file, if it has a textfile directory; a failure is a warning only."""
    if not job.metrics_dir:
        return
    folder = Path(job.metrics_dir).expanduser()
    if not folder.is_dir():
        log.warning("%s: metrics.textfile_dir %s is not a directory; no metrics written", job.name, folder)
        return
    if destination is None:  # the run stopped before listing the destination: list it now
        try:
            dst = job.destination
            destination = listing.list_dataset(Executor(), dst.endpoint, dst.dataset, job.recursive)
        except ZswError:
            destination = {}
    text = render(job.name, record, last_success(state_dir, job.name), newest_of(destination), now)
    try:
        store.write(folder / file_name(job.name), text, mode=0o644)  # node_exporter reads it as its own user
    except OSError as exc:
        log.warning("%s: cannot write metrics to %s: %s", job.name, folder, exc)


def _epoch(iso: str | None) -> int | None:
    try:
        return int(datetime.fromisoformat(iso).timestamp())
    except (TypeError, ValueError):
        return None


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
