"""Reading a snapshot's files on either side without changing anything
(`--verify --deep`, the wizard's `restore --browse`): through `.zfs/snapshot` where the dataset is mounted
and zfs shows that directory, otherwise through a temporary read-only clone
at the pool's top (zfs-fuse has no `.zfs`; a received destination is not
mounted), destroyed on the way out, also when interrupted."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

from ..commands import checksums, zfs
from ..errors import CommandFailed, VerificationFailed
from ..jobs.endpoint import Endpoint
from . import busy
from .execute import Executor

log = logging.getLogger("zfs_sync_wizard")


@contextlib.contextmanager
def snapshot_dir(
    ex: Executor, endpoint: Endpoint, dataset: str, snapshot: str, purpose: str = "verify"
) -> Iterator[str]:
    """A directory on `endpoint` that shows `dataset@snapshot`'s files, read-only
    (`purpose` names the temporary clone and directory: zsw-verify-..., zsw-browse-...)."""
    mounted, mountpoint = _mount_state(ex, endpoint, dataset)
    if mounted:
        shown = ex.shell(endpoint, checksums.snapshot_dir_script(mountpoint, snapshot)).stdout.strip()
        if shown:
            yield shown
            return
    # a fresh private directory names the clone's mountpoint (below the pool's altroot, if any)
    directory = ex.run(endpoint, checksums.temporary_dir(purpose), changes=False).stdout.strip()
    clone = f"{dataset.split('/')[0]}/zsw-{purpose}-{secrets.token_hex(6)}"
    mountpoint = directory
    try:
        ex.run(endpoint, zfs.readonly_clone(dataset, snapshot, clone, directory), changes=True)
        mounted, mountpoint = _mount_state(ex, endpoint, clone)
        if not mounted:
            ex.run(endpoint, zfs.mount(clone), changes=True)
            mounted, mountpoint = _mount_state(ex, endpoint, clone)
        if not mounted:  # an empty directory would read as an empty snapshot
            raise VerificationFailed(
                f"cannot read {dataset}@{snapshot} on {endpoint.label}: its clone is not mounted"
            )
        yield mountpoint
    finally:
        _remove(ex, endpoint, clone, {directory, mountpoint})


def _mount_state(ex: Executor, endpoint: Endpoint, dataset: str) -> tuple[bool, str]:
    mounted, _, mountpoint = ex.run(endpoint, zfs.mount_state(dataset), changes=False).stdout.partition("\n")
    return mounted.strip() == "yes", mountpoint.strip()


def _remove(ex: Executor, endpoint: Endpoint, clone: str, directories: set[str]) -> None:
    try:
        busy.run(ex, endpoint, zfs.destroy_clone(clone))
    except CommandFailed as exc:
        if "does not exist" not in exc.stderr:
            log.warning(
                "could not remove the temporary clone %s on %s: %s; remove it with: zfs destroy %s",
                clone,
                endpoint.label,
                exc.stderr.strip(),
                clone,
            )
            return
    for directory in sorted(directories, key=len, reverse=True):
        ex.run(endpoint, checksums.remove_dir(directory), changes=True, check=False)


@contextlib.contextmanager
def checksum_lines(ex: Executor, endpoint: Endpoint, directory: str) -> Iterator[Iterator[bytes]]:
    """`sha256sum` lines of every regular file below `directory`, sorted by path, as they come."""
    with ex.stream(endpoint, checksums.checksum_script(directory)) as lines:
        pid, group = checksums.parse_ids(next(lines, b""))
        try:
            yield lines
        except BaseException:
            if pid and not endpoint.is_local:  # ending the local ssh leaves the remote shell running
                ex.shell(endpoint, checksums.stop_script(pid, group), check=False)
            raise
