"""The questions of a job, in order: direction, source, destination, options, snapshots.

Each step reads and updates `Answers.values` (the job's settings, see
draft.py) and learns what later steps need: the source's datasets, the
programs a remote side lacks, what the destination dataset holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ZswError
from ..jobs import names
from ..jobs.endpoint import DEFAULT_PORT, Endpoint
from . import datasets, options, remote, sshcheck, target
from .context import Context

PUSH, PULL, LOCAL, RELAY = "push", "pull", "local", "relay"
DIRECTIONS = (
    ("push: from a pool on this machine to another machine over SSH", PUSH, "push"),
    ("pull: from another machine over SSH to a pool on this machine", PULL, "pull"),
    ("local: between two pools of this machine", LOCAL, "local"),
    ("relay: between two other machines, through this one", RELAY, "relay"),
)
_REMOTE_SIDES = {PUSH: ("destination",), PULL: ("source",), LOCAL: (), RELAY: ("source", "destination")}


@dataclass
class Answers:
    """The job's settings as answered so far, and what the questions learned on the way."""

    values: dict
    editing: bool = False
    source_datasets: list = field(default_factory=list)
    missing: set = field(default_factory=set)
    target_state: target.TargetState | None = None
    rates: dict = field(default_factory=dict)  # side -> link speed measured by the ssh check (bytes/s)

    @property
    def rate(self) -> float | None:
        """The speed the stream can go: the slower link of a relay; None when not measured."""
        measured = [r for r in self.rates.values() if r]
        return min(measured) if measured and None not in self.rates.values() else None


def endpoint(values: dict, side: str) -> Endpoint:
    s = values[side]
    if not s.get("host"):
        return Endpoint()
    user, host = names.host(s["host"])
    return Endpoint(host=host, user=user, port=s.get("port") or DEFAULT_PORT, ssh_key=s.get("ssh_key"))


def direction_of(values: dict) -> str:
    remote_src = bool(values["source"].get("host"))
    remote_dst = bool(values["destination"].get("host"))
    return {(False, True): PUSH, (True, False): PULL, (False, False): LOCAL}.get(
        (remote_src, remote_dst), RELAY
    )


def ask_job(ctx: Context, s: Answers) -> None:
    ui = ctx.ui
    direction = ui.select(
        "Where does the data go?", DIRECTIONS, default=direction_of(s.values) if s.editing else PUSH
    )
    remote_sides = _REMOTE_SIDES[direction]
    for side in ("source", "destination"):
        if side not in remote_sides:
            s.values[side].update(host=None, ssh_key=None, port=DEFAULT_PORT)
    programs = sshcheck.required_programs()
    if "source" in remote_sides:
        ui.heading("Source host")
        _ask_remote(ctx, s, "source", programs)
    ui.heading("Source dataset")
    ask_source(ctx, s)
    if "destination" in remote_sides:
        ui.heading("Destination host")
        _ask_remote(ctx, s, "destination", programs)
    ui.heading("Destination dataset")
    ask_destination(ctx, s)
    ui.heading("Options")
    changed = options.adjust_for_missing(s.values["transfer"], s.missing) if not s.editing else []
    for change in changed:
        ui.note(f"default changed: {change}")
    options.ask_transfer(ui, s.values)
    ui.heading("Snapshots")
    options.ask_snapshots(ui, s.values, _sanoid_managed(s), s.editing)


def _ask_remote(ctx: Context, s: Answers, side: str, programs: set) -> None:
    answers, missing, rate = remote.ask_endpoint(ctx, side, s.values[side], programs)
    s.values[side].update(answers)
    s.missing.update(missing)
    s.rates[side] = rate


def ask_source(ctx: Context, s: Answers) -> None:
    ui, src = ctx.ui, s.values["source"]
    where = endpoint(s.values, "source")
    try:
        s.source_datasets = datasets.list_datasets(ctx.executor, where)
    except ZswError as exc:
        ui.problem(f"could not list the datasets on {where.label}: {exc}")
        s.source_datasets = []
    if s.source_datasets:
        choices = [(title, name, name) for title, name in datasets.titles(s.source_datasets)]
        if src.get("dataset") and src["dataset"] not in {d.name for d in s.source_datasets}:
            choices.append(
                (f"{src['dataset']}  (not found on {where.label})", src["dataset"], src["dataset"])
            )
        ui.say(f"  {len(s.source_datasets)} datasets on {where.label} (name, used, snapshots, sanoid):")
        src["dataset"] = ui.select(
            "Source dataset",
            choices,
            default=src.get("dataset"),
            search="dataset",
            instruction="(type to filter, arrows to move, Enter to choose)",
        )
    else:
        src["dataset"] = ui.text(
            "Source dataset (pool/path)", default=src.get("dataset") or "", check=names.dataset
        )
    kids = datasets.children(s.source_datasets, src["dataset"])
    if kids:
        shown = ", ".join(d.name for d in kids[:3]) + (", ..." if len(kids) > 3 else "")
        src["recursive"] = ui.confirm(
            f"Include its {len(kids)} child dataset(s) ({shown}), and any created later?",
            default=src["recursive"] if s.editing else True,
        )


def ask_destination(ctx: Context, s: Answers) -> None:
    ui, values = ctx.ui, s.values
    src_ep, dst_ep = endpoint(values, "source"), endpoint(values, "destination")
    source = values["source"]["dataset"]
    same_host = (src_ep.host, src_ep.port) == (dst_ep.host, dst_ep.port)
    default = values["destination"].get("dataset")
    if not default:
        try:
            pools = datasets.pools(ctx.executor, dst_ep)
        except ZswError:
            pools = []
        default = target.suggest(source, pools, same_host)
    while True:
        name = ui.text(
            "Destination dataset",
            default=default,
            check=lambda a: target.check_name(a, source, same_host),
            instruction="(created by the first run)",
        )
        values["destination"]["dataset"] = name
        label = f"{dst_ep.label}:{name}"
        try:
            src_ds = target.snapshots_of(ctx.executor, src_ep, source)
            state = target.compare(
                src_ds.snapshots if src_ds else [], target.snapshots_of(ctx.executor, dst_ep, name)
            )
        except ZswError as exc:
            ui.warn(f"could not look at {label}: {exc}")
            return
        s.target_state = state
        level, sentence = target.describe(state, label)
        if level == target.OK:
            ui.ok(sentence)
            return
        ui.warn(sentence)
        if level == target.WARN:
            return
        if ui.confirm("Use it anyway?", default=False):
            return
        default = name


def _sanoid_managed(s: Answers) -> bool:
    name = s.values["source"]["dataset"]
    return any(d.name == name and d.sanoid for d in s.source_datasets)


def facts(s: Answers) -> tuple[int, int | None, str | None]:
    """(datasets sent, their referenced bytes or None, the newest common snapshot of a resumed setup)."""
    name, recursive = s.values["source"]["dataset"], s.values["source"]["recursive"]
    chosen = [d for d in s.source_datasets if d.name == name]
    if recursive:
        chosen += datasets.children(s.source_datasets, name)
    size = sum(d.referenced for d in chosen) if chosen else None
    resumed = (
        s.target_state.latest_common if s.target_state and s.target_state.kind == target.RESUMED else None
    )
    return max(len(chosen), 1), size, resumed
