"""This tool's entries in the invoking user's crontab.

Each job is one line of `crontab -l`, tagged at its end with a marker
comment (`# zfs-sync-wizard:job=NAME`; cron hands the whole line to
/bin/sh, which ignores the comment).  Only active lines carrying the marker
are ever read as ours, replaced or removed: every other line (the person's
entries, comments, MAILTO=..., blank lines, a commented-out copy of one of
ours) passes through byte for byte.  The text handling is pure; `read` and
`write` run `crontab` through the Executor.  The user's crontab works the
same for root and for other users, and cron mails a job's output to its
owner: `zfs-sync-run` prints nothing on success, so only errors arrive.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ZswError
from ..jobs.endpoint import LOCAL
from ..running.execute import Executor

MARKER = "# zfs-sync-wizard:job="
_ENTRY = re.compile(
    r"^(?P<schedule>@\w+|(?:\S+[ \t]+){4}\S+)[ \t]+(?P<command>.*?)[ \t]+"
    + re.escape(MARKER)
    + r"(?P<name>\S+)[ \t]*$"
)
_ENV = re.compile(r"^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=")


class CrontabError(ZswError):
    """`crontab` failed: the message says how and what to check."""


@dataclass(frozen=True)
class Entry:
    name: str
    schedule: str
    command: str


def parse_line(line: str) -> Entry | None:
    """Our entry on this line, or None for anything the person wrote."""
    if line.lstrip().startswith("#") or _ENV.match(line):
        return None
    m = _ENTRY.match(line.strip())
    if not m:
        return None
    return Entry(m.group("name"), m.group("schedule"), m.group("command"))


def entries(text: str) -> dict[str, Entry]:
    """This tool's entries by job name (the last one wins if a name repeats)."""
    found = {}
    for line in text.splitlines():
        entry = parse_line(line)
        if entry:
            found[entry.name] = entry
    return found


