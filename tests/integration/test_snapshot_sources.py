"""Snapshot sources, left-out datasets and receive properties on real zfs-fuse hosts.

The "existing" snapshots are named as sanoid names them and made with
`zfs snapshot` (sanoid itself is the sanoid.conf work's tests).
"""

from __future__ import annotations

import pytest

from .replication import Product, ok, snapshot

pytestmark = pytest.mark.timeout(240)


def daily(n: int) -> str:
    return f"autosnap_2026-11-0{n}_00:00:00_daily"


HOURLY = "autosnap_2026-11-03_12:00:00_hourly"


def job(dst, **sections) -> dict:
    mapping = {
        "version": 1,
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
    }
    for section, values in sections.items():
        mapping.setdefault(section, {}).update(values)
    return mapping


def userrefs(host, snapshot: str) -> str:
    return host.run(["zfs", "get", "-H", "-o", "value", "userrefs", snapshot]).stdout.strip()


def test_existing_snapshots_are_carried_by_pattern_the_excluded_one_skipped_and_the_destination_pruned(
    hosts, tmp_path
):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    for n in (1, 2, 3):
        src.write_random("tank/media", f"day{n}.bin", 32 << 10)
        snapshot(src, "tank/media", daily(n))
    snapshot(src, "tank/media", HOURLY)  # not a daily: never sent
    src.write_random("tank/media", "day4.bin", 32 << 10)
    snapshot(src, "tank/media", daily(4))
    snapshot(src, "tank/media", "manual-before-upgrade")  # matches no pattern: stays on the source only
    src.write_random("tank/media", "day5.bin", 32 << 10)
    snapshot(src, "tank/media", daily(5))
    product = Product(src, tmp_path)
    product.job(
        "media",
        job(dst, snapshots={"source": "existing", "include": ["autosnap_*_daily"], "keep": 2}),
    )

    dry = product.run("--dry-run", "media")
    assert dry.returncode == 0, dry.stderr
    assert "snapshots: existing snapshots named autosnap_*_daily" in dry.stdout
    assert "replication snapshot" not in dry.stdout  # the job takes none of its own
    # full of the oldest daily, -I while every snapshot in between is a daily, -i over the others
    assert f"zfs send tank/media@{daily(1)}" in dry.stdout
    assert f"-I tank/media@{daily(1)} tank/media@{daily(3)}" in dry.stdout
    assert f"-i tank/media@{daily(3)} tank/media@{daily(4)}" in dry.stdout
    assert f"-i tank/media@{daily(4)} tank/media@{daily(5)}" in dry.stdout
    assert "# prune on" in dry.stdout and f"@{daily(1)}, @{daily(2)}, @{daily(3)}" in dry.stdout

    ok(product.run("media"))
    # the counts are 0 (tests/integration/replication.py): keep 2 leaves the two newest dailies
    assert list(dst.snapshots("backup/media")) == [daily(4), daily(5)]
    assert userrefs(dst, f"backup/media@{daily(5)}") == "1"  # the common base, held
    assert list(src.snapshots("tank/media")) == [
        daily(1),
        daily(2),
        daily(3),
        HOURLY,
        daily(4),
        "manual-before-upgrade",
        daily(5),
    ]  # the source's snapshots are sanoid's to prune, never ours

    src.write_random("tank/media", "day6.bin", 32 << 10)
    snapshot(src, "tank/media", daily(6))
    ok(product.run("media"))
    assert list(dst.snapshots("backup/media")) == [daily(5), daily(6)]
    dst.run(["zfs", "mount", "backup/media"], check=False)
    assert dst.checksum("backup/media") == src.checksum("tank/media")


def test_every_count_zero_keeps_the_common_base_and_take_at_end_adds_one_of_our_own(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    for n in (1, 2):
        snapshot(src, "tank/media", daily(n))
    product = Product(src, tmp_path)
    product.job(
        "media",
        job(dst, snapshots={"source": "existing", "include": ["autosnap_*"], "keep": 0, "take_at_end": True}),
    )
    ok(product.run("media"))
    left = list(dst.snapshots("backup/media"))
    assert len(left) == 1 and left[0].startswith("zsw_media_")  # only the common, our own from the end
    assert list(src.snapshots("tank/media"))[:2] == [daily(1), daily(2)]


def test_children_left_out_by_pattern_and_property_are_shown_and_not_replicated(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    for child in ("", "/photos", "/cache", "/private", "/private/deep"):
        src.run(["zfs", "create", f"tank/media{child}"])
        src.write_file(f"tank/media{child}", "file.txt", b"data\n")
    src.run(["zfs", "set", "zfs-sync:exclude=on", "tank/media/private"])
    product = Product(src, tmp_path)
    product.job("media", job(dst, source={"recursive": True, "exclude": ["cache"]}))

    dry = product.run("--dry-run", "media")
    assert dry.returncode == 0, dry.stderr
    assert "left out: tank/media/cache (source.exclude 'cache')" in dry.stdout
    assert "left out: tank/media/private (zfs-sync:exclude=on)" in dry.stdout
    assert "left out: tank/media/private/deep (below tank/media/private)" in dry.stdout
    # zfs-fuse's receive has no -x: said in the dry run, never silently
    assert (
        "has no zfs receive -x: properties received as sent (not excluded: sharenfs, sharesmb)" in dry.stdout
    )

    ok(product.run("media"))
    have = dst.run(["zfs", "list", "-H", "-o", "name", "-r", "backup/media"]).stdout.split()
    assert have == ["backup/media", "backup/media/photos"]
    for child in ("cache", "private", "private/deep"):  # no replication snapshot piles up there
        assert src.snapshots(f"tank/media/{child}") == {}
    assert len(src.snapshots("tank/media/photos")) == 1


def test_a_property_to_set_on_a_receiver_without_o_stops_before_anything_is_sent(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    product = Product(src, tmp_path)
    product.job("media", job(dst, destination={"properties": {"set": {"canmount": "off"}}}))
    result = product.run("media")
    assert result.returncode == 1
    assert (
        "destination.properties.set (canmount=off)" in result.stderr and "no zfs receive -o" in result.stderr
    )
    assert dst.run(["zfs", "list", "backup/media"], check=False).returncode != 0
