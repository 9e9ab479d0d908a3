"""Job files: the YAML schema, its validation and the Job model.

One job per file, `<config dir>/jobs/<name>.yaml`; `<config dir>/defaults.yaml`
holds settings that apply to every job unless the job sets them.  Every
error names the file, the key and what is allowed (zfs-sync-job(5)).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from croniter import croniter

from . import names
from .errors import ConfigError
from .ssh import DEFAULT_PORT, Endpoint

_SIZE = re.compile(r"[1-9][0-9]*[kKmMgG]?")


def _check_bool(v):
    if not isinstance(v, bool):
        raise ValueError("expected true or false")
    return v


def _check_port(v):
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 65535:
        raise ValueError("expected a port number from 1 to 65535")
    return v


def _check_count(v):
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10000:
        raise ValueError("expected a whole number from 0 to 10000")
    return v


def _optional(check):
    def run(v):
        return None if v is None else check(v)

    return run


def _choice(*allowed):
    def run(v):
        if v not in allowed:
            raise ValueError("expected one of: " + ", ".join(str(a) for a in allowed))
        return v

    return run


def _check_size(v):
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return str(v)
    if not isinstance(v, str) or not _SIZE.fullmatch(v):
        raise ValueError("expected a size such as 128M, 1G or 512k")
    return v


def _check_buffer(v):
    if v in (None, False):
        return None
    return _check_size(v)


def _check_key(v):
    if not isinstance(v, str) or not v or v.startswith("-") or "\n" in v:
        raise ValueError("expected the path of an SSH private key, e.g. /root/.ssh/id_ed25519")
    return v


def _check_path(v):
    if not isinstance(v, str) or not v.startswith(("/", "~")) or "\n" in v:
        raise ValueError("expected an absolute file path")
    return v


CRON_SHORTCUTS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")


def _check_cron(v):
    # exactly five fields: a sixth would become part of the command in a crontab line
    fields_ok = isinstance(v, str) and (len(v.split()) == 5 or v.strip() in CRON_SHORTCUTS)
    if not fields_ok or not croniter.is_valid(v):
        raise ValueError("expected a cron expression of five fields, e.g. '0 2 * * *' (02:00 daily)")
    return v


def _check_version(v):
    if type(v) is not int or v != 1:
        raise ValueError("expected 1 (the only job file version)")
    return v


def _check_host(v):
    names.host(v)
    return v


def _check_dataset(v):
    return names.dataset(v)


def _check_prefix(v):
    return names.snapshot_prefix(v)


REQUIRED = object()

# key -> (check, default) or key -> nested table
_SIDE = {
    "dataset": (_check_dataset, REQUIRED),
    "host": (_optional(_check_host), None),
    "port": (_check_port, DEFAULT_PORT),
    "ssh_key": (_optional(_check_key), None),
    "known_hosts": (_optional(_check_path), None),
}
SCHEMA: dict[str, Any] = {
    "version": (_check_version, 1),
    "source": dict(_SIDE, recursive=(_check_bool, False)),
    "destination": dict(_SIDE, readonly=(_check_bool, True), rollback=(_check_bool, False)),
    "transfer": {
        "compression": (_choice("auto", "zstd", "lz4", "none"), "auto"),
        "buffer": (_check_buffer, "128M"),
        "bandwidth_limit": (_optional(_check_size), None),
        "incremental": (_choice("intermediate", "direct"), "intermediate"),
        "initial": (_choice("oldest", "newest"), "oldest"),
        "raw": (_choice("auto", "always", "never"), "auto"),
        "direct": (_check_bool, False),
        "direct_host": (_optional(_check_host), None),
        "retries": (_check_count, 3),
        "retry_delay": (_check_count, 30),
    },
    "snapshots": {
        "take": (_check_bool, True),
        "prefix": (_check_prefix, "zsw"),
        "keep": (_check_count, 1),
        "hold": (_check_bool, True),
    },
    "retention": {
        "source": {
            "hourly": (_check_count, 24),
            "daily": (_check_count, 7),
            "weekly": (_check_count, 4),
            "monthly": (_check_count, 0),
        },
        "destination": {
            "hourly": (_check_count, 0),
            "daily": (_check_count, 30),
            "weekly": (_check_count, 8),
            "monthly": (_check_count, 12),
        },
    },
    "schedule": (_optional(_check_cron), None),
}
# keys a defaults.yaml may not set: they identify one job
_JOB_ONLY = {("source", "dataset"), ("destination", "dataset")}


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
    path: Path | None = None
    settings: dict | None = None  # the validated, merged mapping (for dumping)

    @property
    def wire_compression(self) -> str | None:
        """The compressor used on the wire, None when the data stays local."""
        crosses_ssh = not (self.source.endpoint.is_local and self.destination.endpoint.is_local)
        if self.compression == "auto":
            return "zstd" if crosses_ssh else None
        return None if self.compression == "none" or not crosses_ssh else self.compression

    @property
    def hold_tag(self) -> str:
        """The `zfs hold` tag that protects this job's incremental base."""
        return f"zsw_{self.name}"

    @property
    def snapshot_stem(self) -> str:
        """Every replication snapshot of this job starts with this."""
        return f"{self.snapshot_prefix}_{self.name}_"


