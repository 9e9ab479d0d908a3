"""Helpers for the wizard's in-process tests: a scripted Executor, pipe-driven prompts.

`FakeExecutor` answers commands from a table (substring of the command
line, optionally per host) and keeps a crontab in memory that `crontab -l`
and `crontab FILE` read and write like the real one, so no test touches the
machine's crontab, ZFS or network.  `drive` sends keys ahead into a
prompt_toolkit pipe input and runs the wizard against it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from zfs_sync_wizard.errors import CommandFailed
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.running.execute import Result
from zfs_sync_wizard.wizard.context import Context
from zfs_sync_wizard.wizard.prompts import UI

ENTER = "\r"
DOWN = "\x1b[B"
UP = "\x1b[A"
CTRL_C = "\x03"
CTRL_D = "\x04"
CLEAR = "\x15"  # Ctrl-U: empties a text prompt's pre-filled default
# Tuesday 2024-05-07 21:00 in a fixed zone: nightly 02:00 is "in 5 hours"
NOW = datetime(2024, 5, 7, 21, 0, tzinfo=timezone(timedelta(hours=2)))
PLAN = "job media: localhost:tank/media -> root@backup01:backup/tank/media\ncommands:\nzfs send tank/media@x | ..."

LISTING = "\n".join(
    [
        "tank\ttype\tfilesystem",
        "tank\tused\t3145728",
        "tank\treferenced\t98304",
        "tank/media\ttype\tfilesystem",
        "tank/media\tused\t2097152",
        "tank/media\treferenced\t1048576",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\ttype\tsnapshot",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\tused\t0",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\treferenced\t1048576",
        "tank/media/photos\ttype\tfilesystem",
        "tank/media/photos\tused\t1048576",
        "tank/media/photos\treferenced\t1048576",
        "tank/vm\ttype\tvolume",
        "tank/vm\tused\t524288",
        "tank/vm\treferenced\t524288",
    ]
)
SOURCE_SNAPS = "tank/media\tguid\t11\ntank/media@s1\tguid\t101\ntank/media@s1\tcreatetxg\t5\n"


RESOLVING = {"backup01", "fileserver", "192.0.2.10"}  # names the fake resolver knows


@dataclass
class Rule:
    needle: str
    result: Result
    host: str | None
    fn: object = None  # called with the command line when set: returns a Result

    def answer(self, cmd: str) -> Result:
        return self.fn(cmd) if self.fn else self.result


class FakeExecutor:
    """Answers commands from rules; the newest matching rule wins."""

    def __init__(self):
        self.calls: list[tuple[str, str, bool]] = []
        self.rules: list[Rule] = []
        self.crontab: str | None = None  # None: the user has no crontab yet
        self.inputs: list[tuple[str, str]] = []  # (host, stdin) of commands given one
        self.attached_calls: list[str] = []
        self.terminal = io.StringIO()  # what attached commands printed on the terminal
        self.link_rate = 11 << 20  # bytes per second through ssh to any host, after ssh's own start
        self.link_start = 0.2  # seconds ssh takes to start and log in
        self.uploads: list[tuple[str, int]] = []  # (host, bytes) of the link speed samples sent

    def on(
        self,
        needle: str,
        stdout: str = "",
        stderr: str = "",
        status: int = 0,
        host: str | None = None,
        fn=None,
    ):
        self.rules.append(Rule(needle, Result(stdout, stderr, status), host, fn))
        return self

    def commands(self, host: str | None = None) -> list[str]:
        return [cmd for label, cmd, _ in self.calls if host is None or label == host]

    def run(self, endpoint, argv, *, changes, check=True, input=None):
        if input is not None:
            self.inputs.append((endpoint.label, input))
        return self._answer(endpoint, " ".join(argv), list(argv), changes, check)

    def attached(self, argv):
        """A command run on the terminal: what it printed goes to the UI's stream; its status."""
        result = self._answer(Endpoint(), " ".join(argv), list(argv), True, False)
        self.attached_calls.append(" ".join(argv))
        self.terminal.write(result.stdout + result.stderr)
        return result.status

    def upload_time(self, endpoint, nbytes):
        """Seconds sending `nbytes` random bytes to the host took: ssh's start, then the link's rate."""
        self.uploads.append((endpoint.label, nbytes))
        self.calls.append((endpoint.label, f"head -c {nbytes} /dev/urandom | cat >/dev/null", False))
        if self.link_rate is None:
            raise CommandFailed(endpoint.label, "cat >/dev/null", 255, "Connection reset by peer")
        return self.link_start + nbytes / self.link_rate

    def shell(self, endpoint, script, *, check=True):
        return self._answer(endpoint, script, None, False, check)

    def _answer(self, endpoint, cmd, argv, changes, check):
        self.calls.append((endpoint.label, cmd, changes))
        if argv and argv[0] == "crontab":
            result = self._crontab(argv)
        else:
            result = next(
                (
                    r.answer(cmd)
                    for r in reversed(self.rules)
                    if r.needle in cmd and r.host in (None, endpoint.label)
                ),
                Result("", f"fake executor: no rule for {cmd!r}", 127),
            )
        if check and result.status != 0:
            raise CommandFailed(endpoint.label, cmd, result.status, result.stderr)
        return result

    def _crontab(self, argv):
        if argv[1:] == ["-l"]:
            if self.crontab is None:
                return Result("", "no crontab for root\n", 1)
            return Result(self.crontab, "", 0)
        self.crontab = Path(argv[1]).read_text()
        return Result("", "", 0)


