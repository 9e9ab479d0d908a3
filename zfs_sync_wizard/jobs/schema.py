"""The job file's schema: every key, its check and its default (pure).

`validate` checks a mapping against it and names the file, the key and what
is allowed in every error (zfs-sync-job(5)); `merge` lays a job over
defaults.yaml; `checker` gives one key's check to the wizard.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from ..errors import ConfigError
from . import names
from .endpoint import DEFAULT_PORT

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


MAX_RETRIES = 20
MAX_RETRY_DELAY = 3600  # seconds; the delay doubles per attempt, capped at this too
MAX_PARALLEL = 16  # transfers at once; sshd's MaxSessions (10 by default) bounds them over one connection


def _check_range(low: int, high: int):
    def run(v):
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return v

    return run


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


def _check_dir(v):
    if not isinstance(v, str) or not v.startswith("/") or "\n" in v:
        raise ValueError("expected an absolute directory path, e.g. /var/lib/prometheus/node-exporter")
    return v


CRON_SHORTCUTS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")


def _check_cron(v):
    # exactly five fields: a sixth would become part of the command in a crontab line
    fields_ok = isinstance(v, str) and (len(v.split()) == 5 or v.strip() in CRON_SHORTCUTS)
    if fields_ok:
        from croniter import croniter  # only for a job with a schedule, not by every command

        fields_ok = croniter.is_valid(v)
    if not fields_ok:
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


NOTIFY_EVENTS = ("failure", "recovery", "success")
WEBHOOK_EVENTS = ("start", "success", "failure")
_MAIL = re.compile(r"[A-Za-z0-9._%+-]+(@[A-Za-z0-9.-]+)?")
_URL = re.compile(r"https?://[^\s/?#]+\S*")
_IPV6_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\](:\d+)?")


def _check_events(v):
    if not isinstance(v, list) or any(e not in NOTIFY_EVENTS for e in v):
        raise ValueError("expected a list of events from: " + ", ".join(NOTIFY_EVENTS))
    return list(dict.fromkeys(v))


def _check_mail(v):
    if not isinstance(v, list) or not all(
        isinstance(a, str) and _MAIL.fullmatch(a) and not a.startswith("-") for a in v
    ):
        raise ValueError("expected a list of mail addresses, e.g. [root, ops@example.org]")
    return v


def _url(v):
    if not isinstance(v, str) or not _URL.fullmatch(v) or not _parses(v):
        raise ValueError(f"expected an http:// or https:// URL, not {v!r}")
    return v


def _parses(url: str) -> bool:
    """A URL urllib can take apart: printable, and brackets in its host only around an IPv6
    address (`http://[::1]:8080/`)."""
    host = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0].rpartition("@")[2]
    return url.isprintable() and ("[" not in host and "]" not in host or bool(_IPV6_HOST.fullmatch(host)))


def _check_webhooks(v):
    """Each webhook: a base URL (healthchecks.io style: URL/start, URL, URL/fail),
    or a mapping of start/success/failure to any URL (only those events are sent)."""
    if not isinstance(v, list):
        raise ValueError("expected a list of URLs or of mappings with start/success/failure URLs")
    out = []
    for hook in v:
        if isinstance(hook, dict):
            unknown = [k for k in hook if k not in WEBHOOK_EVENTS]
            if unknown or not hook:
                raise ValueError("a webhook mapping has the keys " + ", ".join(WEBHOOK_EVENTS))
            out.append({event: _url(url) for event, url in hook.items()})
        else:
            out.append(_url(hook))
    return out


_PROPERTY = re.compile(r"[a-z][a-z0-9_.:-]*")


def _check_globs(v):
    """A list of fnmatch patterns (`*`, `?`, `[...]`), e.g. ['autosnap_*_daily']."""
    if not isinstance(v, list) or not all(isinstance(p, str) and p and "\n" not in p for p in v):
        raise ValueError("expected a list of name patterns, e.g. ['autosnap_*_daily', 'autosnap_*_weekly']")
    return list(v)


def _property_name(k):
    if not isinstance(k, str) or not _PROPERTY.fullmatch(k):
        raise ValueError(f"{k!r} is not a ZFS property name (e.g. canmount, com.example:backup)")
    return k


def _check_property_names(v):
    if not isinstance(v, list):
        raise ValueError("expected a list of property names, e.g. [sharenfs, sharesmb]")
    return [_property_name(k) for k in v]


def _property_value(v):
    if isinstance(v, bool):  # YAML reads a bare on/off as true/false
        return "on" if v else "off"
    if isinstance(v, (int, str)) and str(v) and not str(v).startswith("-") and "\n" not in str(v):
        return str(v)
    raise ValueError(f"{v!r} is not a property value (e.g. off, none, /mnt/backup)")


def _check_property_values(v):
    if not isinstance(v, dict):
        raise ValueError("expected a mapping of property: value, e.g. {canmount: 'off'}")
    return {_property_name(k): _property_value(value) for k, value in v.items()}


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
    "source": dict(_SIDE, recursive=(_check_bool, False), exclude=(_check_globs, [])),
    "destination": dict(
        _SIDE,
        readonly=(_check_bool, True),
        rollback=(_check_bool, False),
        prune=(_check_bool, True),
        properties={
            "set": (_check_property_values, {}),
            "exclude": (_check_property_names, ["sharenfs", "sharesmb"]),
        },
    ),
    "transfer": {
        "compression": (_choice("auto", "zstd", "lz4", "none"), "auto"),
        "buffer": (_check_buffer, "128M"),
        "bandwidth_limit": (_optional(_check_size), None),
        "incremental": (_choice("intermediate", "direct"), "intermediate"),
        "initial": (_choice("oldest", "newest"), "oldest"),
        "raw": (_choice("auto", "always", "never"), "auto"),
        "direct": (_check_bool, False),
        "direct_host": (_optional(_check_host), None),
        "retries": (_check_range(0, MAX_RETRIES), 3),
        "retry_delay": (_check_range(0, MAX_RETRY_DELAY), 30),
        "parallel": (_check_range(1, MAX_PARALLEL), 4),  # datasets sent at once (running/parallel.py)
        "tree_stream": (_choice("auto", "never"), "auto"),  # planning/tree.py
    },
    "snapshots": {
        "take": (_check_bool, True),
        "prefix": (_check_prefix, "zsw"),
        "keep": (_check_count, 1),
        "hold": (_check_bool, True),
        "source": (_choice("own", "existing"), "own"),
        "include": (_check_globs, ["*"]),
        "exclude": (_check_globs, []),
        "take_at_end": (_check_bool, False),
        "when_unchanged": (_choice("skip", "take"), "skip"),  # planning/unchanged.py
    },
    "retention": {
        "source": {
            "hourly": (_check_count, 24),
            "daily": (_check_count, 7),
            "weekly": (_check_count, 4),
            "monthly": (_check_count, 0),
            "yearly": (_check_count, 0),
        },
        "destination": {
            "hourly": (_check_count, 0),
            "daily": (_check_count, 30),
            "weekly": (_check_count, 8),
            "monthly": (_check_count, 12),
            "yearly": (_check_count, 0),
        },
    },
    "schedule": (_optional(_check_cron), None),
    "notify": {
        "when": (_check_events, ["failure", "recovery"]),
        "mail": (_check_mail, []),
        "webhooks": (_check_webhooks, []),
        "timeout": (_check_range(1, 300), 10),
        "sendmail": (_check_path, "/usr/sbin/sendmail"),
    },
    # Prometheus node_exporter textfile collector: zfs_sync_<job>.prom written there after every run
    "metrics": {"textfile_dir": (_optional(_check_dir), None)},
    "logs": {  # logs/<job>.log and runs/<job>.jsonl in the state directory (zfs-sync-run(8))
        "max_bytes": (_check_size, "1M"),  # a log file is rotated when it would grow past this
        "keep": (_check_range(1, 100), 5),  # log files kept: <job>.log and <job>.log.1 ... .log.(keep-1)
        "runs": (_check_range(1, 100000), 1000),  # run records kept in runs/<job>.jsonl
        "progress_interval": (_check_range(1, 3600), 30),  # seconds between progress lines in the log
    },
}
# keys a defaults.yaml may not set: they identify one job
JOB_ONLY = {("source", "dataset"), ("destination", "dataset")}


def validate(data: Any, schema: dict[str, Any], where: str, path: str, partial: bool) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(where, f"{path or 'the file'}: expected a mapping of keys")
    out = {}
    for key, value in data.items():
        keypath = f"{path}.{key}" if path else str(key)
        if key not in schema:
            raise ConfigError(where, f"{keypath}: unknown key (allowed: {', '.join(schema)})")
        spec = schema[key]
        if isinstance(spec, dict):
            out[key] = validate(value, spec, where, keypath, partial)
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
            out[key] = validate(out.get(key, {}), spec, where, keypath, partial)
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


def checker(section: str, key: str) -> Callable[[Any], Any]:
    """The validation function of one key (the wizard checks answers with it)."""
    return SCHEMA[section][key][0] if section else SCHEMA[key][0]
