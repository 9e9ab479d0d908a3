"""sha256 of a directory tree: ``python treehash.py DIR`` prints the digest.

Run as a plain script on a sandbox host (stdlib only, ``python -I``), since
a host's mounts are not visible from the machine's root namespace.

What is hashed, in sorted order of relative path: each directory's path,
each symlink's path and target, each regular file's path and contents.
Owners, modes and times are not hashed. Directories on another device
(a child dataset mounted below this one) are hashed by path only, not
descended into, so a parent's checksum does not change with its children.
A snapshot's ``.zfs/snapshot/NAME`` is entered (mounted) before its device
is taken.
Files are opened with O_NOATIME where allowed: a read that updates atime
modifies a received dataset, and the next incremental receive then fails.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys

_CHUNK = 1 << 20


def _open_noatime(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NOATIME", 0)
    try:
        return os.open(path, flags)
    except PermissionError:
        # O_NOATIME needs file ownership or CAP_FOWNER.
        return os.open(path, os.O_RDONLY)


def _file_digest(path: str) -> bytes:
    digest = hashlib.sha256()
    fd = _open_noatime(path)
    try:
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.digest()


def _entries(root: str, device: int, rel: str = "") -> list[tuple[str, str]]:
    """(relative path, kind) for everything below ``root``, sorted."""
    found = []
    with os.scandir(os.path.join(root, rel)) as it:
        children = sorted(it, key=lambda e: e.name)
    for entry in children:
        path = f"{rel}/{entry.name}" if rel else entry.name
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            found.append((path, "link"))
        elif stat.S_ISDIR(st.st_mode):
            found.append((path, "dir"))
            if st.st_dev == device:
                found.extend(_entries(root, device, path))
        elif stat.S_ISREG(st.st_mode):
            found.append((path, "file"))
    return found


def tree_hash(root: str) -> str:
    # Opened before its device is read: stat() does not trigger an automount, so on
    # a `.zfs/snapshot/NAME` not yet mounted it gives the control directory's device,
    # and every subdirectory of the snapshot (on the snapshot's device) would be
    # hashed by path only, its files left out.
    os.listdir(root)
    digest = hashlib.sha256()
    for path, kind in _entries(root, os.stat(root).st_dev):
        full = os.path.join(root, path)
        digest.update(f"{kind}\0{path}\0".encode("utf-8", "surrogateescape"))
        if kind == "link":
            digest.update(os.readlink(full).encode("utf-8", "surrogateescape"))
        elif kind == "file":
            digest.update(_file_digest(full))
        digest.update(b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    print(tree_hash(sys.argv[1]))
