"""From answers to the mapping written in the job file.

The wizard works on `values`: every setting of the schema, starting from
the schema's defaults, then defaults.yaml, then (when editing) the job
file.  `finalize` turns them back into a mapping for the file: a new job
spells out every setting; an edited one keeps the keys its file had and
adds only those whose value now differs from the default, so pressing
Enter through an edit changes nothing (a file written before a section
such as retention existed stays without it).  Keys the installed schema
does not know are never written.
"""

from __future__ import annotations

from typing import Any

from ..jobs import schema

LOCAL_ONLY_IRRELEVANT = ("host", "port", "ssh_key")


def supported(*path: str) -> bool:
    """Whether the installed job schema has this key (e.g. ('retention',), ('transfer', 'raw'))."""
    spec: Any = schema.SCHEMA
    for part in path:
        if not isinstance(spec, dict) or part not in spec:
            return False
        spec = spec[part]
    return True


def effective(defaults: dict) -> dict:
    """What each setting is when a job file does not set it."""
    return schema.merge(schema.schema_defaults(), defaults or {})


def start(base: dict, defaults: dict) -> dict:
    """The values the questions start from."""
    return schema.merge(effective(defaults), base or {})


def is_local(values: dict, side: str) -> bool:
    return not values.get(side, {}).get("host")


def finalize(values: dict, base: dict, defaults: dict, full: bool) -> dict:
    """The job file's mapping, keys in schema order."""
    local = {side: is_local(values, side) for side in ("source", "destination")}
    return _finalize(schema.SCHEMA, values, base or {}, effective(defaults), full, local, ())


def _finalize(
    schema: dict, values: dict, base: dict, default: dict, full: bool, local: dict, path: tuple
) -> dict:
    out: dict = {}
    for key, spec in schema.items():
        if key not in values:
            continue
        if isinstance(spec, dict):
            sub = _finalize(
                spec,
                values[key] or {},
                base.get(key) or {},
                default.get(key) or {},
                full,
                local,
                path + (key,),
            )
            if sub:
                out[key] = sub
            continue
        if path and path[0] in local and local[path[0]] and key in LOCAL_ONLY_IRRELEVANT:
            continue  # this side is on this machine: no ssh settings
        value, dflt = values[key], default.get(key)
        if value is None and dflt is None:
            continue
        if full or key in base or value != dflt:
            out[key] = value
    return out
