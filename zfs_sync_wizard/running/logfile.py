"""A job's log, `logs/<job>.log` in the state directory: written by each
run, rotated by size, and read back run by run.

Every line is `DATE TIME JOB RUN LEVEL MESSAGE`, the run id on every line
(a message of several lines is stamped line by line), so the lines of one
run are found even when a skipped run wrote between them.  A run begins
with `run started` and ends with `run end: RESULT ...`.

Rotation: before a line would make the file larger than `max_bytes`,
`<job>.log` becomes `<job>.log.1`, `.1` becomes `.2` and so on; the
oldest beyond `keep` files is dropped.  Renames are atomic and happen
under an flock of `logs/.<job>.lock`, and a writer whose file was rotated
by another process (a skipped run next to a running one) reopens it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..planning import sizes
from .lock import flocked

START = "run started"
END = "run end: "
_LINE = re.compile(
    r"^(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)?) (?P<job>\S+) (?P<run>\S+) (?P<level>[A-Z]+) (?P<message>.*)$"
)
_SIZE = re.compile(r"^([1-9][0-9]*)([kKmMgG]?)$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """`1M` -> 1048576 (binary units, as the job file's sizes)."""
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def run_id(now: datetime, pid: int) -> str:
    """A run's id: when it started and its process, e.g. 20240507T210000-4242."""
    return f"{now.strftime('%Y%m%dT%H%M%S')}-{pid}"


def end_line(result: str, code: int, sent: int, seconds: float) -> str:
    """The line that ends a run: `run end: ok (exit 0), 1.2 MiB sent in 12.3 s`."""
    return f"{END}{result} (exit {code}), {sizes.human(sent)} sent in {seconds:.1f} s"


def log_path(state_dir: Path, job: str) -> Path:
    return state_dir / "logs" / f"{job}.log"


def files(path: Path, keep: int) -> list[Path]:
    """The log's files, newest first: job.log, job.log.1, ... job.log.(keep-1)."""
    return [path] + [path.with_name(f"{path.name}.{i}") for i in range(1, keep)]


def rotation(path: Path, keep: int) -> list[tuple[Path, Path | None]]:
    """The renames that rotate the log, in order; (file, None) drops the file."""
    names = files(path, keep)
    moves: list[tuple[Path, Path | None]] = [(names[-1], None)]
    for newer, older in reversed(list(zip(names, names[1:]))):
        moves.append((newer, older))
    return moves


class Formatter(logging.Formatter):
    """Every physical line stamped with the time, job, run and level."""

    def __init__(self, job: str, run: str):
        super().__init__()
        self.job, self.run = job, run

    def format(self, record: logging.LogRecord) -> str:
        stamp = f"{self.formatTime(record)},{int(record.msecs):03d}"
        head = f"{stamp} {self.job} {self.run} {record.levelname} "
        text = super().format(record)
        return "\n".join(head + line for line in (text.splitlines() or [""]))

    def formatTime(self, record, datefmt=None) -> str:  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")


class RotatingLog(logging.FileHandler):
    """A size-bounded log file that several processes may write at once."""

    def __init__(self, path: Path, max_bytes: int, keep: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, delay=True)
        self.path, self.max_bytes, self.keep = path, max_bytes, keep
        self.lock_path = path.with_name(f".{path.stem}.lock")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + "\n").encode(errors="replace")
            with flocked(self.lock_path):
                self._follow()
                size = self.path.stat().st_size if self.path.exists() else 0
                if size and size + len(data) > self.max_bytes:
                    self._rotate()
                if self.stream is None:
                    self.stream = self._open()
                self.stream.buffer.write(data)
                self.stream.flush()
        except Exception:
            self.handleError(record)

    def _follow(self) -> None:
        """Reopen when another process has rotated the file away."""
        if self.stream is None:
            return
        try:
            moved = os.stat(self.path).st_ino != os.fstat(self.stream.fileno()).st_ino
        except FileNotFoundError:
            moved = True
        if moved:
            self.stream.close()
            self.stream = None

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for old, new in rotation(self.path, self.keep):
            with contextlib.suppress(FileNotFoundError):
                if new is None:
                    os.unlink(old)
                else:
                    os.replace(old, new)


def handler(state_dir: Path, job: str, run: str, settings: dict) -> logging.Handler:
    """The handler one run of `job` logs through; `settings` is the job's `logs` section."""
    out = RotatingLog(log_path(state_dir, job), parse_size(settings["max_bytes"]), settings["keep"])
    out.setFormatter(Formatter(job, run))
    out.setLevel(logging.DEBUG)
    return out


# -- reading ----------------------------------------------------------------


@dataclass
class Line:
    stamp: str
    run: str
    level: str
    message: str
    text: str  # the whole line as written

    @property
    def is_error(self) -> bool:
        return self.level in ("ERROR", "CRITICAL")

    @property
    def is_warning(self) -> bool:
        return self.level == "WARNING"


@dataclass
class Run:
    id: str
    lines: list[Line] = field(default_factory=list)

    @property
    def started(self) -> str:
        return self.lines[0].stamp if self.lines else ""

    @property
    def result(self) -> str | None:
        """The result its `run end` line gives; None while it runs (or when rotated away)."""
        ends = [line.message[len(END) :] for line in self.lines if line.message.startswith(END)]
        return ends[-1].split()[0].rstrip(",") if ends else None

    @property
    def errors(self) -> list[Line]:
        return [line for line in self.lines if line.is_error]


def parse(text_lines) -> list[Line]:
    """The log's lines; a line not in the log's format (an older version's) is skipped."""
    out = []
    for text in text_lines:
        m = _LINE.match(text.rstrip("\n"))
        if m:
            out.append(Line(m["stamp"], m["run"], m["level"], m["message"], m.group(0)))
    return out


def runs(lines: list[Line]) -> list[Run]:
    """Lines grouped by run, in the order the runs started (first line seen)."""
    by_id: dict[str, Run] = {}
    for line in lines:
        by_id.setdefault(line.run, Run(line.run)).lines.append(line)
    return list(by_id.values())


def latest(found: list[Run]) -> Run | None:
    """The newest run that ran: a run skipped because another was running does not count."""
    ran = [run for run in found if run.result != "skipped"]
    return ran[-1] if ran else None


def read(state_dir: Path, job: str, keep: int = 100) -> list[Run]:
    """Every run still in the log's files, oldest first."""
    text: list[str] = []
    for path in reversed(files(log_path(state_dir, job), keep)):
        with contextlib.suppress(FileNotFoundError):
            text += path.read_text(errors="replace").splitlines()
    return runs(parse(text))
