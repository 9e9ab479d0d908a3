"""The shell lines `--verify --deep` runs on each side (pure).

The checksum line lists a snapshot's regular files sorted by path in bytes
(`LC_ALL=C sort -z`, NUL-separated so any name survives) and checksums them
in that order, one line per file: planning/content.py merges the two
sides' streams as they come.  Its first line is the shell's PID and
process group, so an interrupted check can stop all it started on a remote
host (ending the local ssh leaves that running, holding the clone busy).
"""

from __future__ import annotations

import shlex


def checksum_script(directory: str) -> str:
    d = shlex.quote(directory)
    return (
        f'echo "$$ $(ps -o pgid= -p $$ 2>/dev/null)"; cd -- {d} || exit 3; '
        "find . -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum --"
    )


def parse_ids(line: bytes) -> tuple[int, int]:
    """(pid, process group) from the checksum line's first line (0 where unknown)."""
    words = line.split()
    ids = [int(w) for w in words[:2] if w.isdigit()]
    return (ids + [0, 0])[0], (ids + [0, 0])[1]


def stop_script(pid: int, group: int) -> str:
    """End an interrupted checksum shell and all it started (find, sort, xargs, sha256sum)."""
    if group > 1:
        return f"kill -s TERM -- -{int(group)} 2>/dev/null; true"  # dash: -TERM -- is "illegal"
    return f"pkill -TERM -P {int(pid)}; kill -TERM {int(pid)} 2>/dev/null; true"


def snapshot_dir_script(mountpoint: str, snapshot: str) -> str:
    """Prints the snapshot's `.zfs/snapshot` directory if this zfs shows one (not zfs-fuse)."""
    path = shlex.quote(f"{mountpoint.rstrip('/')}/.zfs/snapshot/{snapshot}")
    return f"if [ -d {path} ]; then printf '%s\\n' {path}; fi"


def temporary_dir(purpose: str) -> list[str]:
    """A fresh private directory to mount a temporary clone on (`purpose`: verify, browse)."""
    return ["mktemp", "-d", f"/tmp/zsw-{purpose}.XXXXXXXX"]


def remove_dir(path: str) -> list[str]:
    return ["rmdir", "--", path]