def standard_executor() -> FakeExecutor:
    """This machine has tank (tank/media, tank/media/photos, tank/vm); backup01 is ready."""
    ex = FakeExecutor()
    ex.on("zfs get -Hp -o name,property,value type,used,referenced", LISTING)
    ex.on("/opt/zsw/bin/zfs-sync-run --version", "zfs-sync-run 0.1.0\n")  # starts as cron starts it
    ex.on("cat /etc/sanoid/sanoid.conf", stderr="No such file", status=1)
    ex.on('cksum < "$1"', "none\n")  # sanoidconf.READ: no sanoid.conf yet
    ex.on("command -v sanoid", "program=/usr/sbin/sanoid\nsystemd=yes\ntimer=enabled\n")
    ex.on("zsw-tmp")  # sanoidconf.WRITE
    ex.on("zfs get -Hp -d 1", SOURCE_SNAPS)
    ex.on("true", host="root@backup01")
    ex.on("command -v", "", host="root@backup01")
    ex.on("zpool list -H -o name", "backup\n", host="root@backup01")
    ex.on(
        "zfs get -Hp -d 1",
        stderr="cannot open 'backup/tank/media': dataset does not exist",
        status=1,
        host="root@backup01",
    )
    return ex


def make_context(tmp_path: Path, ex: FakeExecutor, plan=lambda job: PLAN) -> Context:
    ssh_dir = tmp_path / "ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)  # as ~/.ssh: the runner refuses keys in folders open to others
    (ssh_dir / "id_ed25519").write_text("private")
    (ssh_dir / "id_ed25519.pub").write_text("ssh-ed25519 AAAA test")
    return Context(
        config_dir=tmp_path / "config",
        state_dir=tmp_path / "state",
        ui=UI(io.StringIO()),
        executor=ex,
        ssh_dir=ssh_dir,
        now=lambda: NOW,
        preview_plan=plan,
        run_program=["/opt/zsw/bin/zfs-sync-run"],
        lookup=lambda host: None if host in RESOLVING else "Name or service not known",
    )


def output(ctx: Context) -> str:
    return ctx.ui._stream.getvalue()


def custom(*counts: int) -> str:
    """Keys that choose "custom" in a retention menu (the last entry), then type each count
    (hourly, daily, weekly, monthly, yearly: a yearly count not given is 0)."""
    counts = counts + (0,) * (5 - len(counts))
    return UP + ENTER + "".join(CLEAR + str(n) + ENTER for n in counts)


class _Terminal(io.StringIO):
    encoding = "utf-8"


SCREEN = _Terminal()  # what the prompts drew, escape sequences and all, since the last drive()


def screen() -> str:
    """The prompts' text as drawn on a terminal (validation messages, menus), escape codes removed."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0]|\r", "", SCREEN.getvalue())


def drive(keys: str, call):
    """Run `call()` with `keys` typed ahead into every prompt it opens, drawn on a 200x50 terminal."""
    SCREEN.seek(0)
    SCREEN.truncate()
    output = Vt100_Output(SCREEN, lambda: Size(rows=50, columns=200))
    with create_pipe_input() as inp, create_app_session(input=inp, output=output):
        inp.send_text(keys)
        return call()


@pytest.fixture
def ex() -> FakeExecutor:
    return standard_executor()


@pytest.fixture
def ctx(tmp_path, ex) -> Context:
    return make_context(tmp_path, ex)
