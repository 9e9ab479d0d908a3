"""Restore on real zfs-fuse hosts: a backup snapshot sent back with
`zfs-sync-run --restore`, checked by GUID and by file checksums, and the
refusals that leave both sides exactly as they were."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

import pytest

from tests import installed
from tests.wizard.driver import ENTER, private_crontab, wizard  # noqa: F401 (a fixture)

from .replication import ok, snapshot, wait_until

pytestmark = pytest.mark.timeout(240)


def everything(host, pool: str) -> str:
    """Every dataset and snapshot of a pool with its GUID: what a refusal must leave alone."""
    return host.run(["zfs", "get", "-Hp", "-r", "-o", "name,value", "guid", pool]).stdout


def backed_up(media) -> str:
    """Run the job once; the backup's snapshot name."""
    ok(media.run("media"))
    (snap,) = media.host_dst.snapshots("backup/media")
    return snap


@pytest.fixture
def product(media, hosts):
    media.host_dst = hosts.dst
    return media


def test_restore_beside_the_source_by_default_equal_by_guid_and_checksum(product, hosts):
    src, dst = hosts.src, hosts.dst
    snap = backed_up(product)
    src.write_file("tank/media", "later.txt", b"written after the backup\n")  # not in the backup
    today = datetime.now().strftime("%Y%m%d")
    target = f"tank/media-restored-{today}"
    backup_before = everything(dst, "backup")

    result = product.run("--restore", "media", "--snapshot", snap)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"verified: localhost:{target}@{snap} has guid" in result.stdout
    assert src.snapshots(target) == dst.snapshots("backup/media")  # same snapshot, same GUID
    assert src.checksum(f"{target}@{snap}") == dst.checksum(f"backup/media@{snap}")
    assert src.checksum(f"{target}@{snap}") == src.checksum(f"tank/media@{snap}")
    swap = f"zfs rename tank/media tank/media-old-{today} && zfs rename {target} tank/media"
    assert swap in result.stdout
    assert "tank/media-old" not in everything(src, "tank"), "the swap is shown, never done"
    assert everything(dst, "backup") == backup_before, "the backup is untouched"


def test_dry_run_prints_the_reversed_pipeline_and_changes_nothing(product, hosts):
    src, dst = hosts.src, hosts.dst
    snap = backed_up(product)
    before = everything(src, "tank"), everything(dst, "backup")

    result = product.run("--restore", "media", "--snapshot", snap, "--to", "tank/copy", "--dry-run")

    assert result.returncode == 0, result.stderr
    shown = result.stdout
    assert f"restore root@{dst.address}:backup/media@{snap}" in shown and "-> localhost:tank/copy" in shown
    line = next(line for line in shown.splitlines() if "zfs send" in line)
    assert f"zfs send backup/media@{snap}" in line and "zfs receive -u tank/copy" in line
    assert "-F" not in line.split("zfs receive")[1]
    assert "# to put it in place of tank/media:" in shown
    assert (everything(src, "tank"), everything(dst, "backup")) == before


def test_restore_into_an_existing_dataset_is_refused_with_the_alternatives(product, hosts):
    src, dst = hosts.src, hosts.dst
    snap = backed_up(product)
    before = everything(src, "tank"), everything(dst, "backup")
    today = datetime.now().strftime("%Y%m%d")

    result = product.run("--restore", "media", "--snapshot", snap, "--to", "tank/media")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "localhost:tank/media exists; a restore never receives into an existing dataset" in result.stderr
    assert f"--to tank/media-restored-{today}" in result.stderr
    assert f"zfs rename tank/media tank/media-old-{today}" in result.stderr
    assert (everything(src, "tank"), everything(dst, "backup")) == before


def test_an_unknown_snapshot_is_refused_naming_the_ones_there(product, hosts):
    snap = backed_up(product)
    result = product.run("--restore", "media", "--snapshot", "nosuch", "--to", "tank/copy")
    assert result.returncode == 2
    assert f"has no snapshot @nosuch; newest first: @{snap}" in result.stderr
    assert "tank/copy" not in everything(hosts.src, "tank")


