"""Run records in the state directory.

`runs/<job>.json` holds the last run; `runs/<job>.jsonl` the last runs (a
bounded number, history.py), one JSON object a line; `logs/<job>.log` the
commands and messages of each run (logfile.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import history
from .logfile import log_path

__all__ = ["RunRecord", "last", "log_path", "runs_dir", "save"]
DEFAULT_KEEP = 1000  # run records kept in runs/<job>.jsonl (the job's logs.runs)


@dataclass
class RunRecord:
    job: str
    start: str
    id: str = ""  # the run's id, on every line it wrote in logs/<job>.log
    end: str = ""
    result: str = "running"  # ok, nothing-to-do, failed, interrupted, dry-run
    exit_code: int = 0
    bytes: int = 0
    estimated: int = 0  # what zfs send -nvP predicted, where the source can tell
    sent: list = field(
        default_factory=list
    )  # context.Sent as a mapping: dataset, snapshot, kind, bytes, estimated
    retries: list = field(default_factory=list)  # transfer attempts that failed and were retried
    aborted: list = field(default_factory=list)  # partial receives given up, with the reason
    held: list = field(default_factory=list)  # snapshots held as the next incremental's base
    destroyed: list = field(
        default_factory=list
    )  # what a rollback or receive -F destroyed on the destination
    errors: list = field(default_factory=list)
    notifications: list = field(default_factory=list)  # each {kind, target, when, ok, error}
    dry_run: bool = False


def runs_dir(state_dir: Path) -> Path:
    return state_dir / "runs"


def save(state_dir: Path, record: RunRecord, keep: int = DEFAULT_KEEP) -> None:
    folder = runs_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = asdict(record)
    tmp = folder / f".{record.job}.json.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, folder / f"{record.job}.json")
    history.append(folder, record.job, data, keep)


def last(state_dir: Path, job: str) -> dict | None:
    try:
        return json.loads((runs_dir(state_dir) / f"{job}.json").read_text())
    except (OSError, ValueError):
        return None
