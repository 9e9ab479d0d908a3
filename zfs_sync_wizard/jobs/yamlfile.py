"""Reading a job or defaults file as YAML, strictly (pure apart from the read).

A file must be UTF-8 text, must not be writable by other users (nor may the
folders it lives in: anyone who can change a job can make root run what it
says), and may not repeat a key (YAML would silently keep the last one).
Every refusal names the file, the line where there is one, and what is wrong.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read(path: Path) -> Any:
    """The YAML document in `path`; ConfigError for anything unsafe or unreadable."""
    check_not_writable_by_others(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path),
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8",
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(str(path), f"{at}not valid YAML: {getattr(exc, 'problem', exc)}") from None


def check_not_writable_by_others(path: Path) -> None:
    """Refuse a file, or a folder above it, that users other than its owner may change.

    Folders with the sticky bit (/tmp) are fine: others cannot replace what they hold.
    """
    folders = [p for p in Path(os.path.abspath(path)).parents]
    for item in [Path(path), *folders]:
        try:
            mode = item.stat().st_mode
        except OSError:
            continue  # an absent file is reported by the read
        sticky_dir = stat.S_ISDIR(mode) and mode & stat.S_ISVTX
        if mode & stat.S_IWOTH and not sticky_dir:
            what = "folder" if stat.S_ISDIR(mode) else "file"
            raise ConfigError(
                str(path),
                f"the {what} {item} is writable by every user (mode {stat.S_IMODE(mode):04o}): anyone could "
                f"change what this job runs as you. Run: chmod o-w {item}",
            )


def check_private_key(key: str, where: str, field: str) -> None:
    """A job's ssh key must be readable by its owner only, in a folder only its owner
    can enter or change (0700): otherwise others could read it, or swap it for theirs."""
    path = Path(os.path.expanduser(key))
    try:
        mode, folder_mode = path.stat().st_mode, path.parent.stat().st_mode
    except OSError:
        return  # a missing key is ssh's to report, by name
    if stat.S_IMODE(folder_mode) & 0o077:
        raise ConfigError(
            where,
            f"{field}: the folder {path.parent} holding the key is open to other users (mode "
            f"{stat.S_IMODE(folder_mode):04o}); keys live in a 0700 folder. Run: chmod 700 {path.parent}",
        )
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(
            where,
            f"{field}: the key {path} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"ssh refuses such keys. Run: chmod 600 {path}",
        )
