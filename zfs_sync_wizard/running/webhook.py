"""HTTP webhooks: one POST with a text body, bounded by a timeout (urllib).

The only place this project reaches the network itself; a ping that cannot
be delivered raises `WebhookFailed` with the reason, and the caller decides
what that means (for notifications: a warning, never the run's status).
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from .. import __version__
from ..errors import ZswError


class WebhookFailed(ZswError):
    """A webhook could not be delivered: the message says why."""


def post(url: str, body: str, timeout: float) -> int:
    """POST `body` (UTF-8 text) to `url`; the HTTP status (2xx), else WebhookFailed."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": f"zfs-sync-run/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http and https only, checked by the schema)
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise WebhookFailed(str(exc.reason)) from None
    except (socket.timeout, TimeoutError):
        raise WebhookFailed(f"no answer within {timeout:g} s") from None
    except OSError as exc:  # a connection reset while reading, and the like
        raise WebhookFailed(str(exc)) from None
