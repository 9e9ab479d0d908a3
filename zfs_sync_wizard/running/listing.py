"""What each side holds, read once per side per run: the job's datasets and
snapshots (one `zfs get`), the snapshot just taken (one more), and which
snapshot-less destinations are empty."""

from __future__ import annotations

from ..commands import probes, zfs
from ..errors import CommandFailed, ConnectionFailed
from ..jobs.endpoint import Endpoint
from ..planning import compression, exclusion, inventory, unchanged
from ..planning.inventory import Inventory
from .context import RunState
from .execute import Executor

NO_TOKEN = ("", "-")  # receive_resume_token when there is none


def list_side(s: RunState, endpoint: Endpoint, dataset: str, required: bool) -> Inventory:
    """The job's datasets on one side ({} for a destination that does not exist yet)."""
    extra = ["userrefs"]  # who holds a snapshot: holds.reconcile asks only about held ones
    if endpoint == s.src and s.src_caps.raw:
        extra.append("encryption")
    if endpoint == s.src and not s.src_caps.estimate:  # a stream's size, roughly, where zfs cannot estimate
        extra += ["referenced", "used"]  # (pv's, and compression.small's)
    if endpoint == s.dst and s.resumable:
        extra.append("receive_resume_token")
    if endpoint == s.dst:  # was it written to since its newest snapshot? (OpenZFS says it exactly)
        extra += ["written"] if s.dst_caps.written else ["referenced", "used"]
    if endpoint == s.src and _may_skip(s):  # nothing new? (planning/unchanged.py)
        extra.append(unchanged.PROPERTY)
    if endpoint == s.src and s.job.compression == "auto" and s.job.crosses_ssh:  # does the data compress?
        extra += compression.PROPERTIES + ((compression.OWN_RATIO,) if s.src_caps.modern_receive else ())
    if endpoint == s.src and s.job.recursive:  # children a recursive job leaves out (planning/exclusion.py)
        extra.append(exclusion.PROPERTY)
    return list_dataset(s.ex, endpoint, dataset, s.job.recursive, extra, required)


def _may_skip(s: RunState) -> bool:
    """Whether this run may find nothing new on the source: it takes snapshots, may skip them and
    the source's zfs has `written`, which counts only committed transaction groups: `zpool sync`
    first, so a write of the last seconds counts too (where zpool has no sync, nothing is skipped)."""
    if not (s.job.take_snapshots and s.job.when_unchanged == unchanged.SKIP and s.src_caps.written):
        return False
    pool = s.job.source.dataset.split("/")[0]
    return s.ex.run(s.src, zfs.pool_sync(pool), changes=False, check=False).status == 0


def list_dataset(
    ex: Executor, endpoint: Endpoint, dataset: str, recursive: bool, extra=(), required: bool = False
) -> Inventory:
    """One `zfs get` of a dataset (and its children when recursive): also what --status and --monitor read."""
    try:
        result = ex.run(endpoint, zfs.listing(dataset, recursive, extra), changes=False)
    except CommandFailed as exc:
        if "does not exist" in exc.stderr and not isinstance(exc, ConnectionFailed):
            if required:
                raise CommandFailed(
                    exc.host, exc.command, exc.status, f"source dataset {dataset} does not exist"
                ) from None
            return {}
        raise
    inv = inventory.parse(result.stdout)
    return {name: ds for name, ds in inv.items() if recursive or name == dataset}


def taken_guids(s: RunState, src_inv: Inventory, taken: str) -> dict[str, int]:
    """The GUID of the snapshot just taken on each source dataset, also added to `src_inv`."""
    fresh = inventory.parse(
        s.ex.run(s.src, zfs.snapshots_listing(list(src_inv), taken), changes=False).stdout
    )
    guids = {}
    for name, ds in fresh.items():
        for snap in ds.snapshots:
            ds = src_inv[name]
            ds.snapshots = [x for x in ds.snapshots if x.name != snap.name] + [snap]
            guids[name] = snap.guid
    return guids


def empty_destinations(s: RunState, dst_inv: Inventory) -> frozenset[str]:
    """Destination datasets without snapshots or children that hold no file."""
    return frozenset(
        name
        for name in dst_inv
        if inventory.bare(dst_inv, name)
        and s.ex.shell(s.dst, probes.empty_probe(name), check=False).stdout.strip() == "empty"
    )


def arrived(s: RunState, dataset: str, snapshot: str) -> bool:
    """Is `dataset@snapshot` on the destination (a connection that dropped after the receive ended)?"""
    result = s.ex.run(
        s.dst, zfs.value("guid", f"{dataset}@{snapshot}", parsable=True), changes=False, check=False
    )
    return result.status == 0 and result.stdout.strip().isdigit()


def read_token(s: RunState, dataset: str) -> str | None:
    """The destination dataset's receive_resume_token, None when it has none."""
    result = s.ex.run(s.dst, zfs.resume_token(dataset), changes=False, check=False)
    token = result.stdout.strip()
    return None if result.status or token in NO_TOKEN else token
