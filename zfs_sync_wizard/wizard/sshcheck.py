"""Live checks of a remote side: reach it, log in, trust its host key, find its tools.

`classify` reads ssh's stderr (pure) and says what is wrong in the terms of
the fix: nothing listening, a key not authorized (with the exact
`ssh-copy-id` line), a host key not yet known, or one that changed.  The
probes run through the Executor with BatchMode, so nothing ever waits on a
password prompt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..commands import probes
from ..jobs.endpoint import DEFAULT_PORT, Endpoint
from ..running.execute import Executor

LOCAL = Endpoint()
UNREACHABLE = "unreachable"
AUTH = "authentication"
UNKNOWN_KEY = "unknown-host-key"
CHANGED_KEY = "changed-host-key"
SSH = "ssh"
MISSING = "missing-programs"

_UNREACHABLE_SIGNS = {
    "Connection refused": "nothing accepts connections on port {port} of {host} (connection refused): "
    "is sshd running there, and is {port} its port?",
    "Connection timed out": "no answer from {host} on port {port} (timed out): is the host up, "
    "and does a firewall let port {port} through?",
    "timed out during banner exchange": "{host} accepted the connection but sent no SSH greeting: "
    "is port {port} really sshd?",
    "No route to host": "no route to {host}: is the host up, and is the address right?",
    "Network is unreachable": "the network of {host} is unreachable from this machine",
    "Could not resolve hostname": "the name {host} does not resolve: check the spelling, "
    "or give its IP address",
    "Connection closed by": "{host} closed the connection before login: check sshd's log there "
    "(MaxStartups, AllowUsers, DenyUsers)",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str


def known_hosts_name(endpoint: Endpoint) -> str:
    """How known_hosts and `ssh-keygen -R` name this host."""
    host = endpoint.host or ""
    return host if endpoint.port == DEFAULT_PORT else f"[{host}]:{endpoint.port}"


def copy_id_command(endpoint: Endpoint, default_key: str | None = None) -> str:
    """The `ssh-copy-id` line that authorizes this side's key on the host."""
    key = endpoint.ssh_key or default_key
    argv = ["ssh-copy-id"]
    if key:
        argv += ["-i", f"{key}.pub"]
    argv += ["-p", str(endpoint.port), endpoint.target]
    return " ".join(shlex.quote(a) for a in argv)


def classify(endpoint: Endpoint, status: int, stderr: str, default_key: str | None = None) -> Problem | None:
    """What an ssh probe's exit status and stderr mean; None when it worked."""
    if status == 0:
        return None
    host, port = endpoint.host, endpoint.port
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        offending = [line.strip() for line in stderr.splitlines() if "Offending" in line]
        name = known_hosts_name(endpoint)
        return Problem(
            CHANGED_KEY,
            f"the host key of {name} has CHANGED since it was recorded in known_hosts"
            + (f" ({offending[0]})" if offending else "")
            + ". Someone may be intercepting the connection, or the host was reinstalled. "
            "Nothing was changed and the wizard will not accept the new key. If you know why it "
            f"changed, remove the old key with:\n  ssh-keygen -R {shlex.quote(name)}\n"
            "then retry, and compare the new fingerprint with the one the host shows "
            "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub, run there).",
        )
    if "Host key verification failed" in stderr or "No ED25519 host key is known" in stderr:
        return Problem(UNKNOWN_KEY, f"the host key of {known_hosts_name(endpoint)} is not known yet")
    if "Permission denied" in stderr:
        key = endpoint.ssh_key or default_key or "your default key"
        return Problem(
            AUTH,
            f"{endpoint.target} refused the key {key} ({_line_with(stderr, 'Permission denied')}). "
            "Authorize it on the host, for example with (asks for the password once):\n"
            f"  {copy_id_command(endpoint, default_key)}\n"
            "or append the .pub file's line to ~/.ssh/authorized_keys of that user there.",
        )
    for sign, text in _UNREACHABLE_SIGNS.items():
        if sign in stderr:
            return Problem(UNREACHABLE, text.format(host=host, port=port))
    detail = stderr.strip() or f"exit status {status}"
    return Problem(SSH, f"ssh to {endpoint.label} failed: {detail}")


