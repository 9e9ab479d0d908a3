"""A real demo replication in a throwaway sandbox (the README's first command).

Makes two hosts with file-backed pools (zfs-fuse hosts in namespaces, or
uniquely named pools on this machine's OpenZFS, never touching existing
pools), writes a job, shows its dry run, runs a full and then an
incremental replication through `zfs-sync-run`, and compares what arrived
by checksum and snapshot GUID.  Everything it made is destroyed at the end.

    python -m dev.demo      (from the checkout; bin/zfs-sync-demo)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import humanize
import yaml

from .sandbox import Sandbox, SandboxError

# the console script pip put beside this interpreter (bin/setup-env installs the checkout into .venv)
RUN = [str(Path(sys.executable).with_name("zfs-sync-run"))]


def say(text: str = "") -> None:
    print(text, flush=True)


def main() -> int:
    started = time.monotonic()
    say("zfs-sync-wizard demo: two throwaway ZFS hosts, one job, a full and an incremental replication")
    try:
        with Sandbox() as sbx, tempfile.TemporaryDirectory(prefix="zsw-demo-") as tmp:
            say(f"sandbox: {sbx.mode} mode, hosts {sbx.src.hostname} and {sbx.dst.hostname}\n")
            ok = _demo(sbx, Path(tmp))
    except SandboxError as exc:
        print(f"demo: could not build the sandbox: {exc}", file=sys.stderr)
        return 1
    say(f"\n{'OK' if ok else 'FAILED'}: demo finished in {time.monotonic() - started:.1f} s; sandbox removed")
    return 0 if ok else 1


def _demo(sbx: Sandbox, tmp: Path) -> bool:
    src, dst = sbx.src, sbx.dst
    tank, backup = src.create_pool("tank"), dst.create_pool("backup")
    media = f"{tank}/media"
    src.run(["zfs", "create", media])
    src.write_random(media, "movies/big-buck-bunny.mkv", 3 << 20)
    src.write_file(media, "README.txt", b"Plex media library (demo)\n")
    job = _job(sbx, media, f"{backup}/media")
    conf, state = tmp / "config", tmp / "state"
    (conf / "jobs").mkdir(parents=True)
    (conf / "jobs" / "media.yaml").write_text(yaml.safe_dump(job, sort_keys=False))
    say(f"job file {conf}/jobs/media.yaml:\n" + _indent(yaml.safe_dump(job, sort_keys=False)))

    def product(*args: str):
        return src.run(
            RUN + ["--config-dir", str(conf), "--state-dir", str(state), *args],
            check=False,
            timeout=600,
            cwd="/",
        )

    steps = [
        ("dry run (changes nothing)", ["--dry-run", "media"]),
        ("first run: full replication", ["media"]),
    ]
    for title, args in steps:
        if not _step(title, product(*args), show_output=True):
            return False
    src.write_random(media, "movies/sintel.mkv", 1 << 20)
    src.run(["zfs", "snapshot", f"{media}@before-new-episodes"])
    src.write_file(media, "README.txt", b"Plex media library (demo), now with new episodes\n")
    if not _step(
        "second run: incremental (-I carries @before-new-episodes)", product("media"), show_output=False
    ):
        return False
    return _summary(src, media, dst, f"{backup}/media", state)


def _job(sbx: Sandbox, source: str, destination: str) -> dict:
    dst = sbx.dst
    side = {"dataset": destination, "host": f"root@{dst.address}"}
    if sbx.mode != "fuse":  # one machine: reach the sandbox's own sshd
        side.update(port=dst.ssh_port, ssh_key=str(dst.client_key), known_hosts=str(dst.known_hosts))
    return {
        "version": 1,
        "source": {"dataset": source},
        "destination": side,
        "transfer": {"compression": "zstd"},
    }


def _step(title: str, result, show_output: bool) -> bool:
    say(f"$ zfs-sync-run ... # {title}")
    if show_output and result.stdout:
        say(_indent(result.stdout))
    say(
        f"  exit status {result.returncode}{' (nothing printed: success)' if not result.stdout + result.stderr else ''}"
    )
    if result.returncode != 0:
        say(_indent(result.stderr))
    return result.returncode == 0


def _summary(src, src_ds: str, dst, dst_ds: str, state: Path) -> bool:
    dst.run(["zfs", "mount", dst_ds], check=False)
    src_snaps, dst_snaps = src.snapshots(src_ds), dst.snapshots(dst_ds)
    same_data = src.checksum(src_ds) == dst.checksum(dst_ds)
    say("\nwhat arrived:")
    say(f"  {'snapshot':<40} {'source guid':>21} {'destination guid':>21}")
    for name in dict.fromkeys(list(src_snaps) + list(dst_snaps)):
        say(f"  {name:<40} {src_snaps.get(name, '-'):>21} {dst_snaps.get(name, '-'):>21}")
    record = json.loads((state / "runs" / "media.json").read_text())
    say(f"  files: sha256 of every file {'identical' if same_data else 'DIFFERENT'} on both hosts")
    say(f"  last run: {record['result']}, {humanize.naturalsize(record['bytes'], binary=True)} sent")
    return same_data and src_snaps == dst_snaps


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines())


if __name__ == "__main__":
    sys.exit(main())
