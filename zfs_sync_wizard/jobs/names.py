"""Validation of the names users type: datasets, hosts, users, job names.

Each check returns the cleaned value or raises ValueError with a sentence
that says what is allowed; callers add where the value came from.  Anything
that could be read as a command-line option or as shell syntax is refused
here, before it can reach a command line.
"""

from __future__ import annotations

import ipaddress
import re

_COMPONENT = re.compile(r"[A-Za-z0-9_.:\- ]+")
_POOL_START = re.compile(r"[A-Za-z]")
_RESERVED_POOLS = {
    "mirror",
    "raidz",
    "raidz1",
    "raidz2",
    "raidz3",
    "draid",
    "spare",
    "log",
    "cache",
}
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
_JOB = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SNAP_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,31}")  # no "_": it ends the prefix in a stem
MAX_DATASET_LEN = 255

DATASET_RULE = (
    "a ZFS dataset name: pool/path, each part made of letters, digits and _ - . : or space, "
    "the pool starting with a letter"
)
HOST_RULE = "a host name, IPv4 or IPv6 address, optionally user@ in front"


def dataset(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"expected {DATASET_RULE}")
    if len(name) > MAX_DATASET_LEN:
        raise ValueError(f"dataset name longer than {MAX_DATASET_LEN} characters")
    if "@" in name or "#" in name:
        raise ValueError(f"{name!r} names a snapshot or bookmark; expected {DATASET_RULE}")
    parts = name.split("/")
    for part in parts:
        if not part or not _COMPONENT.fullmatch(part) or part in (".", ".."):
            raise ValueError(f"{name!r} is not a ZFS dataset name: {_why_not(part)}")
        if part != part.strip():
            raise ValueError(f"{name!r}: a part may not start or end with a space")
    if not _POOL_START.match(parts[0]) or parts[0] in _RESERVED_POOLS:
        raise ValueError(f"{name!r}: the pool name {parts[0]!r} must start with a letter and not be reserved")
    return name


def _why_not(part: str) -> str:
    """What is wrong with one '/'-separated part of a dataset name."""
    if not part:
        return "it has an empty part (a '/' at the start or end, or two in a row)"
    if part in (".", ".."):
        return f"a part may not be {part!r}"
    bad = next(c for c in part if not _COMPONENT.fullmatch(c))
    where = f" in {part!r}" if len(part) > 1 else ""
    return (
        f"the character {bad!r}{where} is not allowed "
        "(each part is letters, digits and _ - . : or space, parts separated by /)"
    )


def is_inside(child: str, parent: str) -> bool:
    """True when `child` is `parent` or lies below it."""
    return child == parent or child.startswith(parent + "/")


def host(value: object) -> tuple[str | None, str]:
    """Split and check `[user@]host`; returns (user or None, host)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected {HOST_RULE}")
    user, sep, name = value.rpartition("@")
    if sep:
        check_user(user)
    else:
        user = None
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        ipaddress.ip_address(name)
        return user, name
    except ValueError:
        pass
    labels = name.rstrip(".").split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{value!r} is not {HOST_RULE}")
    return user, name


def check_user(value: str) -> str:
    if not _USER.fullmatch(value or ""):
        raise ValueError(
            f"{value!r} is not a user name (letters, digits, _ . -, starting with a letter or _)"
        )
    return value


def job_name(value: object) -> str:
    if not isinstance(value, str) or not _JOB.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a job name: letters, digits, _ . - (up to 64), starting with a letter or digit"
        )
    return value


def snapshot_prefix(value: object) -> str:
    if not isinstance(value, str) or not _SNAP_PREFIX.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a snapshot prefix: letters, digits, . : - (up to 32, no _, which "
            "separates it from the job name), starting with a letter or digit"
        )
    return value
