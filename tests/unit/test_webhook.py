"""Webhook pings (running/webhook.py) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zfs_sync_wizard.running import webhook


@pytest.fixture
def server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(500 if self.path.endswith("/broken") else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def test_post_delivers_the_text_body(server):
    url, received = server
    assert webhook.post(url + "/ping/abc/fail", "job media FAILED\nStage: send\n", timeout=5) == 200
    assert received == [("/ping/abc/fail", "text/plain; charset=utf-8", "job media FAILED\nStage: send\n")]


def test_http_error_status_is_a_failure(server):
    url, _ = server
    with pytest.raises(webhook.WebhookFailed, match="HTTP 500"):
        webhook.post(url + "/broken", "x", timeout=5)


def test_closed_port_is_a_failure():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(webhook.WebhookFailed, match="refused"):
        webhook.post(f"http://127.0.0.1:{port}/x", "x", timeout=5)


def test_a_server_that_never_answers_is_given_up_after_the_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        started = time.monotonic()
        with pytest.raises(webhook.WebhookFailed, match="no answer within 0.5 s"):
            webhook.post(f"http://127.0.0.1:{silent.getsockname()[1]}/x", "x", timeout=0.5)
        assert time.monotonic() - started < 5
