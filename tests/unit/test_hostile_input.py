"""Hostile input, fuzzed (hypothesis): every name, host, job file and cron
line is either accepted and round-trips, or refused with a ValueError /
ConfigError that says why; nothing ends in a traceback, and whatever is
accepted reaches the far side of ssh as exactly the intended argv."""

from __future__ import annotations

import shlex

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.commands import ssh, zfs
from zfs_sync_wizard.errors import ConfigError
from zfs_sync_wizard.jobs import job as jobmod
from zfs_sync_wizard.jobs import names, schema
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.planning.plan import Send

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASTY = [
    "",
    " ",
    "-oProxyCommand=touch /tmp/pwned",
    "tank; rm -rf /",
    "tank/$(reboot)",
    "tank/`id`",
    "tank/a\nb",
    "tank/'quoted'",
    'tank/"dq"',
    "tank/ünïcode",
    "tank/" + "x" * 300,
    "../etc",
    "tank//a",
    "tank/a@snap",
    "tank/a#mark",
    "\x00",
]
TEXT = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=80), st.text(alphabet="ab-_.: /@#$;`'\"\n", max_size=30)
)


def refused_or_accepted(check, value):
    try:
        return check(value)
    except ValueError as exc:
        assert str(exc), "a refusal says why"
        return None


@FUZZ
@given(TEXT)
@example("-oProxyCommand=x")
def test_names_refuse_or_accept_and_never_let_an_option_or_shell_syntax_through(value):
    for check in (names.dataset, names.job_name, names.snapshot_prefix, names.check_user):
        accepted = refused_or_accepted(check, value)
        if accepted is not None:
            assert accepted == value
            assert not accepted.startswith("-")
            assert not set(accepted) & set(";`$'\"\n\\|&<>()#@\x00")
    host = refused_or_accepted(names.host, value)
    if host is not None:
        user, name = host
        assert not name.startswith("-") and not (user or "").startswith("-")
        assert not set(name) & set(";`$'\" \n\\|&<>()")


DATASET = st.text(alphabet="abcXYZ019_-.: ", min_size=1, max_size=12).filter(
    lambda p: p.strip() == p and p not in (".", "..")
)


@FUZZ
@given(st.lists(DATASET, min_size=1, max_size=4), st.sampled_from(["push", "pull", "relay"]))
def test_an_accepted_dataset_reaches_the_far_side_as_exactly_that_argv(parts, topology):
    dataset = "/".join(["tank", *parts])
    if refused_or_accepted(names.dataset, dataset) is None:
        return
    remote = Endpoint(host="backup", user="root")
    src, dst = {
        "push": (Endpoint(), remote),
        "pull": (remote, Endpoint()),
        "relay": (remote, Endpoint(host="b2")),
    }[topology]
    step = Send("zsw_j_2", "zsw_j_1")
    send, receive = zfs.send(dataset, step), zfs.receive(dataset, step)
    for proc in pl.processes(pl.build(send, receive, src, dst, pl.PipelineSettings("zstd")), "/run/c"):
        if not proc.remote:
            continue
        # what the remote login shell runs, then what `sh -c` runs: two rounds of parsing
        words = shlex.split(proc.argv[-1])
        assert words[:4] == ["env", "LC_ALL=C", "sh", "-c"]
        stages = [
            shlex.split(part.strip(" {};").split("; echo zsw-exit")[0]) for part in words[4].split(" | ")
        ]
        assert [list(s.argv) for s in proc.stages] == stages


JOB_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), TEXT, st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=12,
)


def _job_mapping():
    sides = st.fixed_dictionaries(
        {"dataset": st.one_of(TEXT, st.just("tank/media"))}, optional={"host": TEXT, "port": JOB_VALUES}
    )
    return st.fixed_dictionaries(
        {"source": sides, "destination": sides},
        optional={k: JOB_VALUES for k in ("transfer", "snapshots", "schedule", "version", "retention")},
    )


@FUZZ
@given(st.one_of(_job_mapping(), JOB_VALUES), TEXT)
def test_any_job_mapping_loads_or_is_refused_naming_the_file(data, name):
    try:
        job = jobmod.from_mapping(data, name, "/etc/zsw/jobs/x.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("/etc/zsw/jobs/x.yaml: ")
        return
    # accepted: it dumps and loads back to the same job
    again = jobmod.from_mapping(yaml.safe_load(jobmod.dump(job.settings)), name, "/etc/zsw/jobs/x.yaml")
    assert again == job


@FUZZ
@given(st.one_of(TEXT, st.text(alphabet="0123456789*/,- @abcdefghijklmnopqrstuvwxyz", max_size=30)))
@example("61 * * * *")
@example("0 2 * * * rm -rf /")
def test_cron_lines_are_five_fields_or_refused(line):
    accepted = refused_or_accepted(schema.checker("", "schedule"), line)
    if accepted is not None:
        assert len(accepted.split()) == 5 or accepted.strip().startswith("@")
        assert "\n" not in accepted


@pytest.mark.parametrize("port", [0, -1, 65536, True, "22", 2.5])
def test_ports_outside_the_range_are_refused(port):
    with pytest.raises(ValueError):
        schema.checker("destination", "port")(port)


def test_a_host_like_an_option_never_reaches_ssh_as_one():
    for value in ("-oProxyCommand=touch /tmp/x", "root@-oProxyCommand=x", "--", "-p22"):
        with pytest.raises(ValueError):
            names.host(value)
    argv = ssh.ssh_argv(Endpoint(host="backup", user="root"), None)
    assert argv[-1] == "root@backup"
