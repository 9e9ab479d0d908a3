"""The wizard's live SSH checks against a real sshd, as the person reads them."""

from __future__ import annotations

import pytest

from tests.integration.replication import run_argv
from tests.wizard.driver import (
    AFTER_CHECK,
    CLEAR,
    CTRL_C,
    DOWN,
    ENTER,
    make_source,
    private_crontab,  # noqa: F401 (a fixture)
    to_dst,
    wizard,
)

# every test gets a private crontab: a wizard gone astray can never reach this machine's
pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("private_crontab")]
KNOWN_HOSTS = "/root/.ssh/known_hosts"


@pytest.fixture
def known_hosts(hosts):
    """src's known_hosts, restored afterwards (the sandbox shares it between tests)."""
    saved = hosts.src.run(["cat", KNOWN_HOSTS]).stdout
    try:
        yield
    finally:
        hosts.src.run(["sh", "-c", 'cat > "$1"', "sh", KNOWN_HOSTS], input=saved)


def test_unknown_host_key_is_shown_by_fingerprint_and_recorded_when_accepted(hosts, tmp_path, known_hosts):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    src.run(["ssh-keygen", "-q", "-R", dst.address, "-f", KNOWN_HOSTS])
    src.run(["ssh-keygen", "-q", "-R", dst.hostname, "-f", KNOWN_HOSTS])
    expected = src.sh(f"ssh-keyscan -t ed25519 {dst.address} 2>/dev/null | ssh-keygen -lf -").stdout.split()[
        1
    ]
    result = wizard(src, tmp_path, to_dst(dst) + "y" + CTRL_C, "create")
    shown = result.stdout
    assert result.returncode == 130, shown + result.stderr
    assert f"The host key of {dst.address} is not known yet (not in {KNOWN_HOSTS})" in shown
    assert expected.startswith("SHA256:") and f"    256 {expected} (ED25519)" in shown
    assert f"ok: recorded the host key of {dst.address} in {KNOWN_HOSTS}" in shown
    assert f"ok: logged in to root@{dst.address}" in shown
    recorded = src.run(["ssh-keygen", "-F", dst.address, "-f", KNOWN_HOSTS], check=False)
    assert recorded.returncode == 0


def test_declined_host_key_is_not_recorded(hosts, tmp_path, known_hosts):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    src.run(["ssh-keygen", "-q", "-R", dst.address, "-f", KNOWN_HOSTS])
    result = wizard(src, tmp_path, to_dst(dst) + "n" + CTRL_C, "create")
    assert result.returncode == 130
    assert f"the host key of {dst.address} was not accepted, so ssh cannot log in" in result.stdout
    assert src.run(["ssh-keygen", "-F", dst.address, "-f", KNOWN_HOSTS], check=False).returncode != 0


def test_changed_host_key_is_refused(hosts, tmp_path, known_hosts):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    src.run(["ssh-keygen", "-q", "-R", dst.address, "-f", KNOWN_HOSTS])
    src.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "impostor")])
    impostor = (tmp_path / "impostor.pub").read_text().split()[:2]
    src.sh(f'echo "{dst.address} {impostor[0]} {impostor[1]}" >> {KNOWN_HOSTS}')
    result = wizard(src, tmp_path, to_dst(dst) + CTRL_C, "create")
    assert result.returncode == 130
    assert f"the host key of {dst.address} has CHANGED" in result.stdout
    assert f"ssh-keygen -R {dst.address}" in result.stdout


def test_wrong_key_prints_the_ssh_copy_id_command(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    key = tmp_path / "not-authorized"
    src.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    choose_other_key = DOWN * 2 + ENTER + str(key) + ENTER  # ssh default, /root/.ssh/id_ed25519, another...
    result = wizard(src, tmp_path, to_dst(dst, key=choose_other_key) + CTRL_C, "create")
    shown = result.stdout
    assert result.returncode == 130, shown + result.stderr
    assert (
        f"root@{dst.address} refused the key {key} (root@{dst.address}: Permission denied (publickey))"
        in shown
    )
    assert f"  ssh-copy-id -i {key}.pub -p 22 root@{dst.address}" in shown


def test_closed_port_says_nothing_listens(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    port = CLEAR + "2222" + ENTER
    result = wizard(src, tmp_path, to_dst(dst, port=port) + CTRL_C, "create")
    assert result.returncode == 130
    assert (
        f"problem: nothing accepts connections on port 2222 of {dst.address} (connection refused): "
        "is sshd running there, and is 2222 its port?"
    ) in result.stdout


def test_missing_remote_mbuffer_is_named_and_the_job_avoids_it(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    dst.hide_command("mbuffer")
    keys = to_dst(dst) + DOWN * 2 + ENTER + AFTER_CHECK + "n"  # continue; ...; save; do not schedule
    result = wizard(src, tmp_path, keys, "create")
    shown = result.stdout
    assert result.returncode == 0, shown + result.stderr
    assert (
        f"problem: missing on root@{dst.address}: 'mbuffer' (package mbuffer). Install it there and run again"
    ) in shown
    assert "default changed: no mbuffer (buffer: none), since mbuffer is missing" in shown
    dirs = ["--config-dir", str(tmp_path / "config"), "--state-dir", str(tmp_path / "state")]
    run = src.run([*run_argv(), *dirs, "media"], check=False)
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_check_explains_a_jobs_ssh_failure_with_its_fix(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    jobs = tmp_path / "config" / "jobs"
    jobs.mkdir(parents=True)
    (jobs / "moved.yaml").write_text(
        f"source: {{dataset: tank}}\ndestination: {{dataset: backup/tank, host: root@{dst.address}, port: 2222}}\n"
    )
    result = wizard(src, tmp_path, "", "check")
    assert result.returncode == 1
    assert f"problem: moved: nothing accepts connections on port 2222 of {dst.address}" in result.stdout
    assert "1 problem(s) found." in result.stdout
