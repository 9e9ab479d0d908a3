"""Benchmark: zfs-sync-run side by side with syncoid, zfs_autobackup and bzfs.

Brings up the two-host zfs-fuse sandbox of the tests (dev/sandbox), installs
zfs-sync-run as users do (a wheel in a fresh venv, tests/installed.py) and the
peers in their own environments (bench/tools.py), and pushes over ssh with the
same pools and key for every tool, alternating tools within each repetition:

  0   start-up: `--version` (bare: the venv's `python -c pass`)
  1   full send of random data (512 MiB; bare `zfs send | ssh zfs receive`)
  2a  nothing new on the source (bare floor: one `ssh host zfs list`)
  2b  one new 1 MiB snapshot (bare: `zfs send -i`)
  3a  recursive, 101 datasets x 5 snapshots, first run (bare: `zfs send -R`)
  3b  the same tree after one `zfs snapshot -r` (bare: `zfs send -R -I`)
  4a/4b  the same with 1,000 datasets x 1 snapshot (zfs-sync-run and the
      fastest peer of 3a only; one repetition)

Medians of --reps runs (3 for scenarios 3), ratios to bare, ssh connections
(the destination sshd's log), zfs calls per side (a logging wrapper over
/usr/sbin/zfs on both hosts) and zfs-sync-run's peak RSS. Writes
docs/benchmarks.md and docs/benchmarks.json.

Run as root on Debian, where the sandbox works (see README):
    .venv/bin/python bench/compare.py [--reps 5] [--quick]
--scenarios 34: only those scenarios (the peers are probed every time).
--quick: a smoke run (small sizes, 2 repetitions, no scenario 4), written to
docs/benchmarks-quick.{md,json} unless --out says otherwise.
"""

from __future__ import annotations

import argparse
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report  # noqa: E402
from bench.measure import Meter, Result, record  # noqa: E402
from bench.tools import (  # noqa: E402
    BARE,
    BZFS,
    PEERS,
    SYNCOID,
    SYNCOID_NONE,
    SYNCOID_PROGRAM,
    ZAB,
    ZSR,
    ZSR_NONE,
    Tools,
    Variant,
)
from dev.sandbox import Sandbox  # noqa: E402

WORK = Path("/var/tmp/zsw-bench/run")
FULL = {"s1_mib": 512, "s2_mib": 1, "s3_children": 100, "s3_snaps": 5, "s4_children": 999}
QUICK = {"s1_mib": 32, "s2_mib": 1, "s3_children": 10, "s3_snaps": 5, "s4_children": 0}

# One tree: a parent and its children, a small file in each written before each of the snapshots.
TREE_SCRIPT = r"""
set -e
root=$1 children=$2 snaps=$3
zfs create -p "$root"
i=1; while [ "$i" -le "$children" ]; do zfs create "$root/c$i"; i=$((i + 1)); done
s=1; while [ "$s" -le "$snaps" ]; do
    for m in $(zfs list -H -o mounted,mountpoint -r "$root" | awk '$1 == "yes" {print $2}'); do
        head -c 16384 /dev/urandom > "$m/f$s"
    done
    zfs snapshot -r "$root@s$s"; s=$((s + 1))
done
"""


def why(output: str, code: int) -> str:
    """The first error a peer reports: bzfs's "ERROR: ...", zfs_autobackup's failed command and its stderr."""
    for line in output.splitlines():
        if "ERROR:" in line:
            return line.split("ERROR:", 1)[1].strip()
    failed = re.search(r'Command "([^"]{0,80})[^"]*" returned exit code', output)
    stderr = re.search(r"STDERR > (.*)", output)
    if failed:
        return f"`{failed.group(1)}` failed" + (f" ({stderr.group(1).strip()})" if stderr else "")
    return f"exit {code}"


FEATURES = {
    "`zfs --version`": ["zfs", "--version"],
    "`zfs list -p`": ["zfs", "list", "-p", "-H", "tank"],
    "`zfs get -t`": ["zfs", "get", "-t", "filesystem", "-H", "name", "tank"],
    "`zfs get -d`": ["zfs", "get", "-d", "1", "-H", "name", "tank"],
    "`zpool get -H`": ["zpool", "get", "-H", "name", "tank"],
    "`zfs holds`": ["zfs", "holds", "-H", "tank@probe"],
    "the `written` property": ["zfs", "get", "-H", "written", "tank"],
    "several snapshots in one `zfs snapshot`": ["zfs", "snapshot", "tank@probe2", "tank/probe@probe2"],
}


