"""Job files: one job per file, `<config dir>/jobs/<name>.yaml`, read into a
Job; `<config dir>/defaults.yaml` holds settings that apply to every job
unless the job sets them.  Every error names the file, the key and what is
allowed (zfs-sync-job(5)); the schema itself is in schema.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from . import names, yamlfile
from .endpoint import Endpoint
from .schema import JOB_ONLY, SCHEMA, merge, validate


@dataclass(frozen=True)
class Side:
    dataset: str
    endpoint: Endpoint


@dataclass(frozen=True)
class Job:
    name: str
    source: Side
    destination: Side
    recursive: bool
    readonly: bool
    rollback: bool
    compression: str
    buffer: str | None
    bandwidth_limit: str | None
    incremental: str
    initial: str
    raw: str
    direct: Endpoint | None
    retries: int
    retry_delay: int
    take_snapshots: bool
    snapshot_prefix: str
    keep: int
    hold: bool
    retention: dict
    schedule: str | None
    logs: dict  # the `logs` section: max_bytes, keep, runs, progress_interval
    notify: dict | None = None  # the notify: section (when, mail, webhooks, timeout, sendmail)
    path: Path | None = None
    settings: dict | None = None  # the validated, merged mapping (for dumping)
    metrics_dir: str | None = None  # node_exporter's textfile directory (metrics.textfile_dir)
    snapshot_source: str = "own"  # own, existing, or every (take: false): planning/selection.py
    snapshot_include: tuple[str, ...] = ("*",)
    snapshot_exclude: tuple[str, ...] = ()
    prune_destination: bool = True
    source_exclude: tuple[str, ...] = ()  # child datasets left out by name pattern
    receive_set: tuple[tuple[str, str], ...] = ()  # zfs receive -o k=v
    receive_exclude: tuple[str, ...] = ()  # zfs receive -x k
    when_unchanged: str = "skip"  # skip: no snapshot when nothing was written (planning/unchanged.py)
    parallel: int = 4  # transfers of different datasets at once (running/parallel.py)
    tree_stream: str = "auto"  # auto: one `zfs send -R` where the whole tree shares a plan (planning/tree.py)

    @property
    def crosses_ssh(self) -> bool:
        return not (self.source.endpoint.is_local and self.destination.endpoint.is_local)

    @property
    def wire_compression(self) -> str | None:
        """The compressor a transfer may use on the wire (what --check looks for), None when the
        data stays local; `auto` decides per dataset (planning/compression.py)."""
        if self.compression == "auto":
            return "zstd" if self.crosses_ssh else None
        return None if self.compression == "none" or not self.crosses_ssh else self.compression

    @property
    def hold_tag(self) -> str:
        """The `zfs hold` tag that protects this job's incremental base: `<prefix>_<job>`."""
        return f"{self.snapshot_prefix}_{self.name}"

    @property
    def snapshot_stem(self) -> str:
        """Every replication snapshot of this job starts with this: `<prefix>_<job>_`.

        A prefix has no `_`, so the first `_` ends it and no two (prefix, job)
        pairs share a stem: `zsw_b` + `c` could otherwise be `zsw` + `b_c`.
        """
        return f"{self.snapshot_prefix}_{self.name}_"


def load_defaults(path: Path) -> dict:
    """Validated defaults.yaml (an absent file means no defaults)."""
    if not path.exists():
        return {}
    data = yamlfile.read(path) or {}
    checked = validate(data, SCHEMA, str(path), "", partial=True)
    for section, key in JOB_ONLY:
        if key in checked.get(section, {}):
            raise ConfigError(str(path), f"{section}.{key}: belongs in a job file, not in defaults")
    return checked


def from_mapping(data: Any, name: str, where: str, defaults: dict | None = None) -> Job:
    """Validate a job mapping (merged over defaults) into a Job."""
    try:
        names.job_name(name)
    except ValueError as exc:
        raise ConfigError(where, f"job name: {exc}") from None
    validate(data, SCHEMA, where, "", partial=True)  # report the job file's own errors first
    settings = validate(merge(defaults or {}, data), SCHEMA, where, "", partial=False)
    job = _build(settings, name, where)
    _check_not_overlapping(job, where)
    return job


def load_job(path: Path, defaults: dict | None = None) -> Job:
    data = yamlfile.read(path)
    if data is None:
        raise ConfigError(str(path), "the file is empty")
    job = from_mapping(data, path.stem, str(path), defaults)
    for field, side in (("source.ssh_key", job.source), ("destination.ssh_key", job.destination)):
        if side.endpoint.ssh_key:
            yamlfile.check_private_key(side.endpoint.ssh_key, str(path), field)
    return job


