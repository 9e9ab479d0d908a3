"""Run history, `runs/<job>.jsonl`: one JSON object a line, one line per
run, the newest last, bounded to the last `keep` runs.

A run appends its line; when the file then holds more than `keep` lines it
is rewritten with the last `keep` (a temporary file renamed over it, so a
reader sees the old or the new file, never half of one).  Both happen under
an flock of `runs/.<job>.lock`, so two processes never lose each other's
lines.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from .lock import flocked


def path(runs_dir: Path, job: str) -> Path:
    return runs_dir / f"{job}.jsonl"


def bounded(lines: list[str], keep: int) -> list[str]:
    """The lines that stay: the last `keep`."""
    return lines[-keep:] if keep > 0 else []


def append(runs_dir: Path, job: str, record: dict, keep: int) -> None:
    runs_dir.mkdir(parents=True, exist_ok=True)
    target = path(runs_dir, job)
    with flocked(runs_dir / f".{job}.lock"):
        with open(target, "a") as out:
            out.write(json.dumps(record) + "\n")
        lines = target.read_text().splitlines(keepends=True)
        if len(lines) <= keep:
            return
        tmp = runs_dir / f".{job}.jsonl.tmp"
        tmp.write_text("".join(bounded(lines, keep)))
        os.replace(tmp, target)


def recent(runs_dir: Path, job: str, count: int) -> list[dict]:
    """The last `count` runs, newest first; a line that is not JSON is skipped."""
    try:
        lines = path(runs_dir, job).read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
        if len(out) >= count:
            break
    return out
