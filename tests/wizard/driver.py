"""Run the real wizard on a sandbox host, its keys typed ahead into a pipe input.

The test process cannot reach the sandbox hosts' network, so the wizard runs
on the host itself, as pip installed it (tests/installed.py): the installed
venv's python runs `-c DRIVER PROGRAM KEYS ARGS...` from `/`, which opens a
prompt_toolkit pipe input, sends KEYS, and calls the console script's
`zfs_sync_wizard.cli.wizard.main(ARGS)` with sys.argv as the console script
`PROGRAM` would have it; it exits with the wizard's status, and what the
wizard printed is the process's stdout.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests import installed

DRIVER = r"""
import json, sys
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from zfs_sync_wizard.cli import wizard

program, keys, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
sys.argv = [program, *args]
with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
    inp.send_text(keys)
    code = wizard.main(args)
sys.stdout.flush()
sys.exit(code)
"""

LIST_DRIVER = r"""
import sys
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.running.execute import Executor
from zfs_sync_wizard.wizard import datasets

host = sys.argv[1] if len(sys.argv) > 1 else None
endpoint = Endpoint(host=host, user="root") if host else Endpoint()
for title, _ in datasets.titles(datasets.list_datasets(Executor(), endpoint)):
    print(title)
"""


def wizard(
    host, base: Path, keys: str, *args: str, timeout: float = 90, terminal: bool = False
) -> subprocess.CompletedProcess:
    """Run `zfs-sync-wizard ARGS` on `host` with config and state under `base`; with `terminal`,
    its stdout and stderr are a pseudo-terminal (script(1)), whose transcript is the stdout."""
    dirs = ["--config-dir", str(base / "config"), "--state-dir", str(base / "state")]
    product = installed.product()
    argv = [product.python, "-c", DRIVER, product.program("zfs-sync-wizard"), json.dumps(keys), *dirs, *args]
    if terminal:
        argv = ["script", "-qec", shlex.join(argv), "/dev/null"]
    return host.run(argv, check=False, timeout=timeout, cwd="/")


def list_titles(host, remote: str | None = None) -> list[str]:
    argv = [installed.product().python, "-c", LIST_DRIVER] + ([remote] if remote else [])
    return host.run(argv, timeout=60, cwd="/").stdout.splitlines()


ENTER, DOWN, CTRL_C, CLEAR = "\r", "\x1b[B", "\x03", "\x15"
SPOOL = "/var/spool/cron/crontabs"
FOREIGN = "MAILTO=ops@example.org\n# nightly scrub, by hand\n0 5 * * 0 /usr/sbin/zpool scrub tank\n"


def _spool_state() -> tuple:
    path = Path(SPOOL) / "root"
    return (path.exists(), path.read_bytes() if path.exists() else b"")


@pytest.fixture
def private_crontab(hosts, tmp_path):
    """src's crontab spool, replaced by an empty directory for this test."""
    before = _spool_state()
    spool = tmp_path / "crontabs"
    spool.mkdir()
    spool.chmod(0o1730)
    hosts.src.sh('mount --bind "$1" "$2"', str(spool), SPOOL)
    try:
        yield spool
    finally:
        hosts.src.sh('umount "$1"', SPOOL)
        assert _spool_state() == before, "this machine's crontab changed"


def crontab(host) -> str:
    result = host.run(["crontab", "-l"], check=False)
    return result.stdout if result.returncode == 0 else ""


def make_source(src, dataset: str = "tank/media") -> None:
    src.run(["zfs", "create", dataset])
    src.write_random(dataset, "movie.mkv", 300 << 10)
    src.write_file(dataset, "notes/readme.txt", b"hello\n")


def to_dst(dst, key: str = ENTER, port: str = ENTER) -> str:
    """From the first prompt to the end of the destination host's check."""
    return ENTER + "media" + ENTER + f"root@{dst.address}" + ENTER + port + key


AFTER_CHECK = (
    ENTER  # suggested destination backup/tank/media
    + ENTER  # keep transfer options
    + ENTER  # the runner's own snapshots
    + ENTER  # keep 1
    + ENTER  # retention on the source: the schema's defaults
    + ENTER  # retention on the destination: the schema's defaults
    + ENTER  # name: media
    + ENTER  # nightly
    + "y"  # show the exact commands
    + ENTER  # save
)