def test_restore_to_the_original_name_after_the_source_was_destroyed(product, hosts):
    src, dst = hosts.src, hosts.dst
    snap = backed_up(product)
    expected = src.checksum(f"tank/media@{snap}")
    src.run(["zfs", "release", "zsw_media", f"tank/media@{snap}"])  # the job's hold on its base
    src.destroy_dataset("tank/media")

    result = product.run("--restore", "media", "--snapshot", snap, "--to", "tank/media")

    assert result.returncode == 0, result.stderr
    assert "zfs rename" not in result.stdout  # it is in its place already
    assert src.snapshots("tank/media") == dst.snapshots("backup/media")
    assert src.checksum(f"tank/media@{snap}") == expected
    # and the job goes on from the restored snapshot, incrementally
    src.run(["zfs", "mount", "tank/media"], check=False)
    src.write_random("tank/media", "new.bin", 32 << 10)
    snapshot(src, "tank/media", "after-restore")
    ok(product.run("media"))
    assert "after-restore" in dst.snapshots("backup/media")


def test_restore_to_another_host_named_in_to(product, hosts):
    dst = hosts.dst
    snap = backed_up(product)
    result = product.run("--restore", "media", "--snapshot", snap, "--to", f"root@{dst.address}:backup/copy")
    assert result.returncode == 0, result.stderr
    assert dst.snapshots("backup/copy") == dst.snapshots("backup/media")
    assert "zfs rename" not in result.stdout  # a copy elsewhere replaces nothing


