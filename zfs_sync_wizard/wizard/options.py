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
    ("auto: zstd when the data crosses ssh, none on this machine", "auto"),
    ("zstd", "zstd"),
    ("lz4 (less CPU, less compression)", "lz4"),
    ("none", "none"),
)
INCREMENTAL = (
    ("every snapshot in between, in one stream (zfs send -I)", "intermediate"),
    ("one stream per snapshot (zfs send -i; resumes at finer grain)", "direct"),
)
RAW = (
    ("auto: raw for encrypted datasets (they stay encrypted; the destination needs no key)", "auto"),
    ("always (fails where zfs has no raw send)", "always"),
    ("never (encrypted datasets arrive decrypted)", "never"),
)
PERIODS = ("hourly", "daily", "weekly", "monthly")
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


def _counts(side: str):
    """Check of a retention answer: four counts, each as the schema allows it."""
    checks = schema.SCHEMA["retention"][side]

    def check(answer: str) -> dict:
        parts = answer.replace(",", " ").split()
        if len(parts) != len(PERIODS) or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError("expected four whole numbers: hourly daily weekly monthly, e.g. '24 7 4 0'")
        return {p: checks[p][0](int(n)) for p, n in zip(PERIODS, parts)}

    return check


def _keep(answer: str) -> int:
    try:
        return schema.checker("snapshots", "keep")(int(answer))
    except ValueError:
        raise ValueError("expected a whole number from 0 to 10000") from None


def ask_snapshots(ui: UI, values: dict, sanoid_managed: bool, editing: bool) -> None:
    snapshots = values["snapshots"]
    default = OWN if snapshots["take"] else SANOID
    if not editing and sanoid_managed:
        default = SANOID
    choices = [
        ("the runner's own replication snapshots, taken at each run", OWN),
        ("sanoid's snapshots (sanoid takes them; each run sends what is new)", SANOID),
    ]
    chosen = ui.select("Which snapshots should be replicated?", choices, default=default)
    snapshots["take"] = chosen == OWN
    if snapshots["take"]:
        snapshots["keep"] = ui.text(
            "How many of the runner's own snapshots to keep on each side, besides the newest common one",
            default=str(snapshots["keep"]),
            check=_keep,
        )
    ask_retention(ui, values)


def ask_retention(ui: UI, values: dict) -> None:
    """Hourly, daily, weekly and monthly counts per side (the schema's defaults pre-filled)."""
    retention = values.setdefault("retention", {})
    defaults = schema.schema_defaults()["retention"]
    if values["snapshots"]["take"]:
        ui.note(
            "Retention: on each side the runner keeps the newest of its own replication snapshots in "
            "each of the last N hours, days, weeks and months (UTC), besides those kept above; it never "
            "prunes other snapshots."
        )
        question = "Runner's own replication snapshots to keep on the {side} (hourly daily weekly monthly)"
    else:
        ui.note(
            "Retention: these counts go into the sanoid.conf sections shown before saving (the "
            "destination's for a sanoid on the destination host); the runner applies them only to its "
            "own replication snapshots."
        )
        question = (
            "Snapshots to keep on the {side}, in sanoid.conf and of the runner's own replication "
            "snapshots (hourly daily weekly monthly)"
        )
    for side in ("source", "destination"):
        current = {**defaults[side], **(retention.get(side) or {})}
        text = " ".join(str(current[p]) for p in PERIODS)
        retention[side] = ui.text(question.format(side=side), default=text, check=_counts(side))
