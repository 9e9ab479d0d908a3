"""Does a host name resolve?  Asked before the ssh check, so the answer says so in place.

The standard library's resolver (`socket.getaddrinfo`: /etc/hosts, DNS,
whatever nsswitch says), as ssh itself resolves.  A name ssh knows only as
a `Host` alias of ~/.ssh/config is looked up by the HostName `ssh -G`
gives it.
"""

from __future__ import annotations

import socket
from typing import Callable

from ..jobs.endpoint import LOCAL
from ..running.execute import Executor


def failure(host: str) -> str | None:
    """Why `host` does not resolve (the resolver's words), None when it does."""
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        return getattr(exc, "strerror", None) or str(exc)
    return None


def ssh_hostname(ex: Executor, host: str) -> str:
    """The HostName ssh uses for `host` (itself unless ~/.ssh/config says otherwise)."""
    result = ex.run(LOCAL, ["ssh", "-G", "--", host], changes=False, check=False)
    for line in result.stdout.splitlines() if result.status == 0 else []:
        key, _, value = line.partition(" ")
        if key == "hostname" and value.strip():
            return value.strip()
    return host


def problem(ex: Executor, host: str, lookup: Callable[[str], str | None] = failure) -> str | None:
    """A sentence for the person when `host` does not resolve, None when it does."""
    why = lookup(host)
    if why is None:
        return None
    real = ssh_hostname(ex, host)
    if real != host:
        again = lookup(real)
        if again is None:
            return None
        host, why = f"{host} (HostName {real} in your ssh config)", again
    return f"the host name {host} does not resolve ({why}): check the spelling, or give its IP address"
