"""sanoid.conf (pure): which datasets sanoid takes snapshots of, read the
way sanoid reads its sections and templates (edit.py writes a job's section)."""

from __future__ import annotations

import configparser

CONF = "/etc/sanoid/sanoid.conf"
SNAPSHOT_PREFIX = "autosnap_"  # the names of sanoid's own snapshots
PERIODS = ("hourly", "daily", "weekly", "monthly")


def parse(text: str) -> dict[str, dict[str, str]]:
    """sanoid.conf sections: dataset sections and templates, options lower-cased."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, inline_comment_prefixes=("#",))
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    return {
        section: {k.lower(): v.strip().lower() for k, v in parser[section].items()}
        for section in parser.sections()
    }


def manages(name: str, sections: dict[str, dict[str, str]]) -> bool:
    """True when sanoid takes snapshots of `name` (its section, or a recursive parent's)."""
    parts = name.split("/")
    for depth in range(len(parts), 0, -1):
        candidate = "/".join(parts[:depth])
        options = sections.get(candidate)
        if options is None:
            continue
        is_self = depth == len(parts)
        if not is_self and options.get("recursive", "no") not in ("yes", "zfs"):
            continue
        if is_self and options.get("process_children_only", "no") == "yes":
            return False
        return _option(options, sections, "autosnap", "yes") == "yes"
    return False


def _option(options: dict[str, str], sections: dict[str, dict[str, str]], key: str, default: str) -> str:
    if key in options:
        return options[key]
    for template in options.get("use_template", "").split(","):
        found = sections.get(f"template_{template.strip()}", {})
        if key in found:
            return found[key]
    return sections.get("template_default", {}).get(key, default)
