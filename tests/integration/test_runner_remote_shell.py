"""The far side's login shell is not ours to choose: every remote command runs
under `env LC_ALL=C sh -c`, so a csh login shell (or fish, or a language
other than English) changes nothing, and a remote stage that reports no exit
status is a failure, never a success."""

from __future__ import annotations

import contextlib

from .replication import assert_same, ok, unwrap_command, wrap_command


@contextlib.contextmanager
def login_shell(host, shell: str):
    """root's login shell on `host` only (a copy of /etc/passwd bound in its own mount namespace)."""
    host.sh(
        'sed "s|^root:\\(.*\\):[^:]*$|root:\\1:$1|" /etc/passwd > /run/zsw-passwd && mount --bind /run/zsw-passwd /etc/passwd',
        shell,
    )
    try:
        yield
    finally:
        host.sh("umount /etc/passwd; rm -f /run/zsw-passwd")


def test_a_csh_login_shell_on_the_destination_changes_nothing(hosts, media):
    src, dst = hosts.src, hosts.dst
    with login_shell(dst, "/usr/bin/tcsh"):
        seen = src.run(["ssh", f"root@{dst.address}", "echo $shell"]).stdout.strip()
        assert seen == "/usr/bin/tcsh"  # csh syntax would break `{ ...; }`, `$?` and `for ... done`
        dst.hide_command("mbuffer")
        check = media.run("--check", "media")
        assert check.returncode == 1
        assert f"missing on root@{dst.address}: 'mbuffer' (package mbuffer)" in check.stderr
        dst.unhide_command("mbuffer")
        ok(media.run("media"))
        src.write_random("tank/media", "more.bin", 32 << 10)
        ok(media.run("media"))  # the incremental reads the remote stages' markers through tcsh
        assert_same(src, "tank/media", dst, "backup/media")


def test_a_remote_stage_that_reports_no_status_fails_the_run(hosts, media):
    # a remote mbuffer that takes its shell down with it: no marker comes back, the data does
    wrap_command(hosts.dst, "/usr/bin/mbuffer", "cat; kill -KILL $PPID")
    try:
        result = media.run("media")
    finally:
        unwrap_command(hosts.dst, "/usr/bin/mbuffer")
    assert result.returncode == 1
    assert f"stage 'mbuffer' failed on root@{hosts.dst.address}" in result.stderr


def test_a_failure_behind_a_direct_hop_names_the_stage_there(hosts, tmp_path):
    from .replication import Product

    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movie.mkv", 64 << 10)
    product = Product(dst, tmp_path)  # on a third party's behalf: the stream goes src -> dst directly
    product.job(
        "direct",
        {
            "source": {"dataset": "tank/media", "host": f"root@{src.address}"},
            "destination": {"dataset": "backup/direct", "host": f"root@{dst.hostname}"},
            "transfer": {"direct": True, "direct_host": f"root@{dst.address}", "retries": 0},
        },
    )
    fail = '[ "$1" = receive ] && { echo "cannot receive: injected failure" >&2; exit 1; }'
    wrap_command(dst, "/usr/sbin/zfs", fail + '; exec "$REAL" "$@"')
    try:
        result = product.run("direct")
    finally:
        unwrap_command(dst, "/usr/sbin/zfs")
    assert result.returncode == 1
    assert (
        f"stage 'zfs receive' failed on root@{dst.hostname} (exit 1): zfs receive -u backup/direct"
        in result.stderr
    )
    assert "cannot receive: injected failure" in result.stderr
    assert "ssh from" not in result.stderr.split("\n")[0]  # the stage behind the hop, not the hop
