"""Benchmark: zfs-sync-run's push pipeline against a bare `zfs send | ssh | zfs receive`.

Targets (checked here, never by timed tests):
- throughput of a full push with compression off is at least 80% of the
  bare pipeline's (pv and mbuffer cost little; the stream never passes
  through Python);
- the zfs-sync-run process's peak RSS stays under 100 MiB whatever the
  stream size (it only starts and watches processes).

Run as root on a machine where the sandbox works (see README):
    .venv/bin/python bench/throughput.py [--mib 256]
Prints one JSON object; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dev.sandbox import Sandbox  # noqa: E402

MEASURE_RSS = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: print('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
    "sys.argv = ['zfs-sync-run'] + sys.argv[1:]\n"
    "runpy.run_module('zfs_sync_wizard.cli.run', run_name='__main__')\n"
)


def timed(call):
    start = time.monotonic()
    result = call()
    return time.monotonic() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="size of the test data (default 256)")
    args = parser.parse_args()
    size = args.mib << 20
    pool_size = f"{args.mib * 2 + 128}M"
    with Sandbox() as sbx:
        src, dst = sbx.src, sbx.dst
        src.create_pool("tank", size=pool_size)
        dst.create_pool("backup", size=pool_size)
        src.run(["zfs", "create", "tank/data"])
        src.write_random("tank/data", "blob", size)
        src.run(["zfs", "snapshot", "tank/data@bare"])
        target = f"root@{dst.address}"
        bare, _ = timed(
            lambda: src.sh(f"zfs send tank/data@bare | ssh {target} zfs receive -u backup/bare", timeout=900)
        )

        conf = Path("/tmp/zsw-bench-config")
        (conf / "jobs").mkdir(parents=True, exist_ok=True)
        job = {
            "source": {"dataset": "tank/data"},
            "destination": {"dataset": "backup/data", "host": target},
            "transfer": {"compression": "none"},
        }
        (conf / "jobs" / "bench.yaml").write_text(yaml.safe_dump(job))
        argv = [
            sys.executable,
            "-c",
            MEASURE_RSS,
            "--config-dir",
            str(conf),
            "--state-dir",
            str(conf / "state"),
            "bench",
        ]
        ours, result = timed(lambda: src.run(argv, check=False, timeout=900))
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        rss_kib = int(result.stderr.split("maxrss_kib")[-1].split()[0])
    report = {
        "mib": args.mib,
        "bare_mb_s": round(size / bare / 1e6, 1),
        "zfs_sync_run_mb_s": round(size / ours / 1e6, 1),
        "ratio": round(bare / ours, 2),
        "zfs_sync_run_peak_rss_mib": round(rss_kib / 1024, 1),
    }
    report["targets_met"] = report["ratio"] >= 0.8 and report["zfs_sync_run_peak_rss_mib"] < 100
    print(json.dumps(report))
    return 0 if report["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