def _validate(data: Any, schema: dict[str, Any], where: str, path: str, partial: bool) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(where, f"{path or 'the file'}: expected a mapping of keys")
    out = {}
    for key, value in data.items():
        keypath = f"{path}.{key}" if path else str(key)
        if key not in schema:
            raise ConfigError(where, f"{keypath}: unknown key (allowed: {', '.join(schema)})")
        spec = schema[key]
        if isinstance(spec, dict):
            out[key] = _validate(value, spec, where, keypath, partial)
            continue
        try:
            out[key] = spec[0](value)
        except ValueError as exc:
            raise ConfigError(where, f"{keypath}: {exc}") from None
    if partial:
        return out
    for key, spec in schema.items():
        keypath = f"{path}.{key}" if path else key
        if isinstance(spec, dict):
            out[key] = _validate(out.get(key, {}), spec, where, keypath, partial)
        elif key not in out:
            if spec[1] is REQUIRED:
                raise ConfigError(where, f"{keypath}: missing (required)")
            out[key] = copy.deepcopy(spec[1])
    return {key: out[key] for key in schema}  # schema order, for dump()


def merge(base: dict, over: dict) -> dict:
    """`over` laid on `base`, mapping by mapping (neither is changed)."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def schema_defaults(schema: dict | None = None) -> dict:
    """Every key with its default (None for required keys)."""
    out = {}
    for key, spec in (SCHEMA if schema is None else schema).items():
        if isinstance(spec, dict):
            out[key] = schema_defaults(spec)
        else:
            out[key] = None if spec[1] is REQUIRED else copy.deepcopy(spec[1])
    return out


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(str(path), f"{at}not valid YAML: {getattr(exc, 'problem', exc)}") from None


def load_defaults(path: Path) -> dict:
    """Validated defaults.yaml (an absent file means no defaults)."""
    if not path.exists():
        return {}
    data = _read_yaml(path) or {}
    checked = _validate(data, SCHEMA, str(path), "", partial=True)
    for section, key in _JOB_ONLY:
        if key in checked.get(section, {}):
            raise ConfigError(str(path), f"{section}.{key}: belongs in a job file, not in defaults")
    return checked


def from_mapping(data: Any, name: str, where: str, defaults: dict | None = None) -> Job:
    """Validate a job mapping (merged over defaults) into a Job."""
    try:
        names.job_name(name)
    except ValueError as exc:
        raise ConfigError(where, f"job name: {exc}") from None
    _validate(data, SCHEMA, where, "", partial=True)  # report the job file's own errors first
    settings = _validate(merge(defaults or {}, data), SCHEMA, where, "", partial=False)
    job = _build(settings, name, where)
    _check_not_overlapping(job, where)
    return job


def load_job(path: Path, defaults: dict | None = None) -> Job:
    data = _read_yaml(path)
    if data is None:
        raise ConfigError(str(path), "the file is empty")
    return from_mapping(data, path.stem, str(path), defaults)


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
    t, snaps = s["transfer"], s["snapshots"]
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
        take_snapshots=snaps["take"],
        snapshot_prefix=snaps["prefix"],
        keep=snaps["keep"],
        hold=snaps["hold"],
        retention=s["retention"],
        schedule=s["schedule"],
        path=Path(where),
        settings=s,
    )


_THIS_MACHINE = ("localhost", "127.0.0.1", "::1")


def _machine(endpoint: Endpoint) -> tuple:
    """Which machine an endpoint is, as far as names tell (for the overlap check)."""
    if endpoint.is_local or endpoint.host.lower() in _THIS_MACHINE:
        return (None, None)
    return (endpoint.host.lower().rstrip("."), endpoint.port)


def _check_not_overlapping(job: Job, where: str) -> None:
    src, dst = job.source, job.destination
    if _machine(src.endpoint) != _machine(dst.endpoint):
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


def checker(section: str, key: str) -> Callable[[Any], Any]:
    """The validation function of one key (the wizard checks answers with it)."""
    return SCHEMA[section][key][0] if section else SCHEMA[key][0]