def missing_features(host) -> list[str]:
    """Which of the commands the peers use zfs-fuse refuses (it is ZFS pool version 23, 2011)."""
    host.run(["zfs", "create", "tank/probe"])
    host.run(["zfs", "snapshot", "tank@probe"])
    return [name for name, argv in FEATURES.items() if host.run(argv, check=False).returncode != 0]


def more_files(host) -> None:
    """Let the host's zfs-fuse hold more than 1,024 files: each mounted dataset keeps one
    /dev/fuse descriptor open, and scenarios 3 and 4 mount several thousand."""
    daemon = next(d for d in host.daemons if Path(f"/proc/{d.pid}/comm").read_text().strip() == "zfs-fuse")
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # as high as this machine lets root go
    subprocess.run(["prlimit", f"--pid={daemon.pid}", f"--nofile={limit}:{limit}"], check=True)


def rotated(variants: list[Variant], rep: int) -> list[Variant]:
    """Alternate the order within each repetition, so no tool always runs first."""
    k = rep % len(variants)
    return variants[k:] + variants[:k]


class Bench:
    def __init__(self, sbx: Sandbox, tools: Tools, meter: Meter, args: argparse.Namespace, sizes: dict):
        self.src, self.dst = sbx.src, sbx.dst
        self.tools, self.meter, self.args, self.sizes = tools, meter, args, sizes
        self.results: dict[str, dict[str, Result]] = {}
        self.loads: dict[str, str] = {}
        self.lacks: list[str] = []  # what the peers need and zfs-fuse has not
        self.unavailable: dict[str, str] = {}  # variant key: why it could not run here

    def result(self, scenario: str, variant: Variant) -> Result:
        result = self.results.setdefault(scenario, {}).setdefault(variant.key, Result())
        if scenario != "0" and variant.key in self.unavailable:
            result.status = self.unavailable[variant.key]
        return result

    def progress(self, scenario: str, variant: Variant, rep: int) -> None:
        r = self.result(scenario, variant)
        last = r.samples[-1] if r.samples else None
        shown = f"{last.seconds:.2f} s" if last and last.seconds is not None else (last.error if last else "")
        print(f"[{time.strftime('%H:%M:%S')}] {scenario} rep {rep} {variant.key}: {shown}", flush=True)

    def timed(self, scenario: str, variant: Variant, rep: int, argv=None, script="", any_exit=False) -> None:
        record(self.result(scenario, variant), self.meter.run(argv, script=script, any_exit=any_exit))
        self.progress(scenario, variant, rep)

    def state(self, name: str) -> Path:
        return WORK / "state" / name

    def load(self, scenario: str) -> None:
        self.loads[scenario] = Path("/proc/loadavg").read_text().split(" ", 3)[:3]

    # -- scenario 0 ---------------------------------------------------------------

    def startup(self) -> None:
        commands = {
            BARE: [self.tools.product.python, "-c", "pass"],
            ZSR: [self.tools.product.program("zfs-sync-run"), "--version"],
            SYNCOID: [SYNCOID_PROGRAM, "--version"],
            ZAB: [self.tools.zab, "--version"],
            BZFS: [self.tools.bzfs, "--version"],
        }
        self.load("0")
        for rep in range(self.args.reps):
            for variant in rotated(list(commands), rep):
                # zfs-autobackup --version exits 255
                self.timed("0", variant, rep, commands[variant], any_exit=True)

    # -- scenario 1 ---------------------------------------------------------------

    def full_send(self) -> None:
        mib = self.sizes["s1_mib"]
        self.src.run(["zfs", "create", "-p", "tank/s1data"])
        self.src.write_random("tank/s1data", "blob", mib << 20)
        self.src.run(["zfs", "snapshot", "tank/s1data@base"])
        self.src.run(["zfs", "create", "tank/s1"])
        self.load("1")
        variants = [BARE, ZSR, ZSR_NONE, SYNCOID, SYNCOID_NONE, ZAB]
        for rep in range(self.args.reps):
            for variant in rotated(variants, rep):
                if self.result("1", variant).stopped:
                    continue
                source, dest = f"tank/s1/{variant.slug}-{rep}", f"b1/{variant.slug}-{rep}"
                self.src.run(["zfs", "clone", "tank/s1data@base", source])
                self.src.run(["zfs", "snapshot", f"{source}@base"])
                if "b1" in self.dst.pools():
                    self.dst.destroy_pool("b1")  # holds and all: the next run starts empty
                self.dst.create_pool("b1", size=f"{mib * 2 + 256}M")
                self.replicate("1", variant, rep, source, dest, state=self.state(f"s1-{variant.slug}-{rep}"))

    def replicate(
        self, scenario, variant, rep, source, dest, *, state, recursive=False, bare_script=""
    ) -> None:
        """One timed run of ``variant`` from ``source`` to ``dest`` (bare: ``bare_script``)."""
        if self.result(scenario, variant).stopped:
            return
        if variant is BARE:
            script = bare_script or self.tools.bare_send(f"{source}@base", dest, self.tools.target)
            self.timed(scenario, variant, rep, script=script)
            return
        for argv in self.tools.setup(variant, source):
            self.src.run(argv)
        argv = self.tools.command(variant, source, dest, recursive=recursive, state=state)
        self.timed(scenario, variant, rep, argv)

    def probe(self, variant: Variant) -> None:
        """Try a peer once on a small dataset; where zfs-fuse lacks what it needs, keep why.

        bzfs probes `zfs --version` and needs `zfs list -p`; zfs_autobackup 3.3 runs
        `zfs get -t`, `zpool get -H -p`, `zfs holds` and reads `written`: zfs-fuse 0.7 has none of them.
        """
        source = f"tank/probe-{variant.slug}"
        self.src.run(["zfs", "create", source])
        self.src.run(["zfs", "snapshot", f"{source}@base"])
        for argv in self.tools.setup(variant, source):
            self.src.run(argv)
        argv = self.tools.command(variant, source, f"b0/probe-{variant.slug}", recursive=False, state=WORK)
        done = self.src.run(argv, check=False, timeout=120, cwd="/")
        if done.returncode != 0:
            self.unavailable[variant.key] = (
                f"not run on zfs-fuse: {why(done.stdout + done.stderr, done.returncode)}"
            )

    # -- scenario 2 ---------------------------------------------------------------

    def incremental(self) -> None:
        mib = self.sizes["s2_mib"]
        self.dst.create_pool("b2", size="512M")
        self.src.run(["zfs", "create", "tank/s2"])
        variants = [BARE, ZSR, SYNCOID, ZAB]
        for variant in variants:
            source = f"tank/s2/{variant.slug}"
            self.src.run(["zfs", "create", source])
            self.src.write_random(source, "f0", mib << 20)
            self.src.run(["zfs", "snapshot", f"{source}@n0"])
            # The first replication is set-up, not measured.
            bare = self.tools.bare_send(f"{source}@n0", f"b2/{variant.slug}", self.tools.target)
            self.replicate(
                "2-setup",
                variant,
                0,
                source,
                f"b2/{variant.slug}",
                state=self.state("s2-" + variant.slug),
                bare_script=bare,
            )
            setup = self.result("2-setup", variant)
            failed = setup.status or ("" if setup.last_ok else f"failed: {setup.samples[-1].error}")
            for scenario in ("2a", "2b"):
                if failed:
                    self.result(scenario, variant).status = f"not run: its first replication {failed}"
        self.load("2a")
        self.load("2b")
        for rep in range(self.args.reps):
            for scenario in ("2a", "2b"):
                for variant in rotated(variants, rep):
                    if self.result(scenario, variant).stopped:
                        continue
                    source, dest = f"tank/s2/{variant.slug}", f"b2/{variant.slug}"
                    bare = f"ssh {self.tools.target} zfs list -H -o name {dest}"
                    if scenario == "2b":
                        self.src.write_random(source, f"f{rep + 1}", mib << 20)
                        self.src.run(["zfs", "snapshot", f"{source}@n{rep + 1}"])
                        bare = self.tools.bare_send(
                            f"{source}@n{rep + 1}", dest, self.tools.target, base=f"@n{rep}"
                        )
                    self.replicate(
                        scenario,
                        variant,
                        rep,
                        source,
                        dest,
                        state=self.state("s2-" + variant.slug),
                        bare_script=bare,
                    )

    # -- scenarios 3 and 4: trees ------------------------------------------------------

    def tree(
        self, first: str, then: str, variants: list[Variant], children: int, snaps: int, reps: int
    ) -> None:
        """``first``: a fresh tree's first run per repetition; ``then``: that tree after `zfs snapshot -r`."""
        pool, top = f"b{first[0]}", f"tank/s{first[0]}"
        self.dst.create_pool(pool, size="2G")
        # One zfs-fuse mounts at most about 1,000 file systems: past 200 datasets, trees stay unmounted.
        unmounted = ["-o", "mountpoint=none"] if children > 200 else []
        self.src.run(["zfs", "create", *unmounted, top])
        if unmounted:
            self.dst.run(["zfs", "set", "mountpoint=none", pool])
        self.load(first)
        last: dict[str, int] = {}
        for rep in range(reps):
            for variant in rotated(variants, rep):
                if self.result(first, variant).stopped:
                    continue
                name = f"{variant.slug}-{rep}"
                self.src.sh(TREE_SCRIPT, f"{top}/{name}", str(children), str(snaps), timeout=1800)
                bare = self.tools.bare_send(
                    f"{top}/{name}@s{snaps}", f"{pool}/{name}", self.tools.target, tree=True
                )
                self.replicate(
                    first,
                    variant,
                    rep,
                    f"{top}/{name}",
                    f"{pool}/{name}",
                    state=self.state(f"{first}-{name}"),
                    recursive=True,
                    bare_script=bare,
                )
                if self.result(first, variant).last_ok:
                    last[variant.key] = rep
        self.load(then)
        for rep in range(reps):
            for variant in rotated(variants, rep):
                if variant.key not in last:
                    self.result(then, variant).status = f"not run: no first run ({first}) succeeded"
                if self.result(then, variant).stopped:
                    continue
                name = f"{variant.slug}-{last[variant.key]}"
                source = f"{top}/{name}"
                previous = f"u{rep - 1}" if rep else f"s{snaps}"
                self.src.run(["zfs", "snapshot", "-r", f"{source}@u{rep}"])
                bare = self.tools.bare_send(
                    f"{source}@u{rep}", f"{pool}/{name}", self.tools.target, base=f"@{previous}", tree=True
                )
                self.replicate(
                    then,
                    variant,
                    rep,
                    source,
                    f"{pool}/{name}",
                    state=self.state(f"{first}-{name}"),
                    recursive=True,
                    bare_script=bare,
                )

    def fastest_peer(self) -> Variant | None:
        medians = [(self.result("3a", v).median, v) for v in PEERS if self.result("3a", v).median is not None]
        return min(medians, key=lambda m: m[0])[1] if medians else None

    def run(self) -> None:
        self.dst.create_pool("b0", size="256M")
        self.lacks = missing_features(self.src)
        for peer in (BZFS, ZAB):
            self.probe(peer)
        chosen, s = self.args.scenarios, self.sizes
        if "0" in chosen:
            self.startup()
        if "1" in chosen:
            self.full_send()
        if "2" in chosen:
            self.incremental()
        if "3" in chosen:
            self.tree("3a", "3b", [BARE, ZSR, SYNCOID, ZAB], s["s3_children"], s["s3_snaps"], self.args.reps3)
        if "4" in chosen and s["s4_children"]:
            # without scenario 3, the peer that runs on zfs-fuse
            peer = self.fastest_peer() if "3" in chosen else SYNCOID
            variants = [BARE, ZSR] + ([peer] if peer else [])
            self.tree("4a", "4b", variants, s["s4_children"], 1, 1)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5; 2 with --quick)")
    parser.add_argument(
        "--reps3", type=int, default=None, help="repetitions of scenario 3 (default 3; 2 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, no scenario 4")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds before a run is killed (600; 120 with --quick)"
    )
    parser.add_argument(
        "--note", default="", help="a sentence for the report (e.g. how busy the machine was)"
    )
    parser.add_argument("--scenarios", default="01234", help="which scenarios to run (default 01234)")
    parser.add_argument("--out", type=Path, default=None, help="Markdown output (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    args.reps = args.reps or (2 if args.quick else 5)
    args.reps3 = args.reps3 or (2 if args.quick else min(3, args.reps))
    args.timeout = args.timeout or (120 if args.quick else 600)
    docs = Path(__file__).resolve().parent.parent / "docs"
    args.out = args.out or docs / ("benchmarks-quick.md" if args.quick else "benchmarks.md")
    args.command = shlex.join(
        [".venv/bin/python", "bench/compare.py", *(argv if argv is not None else sys.argv[1:])]
    )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = QUICK if args.quick else FULL
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    began = time.time()
    with Sandbox(mode="fuse") as sbx:
        for host in sbx.hosts:
            more_files(host)
        tools = Tools(sbx.dst.address, WORK)
        sbx.src.create_pool("tank", size=f"{sizes['s1_mib'] + 2048}M")
        bench = Bench(sbx, tools, Meter(sbx.src, sbx.dst, args.timeout), args, sizes)
        try:
            bench.run()
        finally:
            report.write(args, sizes, bench, tools, began)
    print(f"written: {args.out} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
