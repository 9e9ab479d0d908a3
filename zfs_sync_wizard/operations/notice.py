"""What a notification says, and when one is due (pure: everything, `now`
included, is passed in).

`events` decides from this run's result and the previous one's which of
the job's `notify.when` events happened (failure, recovery, success);
`mail` and `body` give the text a person reads: which job, which
datasets, which stage failed and with what error, the lag, and the next
scheduled run.  Webhook pings (start, success, failure) carry `body` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from ..planning import sizes

FAILED = ("failed", "interrupted")
SUCCEEDED = ("ok", "nothing-to-do")
_STAGE = re.compile(r"stage '([^']+)' failed")
_PAIR = re.compile(r"^(\S+) -> (\S+): ")
_TIME = re.compile(r"(\d{8}T\d{6}Z)(\.\d+)?$")


@dataclass
class Notice:
    job: str
    event: str  # failure, recovery, success, or start (webhooks only)
    hostname: str  # the machine that ran the job
    source: str  # "host:dataset" or the dataset on this machine
    destination: str
    result: str = ""
    errors: list = field(default_factory=list)
    bytes: int = 0
    lag: float | None = None  # seconds since the newest snapshot known to have reached the destination
    next_run: datetime | None = None


def events(result: str, previous: str | None, when: list) -> list:
    """The events of `when` this run is: failure; recovery (the first success after a
    failure); success (every success, but a recovery is told once, as recovery)."""
    out = []
    if result in FAILED:
        out.append("failure")
    elif result in SUCCEEDED:
        if previous in FAILED:
            out.append("recovery")
        else:
            out.append("success")
    if out == ["recovery"] and "recovery" not in when and "success" in when:
        return ["success"]
    return [e for e in out if e in when]


def outcome(result: str) -> str | None:
    """The webhook ping a finished run sends: success, failure, or none (skipped, dry run)."""
    if result in FAILED:
        return "failure"
    if result in SUCCEEDED:
        return "success"
    return None


def next_run(schedule: str | None, now: datetime) -> datetime | None:
    """When cron starts the job next, for the schedule of its crontab line (None: unscheduled)."""
    if not schedule:
        return None
    from croniter import croniter

    try:
        return croniter(schedule, now).get_next(datetime)
    except (ValueError, KeyError):
        return None


def lag(snapshots: list, stem: str, now: datetime) -> float | None:
    """Seconds since the newest of the job's replication snapshots (`<stem><UTC time>`)
    among `snapshots` ("dataset@name" or "name"); None when there is none."""
    times = []
    for snap in snapshots:
        name = snap.rpartition("@")[2]
        match = _TIME.search(name) if name.startswith(stem) else None
        if match and name[len(stem) : match.start()] == "":
            taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            times.append(taken)
    if not times:
        return None
    return max(0.0, (now - max(times)).total_seconds())


def stages(errors: list) -> list:
    """(source -> destination, stage) of each error that names them ('' when it does not)."""
    out = []
    for error in errors:
        pair = _PAIR.match(error)
        stage = _STAGE.search(error)
        out.append((f"{pair.group(1)} -> {pair.group(2)}" if pair else "", stage.group(1) if stage else ""))
    return out


_HEADLINE = {
    "failure": "FAILED",
    "recovery": "recovered",
    "success": "succeeded",
    "start": "started",
}


def subject(n: Notice) -> str:
    return f"zfs-sync-run: job {n.job} {_HEADLINE[n.event]} on {n.hostname}"


def body(n: Notice, now: datetime) -> str:
    """The text of a mail or a webhook ping: one fact a line, errors last."""
    import humanize  # only when someone is told: most runs tell nobody

    lines = [subject(n), "", f"Job: {n.job}", f"Source: {n.source}", f"Destination: {n.destination}"]
    if n.event != "start":
        lines.append(f"Result: {n.result}")
    if n.event in ("success", "recovery"):
        lines.append(f"Sent: {sizes.human(n.bytes)}")
    if n.event == "recovery":
        lines.append("The previous run had failed; this one succeeded.")
    if n.lag is not None:
        lines.append(f"Lag: {humanize.naturaldelta(n.lag)} (age of the newest replicated snapshot)")
    if n.next_run is not None:
        lines.append(f"Next run: {n.next_run.isoformat(timespec='minutes')} ({_until(n.next_run, now)})")
    for (pair, stage), error in zip(stages(n.errors), n.errors):
        lines.append("")
        if pair:
            lines.append(f"Dataset: {pair}")
        if stage:
            lines.append(f"Stage: {stage}")
        lines.append("Error:")
        lines += ["  " + line for line in error.splitlines()]
    return "\n".join(lines) + "\n"


def _until(when: datetime, now: datetime) -> str:
    import humanize

    seconds = (when - now).total_seconds()
    return (
        "in " + humanize.naturaldelta(seconds) if seconds >= 0 else humanize.naturaldelta(-seconds) + " ago"
    )


def mail(n: Notice, recipients: list, now: datetime) -> str:
    """A whole message for `sendmail -t -oi`: headers (recipients in To:), then the body."""
    headers = [
        f"To: {', '.join(recipients)}",
        f"Subject: {subject(n)}",
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    return "\n".join(headers) + "\n\n" + body(n, now)


def shown_url(url: str) -> str:
    """A webhook URL as logs, warnings and run records show it: a ping URL's path
    or query usually is its secret (healthchecks.io's UUID, Slack's token), so a
    path segment longer than 8 characters shows its last 4 only, the query and
    any user:password@ not at all.  Short words (ping, start, fail) stay, so one
    hook can still be told from another."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ in the host: shown by its scheme alone
        return url.partition(":")[0] + "://..."
    host = parts.netloc.rpartition("@")[2]
    path = "/".join(s if len(s) <= 8 else "..." + s[-4:] for s in parts.path.split("/"))
    return f"{parts.scheme}://{host}{path}" + ("?..." if parts.query else "")


def undelivered(record: dict) -> list:
    """One line per notification of a run record that could not be delivered (for --status)."""
    return [
        f"notification not delivered: {n.get('kind')} ({n.get('when')}) to {_target(n)}: {n.get('error')}"
        for n in record.get("notifications", [])
        if not n.get("ok")
    ]


def _target(n: dict) -> str:
    """A notification's target as shown: a webhook's shortened (records written before
    shown_url held the whole URL)."""
    target = str(n.get("target", ""))
    return shown_url(target) if n.get("kind") == "webhook" else target
