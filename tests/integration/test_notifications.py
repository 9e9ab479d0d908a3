"""Notifications with real parts: the runner mails through Debian's exim4
(`sendmail -t -oi`, local delivery) and pings a real HTTP server listening
on 127.0.0.1 inside the source host's network namespace, where the runner
runs.  Failure, recovery and success; undeliverable notifications leave the
run's exit status alone and are reported."""

from __future__ import annotations

import ctypes
import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dev.sandbox import proc

from .replication import ok, unwrap_command, wrap_command

CLONE_NEWNET = 0x40000000
FAIL_RECEIVE = (
    '[ "$1" = receive ] && { echo "cannot receive: injected failure" >&2; exit 1; }; exec "$REAL" "$@"'
)


def in_netns(ns_file: str, make):
    """`make()` called on a thread that entered the network namespace `ns_file`:
    the sockets it creates live there (the thread, and its namespace, then end)."""
    out: dict = {}

    def enter():
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(ns_file, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            out["value"] = make()
        except BaseException as exc:  # re-raised on the caller's thread
            out["error"] = exc
        finally:
            os.close(fd)

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


class Hooks:
    """An HTTP server on the source host's 127.0.0.1 that records every request."""

    def __init__(self, host):
        self.requests: list = []  # (method, path, body) in arrival order
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                hooks.requests.append(("POST", self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args):
                pass

        self.server = in_netns(
            str(host.ns_files["net"]), lambda: ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list:
        return [path for _, path, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks(hosts):
    server = Hooks(hosts.src)
    try:
        yield server
    finally:
        server.close()


class Mailbox:
    """Where exim delivers `address` on this machine; the messages that arrive after creation."""

    def __init__(self, host, address: str):
        if not os.path.exists("/usr/sbin/exim4"):
            pytest.skip("no exim4 (bin/setup-env installs exim4-daemon-light where no other MTA is)")
        route = host.run(["exim4", "-bt", address], cwd="/").stdout
        found = re.search(r"-> (/\S+)", route)
        if found:
            self.path = found.group(1)
        elif "transport = mail_spool" in route:
            self.path = f"/var/mail/{address}"
        else:
            pytest.skip(f"exim4 does not deliver {address} to a local mailbox here:\n{route}")
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def messages(self) -> list:
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            text = f.read().decode(errors="replace")
        return [m for m in re.split(r"(?m)^From \S+ ", text) if "Subject: zfs-sync-run: job media" in m]

    def wait(self, count: int) -> list:
        proc.wait_until(
            lambda: len(self.messages()) >= count, timeout=30, what=f"{count} mails in {self.path}"
        )
        return self.messages()


def configure(media, hosts, notify: dict) -> None:
    job = {
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{hosts.dst.address}"},
        "transfer": {"retries": 0},
        "notify": notify,
    }
    media.job("media", job)


def record(media) -> dict:
    return json.loads((media.state / "runs" / "media.json").read_text())


def failing_run(media, hosts):
    wrap_command(hosts.dst, "/usr/sbin/zfs", FAIL_RECEIVE)
    try:
        return media.run("media")
    finally:
        unwrap_command(hosts.dst, "/usr/sbin/zfs")


def test_failure_then_recovery_are_mailed_and_pinged_in_order(hosts, media, hooks):
    mailbox = Mailbox(hosts.src, "root")
    configure(media, hosts, {"mail": ["root"], "webhooks": [hooks.url + "/ping/abc"]})

    ok(media.run("media"))  # a first success: pinged, but mail only on failure and recovery
    assert hooks.paths() == ["/ping/abc/start", "/ping/abc"]
    assert "job media succeeded" in hooks.requests[1][2]

    failed = failing_run(media, hosts)
    assert failed.returncode == 1
    assert hooks.paths()[2:] == ["/ping/abc/start", "/ping/abc/fail"]
    fail_body = hooks.requests[3][2]
    assert "job media FAILED on zsw-src" in fail_body
    assert "Stage: zfs receive" in fail_body and "cannot receive: injected failure" in fail_body
    [mail] = mailbox.wait(1)
    assert "Subject: zfs-sync-run: job media FAILED on zsw-src" in mail
    assert "Dataset: tank/media -> backup/media" in mail
    assert "Stage: zfs receive" in mail
    assert "cannot receive: injected failure" in mail
    assert f"Destination: root@{hosts.dst.address}:backup/media" in mail
    assert "Lag: " in mail  # the first run's snapshot is the newest that arrived
    assert record(media)["notifications"] == [
        {
            "kind": "webhook",
            "target": hooks.url + "/ping/abc/start",
            "when": "start",
            "ok": True,
            "error": "",
        },
        {
            "kind": "webhook",
            "target": hooks.url + "/ping/abc/fail",
            "when": "failure",
            "ok": True,
            "error": "",
        },
        {"kind": "mail", "target": "root", "when": "failure", "ok": True, "error": ""},
    ]

    hosts.src.write_random("tank/media", "more.bin", 64 << 10)
    ok(media.run("media"))
    assert hooks.paths()[4:] == ["/ping/abc/start", "/ping/abc"]
    assert "job media recovered" in hooks.requests[5][2]
    mails = mailbox.wait(2)
    assert "Subject: zfs-sync-run: job media recovered on zsw-src" in mails[1]
    assert "The previous run had failed; this one succeeded." in mails[1]

    ok(media.run("media"))  # success after success: pinged, not mailed
    assert hooks.paths()[6:] == ["/ping/abc/start", "/ping/abc"]
    assert media.run("--dry-run", "media").returncode == 0
    assert len(hooks.requests) == 8  # a dry run notifies nobody
    assert len(mailbox.messages()) == 2


def test_every_success_is_mailed_when_asked(hosts, media, hooks):
    mailbox = Mailbox(hosts.src, "root")
    configure(
        media,
        hosts,
        {"when": ["success"], "mail": ["root"], "webhooks": [{"success": hooks.url + "/only-success"}]},
    )
    ok(media.run("media"))
    ok(media.run("media"))
    mails = mailbox.wait(2)
    assert all("Subject: zfs-sync-run: job media succeeded on zsw-src" in m for m in mails)
    assert hooks.paths() == ["/only-success", "/only-success"]  # no start: not asked for
    assert failing_run(media, hosts).returncode == 1
    assert hooks.paths() == ["/only-success", "/only-success"]


def closed_port(host) -> int:
    """A port on the host's 127.0.0.1 where nothing listens."""

    def make():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    return in_netns(str(host.ns_files["net"]), make)


TOKEN = "0b3c5f9e-3f1a-4b8e-9a55-1b6d6f1c2d3e"  # a healthchecks.io check's UUID: whoever has it can ping


def test_undeliverable_notifications_are_reported_and_change_no_exit_status(hosts, media, tmp_path):
    port = closed_port(hosts.src)
    silent = in_netns(str(hosts.src.ns_files["net"]), lambda: socket.create_server(("127.0.0.1", 0)))
    try:
        never_answers = f"http://127.0.0.1:{silent.getsockname()[1]}/hc"
        notify = {
            "when": ["failure", "recovery", "success"],
            "mail": ["root"],
            "sendmail": "/bin/false",
            "webhooks": [f"http://127.0.0.1:{port}/hc/{TOKEN}", {"success": never_answers}],
            "timeout": 2,
        }
        configure(media, hosts, notify)
        result = media.run("media")
    finally:
        silent.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    warnings = result.stderr.splitlines()
    assert warnings[0].startswith(
        f"zfs-sync-run: media: webhook notification (start) to http://127.0.0.1:{port}/hc/...2d3e/start "
        "could not be delivered: "
    )
    assert "Connection refused" in warnings[0]
    assert f"notification (success) to {never_answers} could not be delivered" in result.stderr
    assert "mail notification (success) to root could not be delivered: command failed" in result.stderr
    assert len(warnings) == 4  # start, success, the silent one, the mail: one line each
    notes = record(media)["notifications"]
    assert [(n["kind"], n["when"], n["ok"]) for n in notes] == [
        ("webhook", "start", False),
        ("webhook", "success", False),
        ("webhook", "success", False),
        ("mail", "success", False),
    ]
    assert notes[2]["error"] == "no answer within 2 s"
    log = (media.state / "logs" / "media.log").read_text()
    assert "could not be delivered" in log
    runs = (media.state / "runs" / "media.jsonl").read_text() + (
        media.state / "runs" / "media.json"
    ).read_text()
    for text in (result.stderr, log, runs):  # the ping URL's secret is shown by its last 4 characters only
        assert TOKEN not in text and "/hc/...2d3e/start" in text
    status = media.run("--status", "media")
    assert status.returncode == 0
    assert (
        f"media: notification not delivered: webhook (start) to http://127.0.0.1:{port}/hc/...2d3e/start: "
        in status.stdout
    )
    assert "media: notification not delivered: mail (success) to root: command failed" in status.stdout
    assert TOKEN not in status.stdout

    assert failing_run(media, hosts).returncode == 1  # a failure stays a failure (exit 1)
    assert record(media)["result"] == "failed"
    assert [(n["when"], n["ok"]) for n in record(media)["notifications"]][-1] == ("failure", False)


def test_defaults_yaml_sets_notify_for_every_job(hosts, media, hooks):
    defaults = media.config / "defaults.yaml"
    defaults.write_text(defaults.read_text() + f"notify:\n  webhooks: ['{hooks.url}/all']\n")
    ok(media.run("media"))
    assert hooks.paths() == ["/all/start", "/all"]


def test_no_notify_section_sends_nothing_and_records_nothing(hosts, media, hooks):
    ok(media.run("media"))
    assert hooks.requests == [] and record(media)["notifications"] == []
