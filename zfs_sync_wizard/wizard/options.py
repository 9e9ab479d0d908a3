"""Transfer options, and which snapshots are replicated and how long they are kept.

Defaults are pre-selected so that pressing Enter gives a good job: zstd
on the wire, a 128M mbuffer, no bandwidth limit, `-I` incrementals.  A
program found missing on a side changes the default (no mbuffer, another
compressor) instead of producing a job that cannot run.
"""

from __future__ import annotations

from ..jobs import schema
from . import draft
from .prompts import UI

COMPRESSION = (
    ("auto: zstd when the data crosses ssh, none on this machine", "auto", "auto"),
    ("zstd", "zstd"),
    ("lz4 (less CPU, less compression)", "lz4", "lz4"),
    ("none", "none"),
)
INCREMENTAL = (
    ("every snapshot in between, in one stream (zfs send -I)", "intermediate", "one stream (-I)"),
    ("one stream per snapshot (zfs send -i; resumes at finer grain)", "direct", "one per snapshot (-i)"),
)
RAW = (
    ("auto: raw for encrypted datasets (they stay encrypted; the destination needs no key)", "auto", "auto"),
    ("always (fails where zfs has no raw send)", "always", "always"),
    ("never (encrypted datasets arrive decrypted)", "never", "never"),
)
PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
OWN, SANOID = "own", "sanoid"


def adjust_for_missing(transfer: dict, missing: set[str]) -> list[str]:
    """Change defaults that would need a missing program; returns what changed."""
    changed = []
    if "mbuffer" in missing and transfer.get("buffer"):
        transfer["buffer"] = None
        changed.append("no mbuffer (buffer: none), since mbuffer is missing")
    if transfer.get("compression") in ("auto", "zstd") and "zstd" in missing:
        transfer["compression"] = "none" if "lz4" in missing else "lz4"
        changed.append(f"compression {transfer['compression']}, since zstd is missing")
    return changed


def summary(transfer: dict, readonly: bool) -> str:
    limit = transfer.get("bandwidth_limit") or "no bandwidth limit"
    buffer = f"mbuffer {transfer['buffer']}" if transfer.get("buffer") else "no mbuffer"
    style = "-I" if transfer.get("incremental") == "intermediate" else "-i"
    parts = [f"compression {transfer.get('compression')}", buffer, str(limit), f"incrementals {style}"]
    parts.append("destination read-only" if readonly else "destination writable")
    if transfer.get("raw") in ("always", "never"):
        parts.append(f"raw send {transfer['raw']}")
    return ", ".join(parts)


def _size_or_none(key: str):
    def check(answer: str):
        if answer.lower() in ("", "none", "no", "off"):
            return None
        return schema.checker("transfer", key)(answer)

    return check


def ask_transfer(ui: UI, values: dict) -> None:
    transfer, destination = values["transfer"], values["destination"]
    ui.say(f"  transfer: {summary(transfer, destination['readonly'])}")
    if not ui.confirm("Change these transfer options?", default=False):
        return
    transfer["compression"] = ui.select(
        "Compression on the wire", COMPRESSION, default=transfer["compression"]
    )
    transfer["buffer"] = ui.text(
        "mbuffer memory on each side", default=transfer["buffer"] or "none", check=_size_or_none("buffer")
    )
    transfer["bandwidth_limit"] = ui.text(
        "Bandwidth limit (e.g. 20M per second)",
        default=transfer["bandwidth_limit"] or "none",
        check=_size_or_none("bandwidth_limit"),
    )
    transfer["incremental"] = ui.select("Incremental sends", INCREMENTAL, default=transfer["incremental"])
    if draft.supported("transfer", "raw"):
        transfer["raw"] = ui.select("Raw sends (zfs send -w)", RAW, default=transfer.get("raw", "auto"))
    destination["readonly"] = ui.confirm(
        "Keep the destination read-only (recommended: any change there blocks the next incremental)?",
        default=destination["readonly"],
    )


KEEP_INSTRUCTION = (
    "(the newest N; the newest one both sides share, the next incremental's base, is always kept "
    "and counts among the N; the counts by period below keep more)"
)


def _keep(answer: str) -> int:
    try:
        return schema.checker("snapshots", "keep")(int(answer))
    except ValueError:
        raise ValueError(f"{answer!r} is not a whole number from 0 to 10000") from None


