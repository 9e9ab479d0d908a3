"""Notifications: when one is due and what it says (operations/notice.py, pure),
and which URL a webhook is pinged at (operations/notify.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zfs_sync_wizard.operations import notice
from zfs_sync_wizard.operations.notify import webhook_url

NOW = datetime(2026, 3, 4, 12, 0, 0, tzinfo=timezone.utc)
DEFAULT = ["failure", "recovery"]
ALL = ["failure", "recovery", "success"]


@pytest.mark.parametrize(
    "result, previous, when, expected",
    [
        ("failed", None, DEFAULT, ["failure"]),
        ("failed", "failed", DEFAULT, ["failure"]),  # every failure, not only the first
        ("interrupted", "ok", DEFAULT, ["failure"]),  # the backup did not complete
        ("ok", "failed", DEFAULT, ["recovery"]),
        ("nothing-to-do", "interrupted", DEFAULT, ["recovery"]),
        ("ok", "ok", DEFAULT, []),
        ("ok", None, DEFAULT, []),  # a first run that succeeds is not a recovery
        ("ok", "ok", ALL, ["success"]),
        ("ok", "failed", ALL, ["recovery"]),  # told once, as recovery
        ("ok", "failed", ["success"], ["success"]),  # no recovery asked: it is a success
        ("ok", "failed", ["failure"], []),
        ("failed", "ok", ["recovery", "success"], []),
        ("skipped", "failed", ALL, []),
        ("dry-run", "failed", ALL, []),
        ("running", None, ALL, []),
    ],
)
def test_events(result, previous, when, expected):
    assert notice.events(result, previous, when) == expected


@pytest.mark.parametrize(
    "result, ping",
    [("ok", "success"), ("nothing-to-do", "success"), ("failed", "failure"), ("interrupted", "failure")]
    + [("skipped", None), ("dry-run", None), ("running", None)],
)
def test_webhook_outcome(result, ping):
    assert notice.outcome(result) == ping


@pytest.mark.parametrize(
    "hook, event, url",
    [
        ("https://hc-ping.com/abc", "start", "https://hc-ping.com/abc/start"),
        ("https://hc-ping.com/abc/", "success", "https://hc-ping.com/abc"),
        ("https://hc-ping.com/abc", "failure", "https://hc-ping.com/abc/fail"),
        ({"failure": "http://chat/x?a=1"}, "failure", "http://chat/x?a=1"),
        ({"failure": "http://chat/x?a=1"}, "start", None),
        ({"start": "http://a/s", "success": "http://a/ok"}, "success", "http://a/ok"),
    ],
)
def test_webhook_url(hook, event, url):
    assert webhook_url(hook, event) == url


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ("0 2 * * *", datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)),
        ("*/15 * * * *", datetime(2026, 3, 4, 12, 15, tzinfo=timezone.utc)),
        ("@hourly", datetime(2026, 3, 4, 13, 0, tzinfo=timezone.utc)),
        (None, None),
        ("", None),
        ("not a schedule", None),
    ],
)
def test_next_run(schedule, expected):
    assert notice.next_run(schedule, NOW) == expected


STEM = "zsw_media_"


@pytest.mark.parametrize(
    "snapshots, expected",
    [
        ([], None),
        (["tank/media@zsw_media_20260304T110000Z"], 3600.0),
        (["zsw_media_20260304T110000Z", "tank/media@zsw_media_20260304T113000Z.2"], 1800.0),
        (["tank/media@zsw_mediaX_20260304T115900Z"], None),  # another job's stem
        (["tank/media@zsw_media_x_20260304T115900Z"], None),  # job media_x, not media
        (["tank/media@daily-2026-03-04"], None),  # the person's own snapshot
        (["tank/media@zsw_media_20260304T130000Z"], 0.0),  # a clock behind: never negative
    ],
)
def test_lag(snapshots, expected):
    assert notice.lag(snapshots, STEM, NOW) == expected


ERR = (
    "tank/media -> backup/media: stage 'receive' failed on root@10.0.0.2 (exit 1): zfs receive -s backup/media\n"
    "  cannot receive: out of space"
)


@pytest.mark.parametrize(
    "errors, expected",
    [
        ([ERR], [("tank/media -> backup/media", "receive")]),
        (["ssh to root@b failed (exit 255): refused"], [("", "")]),
        (["tank/a -> backup/a: conflict: diverged"], [("tank/a -> backup/a", "")]),
    ],
)
def test_stages(errors, expected):
    assert notice.stages(errors) == expected


def make(event: str, **kw) -> notice.Notice:
    base = dict(
        job="media", event=event, hostname="nas", source="tank/media", destination="root@b:backup/media"
    )
    return notice.Notice(**dict(base, **kw))


def test_failure_body_names_job_dataset_stage_error_lag_and_next_run():
    n = make(
        "failure",
        result="failed",
        errors=[ERR],
        lag=26 * 3600,
        next_run=NOW + timedelta(hours=14),
    )
    assert notice.body(n, NOW).splitlines() == [
        "zfs-sync-run: job media FAILED on nas",
        "",
        "Job: media",
        "Source: tank/media",
        "Destination: root@b:backup/media",
        "Result: failed",
        "Lag: a day (age of the newest replicated snapshot)",
        "Next run: 2026-03-05T02:00+00:00 (in 14 hours)",
        "",
        "Dataset: tank/media -> backup/media",
        "Stage: receive",
        "Error:",
        "  tank/media -> backup/media: stage 'receive' failed on root@10.0.0.2 (exit 1): zfs receive -s backup/media",
        "    cannot receive: out of space",
    ]


def test_recovery_and_success_bodies_leave_out_what_is_unknown():
    recovered = notice.body(make("recovery", result="ok", bytes=3 << 20), NOW)
    assert "job media recovered on nas" in recovered
    assert "Sent: 3.0 MiB" in recovered and "previous run had failed" in recovered
    assert "Lag:" not in recovered and "Next run:" not in recovered and "Error" not in recovered
    success = notice.body(make("success", result="nothing-to-do"), NOW)
    assert success.startswith("zfs-sync-run: job media succeeded on nas\n")
    assert "Result: nothing-to-do" in success and "previous run" not in success


def test_start_body_is_short():
    assert notice.body(make("start"), NOW).splitlines()[0] == "zfs-sync-run: job media started on nas"
    assert "Result:" not in notice.body(make("start"), NOW)


def test_mail_has_recipients_in_to_and_a_plain_text_body():
    text = notice.mail(make("failure", result="failed", errors=["boom"]), ["root", "ops@example.org"], NOW)
    headers, _, body = text.partition("\n\n")
    assert headers.splitlines() == [
        "To: root, ops@example.org",
        "Subject: zfs-sync-run: job media FAILED on nas",
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    assert body.startswith("zfs-sync-run: job media FAILED on nas\n")
    assert "Error:\n  boom\n" in body


@pytest.mark.parametrize(
    "notifications, expected",
    [
        ([], []),
        ([{"kind": "mail", "target": "root", "when": "failure", "ok": True, "error": ""}], []),
        (
            [
                {
                    "kind": "webhook",
                    "target": "http://h/x/start",
                    "when": "start",
                    "ok": False,
                    "error": "refused",
                }
            ],
            ["notification not delivered: webhook (start) to http://h/x/start: refused"],
        ),
        (  # a record written before URLs were shortened
            [
                {
                    "kind": "webhook",
                    "target": "https://h/0b3c5f9e-3f1a/fail",
                    "when": "failure",
                    "ok": False,
                    "error": "x",
                }
            ],
            ["notification not delivered: webhook (failure) to https://h/...3f1a/fail: x"],
        ),
    ],
)
def test_undelivered(notifications, expected):
    assert notice.undelivered({"notifications": notifications}) == expected
    assert notice.undelivered({}) == []  # a record written before notifications existed


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://127.0.0.1:8080/ping/abc/start", "http://127.0.0.1:8080/ping/abc/start"),
        (
            "https://hc-ping.com/0b3c5f9e-3f1a-4b8e-9a55-1b6d6f1c2d3e/fail",
            "https://hc-ping.com/...2d3e/fail",
        ),
        (
            "https://hooks.slack.com/services/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",
            "https://hooks.slack.com/services/...AAAA/...BBBB/...7Ss8",
        ),
        ("https://user:s3cret@example.org/hook?token=abcdef", "https://example.org/hook?..."),
        ("https://example.org", "https://example.org"),
        ("http://[::1]:8080/ping/0b3c5f9e-3f1a", "http://[::1]:8080/ping/...3f1a"),
        ("https://[hc-ping.com/0b3c5f9e-3f1a", "https://..."),  # does not parse: the scheme alone
    ],
)
def test_shown_url_keeps_the_host_and_short_words_not_the_secret(url, shown):
    assert notice.shown_url(url) == shown