def _endpoint(side: dict) -> Endpoint:
    if side["host"] is None:
        return Endpoint()
    user, host = names.host(side["host"])
    return Endpoint(host, user, side["port"], side["ssh_key"], side["known_hosts"])


def _direct(s: dict) -> Endpoint | None:
    """The destination as the source reaches it, for direct remote-to-remote streams."""
    t, dst = s["transfer"], s["destination"]
    if not t["direct"] or dst["host"] is None or s["source"]["host"] is None:
        return None
    user, host = names.host(t["direct_host"] or dst["host"])
    return Endpoint(host, user, dst["port"])


def _build(s: dict, name: str, where: str) -> Job:
    t, snaps, dst = s["transfer"], s["snapshots"], s["destination"]
    source = "existing" if snaps["source"] == "existing" else ("own" if snaps["take"] else "every")
    return Job(
        name=name,
        source=Side(s["source"]["dataset"], _endpoint(s["source"])),
        destination=Side(s["destination"]["dataset"], _endpoint(s["destination"])),
        recursive=s["source"]["recursive"],
        readonly=s["destination"]["readonly"],
        rollback=s["destination"]["rollback"],
        compression=t["compression"],
        buffer=t["buffer"],
        bandwidth_limit=t["bandwidth_limit"],
        incremental=t["incremental"],
        initial=t["initial"],
        raw=t["raw"],
        direct=_direct(s),
        retries=t["retries"],
        retry_delay=t["retry_delay"],
        take_snapshots=snaps["take_at_end"] if source == "existing" else source == "own",
        snapshot_prefix=snaps["prefix"],
        keep=snaps["keep"],
        hold=snaps["hold"],
        retention=s["retention"],
        schedule=s["schedule"],
        notify=s["notify"],
        logs=s["logs"],
        path=Path(where),
        settings=s,
        metrics_dir=s["metrics"]["textfile_dir"],
        snapshot_source=source,
        snapshot_include=tuple(snaps["include"]),
        snapshot_exclude=tuple(snaps["exclude"]),
        prune_destination=dst["prune"],
        source_exclude=tuple(s["source"]["exclude"]),
        receive_set=tuple(dst["properties"]["set"].items()),
        receive_exclude=tuple(dst["properties"]["exclude"]),
        when_unchanged=snaps["when_unchanged"],
        parallel=t["parallel"],
        tree_stream=t["tree_stream"],
    )


_THIS_MACHINE = ("localhost", "127.0.0.1", "::1")


def machine(endpoint: Endpoint) -> tuple:
    """Which machine an endpoint is, as far as names tell (for the overlap check)."""
    if endpoint.is_local or endpoint.host.lower() in _THIS_MACHINE:
        return (None, None)
    return (endpoint.host.lower().rstrip("."), endpoint.port)


def _check_not_overlapping(job: Job, where: str) -> None:
    src, dst = job.source, job.destination
    if machine(src.endpoint) != machine(dst.endpoint):
        return
    if names.is_inside(dst.dataset, src.dataset) or names.is_inside(src.dataset, dst.dataset):
        raise ConfigError(
            where,
            f"destination.dataset: {dst.dataset!r} is the source {src.dataset!r} or overlaps it on the "
            "same host; choose a dataset outside the source (e.g. another pool)",
        )


def dump(settings: dict) -> str:
    """YAML text for a job mapping, keys in schema order."""
    return yaml.safe_dump(settings, sort_keys=False, default_flow_style=False)


def same_destination(a: Job, b: Job) -> bool:
    """Whether two jobs would receive into the same dataset (one recursive job's tree counts whole)."""
    if machine(a.destination.endpoint) != machine(b.destination.endpoint):
        return False
    da, db = a.destination.dataset, b.destination.dataset
    return da == db or (a.recursive and names.is_inside(db, da)) or (b.recursive and names.is_inside(da, db))


def check_destinations(jobs: list[Job], others: list[Job]) -> None:
    """Refuse a job that receives into the same destination as another job (both files named)."""
    for job in jobs:
        for other in others:
            if other.path != job.path and same_destination(job, other):
                where = f"{job.destination.endpoint.label}:{job.destination.dataset}"
                raise ConfigError(
                    str(job.path),
                    f"destination.dataset: {where} is also written by the job in {other.path} "
                    f"({other.destination.dataset}); two jobs receiving into one dataset would "
                    "undo each other's snapshots. Give each job its own destination dataset",
                )
