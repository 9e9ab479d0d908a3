"""Delivering a run's notifications: mail through the local sendmail
(`sendmail -t -oi`, as cron does) and webhook pings (healthchecks.io style:
start, success, failure) as the job's `notify:` section asks.

A notification that cannot be delivered is a warning (stderr and the job's
log) and an entry in the run record, never the run's own failure; each one
waits at most `notify.timeout` seconds.  The text is notice.py's.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime

from ..errors import ZswError
from ..jobs.job import Job
from ..running import webhook
from ..running.execute import Executor
from ..schedule import cron
from . import notice

log = logging.getLogger("zfs_sync_wizard")


def _where(side) -> str:
    endpoint = side.endpoint
    return side.dataset if endpoint.is_local else f"{endpoint.label}:{side.dataset}"


def webhook_url(hook, event: str) -> str | None:
    """The URL a webhook is pinged at for an event (start, success, failure), if any."""
    if isinstance(hook, dict):
        return hook.get(event)
    base = hook.rstrip("/")
    return {"start": base + "/start", "success": base, "failure": base + "/fail"}[event]


class Notifier:
    """The notifications of one (real, not dry) run of one job."""

    def __init__(self, job: Job, ex: Executor | None = None, now=datetime.now):
        self.job = job
        self.settings = job.notify or {}
        self.ex = ex or Executor()
        self.now = now
        self.delivered: list = []  # what the run record lists under `notifications`

    @property
    def wanted(self) -> bool:
        return bool(self.settings.get("mail") or self.settings.get("webhooks"))

    def started(self) -> None:
        if self.settings.get("webhooks"):
            self._ping("start", self._notice("start", {}))

    def finished(self, record: dict, previous: dict | None) -> list:
        """Send what this run's result calls for; the deliveries, for the run record."""
        if not self.wanted:
            return self.delivered
        result = record.get("result", "")
        ping = notice.outcome(result)
        due = notice.events(result, (previous or {}).get("result"), self.settings.get("when", []))
        if not (ping and self.settings.get("webhooks")) and not (due and self.settings.get("mail")):
            return self.delivered
        facts = dict(record, lag=self._lag(record, previous), next_run=self._next_run())
        if ping and self.settings.get("webhooks"):
            event = due[0] if due and ping == "success" else ping
            self._ping(ping, self._notice(event, facts))
        for event in due if self.settings.get("mail") else []:
            self._mail(self._notice(event, facts))
        return self.delivered

    def _notice(self, event: str, facts: dict) -> notice.Notice:
        return notice.Notice(
            job=self.job.name,
            event=event,
            hostname=socket.gethostname(),
            source=_where(self.job.source),
            destination=_where(self.job.destination),
            result=facts.get("result", ""),
            errors=list(facts.get("errors", [])),
            bytes=facts.get("bytes", 0),
            lag=facts.get("lag"),
            next_run=facts.get("next_run"),
        )

    def _lag(self, record: dict, previous: dict | None) -> float | None:
        snaps = []
        for rec in (record, previous or {}):
            snaps += [f"{s.get('dataset', '')}@{s.get('snapshot', '')}" for s in rec.get("sent", [])]
            snaps += rec.get("held", [])
        return notice.lag(snaps, self.job.snapshot_stem, self.now().astimezone())

    def _next_run(self) -> datetime | None:
        try:
            entry = cron.installed(self.ex).get(self.job.name)
        except ZswError as exc:  # no crontab program, or it failed: leave the line out
            log.debug("next run unknown: %s", exc)
            return None
        return notice.next_run(entry.schedule if entry else None, self.now())

    def _ping(self, ping: str, n: notice.Notice) -> None:
        for hook in self.settings.get("webhooks", []):
            url = webhook_url(hook, ping)
            if url:
                self._deliver("webhook", notice.shown_url(url), ping, lambda url=url: self._post(url, n))

    def _post(self, url: str, n: notice.Notice) -> None:
        webhook.post(url, notice.body(n, self.now()), self._timeout)

    def _mail(self, n: notice.Notice) -> None:
        recipients = self.settings["mail"]
        text = notice.mail(n, recipients, self.now())
        argv = [self.settings.get("sendmail", "/usr/sbin/sendmail"), "-t", "-oi"]
        target = ", ".join(recipients)
        self._deliver("mail", target, n.event, lambda: self.ex.feed(argv, text, timeout=self._timeout))

    @property
    def _timeout(self) -> float:
        return self.settings.get("timeout", 10)

    def _deliver(self, kind: str, target: str, when: str, send) -> None:
        entry = {"kind": kind, "target": target, "when": when, "ok": True, "error": ""}
        try:
            send()
            log.info("notification sent: %s %s to %s", kind, when, target)
        except Exception as exc:  # noqa: BLE001 (whatever it is, the run's own status stands)
            entry.update(ok=False, error=_one_line(str(exc)))
            log.warning(
                "%s: %s notification (%s) to %s could not be delivered: %s",
                self.job.name,
                kind,
                when,
                target,
                entry["error"],
            )
        self.delivered.append(entry)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines())
