"""Helpers for integration tests: write jobs, run the product on a host,
compare datasets across hosts, and inject faults into real programs."""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests import installed

# Retention by hours and days would make pruning depend on the clock (two runs
# a second apart may straddle an hour): tests keep only `snapshots.keep`.
NO_PERIODS = {
    "retention": {
        side: {"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0} for side in ("source", "destination")
    }
}


def run_argv() -> list[str]:
    """zfs-sync-run as pip installed it (tests/installed.py), by its absolute path."""
    return [installed.product().program("zfs-sync-run")]


class Product:
    """zfs-sync-run as installed, run on one sandbox host, with its own config and state dirs."""

    def __init__(self, host, base: Path):
        self.host = host
        self.config = base / "config"
        self.state = base / "state"
        (self.config / "jobs").mkdir(parents=True, exist_ok=True)
        (self.config / "defaults.yaml").write_text(yaml.safe_dump(NO_PERIODS))

    def job(self, name: str, mapping: dict) -> Path:
        path = self.config / "jobs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(mapping, sort_keys=False))
        return path

    def run(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        argv = run_argv() + ["--config-dir", str(self.config), "--state-dir", str(self.state), *args]
        return self.host.run(argv, check=False, timeout=timeout, cwd="/")

    def slow(self, name: str, rate: str) -> None:
        """Limit the job's bandwidth so that a run lasts a while."""
        job = self.config / "jobs" / f"{name}.yaml"
        job.write_text(job.read_text() + f"transfer:\n  bandwidth_limit: {rate}\n  retry_delay: 1\n")

    def start_locked(self, name: str) -> tuple:
        """Start a run in the background; return it and its pid once it holds the job's lock."""
        running = self.start(name)
        lock = self.state / "locks" / f"{name}.lock"
        deadline = time.time() + 30
        while not (lock.exists() and lock.read_text().strip()) and time.time() < deadline:
            time.sleep(0.1)
        return running, int(lock.read_text().split()[0])  # "PID START-TIME"

    def start(self, *args: str, timeout: int = 120) -> Background:
        """Start a run in a thread (for lock tests); `.wait()` gives its result."""
        return Background(lambda: self.run(*args, timeout=timeout))


class Background:
    def __init__(self, call):
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call) -> None:
        self.result = call()

    def wait(self, timeout: float = 180) -> subprocess.CompletedProcess:
        self.thread.join(timeout)
        assert self.result is not None, "background run did not finish"
        return self.result


# a `zfs send` with arguments, as pgrep -f sees it: not the usage probe a run starts with
# (`zfs send` alone, run through a shell).  zfs-fuse's zfs overwrites the @ of its argv.
SENDING = "^[^ ]*zfs send ."


def processes(line: str) -> list[list[str]]:
    """The argvs of a shell pipeline line (a dry run's), as the shell splits them."""
    out: list[list[str]] = [[]]
    for word in shlex.split(line):
        if word == "|":
            out.append([])
        else:
            out[-1].append(word)
    return out


def remote_script(argv: list[str]) -> tuple[str, str]:
    """(host, script) of an ssh argv: the script its last word hands to `env LC_ALL=C sh -c`."""
    assert argv[0] == "ssh", argv
    words = shlex.split(argv[-1])
    assert words[:4] == ["env", "LC_ALL=C", "sh", "-c"] and len(words) == 5, words
    return argv[-2], words[4]


def wait_for_process(host, pattern: str, timeout: float = 30) -> list[int]:
    """Wait (polling on the host) until a process matches `pattern` (pgrep -f); its pids.

    Anchor the pattern (`^[^ ]*zfs send`): the polling shell carries it in its own command line.
    Only this host's processes count (its network namespace): other sandboxes on the machine
    may run the same commands.
    """
    result = host.sh(
        'end=$(( $(date +%s) + $2 )); until pgrep --ns $$ --nslist net -f "$1"; do'
        ' [ "$(date +%s)" -ge "$end" ] && exit 1; sleep 0.1; done',
        pattern,
        str(int(timeout)),
        check=False,
        timeout=timeout + 30,
    )
    assert result.returncode == 0, f"no process matching {pattern!r} on {host.name} after {timeout} s"
    return [int(pid) for pid in result.stdout.split()]


def wait_until(host, condition: str, timeout: float = 60) -> None:
    """Wait (polling on the host) until the shell `condition` holds."""
    result = host.sh(
        f"end=$(( $(date +%s) + {int(timeout)} )); until {condition}; do"
        ' [ "$(date +%s)" -ge "$end" ] && exit 1; sleep 0.2; done',
        check=False,
        timeout=timeout + 30,
    )
    assert result.returncode == 0, f"on {host.name}, not true after {timeout} s: {condition}"


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert result.stdout == "" and result.stderr == "", "a successful run prints nothing"
    return result


def mount(host, dataset: str) -> None:
    host.run(["zfs", "mount", dataset], check=False)


def assert_same(src, src_ds: str, dst, dst_ds: str) -> dict:
    """Both sides hold the same snapshots (by GUID) and the same files."""
    src_snaps, dst_snaps = src.snapshots(src_ds), dst.snapshots(dst_ds)
    assert src_snaps and dst_snaps == src_snaps
    mount(dst, dst_ds)
    assert dst.checksum(dst_ds) == src.checksum(src_ds)
    return dst_snaps


def snapshot(host, dataset: str, name: str) -> None:
    host.run(["zfs", "snapshot", f"{dataset}@{name}"])


def wrap_command(host, path: str, script: str) -> None:
    """Replace `path` on `host` only by a shell script; "$REAL" runs the real program.

    The original is bind-mounted aside inside the host's private mount
    namespace and restored by `unwrap_command` (or the host reset).
    """
    name = Path(path).name
    host.sh(
        'set -e; mkdir -p /run/zsw-wrap; real=/run/zsw-wrap/real-"$1"; wrapper=/run/zsw-wrap/"$1"; '
        'touch "$real"; mount --bind "$2" "$real"; '
        'printf "#!/bin/sh\\nREAL=%s\\n%s\\n" "$real" "$3" > "$wrapper"; chmod +x "$wrapper"; '
        'mount --bind "$wrapper" "$2"',
        name,
        path,
        script,
    )


def unwrap_command(host, path: str) -> None:
    host.sh('umount "$1"; umount /run/zsw-wrap/real-"$(basename "$1")"', path)


HELD = "/run/zsw-wrap/receive-held"


@contextmanager
def receive_held(host):
    """Within the block, `zfs receive` of a stream on `host` waits until `release()`
    (a wrapped zfs polling for a file): a run stays inside its transfer for as long as
    the test needs, on any machine.  Release, then wait for the run, inside the block."""
    host.run(["rm", "-f", HELD])
    wrap_command(
        host,
        "/usr/sbin/zfs",
        f'if [ "$1" = receive ] && [ $# -gt 1 ]; then until [ -e {HELD} ]; do sleep 0.05; done; fi; exec "$REAL" "$@"',
    )

    def release() -> None:
        host.run(["touch", HELD])

    try:
        yield release
    finally:
        release()
        unwrap_command(host, "/usr/sbin/zfs")