def _line_with(text: str, needle: str) -> str:
    return next((line.strip().rstrip(".") for line in text.splitlines() if needle in line), needle)


def probe(ex: Executor, endpoint: Endpoint):
    """Log in and run `true`; the Result carries ssh's status and stderr."""
    return ex.run(endpoint, ["true"], changes=False, check=False)


def scan_host_key(ex: Executor, endpoint: Endpoint) -> list[str]:
    """The host's public keys as known_hosts lines (not yet trusted: show the fingerprints)."""
    argv = ["ssh-keyscan", "-T", "10", "-p", str(endpoint.port), str(endpoint.host)]
    result = ex.run(LOCAL, argv, changes=False, check=False)
    return [line for line in result.stdout.splitlines() if line.strip() and not line.startswith("#")]


def fingerprints(ex: Executor, lines: list[str]) -> list[str]:
    """`ssh-keygen -lf` of the scanned keys: e.g. '256 SHA256:... (ED25519)'."""
    folder = tempfile.mkdtemp(prefix="zsw-hostkey-")
    try:
        path = Path(folder) / "keys"
        path.write_text("\n".join(lines) + "\n")
        out = ex.run(LOCAL, ["ssh-keygen", "-lf", str(path)], changes=False, check=False).stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [_drop_host(line) for line in out.splitlines() if line.strip()]


def _drop_host(line: str) -> str:
    parts = line.split()
    return " ".join([parts[0], parts[1]] + parts[3:]) if len(parts) >= 4 else line


def record_host_key(known_hosts: Path, lines: list[str]) -> None:
    """Append the accepted keys to known_hosts (created 0600 in a 0700 directory)."""
    known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = known_hosts.read_text() if known_hosts.exists() else ""
    text = ("" if not existing or existing.endswith("\n") else "\n") + "\n".join(lines) + "\n"
    fd = os.open(known_hosts, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(text)


def required_programs(compression: str = "auto", buffer: bool = True) -> set[str]:
    """What a remote side of a transfer runs: zfs, mbuffer, the compressor."""
    programs = {"zfs"}
    if buffer:
        programs.add("mbuffer")
    wire = "zstd" if compression == "auto" else compression
    if wire in ("zstd", "lz4"):
        programs.add(wire)
    return programs


def missing_programs(ex: Executor, endpoint: Endpoint, programs: set[str]) -> list[str]:
    result = ex.shell(endpoint, probes.remote_probe(programs), check=False)
    return probes.parse_probe(result.stdout)


PROBE_BYTES = 8 << 20  # the link speed's sample: cheap on any link, long enough to be timed
RAMP_BYTES = 1 << 20  # sent first in both samples: ssh's login and the ramp-up of its window
_SHORTEST = 0.001  # seconds: a difference smaller than this is measured as this


def link_speed(ex: Executor, endpoint: Endpoint, nbytes: int = PROBE_BYTES) -> float:
    """Bytes per second from this machine through ssh to the endpoint, as a long transfer
    goes: random (incompressible) bytes into `cat >/dev/null` there, RAMP_BYTES and then
    RAMP_BYTES + `nbytes`; the difference of the two times is what `nbytes` took once ssh
    had logged in and its window had opened."""
    start = ex.upload_time(endpoint, RAMP_BYTES)
    took = ex.upload_time(endpoint, RAMP_BYTES + nbytes)
    return nbytes / max(took - start, _SHORTEST)


def default_key(ssh_dir: Path) -> str | None:
    """The key ssh tries first when none is named (for the ssh-copy-id hint)."""
    for name in ("id_ed25519", "id_ecdsa", "id_rsa"):
        if (ssh_dir / name).exists():
            return str(ssh_dir / name)
    return None


def private_keys(ssh_dir: Path) -> list[str]:
    """Private keys in ~/.ssh: files that have a matching .pub next to them."""
    try:
        found = sorted(p for p in ssh_dir.iterdir() if p.suffix == ".pub")
    except OSError:
        return []
    return [str(p.with_suffix("")) for p in found if p.with_suffix("").is_file()]
