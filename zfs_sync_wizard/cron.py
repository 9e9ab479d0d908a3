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

from .errors import ZswError
from .execute import Executor
from .ssh import Endpoint

MARKER = "# zfs-sync-wizard:job="
LOCAL = Endpoint()
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


def runner_program(which=shutil.which) -> list[str]:
    """How cron starts zfs-sync-run: an absolute path, nothing found through PATH.

    The installed console script carries its interpreter in its #! line; the
    checkout's bin/zfs-sync-run is run by this interpreter, because cron's
    `python3` may lack the packages this one has.
    """
    found = which("zfs-sync-run")
    if found:
        return [os.path.abspath(found)]
    script = Path(__file__).resolve().parent.parent / "bin" / "zfs-sync-run"
    return [os.path.abspath(sys.executable), str(script)]


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