@pytest.mark.usefixtures("private_crontab")
def test_wizard_restores_beside_and_swaps_after_two_yeses(product, hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    snap = backed_up(product)
    expected = dst.checksum(f"backup/media@{snap}")
    src.write_file("tank/media", "later.txt", b"written after the backup\n")
    today = datetime.now().strftime("%Y%m%d")

    # newest snapshot, beside the source, restore now, swap: yes, and yes again
    result = wizard(src, tmp_path, ENTER + ENTER + ENTER + "y" + "y", "restore", "media")

    shown = result.stdout
    assert result.returncode == 0, shown + result.stderr
    assert f"zfs send backup/media@{snap}" in shown  # the runner's dry run, shown before asking
    assert f"verified: localhost:tank/media-restored-{today}@{snap} has guid" in shown  # the runner's
    assert "ok: restored and verified" in shown
    assert f"ok: tank/media is now the restored data; the one it replaced is tank/media-old-{today}" in shown
    assert src.snapshots("tank/media") == dst.snapshots("backup/media")
    assert src.checksum("tank/media") == expected  # the restored files, in place and mounted
    old = f"tank/media-old-{today}"
    src.run(["zfs", "mount", old], check=False)
    assert src.sh('cat "$1"', src.path(old, "later.txt")).stdout == "written after the backup\n"


@pytest.mark.usefixtures("private_crontab")
def test_wizard_browse_copies_files_back_without_overwriting(product, hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.write_file("tank/media", "notes/a.txt", b"as backed up\n")
    backed_up(product)
    movie = src.sh('sha256sum < "$1"', src.path("tank/media", "movie.mkv")).stdout
    src.sh('rm "$1"', src.path("tank/media", "movie.mkv"))
    src.write_file("tank/media", "notes/a.txt", b"changed since\n")
    before = everything(dst, "backup")

    # newest snapshot; paths; into tank/media's mountpoint (default); overwrite: No (default)
    keys = ENTER + "movie.mkv notes/a.txt" + ENTER + ENTER + ENTER
    result = wizard(src, tmp_path, keys, "restore", "media", "--browse")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "file movie.mkv" in result.stdout and "dir  notes" in result.stdout
    assert "(files that existed there were kept)" in result.stdout
    assert src.sh('sha256sum < "$1"', src.path("tank/media", "movie.mkv")).stdout == movie
    assert src.sh('cat "$1"', src.path("tank/media", "notes/a.txt")).stdout == "changed since\n"
    assert everything(dst, "backup") == before, "the read-only clone is gone"


class Tmux:
    """The installed wizard on a real terminal (tmux) on a sandbox host: keys in, the screen out."""

    def __init__(self, host, base, *args: str):
        self.host, self.sock = host, str(base / "tmux.sock")
        wizard_program = installed.product().program("zfs-sync-wizard")
        dirs = ["--config-dir", str(base / "config"), "--state-dir", str(base / "state")]
        command = " ".join(shlex.quote(a) for a in [wizard_program, *dirs, *args])
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "zsw",
            "-x",
            "200",
            "-y",
            "50",
            "-c",
            "/",
            f"{command}; echo ZSW-EXIT=$?; sleep 600",
        )

    def tmux(self, *args: str) -> str:
        return self.host.run(["tmux", "-S", self.sock, *args], timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", "zsw")

    def wait_for(self, text: str, timeout: float = 90) -> None:
        condition = f"tmux -S {shlex.quote(self.sock)} capture-pane -p -J -S -500 -t zsw | grep -qF -- {shlex.quote(text)}"
        wait_until(self.host, condition, timeout)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "zsw", *keys)

    def close(self) -> None:
        self.host.run(["tmux", "-S", self.sock, "kill-server"], check=False)


@pytest.mark.usefixtures("private_crontab")
def test_wizard_restore_on_a_real_terminal_shows_progress(product, hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    product.slow("media", "100k")  # a few seconds per transfer: the progress line has time to show
    snap = backed_up(product)
    today = datetime.now().strftime("%Y%m%d")
    term = Tmux(src, tmp_path, "restore", "media")
    try:
        term.wait_for("Which snapshot? (newest first)")
        term.keys("Enter")
        term.wait_for("Where should it go?")
        term.keys("Enter")  # beside the source
        term.wait_for("now?")
        term.keys("Enter")  # restore now
        term.wait_for("Swap the restored dataset into place now?")
        term.keys("Enter")  # No
        term.wait_for("ZSW-EXIT=0")
        screen = term.screen()
    finally:
        term.close()
    assert f"@{snap}" in screen and "KiB" in screen  # the snapshot, dated and sized
    assert re.search(
        r"[0-9.]+[KMG]?i?B 0:\d\d:\d\d \[ *[0-9.]+ ?[KMG]?i?B/s\]", screen
    )  # pv's bar, on the terminal
    assert f"verified: localhost:tank/media-restored-{today}@{snap} has guid" in screen
    assert "not swapped" in screen
    assert src.snapshots(f"tank/media-restored-{today}") == dst.snapshots("backup/media")
    assert src.checksum(f"tank/media-restored-{today}@{snap}") == dst.checksum(f"backup/media@{snap}")


def test_recursive_job_restores_one_dataset_of_the_tree(product, hosts):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media/photos"])
    src.write_random("tank/media/photos", "a.jpg", 64 << 10)
    product.job(
        "media",
        {
            "source": {"dataset": "tank/media", "recursive": True},
            "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
        },
    )
    snap = backed_up(product)
    today = datetime.now().strftime("%Y%m%d")

    top = product.run("--restore", "media", "--snapshot", snap, "--to", "tank/top")
    assert top.returncode == 0, top.stderr
    assert "note: media is recursive; this restores backup/media alone" in top.stdout
    assert "tank/top/photos" not in everything(src, "tank")

    child = product.run("--restore", "media", "--snapshot", snap, "--dataset", "backup/media/photos")
    assert child.returncode == 0, child.stderr
    target = f"tank/media/photos-restored-{today}"
    assert src.snapshots(target) == dst.snapshots("backup/media/photos")
    assert src.checksum(f"{target}@{snap}") == dst.checksum(f"backup/media/photos@{snap}")
