"""One timed run on the sandbox, with what it cost besides time.

``Meter`` wraps ``zfs`` on both hosts with a logging shell script (one line
per call, in the host's own /run) and reads the destination sshd's log
(LogLevel VERBOSE: one "Accepted publickey" per connection), so every run
reports its seconds, ssh connections, zfs calls per side and, for
zfs-sync-run, its peak RSS.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field

from tests.integration.replication import wrap_command

ZFS_LOG = "/run/zsw-bench-zfs.log"
# zfs-fuse's `zfs get` has no -t: syncoid's snapshot listing
# (`zfs get -Hpd 1 -t snapshot PROPS FS`, whose fallback is broken for remote
# hosts in syncoid 2.1.0) gets the same lines from `zfs get -Hp -r`.
WRAPPER = (
    f'printf "%s\\n" "$*" >> {ZFS_LOG}\n'
    'if [ "$1 $2 $3 $4 $5" = "get -Hpd 1 -t snapshot" ] && [ "$#" -eq 7 ]; then\n'
    '    out=$("$REAL" get -Hp -r "$6" "$7") || exit $?\n'
    '    printf "%s\\n" "$out" | awk -F "\t" -v p="$7@" "index(\\$1, p) == 1"; exit 0\n'
    "fi\n"
    'exec "$REAL" "$@"'
)


@dataclass
class Sample:
    seconds: float | None  # None: killed or failed
    ssh: int
    zfs_src: int
    zfs_dst: int
    rss_mib: float | None = None
    error: str = ""


@dataclass
class Result:
    """Every sample of one variant in one scenario, and why it stopped if it did."""

    samples: list[Sample] = field(default_factory=list)
    status: str = ""  # "" (ran), "killed after N s", "not run: ..."; failed runs are in ``failures``

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples if s.seconds is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.status else None

    @property
    def failures(self) -> list[str]:
        return [s.error for s in self.samples if s.error and not s.error.startswith("killed")]

    @property
    def last_ok(self) -> bool:
        return bool(self.samples) and not self.samples[-1].error

    @property
    def stopped(self) -> bool:
        return bool(self.status)

    def to_json(self, bare: float | None) -> dict:
        succeeded = [s for s in self.samples if not s.error]
        last = (succeeded or self.samples or [None])[-1]
        rss = [s.rss_mib for s in self.samples if s.rss_mib is not None]
        median = self.median
        return {
            "status": self.status or ("ok" if self.times else f"failed: {self.failures[0]}"),
            "failures": self.failures,
            "seconds": [round(t, 3) for t in self.times],
            "median": round(median, 3) if median is not None else None,
            "ratio_to_bare": round(median / bare, 2) if median is not None and bare else None,
            "ssh_connections": last.ssh if last else None,
            "zfs_calls_source": last.zfs_src if last else None,
            "zfs_calls_destination": last.zfs_dst if last else None,
            "peak_rss_mib": max(rss) if rss else None,
            "samples": [asdict(s) for s in self.samples],
        }


class Meter:
    def __init__(self, src, dst, timeout: float):
        self.src, self.dst, self.timeout = src, dst, timeout
        for host in (src, dst):
            wrap_command(host, "/usr/sbin/zfs", WRAPPER)

    def _zfs_calls(self, host) -> int:
        return int(host.sh(f"cat {ZFS_LOG} 2>/dev/null | wc -l").stdout)

    def _connections(self) -> int:
        return self.dst.sshd_log.read_text(errors="replace").count("Accepted publickey")

    def run(self, argv: list[str] | None = None, *, script: str = "", any_exit: bool = False) -> Sample:
        """Run ``argv`` (or the shell ``script``) on src, timed; a failure is a Sample with an error."""
        limit = self.timeout
        before = (self._connections(), self._zfs_calls(self.src), self._zfs_calls(self.dst))
        start = time.monotonic()
        try:
            done = (
                self.src.sh(script, check=False, timeout=limit, cwd="/")
                if script
                else self.src.run(argv, check=False, timeout=limit, cwd="/")
            )
            seconds = time.monotonic() - start
            error = (
                ""
                if done.returncode == 0 or any_exit
                else f"exit {done.returncode}: {_tail(done.stderr or done.stdout)}"
            )
            stderr = done.stderr
        except Exception as exc:  # the sandbox's CommandError on a timeout
            seconds, stderr = None, ""
            error = f"killed after {limit:g} s" if "timed out" in str(exc) else f"failed: {_tail(str(exc))}"
            for host in (self.src, self.dst):
                host.kill_strays()
        counts = (
            self._connections() - before[0],
            self._zfs_calls(self.src) - before[1],
            self._zfs_calls(self.dst) - before[2],
        )
        rss = None
        if "maxrss_kib" in stderr:
            rss = round(int(stderr.split("maxrss_kib")[-1].split()[0]) / 1024, 1)
        return Sample(None if error else seconds, *counts, rss_mib=rss, error=error)


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def record(result: Result, sample: Sample) -> Sample:
    """Add ``sample``; a killed run stops the variant for the rest of the scenario (a failed one does not)."""
    result.samples.append(sample)
    if sample.error.startswith("killed") and not result.status:
        result.status = sample.error
    return sample
