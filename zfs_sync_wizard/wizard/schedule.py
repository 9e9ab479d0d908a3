"""When a job runs: presets or a cron expression, checked with croniter.

`next_runs` and `when` take `now` as an argument (local time, aware), so
what the person is shown can be tested to the minute.
"""

from __future__ import annotations

from datetime import datetime

import humanize
from croniter import croniter

from ..jobs import schema
from .prompts import UI

PRESETS = (
    ("nightly at 02:00", "0 2 * * *"),
    ("hourly, on the hour", "0 * * * *"),
    ("weekly, Sunday at 03:00", "0 3 * * 0"),
)
CUSTOM, NONE = "custom", "none"


def check(expression: str) -> str:
    """A cron expression cron itself accepts: five fields (or @hourly, @daily...)."""
    expression = " ".join(expression.split())
    fields = expression.split(" ")
    if not (len(fields) == 5 or (len(fields) == 1 and expression.startswith("@"))):
        raise ValueError(
            "expected five fields: minute hour day-of-month month day-of-week, e.g. '30 1 * * *' (01:30 daily)"
        )
    return schema.checker("", "schedule")(expression)


def next_runs(expression: str, now: datetime, count: int = 3) -> list[datetime]:
    it = croniter(expression, now)
    return [it.get_next(datetime) for _ in range(count)]


def in_words(moment: datetime, now: datetime) -> str:
    """'in 5 hours', '3 days ago'."""
    delta = moment - now
    if delta.total_seconds() >= 0:
        return "in " + humanize.naturaldelta(delta)
    return humanize.naturaldelta(-delta) + " ago"


def when(moment: datetime, now: datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M} ({in_words(moment, now)})"


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
