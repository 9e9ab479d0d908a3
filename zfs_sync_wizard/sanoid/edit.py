"""Editing sanoid.conf (pure): the one section a job owns, every other byte kept.

A section we own is marked by the comment line right above its header:

    # managed by zfs-sync-wizard job media: edits here are replaced
    [tank/media]
    \thourly = 24
    ...

It reaches from that marker to the next section header, less the blank and
comment lines just above that header (they belong to what follows).  Only
those lines are ever replaced; a new section is appended at the end of the
file, after every hand-written one, because sanoid applies sections in file
order and a recursive parent's settings would otherwise overwrite ours.  A
section for the same dataset that we do not own is never touched: `update`
refuses and says what to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ConfigError

COUNTS = ("hourly", "daily", "weekly", "monthly", "yearly")
MARKER = "# managed by zfs-sync-wizard job {job}: edits here are replaced"
_MARKER = re.compile(r"^\s*#\s*managed by zfs-sync-wizard job ([A-Za-z0-9_.-]+):")
_HEADER = re.compile(r"^\s*\[([^\]]*)\]\s*$")
_OPTION = re.compile(r"^\s*([^=\s#;][^=]*?)\s*=\s*(.*?)\s*$")
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Want:
    """The section a job wants for one side's dataset."""

    job: str
    dataset: str
    counts: Mapping[str, int]  # hourly, daily, weekly, monthly, yearly (a missing one is 0)
    autosnap: bool  # the source's sanoid takes snapshots; the destination's only prunes
    recursive: str | None = None  # "zfs" (one atomic `zfs snapshot -r`), "yes", or None


@dataclass(frozen=True)
class Section:
    name: str
    start: int  # index of its first line: the marker when owned, else the header
    header: int  # index of the header line
    end: int  # index after its last line (the blank and comment lines before the next header excluded)
    owner: str | None  # the job named by the marker; None for a hand-written section
    options: dict = field(default_factory=dict)  # lower-cased keys, as written

    @property
    def path(self) -> str:
        """The dataset sanoid applies the section to (its `path`, else its name)."""
        return self.options.get("path") or self.name


def lines_of(want: Want) -> list[str]:
    """The section's lines as we write them (with newlines)."""
    if "]" in want.dataset or "\n" in want.dataset:
        raise ValueError(f"not a dataset name for a sanoid.conf section: {want.dataset!r}")
    lines = [MARKER.format(job=want.job), f"[{want.dataset}]"]
    if want.recursive:
        lines.append(f"\trecursive = {want.recursive}")
    lines += [f"\t{period} = {int(want.counts.get(period, 0))}" for period in COUNTS]
    lines += [f"\tautosnap = {'yes' if want.autosnap else 'no'}", "\tautoprune = yes"]
    return [line + "\n" for line in lines]


def sections(text: str) -> list[Section]:
    """Every section of `text`, in file order."""
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    out = []
    for n, header in enumerate(headers):
        following = headers[n + 1] if n + 1 < len(headers) else len(lines)
        end = following
        while end > header + 1 and _is_trailer(lines[end - 1]):
            end -= 1
        owner = None
        if header > 0:
            marked = _MARKER.match(lines[header - 1])
            owner = marked.group(1) if marked else None
        options = {}
        for line in lines[header + 1 : end]:
            option = _OPTION.match(line)
            if option and not _is_comment(line):
                options[option.group(1).lower()] = option.group(2)
        name = _HEADER.match(lines[header]).group(1).strip()
        out.append(Section(name, header - 1 if owner else header, header, end, owner, options))
    return out


def update(text: str, want: Want, where: str = "sanoid.conf") -> str:
    """`text` with `want`'s section written: replaced where we own it, else appended.

    Raises ConfigError (naming `where`) when a section for the dataset is
    hand-written or another job's: that one is never overwritten.
    """
    mine = None
    for section in sections(text):
        if section.path != want.dataset and section.name != want.dataset:
            continue
        if section.owner is None:
            raise ConfigError(where, _hand_written(text, section, want))
        if section.owner != want.job:
            raise ConfigError(
                where,
                f"[{section.name}] (line {section.header + 1}) is managed by job {section.owner}, not "
                f"{want.job}: two jobs cannot set one dataset's snapshots; remove that section (and its "
                f"marker line) if job {section.owner} no longer replicates it",
            )
        if mine is not None:
            raise ConfigError(
                where,
                f"[{want.dataset}] appears twice (lines {mine.header + 1} and {section.header + 1}); "
                "remove one of them",
            )
        mine = section
    lines = text.splitlines(keepends=True)
    new = lines_of(want)
    if mine is not None:
        return "".join(lines[: mine.start] + new + lines[mine.end :])
    if not lines:
        return "".join(new)
    if not lines[-1].endswith("\n"):
        lines[-1] += "\n"  # the one byte outside our section we may add: a last line's newline
    if lines[-1].strip():
        lines.append("\n")
    return "".join(lines + new)


def owned(text: str, job: str) -> list[Section]:
    """The sections job `job` owns."""
    return [s for s in sections(text) if s.owner == job]


def notes(text: str, want: Want) -> list[str]:
    """What else in the file affects the dataset: hand-written recursive parents."""
    out = []
    for section in sections(text):
        recursive = section.options.get("recursive", "").strip().lower()
        inside = want.dataset.startswith(section.path + "/")
        if section.owner is None and inside and (recursive in _TRUE or recursive == "zfs"):
            out.append(
                f"[{section.name}] (line {section.header + 1}) covers {want.dataset} too (recursive = "
                f"{recursive}); the section for {want.dataset}, written after it, sets this dataset's counts"
                + (
                    ", and sanoid takes its snapshots with the parent's zfs snapshot -r"
                    if recursive == "zfs"
                    else ""
                )
            )
    return out


def left_behind(text: str, job: str, datasets: set[str]) -> list[str]:
    """Sections `job` owns for datasets it no longer names (say, after its dataset changed)."""
    return [
        f"[{s.name}] (line {s.header + 1}) is still marked as job {job}'s, which no longer replicates "
        f"{s.path}: remove it (and its marker line) if sanoid should stop there"
        for s in owned(text, job)
        if s.path not in datasets
    ]


def _hand_written(text: str, section: Section, want: Want) -> str:
    body = "".join(text.splitlines(keepends=True)[section.header : section.end]).rstrip("\n")
    return (
        f"a hand-written section for {want.dataset} exists (line {section.header + 1}), and it is not "
        f"changed:\n{body}\n"
        "Either set the counts there yourself, or let the wizard manage it: remove that section, or put "
        f"this line right above its header:\n{MARKER.format(job=want.job)}"
    )


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(("#", ";"))


def _is_trailer(line: str) -> bool:
    return not line.strip() or _is_comment(line)