def ask_snapshots(ui: UI, values: dict, sanoid_managed: bool, editing: bool) -> None:
    snapshots = values["snapshots"]
    default = OWN if snapshots["take"] else SANOID
    if not editing and sanoid_managed:
        default = SANOID
    choices = [
        ("the runner's own replication snapshots, taken at each run", OWN, "the runner's own"),
        ("sanoid's snapshots (sanoid takes them; each run sends what is new)", SANOID, "sanoid's"),
    ]
    chosen = ui.select("Which snapshots should be replicated?", choices, default=default)
    snapshots["take"] = chosen == OWN
    if snapshots["take"]:
        snapshots["keep"] = ui.text(
            "How many of the newest replication snapshots to keep on each side",
            default=str(snapshots["keep"]),
            check=_keep,
            instruction=KEEP_INSTRUCTION,
        )
    ask_retention(ui, values)


def ask_retention(ui: UI, values: dict) -> None:
    """Hourly, daily, weekly and monthly counts per side: a named preset, or each count asked alone."""
    retention = values.setdefault("retention", {})
    defaults = schema.schema_defaults()["retention"]
    if values["snapshots"]["take"]:
        ui.note(
            "Retention: on each side the runner also keeps the newest of its own replication snapshots in "
            "each of the last N hours, days, weeks and months (UTC); it never prunes other snapshots."
        )
    else:
        ui.note(
            "Retention: these counts go into the sanoid.conf sections shown before saving (the "
            "destination's for a sanoid on the destination host); the runner applies them only to its "
            "own replication snapshots."
        )
    for side in ("source", "destination"):
        current = {**defaults[side], **(retention.get(side) or {})}
        choices = retention_choices(current, defaults[side], side)
        chosen = ui.select(
            f"Snapshots to keep on the {side}",
            choices,
            default=_preset_key(current, choices),
            instruction="(by period; custom asks each count)",
        )
        if chosen == CUSTOM:
            chosen = {
                period: ui.text(
                    f"{period.capitalize()} snapshots to keep on the {side}",
                    default=str(current[period]),
                    check=_count,
                    instruction=f"(the newest in each of the last N {PERIOD_UNITS[period]}, UTC)",
                )
                for period in PERIODS
            }
        retention[side] = dict(chosen) if isinstance(chosen, tuple) else chosen


PRESETS = (
    ("nightly backup", {"hourly": 0, "daily": 7, "weekly": 4, "monthly": 6, "yearly": 0}),
    ("hourly backup", {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0}),
    ("long archive", {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12, "yearly": 5}),
    ("by count only", {"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0, "yearly": 0}),
)
PERIOD_UNITS = {"hourly": "hours", "daily": "days", "weekly": "weeks", "monthly": "months", "yearly": "years"}
CUSTOM = "custom"


def counts_text(counts: dict) -> str:
    """'7 daily, 4 weekly, 6 monthly' (periods kept at 0 left out)."""
    parts = [f"{counts[p]} {p}" for p in PERIODS if counts.get(p)]
    return ", ".join(parts) or "none kept by period"


def retention_choices(current: dict, default: dict, side: str) -> list:
    """The preset menu for one side (pure): the side's default first, then named presets, then custom."""
    seen: list[dict] = []
    current, default = dict(_key(current)), dict(_key(default))
    choices: list = []

    def add(name: str, counts: dict) -> None:
        if counts not in seen:
            seen.append(counts)
            choices.append((f"{name}: {counts_text(counts)}", _key(counts)))

    add(f"default for the {side}", default)
    for name, counts in PRESETS:
        add(name, counts)
    add("as now", current)
    choices.append(("custom: ask each count", CUSTOM, "custom"))
    return choices


def _key(counts: dict) -> tuple:
    return tuple((p, counts.get(p, 0)) for p in PERIODS)


def _preset_key(current: dict, choices: list):
    return _key(current) if any(c[1] == _key(current) for c in choices) else CUSTOM


def _count(answer: str) -> int:
    try:
        return schema.SCHEMA["retention"]["source"]["hourly"][0](int(answer))
    except ValueError:
        raise ValueError(f"{answer!r} is not a whole number from 0 to 10000") from None
