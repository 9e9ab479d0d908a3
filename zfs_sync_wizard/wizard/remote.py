"""Asking for a remote side (host, port, key) and checking it live before going on.

After the answers, the wizard logs in with BatchMode; a failure is
explained with its fix and the person chooses: retry, change the answers,
or continue anyway.  An unknown host key is shown by fingerprint and
recorded in known_hosts only when the person says yes.
"""

from __future__ import annotations

from pathlib import Path

from ..commands import probes
from ..errors import ZswError
from ..jobs import names, schema
from ..jobs.endpoint import DEFAULT_PORT, Endpoint
from . import resolve, sshcheck, summary
from .context import Context

RETRY, CHANGE, CONTINUE = "retry", "change", "continue"


def _check_port(answer: str) -> int:
    try:
        value = int(answer)
    except ValueError:
        raise ValueError("expected a port number from 1 to 65535") from None
    return schema.checker("destination", "port")(value)


def ask_endpoint(
    ctx: Context, role: str, current: dict, programs: set[str]
) -> tuple[dict, list[str], float | None]:
    """Answers for one remote side (`host`, `port`, `ssh_key`), the programs it lacks,
    and the link speed to it in bytes per second (None: not measured)."""
    answers = dict(current)
    while True:
        answers = _ask_answers(ctx, role, answers)
        endpoint = endpoint_of(answers)
        outcome, missing, rate = check(ctx, endpoint, programs)
        if outcome != CHANGE:
            return answers, missing, rate


def _ask_answers(ctx: Context, role: str, current: dict) -> dict:
    ui = ctx.ui
    host = ui.text(
        f"{role.capitalize()} host ([user@]host)",
        default=current.get("host") or "",
        check=lambda answer: _check_host(ctx, role, answer),
        instruction="(e.g. root@backup01 or 192.0.2.10)",
    )
    port = ui.text("SSH port", default=str(current.get("port") or DEFAULT_PORT), check=_check_port)
    keys = sshcheck.private_keys(ctx.ssh_dir)
    choices = [("ssh's default (~/.ssh/config, id_ed25519, id_rsa...)", None, "ssh's default")]
    choices += [(key, key) for key in keys]
    chosen = current.get("ssh_key")
    if chosen and chosen not in keys:
        choices.append((chosen, chosen))
    choices.append(("another key file...", "other"))
    key = ui.select("SSH key", choices, default=chosen)
    if key == "other":
        key = ui.text("Path of the private key", check=_check_key_file)
    return {"host": host, "port": port, "ssh_key": key}


def _check_host(ctx: Context, role: str, answer: str) -> str:
    """A well-formed [user@]host whose name resolves (checked before any ssh)."""
    value = schema.checker(role, "host")(answer)
    _, host = names.host(value)
    why = resolve.problem(ctx.executor, host, ctx.lookup)
    if why:
        raise ValueError(why)
    return value


def _check_key_file(answer: str) -> str:
    path = schema.checker("destination", "ssh_key")(answer)
    if not Path(path).is_file():
        raise ValueError(f"no file {path}")
    return path


def endpoint_of(answers: dict) -> Endpoint:
    user, host = names.host(answers["host"])
    return Endpoint(
        host=host, user=user, port=answers.get("port", DEFAULT_PORT), ssh_key=answers.get("ssh_key")
    )


def check(ctx: Context, endpoint: Endpoint, programs: set[str]) -> tuple[str, list[str], float | None]:
    """Check until it works or the person decides; returns (outcome, missing programs,
    the link speed measured once logged in)."""
    ui = ctx.ui
    while True:
        ui.say(f"Checking ssh to {endpoint.label} ...")
        problem, missing = _check_once(ctx, endpoint, programs)
        if problem is None:
            ui.ok(f"logged in to {endpoint.label}; found {', '.join(sorted(programs))}")
            return "ok", [], measure(ctx, endpoint)
        ui.problem(problem.message)
        choices = [("Retry the check", RETRY), ("Change the answers", CHANGE)]
        if problem.kind == sshcheck.MISSING:
            choices.append(("Continue: I will install them, or choose options that avoid them", CONTINUE))
        else:
            choices.append(("Continue anyway (runs fail until this is fixed)", CONTINUE))
        action = ui.select("What now?", choices, default=RETRY)
        if action != RETRY:
            return action, missing, None


def measure(ctx: Context, endpoint: Endpoint) -> float | None:
    """The link speed to the endpoint (bytes per second), said as it is measured; None if it fails."""
    size = summary.size_words(sshcheck.PROBE_BYTES)
    try:
        rate = sshcheck.link_speed(ctx.executor, endpoint)
    except ZswError as exc:
        ctx.ui.warn(f"could not measure the link speed to {endpoint.label}: {exc}")
        return None
    ctx.ui.ok(
        f"link speed: {summary.rate_words(rate)} (timed over {size} of random data sent to {endpoint.label})"
    )
    return rate


def _check_once(ctx: Context, endpoint: Endpoint, programs: set[str]):
    ex = ctx.executor
    default_key = sshcheck.default_key(ctx.ssh_dir)
    try:
        result = sshcheck.probe(ex, endpoint)
        problem = sshcheck.classify(endpoint, result.status, result.stderr, default_key)
        if problem and problem.kind == sshcheck.UNKNOWN_KEY:
            problem = _offer_host_key(ctx, endpoint, problem)
            if problem is None:
                result = sshcheck.probe(ex, endpoint)
                problem = sshcheck.classify(endpoint, result.status, result.stderr, default_key)
        if problem:
            return problem, []
        missing = sshcheck.missing_programs(ex, endpoint, programs)
    except ZswError as exc:
        return sshcheck.Problem(sshcheck.SSH, str(exc)), []
    if missing:
        return sshcheck.Problem(sshcheck.MISSING, probes.message(endpoint.label, missing)), missing
    return None, []


def _offer_host_key(ctx: Context, endpoint: Endpoint, problem: sshcheck.Problem):
    ui = ctx.ui
    name = sshcheck.known_hosts_name(endpoint)
    lines = sshcheck.scan_host_key(ctx.executor, endpoint)
    if not lines:
        return sshcheck.Problem(
            sshcheck.UNREACHABLE, f"{problem.message}, and ssh-keyscan got no key from {name}"
        )
    ui.say(f"The host key of {name} is not known yet (not in {ctx.known_hosts}). It presents:")
    for fp in sshcheck.fingerprints(ctx.executor, lines):
        ui.say(f"    {fp}")
    ui.note(
        "Compare with what the host itself shows (run there: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)."
    )
    if not ui.confirm(f"Is this the right key? Record it in {ctx.known_hosts}", default=False):
        return sshcheck.Problem(
            sshcheck.UNKNOWN_KEY, f"the host key of {name} was not accepted, so ssh cannot log in"
        )
    sshcheck.record_host_key(ctx.known_hosts, lines)
    ui.ok(f"recorded the host key of {name} in {ctx.known_hosts}")
    return None
