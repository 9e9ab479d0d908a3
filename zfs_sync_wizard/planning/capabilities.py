"""What each side's zfs can do, read off its own usage text (pure).

`zfs send` and `zfs receive` without arguments print their usage, listing
every flag: OpenZFS 2.x shows `send [-DLPbcehnpsVvw] ...`, `send ... -t
<receive_resume_token>` and `receive [-vMnsFhu] ...`, `receive -A`, while
zfs-fuse shows `send [-vRDp] ...` and `receive [-vnFu] ...`.  Features are
used only where both ends show them: detected, never assumed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import ZswError

_FLAGS = re.compile(r"\[-([A-Za-z]+)\]")


@dataclass(frozen=True)
class Capabilities:
    send: frozenset = field(default_factory=frozenset)  # single-letter flags of zfs send
    receive: frozenset = field(default_factory=frozenset)
    send_token: bool = False  # zfs send -t TOKEN
    receive_abort: bool = False  # zfs receive -A
    receive_properties: bool = False  # zfs receive -o PROPERTY=VALUE and -x PROPERTY

    @property
    def raw(self) -> bool:
        return "w" in self.send

    @property
    def estimate(self) -> bool:
        return {"n", "v", "P"} <= self.send

    @property
    def resumable_receive(self) -> bool:
        return "s" in self.receive and self.receive_abort

    @property
    def modern_receive(self) -> bool:
        """A receiver that takes large-block, embedded and compressed streams (OpenZFS)."""
        return self.resumable_receive

    @property
    def written(self) -> bool:
        """The `written` property (space written since the newest snapshot): OpenZFS, told by its
        receive -s/-A; zfs-fuse has none (and refuses a listing that asks for it)."""
        return self.modern_receive

    @property
    def list_holds(self) -> bool:
        """`zfs holds` says who holds a snapshot: OpenZFS (told by its receive -s/-A); zfs-fuse
        has no such command."""
        return self.modern_receive

    @property
    def batch_destroy(self) -> bool:
        """`zfs destroy ds@a,b,c` in one command: OpenZFS (told by its receive -s/-A); zfs-fuse
        takes one snapshot per command ("invalid dataset name")."""
        return self.modern_receive


def parse(send_usage: str, receive_usage: str) -> Capabilities:
    return Capabilities(
        send=_flags(send_usage, "send"),
        receive=_flags(receive_usage, "receive"),
        send_token=bool(re.search(r"^\s*send\b.*\s-t\b", send_usage, re.M)),
        receive_abort=bool(re.search(r"^\s*receive\b.*\s-A\b", receive_usage, re.M)),
        receive_properties=bool(re.search(r"\[-o\s", receive_usage) and re.search(r"\[-x\s", receive_usage)),
    )


def _flags(usage: str, verb: str) -> frozenset:
    flags: set = set()
    for line in usage.splitlines():
        if re.match(rf"\s*{verb}\b", line):
            for group in _FLAGS.findall(line):
                flags.update(group)
    return frozenset(flags)


def resumable(src: Capabilities, dst: Capabilities) -> bool:
    """`zfs receive -s` pays off only when the source can resume with `send -t`."""
    return src.send_token and dst.resumable_receive


def stream_flags(src: Capabilities, dst: Capabilities) -> list:
    """-L -e -c where the sender has them and the receiver is modern."""
    if not dst.modern_receive:
        return []
    return [f"-{f}" for f in "Lec" if f in src.send]


def send_flags(raw: str, encrypted: bool, src: Capabilities, dst: Capabilities, src_label: str) -> list:
    """Raw for encrypted datasets (keys never leave the source), else -L -e -c where both ends can.

    `raw` is the job's transfer.raw: auto (raw when encrypted), always, never.
    """
    want_raw = raw == "always" or (raw == "auto" and encrypted)
    if want_raw and not src.raw:
        if raw == "always":
            raise ZswError(f"transfer.raw is 'always' but zfs on {src_label} has no raw send (-w)")
        return []
    return ["-w"] if want_raw else stream_flags(src, dst)


def describe(src: Capabilities, dst: Capabilities) -> list:
    """What transfers between these two sides can do, for --check."""
    out = [
        "resumable (zfs receive -s, zfs send -t)"
        if resumable(src, dst)
        else "not resumable (restart from the last common snapshot)"
    ]
    if src.raw:
        out.append("raw send of encrypted datasets (-w)")
    flags = stream_flags(src, dst)
    if flags:
        out.append(" ".join(flags))
    if src.estimate:
        out.append("size estimates (zfs send -nvP)")
    return out


def receive_options(
    dst: Capabilities, set_: Sequence[tuple[str, str]], exclude: Sequence[str], dst_label: str
) -> tuple[list, str | None]:
    """(`-o k=v`/`-x k` for zfs receive, a note when the receiver cannot take them).

    A receiver without -o/-x (zfs-fuse) cannot honour `set`: that is an
    error, the job asked for it.  Exclusions are dropped with the note
    (said by --check and the dry run): such a receiver shares nothing by itself.
    """
    if dst.receive_properties:
        options = [a for k, v in set_ for a in ("-o", f"{k}={v}")] + [a for k in exclude for a in ("-x", k)]
        return options, None
    if set_:
        names = ", ".join(f"{k}={v}" for k, v in set_)
        raise ZswError(
            f"destination.properties.set ({names}): zfs on {dst_label} has no zfs receive -o; "
            "remove them from the job or set them there by hand after the first run"
        )
    if not exclude:
        return [], None
    return [], (
        f"zfs on {dst_label} has no zfs receive -x: properties received as sent "
        f"(not excluded: {', '.join(exclude)})"
    )
