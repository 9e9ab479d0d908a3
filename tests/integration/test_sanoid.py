"""Debian's real sanoid on the zfs-fuse hosts: the sections `zfs-sync-wizard
sanoid` writes take, replicate and prune sanoid's snapshots on both sides,
and the common base the job holds survives the pruning.

zfs-fuse's `zfs get` has no `-t`, and sanoid lists its snapshots with
`zfs get -Hrpt snapshot creation`.  Only for that, sanoid (and nothing
else: not the product) runs with a small `zfs` wrapper first on its PATH
(ZFS_GET_T below) that turns exactly that command into `zfs get -Hrp
creation` with the snapshot lines kept; every other zfs command it runs
(snapshot, destroy, list) goes to the real zfs unchanged.

sanoid prunes by snapshot age (creation time, whole seconds): a count of 0
prunes every snapshot of that kind created before the current second, so
the test sets the counts to 0 and waits (polling the host's clock, no fixed
sleep) until the second after the snapshots' creation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wizard.driver import ENTER, wizard

from .replication import Product, ok, snapshot, wait_until

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not Path("/usr/sbin/sanoid").exists(),
        reason="Debian's sanoid is not installed (bin/setup-env installs it)",
    ),
]

ZFS_GET_T = """#!/bin/sh
# zfs-fuse has no `zfs get -t`: sanoid's `zfs get -Hrpt snapshot creation` only
if [ "$1" = get ] && [ "$2" = -Hrpt ] && [ "$3" = snapshot ] && [ "$4" = creation ]; then
    shift 4
    /usr/sbin/zfs get -Hrp creation "$@" | awk -F '\\t' 'index($1, "@")'
    exit 0
fi
exec /usr/sbin/zfs "$@"
"""
COUNTS = {
    "source": {"hourly": 2, "daily": 2, "weekly": 0, "monthly": 1},
    "destination": {"hourly": 0, "daily": 5, "weekly": 0, "monthly": 3},
}
NONE = {"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0}


@pytest.fixture
def sanoid_bin(tmp_path):
    folder = tmp_path / "sanoid-bin"
    folder.mkdir()
    (folder / "zfs").write_text(ZFS_GET_T)
    (folder / "zfs").chmod(0o755)
    return folder


def sanoid(host, tmp_path, sanoid_bin, conf_dir, *action: str):
    """Debian's sanoid on `host` with its own config, cache and run folders."""
    run = tmp_path / f"sanoid-{host.name}"
    cache = run / "cache"
    if cache.exists():  # a fresh listing each time, never the last run's cache
        for f in cache.iterdir():
            f.unlink()
    # sanoid defers pruning a dataset while `ps` shows a zfs send or receive naming it: in a PID
    # namespace of its own it sees this host's processes only, not another sandbox's tank/media
    argv = ["unshare", "--pid", "--fork", "--mount-proc"]
    argv += ["/usr/sbin/sanoid", "--configdir", str(conf_dir), "--cache-dir", str(cache)]
    argv += ["--run-dir", str(run / "run"), "--verbose", *action]
    result = host.run(argv, check=False, env={"PATH": f"{sanoid_bin}:/usr/sbin:/usr/bin:/sbin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def names(host, dataset: str) -> list[str]:
    return sorted(host.snapshots(dataset))


def prop(host, name: str, key: str) -> str:
    return host.run(["zfs", "get", "-Hp", "-o", "value", key, name]).stdout.strip()


def write_sections(host, tmp_path, keys: str = ENTER * 4):
    args = (
        "--sanoid-conf",
        str(tmp_path / "src-sanoid"),
        "--destination-sanoid-conf",
        str(tmp_path / "dst-sanoid"),
    )
    result = wizard(host, tmp_path, keys, "sanoid", "media", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_sanoid_takes_the_job_carries_sanoid_prunes_both_sides_and_the_base_survives(
    hosts, tmp_path, sanoid_bin
):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movie.mkv", 100 << 10)
    product = Product(src, tmp_path)
    job = {
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
        "snapshots": {"take": False},
        "retention": COUNTS,
    }
    product.job("media", job)
    (tmp_path / "src-sanoid").mkdir()
    hand = "# by hand\n[template_production]\n\thourly = 36\n\n[tank/other]\n  use_template = production\n"
    (tmp_path / "src-sanoid" / "sanoid.conf").write_text(hand)

    shown = write_sections(src, tmp_path)
    assert f"ok: wrote localhost:{tmp_path}/src-sanoid/sanoid.conf (the previous one kept as " in shown
    assert f"ok: wrote root@{dst.address}:{tmp_path}/dst-sanoid/sanoid.conf" in shown
    # Debian's cron line starts sanoid on these hosts (no systemd), but it reads /etc/sanoid
    assert f"it must be started with --configdir {tmp_path}/src-sanoid" in shown
    source_conf = (tmp_path / "src-sanoid" / "sanoid.conf").read_text()
    assert source_conf.startswith(hand + "\n# managed by zfs-sync-wizard job media")
    assert "\tautosnap = no\n\tautoprune = yes\n" in (tmp_path / "dst-sanoid" / "sanoid.conf").read_text()

    taken = sanoid(src, tmp_path, sanoid_bin, tmp_path / "src-sanoid", "--take-snapshots")
    made = names(src, "tank/media")
    assert [n.rsplit("_", 1)[1] for n in made] == ["daily", "hourly", "monthly"], taken.stdout
    assert all(n.startswith("autosnap_") for n in made)

    ok(product.run("media"))
    assert names(dst, "backup/media") == made  # every sanoid snapshot carried
    base = max(made, key=lambda n: int(prop(src, f"tank/media@{n}", "createtxg")))  # the job holds it

    # every count 0: sanoid prunes everything older than this second, on both sides
    product.job("media", {**job, "retention": {"source": NONE, "destination": NONE}})
    shown = write_sections(src, tmp_path)
    assert "-\thourly = 2\n" in shown.replace("    ", "") and "+\thourly = 0\n" in shown.replace("    ", "")
    again = (tmp_path / "src-sanoid" / "sanoid.conf").read_text()
    assert (
        again.startswith(hand + "\n# managed by zfs-sync-wizard job media")
        and again.count("[tank/media]") == 1
    )
    created = prop(src, f"tank/media@{base}", "creation")
    for host in (src, dst):
        wait_until(host, f'[ "$(date +%s)" -gt {created} ]')
    pruned = sanoid(src, tmp_path, sanoid_bin, tmp_path / "src-sanoid", "--prune-snapshots")
    sanoid(dst, tmp_path, sanoid_bin, tmp_path / "dst-sanoid", "--prune-snapshots")
    assert names(src, "tank/media") == [base], pruned.stdout + pruned.stderr
    assert names(dst, "backup/media") == [base]
    assert f"could not remove tank/media@{base}" in pruned.stderr  # held by the job: zfs refused

    # the base still serves the next incremental
    src.write_random("tank/media", "second.mkv", 50 << 10)
    snapshot(src, "tank/media", "after")
    ok(product.run("media"))
    assert names(dst, "backup/media") == sorted([base, "after"])
