"""When a job runs: presets or a cron expression, checked field by field.

`next_runs` and `when` take `now` as an argument (local time, aware), so
what the person is shown can be tested to the minute: "tomorrow 02:00, in
23 hours", "Thu 3 Dec 02:00, in 2 days".
"""

from __future__ import annotations

from datetime import datetime

from croniter import croniter

from ..jobs import schema
from ..schedule import cron
from .prompts import UI

PRESETS = (
    ("nightly at 02:00", "0 2 * * *"),
    ("hourly, on the hour", "0 * * * *"),
    ("weekly, Sunday at 03:00", "0 3 * * 0"),
)
CUSTOM, NONE = "custom", "none"


def check(expression: str) -> str:
    """A cron expression cron itself accepts; the error names the field and value at fault."""
    return schema.checker("", "schedule")(cron.check_expression(expression))


def next_runs(expression: str, now: datetime, count: int = 3) -> list[datetime]:
    it = croniter(expression, now)
    return [it.get_next(datetime) for _ in range(count)]


def year_of_runs(expression: str | None, now: datetime, cap: int = 20000) -> tuple[list[int], bool]:
    """Epoch seconds of the runs in the year after `now` (at most `cap`; True when capped)."""
    if not expression:
        return [], False
    end = now.timestamp() + 365 * 24 * 3600
    it = croniter(expression, now)
    runs: list[int] = []
    while len(runs) < cap:
        moment = it.get_next(float)
        if moment > end:
            return runs, False
        runs.append(int(moment))
    return runs, True


def in_words(moment: datetime, now: datetime) -> str:
    """'in 23 hours', 'in 2 days', '3 hours ago': runs a day apart never read the same."""
    seconds = (moment - now).total_seconds()
    span = _span(abs(seconds))
    if span is None:
        return "now"
    return f"in {span}" if seconds > 0 else f"{span} ago"


def _span(seconds: float) -> str | None:
    minutes = round(seconds / 60)
    if minutes == 0:
        return None
    if minutes < 60:
        return _plural(minutes, "minute")
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return _plural(hours, "hour") + (f" {_plural(rest, 'minute')}" if rest and hours < 3 else "")
    return _plural(round(minutes / (24 * 60)), "day")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def day(moment: datetime, now: datetime) -> str:
    """'today', 'tomorrow', 'yesterday', else 'Thu 3 Dec' (with the year when it differs)."""
    if moment.tzinfo and now.tzinfo:
        now = now.astimezone(moment.tzinfo)
    days = (moment.date() - now.date()).days
    named = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(days)
    if named:
        return named
    text = f"{moment:%a} {moment.day} {moment:%b}"
    return text if moment.year == now.year else f"{text} {moment.year}"


def when(moment: datetime, now: datetime) -> str:
    """'tomorrow 02:00, in 23 hours'."""
    return f"{day(moment, now)} {moment:%H:%M}, {in_words(moment, now)}"


def label(expression: str | None) -> str:
    for name, expr in PRESETS:
        if expr == expression:
            return f"{name} ({expr})"
    return expression or "not scheduled"


def ask(ui: UI, now: datetime, current: str | None) -> str | None:
    """A cron expression, or None for a job run only by hand."""
    choices = [(f"{name}  [{expr}]", expr) for name, expr in PRESETS]
    is_custom = current is not None and current not in dict(PRESETS).values()
    if is_custom:
        choices.append((f"keep {current}", current))
    choices += [("a cron expression of my own", CUSTOM), ("no schedule (run by hand)", NONE)]
    default = current if current is not None else PRESETS[0][1]
    while True:
        chosen = ui.select("When should it run?", choices, default=default)
        if chosen == NONE:
            return None
        custom = chosen == CUSTOM
        if custom:
            chosen = ui.text(
                "Cron expression",
                default=current or "",
                check=check,
                instruction="(minute hour day month weekday)",
            )
        ui.say("  next runs (local time):")
        for moment in next_runs(chosen, now):
            ui.say(f"    {when(moment, now)}")
        if not custom or ui.confirm("Use this schedule?", default=True):
            return chosen