def without(text: str, name: str) -> str:
    """The crontab text with the entries of job `name` removed, all else untouched."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not _is_job(line, name)]
    return "".join(kept)


def with_entry(text: str, name: str, line: str) -> str:
    """The crontab text with job `name` scheduled by `line` (replacing its old entry)."""
    rest = without(text, name)
    if rest and not rest.endswith("\n"):
        rest += "\n"  # cron ignores a last line without its newline
    return rest + line.rstrip("\n") + "\n"


def _is_job(line: str, name: str) -> bool:
    entry = parse_line(line.rstrip("\n"))
    return entry is not None and entry.name == name


def cron_quote(argv: Sequence[str]) -> str:
    """A shell command line for crontab: quoted, and `%` escaped (cron reads it as a newline)."""
    return " ".join(shlex.quote(str(a)) for a in argv).replace("%", "\\%")


def entry_line(schedule: str, argv: Sequence[str], name: str) -> str:
    return f"{schedule} {cron_quote(argv)} {MARKER}{name}"


RUNNER = "zfs-sync-run"
CRON_ENV = ("PATH=/usr/bin:/bin", "HOME=/", "SHELL=/bin/sh")  # what cron gives a job, roughly


def runner_program(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """How cron starts the zfs-sync-run that belongs to the running wizard.

    That is the `zfs-sync-run` beside the `zfs-sync-wizard` being run (the
    same venv's or pipx's bin/, /usr/local/bin for a system-wide install, a
    checkout's bin/), else this interpreter with `-m`: never one found
    through PATH, which may be another installation or none under cron.
    A script whose #! line does not name its interpreter by absolute path
    (a checkout's `#!/usr/bin/env python3`) is started by this interpreter,
    because cron's `python3` may lack the packages this one has.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = os.path.abspath(executable or sys.executable)
    if os.path.basename(argv0).startswith("zfs-sync-wizard"):
        # the directory it was started from (pipx links there), then where the file really is
        for folder in dict.fromkeys(
            [os.path.dirname(os.path.abspath(argv0)), os.path.dirname(os.path.realpath(argv0))]
        ):
            script = os.path.join(folder, RUNNER)
            if os.path.isfile(script) and os.access(script, os.X_OK):
                return [script] if _names_its_interpreter(script) else [executable, script]
    return [executable, "-m", "zfs_sync_wizard.cli.run"]


def _names_its_interpreter(script: str) -> bool:
    try:
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace")
    except OSError:
        return False
    interpreter = first[2:].split()[0] if first.startswith("#!") and first[2:].split() else ""
    return (
        interpreter.startswith("/")
        and os.path.basename(interpreter) != "env"
        and os.access(interpreter, os.X_OK)
    )


def check_runner(ex: Executor, program: Sequence[str]) -> None:
    """Refuse a runner that does not start the way cron starts it (from /, cron's PATH, no other environment)."""
    argv = ["env", "-i", "-C", "/", *CRON_ENV, *program, "--version"]
    result = ex.run(LOCAL, argv, changes=False, check=False)
    if result.status != 0 or not result.stdout.startswith(RUNNER):
        detail = (result.stderr.strip().splitlines() or [f"exit {result.status}"])[-1]
        raise CrontabError(
            f"the runner does not start as cron would start it: {cron_quote(program)} --version: {detail}. "
            "Install zfs-sync-wizard so that zfs-sync-run is beside zfs-sync-wizard "
            "(pip install into the same environment), then try again; nothing was changed"
        )


def run_argv(name: str, config_dir: Path, state_dir: Path | None = None, program=None) -> list[str]:
    argv = list(program or runner_program()) + ["--config-dir", os.path.abspath(config_dir)]
    if state_dir is not None:
        argv += ["--state-dir", os.path.abspath(state_dir)]
    return argv + [name]


def read(ex: Executor) -> str:
    """The current crontab text ('' when the user has none yet)."""
    result = ex.run(LOCAL, ["crontab", "-l"], changes=False, check=False)
    if result.status == 0:
        return result.stdout
    if result.status == 1 and "no crontab for" in result.stderr:
        return ""
    raise CrontabError(f"'crontab -l' failed (exit {result.status}): {result.stderr.strip()}")


def write(ex: Executor, text: str) -> None:
    """Replace the crontab with `text` (handed to `crontab FILE`, like `crontab -`)."""
    folder = tempfile.mkdtemp(prefix="zsw-cron-")
    path = Path(folder) / "crontab"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        result = ex.run(LOCAL, ["crontab", str(path)], changes=True, check=False)
        if result is not None and result.status != 0:
            raise CrontabError(
                f"'crontab' refused the new table (exit {result.status}): {result.stderr.strip()}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def install(ex: Executor, name: str, schedule: str, argv: Sequence[str]) -> str:
    """Schedule job `name`; returns the line written."""
    line = entry_line(schedule, argv, name)
    before = read(ex)
    after = with_entry(before, name, line)
    if after != before:
        write(ex, after)
    return line


def remove(ex: Executor, name: str) -> bool:
    """Unschedule job `name`; False when it had no entry (nothing written)."""
    before = read(ex)
    after = without(before, name)
    if after == before:
        return False
    write(ex, after)
    return True


def installed(ex: Executor) -> dict[str, Entry]:
    return entries(read(ex))


# -- checking an expression field by field (pure) ------------------------------

SHORTCUTS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names: first name's number)
FIELDS = (
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day of month", 1, 31, (), 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day of week", 0, 7, _DAYS, 0),
)
FIELD_NAMES = "minute hour day-of-month month day-of-week"


def check_expression(expression: str) -> str:
    """The expression with its spaces normalized, or ValueError naming the exact problem.

    Five fields as cron reads them (numbers, `*`, ranges `a-b`, steps `/n`,
    lists `a,b`, month and weekday names such as `jan` and `mon`), or one of
    the @ shortcuts.  @reboot is refused: a replication job runs on a clock.
    """
    text = " ".join(expression.split())
    if not text:
        raise ValueError(f"expected five fields: {FIELD_NAMES}, e.g. '30 1 * * *' (01:30 daily)")
    if text.startswith("@"):
        if text.lower() not in SHORTCUTS:
            raise ValueError(f"{text!r} is not one of {', '.join(SHORTCUTS)}")
        return text.lower()
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"expected five fields: {FIELD_NAMES}, got {len(fields)} ({text!r}); "
            "e.g. '30 1 * * *' (01:30 daily)"
        )
    for value, spec in zip(fields, FIELDS):
        _check_field(value, *spec)
    return text


def _check_field(value: str, name: str, low: int, high: int, names: tuple, first: int) -> None:
    for item in value.split(","):
        if not item:
            raise ValueError(f"{name} {value!r} has an empty item in its list")
        span, slash, step = item.partition("/")
        if slash:
            if not step.isdigit():
                raise ValueError(f"{name} step {step!r} is not a whole number")
            if int(step) < 1:
                raise ValueError(f"{name} step {step} must be at least 1")
        if span == "*":
            continue
        start, dash, end = span.partition("-")
        a = _number(start, name, low, high, names, first)
        if dash:
            b = _number(end, name, low, high, names, first)
            if b < a:
                raise ValueError(f"{name} range {span} goes backwards (write the smaller number first)")
        elif slash:
            raise ValueError(
                f"{name} {item!r}: a step needs a range or *, e.g. '*/{step}' or '{start}-{high}/{step}'"
            )


def _number(text: str, name: str, low: int, high: int, names: tuple, first: int) -> int:
    if text.isascii() and text.isdigit():
        n = int(text)
        if not low <= n <= high:
            raise ValueError(f"{name} {n} is out of range {low}-{high}")
        return n
    if names and text.lower() in names:
        return names.index(text.lower()) + first
    if not text:
        raise ValueError(f"{name}: a range needs a number on each side of '-'")
    allowed = f"a number {low}-{high}" + (f" or a name {names[0]}-{names[-1]}" if names else "")
    if any(c in text for c in "?LW#"):
        raise ValueError(f"{name} {text!r}: cron has no ? L W or #; expected {allowed}")
    raise ValueError(f"{name} {text!r} is not {allowed}")
