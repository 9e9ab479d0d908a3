"""Reading a job's log: `zfs-sync-run --log NAME` prints its latest run;
the wizard's `logs NAME` lists recent runs (from the run history) and shows
the log lines of the one picked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import humanize

from ..errors import ExitCode
from ..jobs.job import Job
from ..running import history, logfile, records


def no_log(state_dir: Path, name: str) -> str:
    return (
        f"{name}: no log yet ({logfile.log_path(state_dir, name)} does not exist: the job has not run here)"
    )


def print_latest(job: Job, state_dir: Path, out=print) -> ExitCode:
    """Print the latest run's lines as they are in the log (exit 0, also without a log)."""
    runs = logfile.read(state_dir, job.name)
    run = logfile.latest(runs)
    if run is None:
        out(no_log(state_dir, job.name))
        return ExitCode.OK
    for line in run.lines:
        out(line.text)
    return ExitCode.OK


@dataclass
class Entry:
    """One recent run as the wizard lists it."""

    id: str
    title: str  # date, result, bytes
    record: dict


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return stamp or "?"


def title(record: dict) -> str:
    """`2024-05-07 20:00:03  failed      1.2 MiB sent`."""
    size = humanize.naturalsize(record.get("bytes", 0) or 0, binary=True)
    return f"{_when(record.get('start', ''))}  {record.get('result', '?'):<13} {size} sent"


def recent(state_dir: Path, name: str, count: int = 20) -> list[Entry]:
    """The last `count` runs, newest first, from runs/<name>.jsonl."""
    found = history.recent(records.runs_dir(state_dir), name, count)
    return [Entry(r.get("id", ""), title(r), r) for r in found]


def lines_of(state_dir: Path, name: str, run_id: str) -> list[logfile.Line]:
    """The log lines of one run; empty when they were rotated away (or it predates run ids)."""
    for run in logfile.read(state_dir, name):
        if run.id == run_id:
            return run.lines
    return []
