"""`zfs-sync-wizard restore`: the prompts driven through a pipe, commands answered by a fake."""

from __future__ import annotations

import pytest
import yaml

from zfs_sync_wizard.cli import wizard as cli

from .conftest import CLEAR, DOWN, ENTER, FakeExecutor, drive, make_context, output, standard_executor

pytestmark = pytest.mark.timeout(20)
BACKUP = "root@backup01"
# two snapshots on the backup, the newer one a day before NOW
SNAPS = "\n".join(
    [
        "backup/tank/media\tguid\t11",
        "backup/tank/media@s1\tguid\t101",
        "backup/tank/media@s1\tcreatetxg\t5",
        "backup/tank/media@s1\tcreation\t1714939200",
        "backup/tank/media@s1\treferenced\t1048576",
        "backup/tank/media@s2\tguid\t102",
        "backup/tank/media@s2\tcreatetxg\t9",
        "backup/tank/media@s2\tcreation\t1715025600",
        "backup/tank/media@s2\treferenced\t3145728",
    ]
)


class Terminal(FakeExecutor):
    """The fake, plus the runner started on the terminal (recorded, exit status given)."""

    def __init__(self):
        super().__init__()
        self.attached_calls: list[list[str]] = []
        self.attached_status = 0

    def attached(self, argv):
        self.attached_calls.append(list(argv))
        return self.attached_status


@pytest.fixture
def ex():
    ex = Terminal()
    ex.rules = standard_executor().rules
    ex.on("zfs get -Hp -d 1 -o name,property,value guid,createtxg,creation,referenced", SNAPS, host=BACKUP)
    ex.on("zfs get -H -o value type tank/media", "filesystem\n", host="localhost")
    ex.on("--dry-run", "restore root@backup01:backup/tank/media@s2 -> localhost:...\nzfs send ...\n")
    ex.on("zfs rename", "")
    ex.on("zfs mount", "")
    ex.on("zfs unmount", "")
    return ex


@pytest.fixture
def ctx(tmp_path, ex):
    ctx = make_context(tmp_path, ex)
    jobs = ctx.config_dir / "jobs"
    jobs.mkdir(parents=True)
    job = {
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/tank/media", "host": BACKUP},
    }
    (jobs / "media.yaml").write_text(yaml.safe_dump(job))
    return ctx


def test_restore_beside_the_source_shows_the_dry_run_runs_and_never_swaps_by_default(ctx, ex):
    # newest snapshot, beside the source, restore now (yes), swap? (Enter: No)
    code = drive(ENTER + ENTER + ENTER + ENTER, lambda: cli.dispatch(ctx, "restore", "media"))
    shown = output(ctx)
    assert code == 0, shown
    assert "zfs send ..." in shown  # the runner's own dry run, shown
    (argv,) = ex.attached_calls
    assert argv[0] == "/opt/zsw/bin/zfs-sync-run"
    assert argv[-6:] == ["--restore", "media", "--snapshot", "s2", "--to", "tank/media-restored-20240507"]
    assert (
        "zfs rename tank/media tank/media-old-20240507 && zfs rename tank/media-restored-20240507 tank/media"
        in shown
    )
    assert not any("zfs rename" in c for c in ex.commands()), "never swapped without two yeses"
    assert "not swapped" in shown


def test_swap_only_after_a_second_yes(ctx, ex):
    assert drive(ENTER * 3 + "y" + "n", lambda: cli.dispatch(ctx, "restore", "media")) == 0
    assert not any("zfs rename" in c for c in ex.commands())
    assert drive(ENTER * 3 + "y" + "y", lambda: cli.dispatch(ctx, "restore", "media")) == 0
    swap = [c for c in ex.commands() if c.split()[1] in ("rename", "unmount", "mount")]
    assert swap == [
        "zfs unmount tank/media",
        "zfs rename tank/media tank/media-old-20240507",
        "zfs rename tank/media-restored-20240507 tank/media",
        "zfs mount tank/media",
        "zfs mount tank/media-old-20240507",
    ]


def test_back_to_its_place_is_offered_only_when_the_original_is_gone(ctx, ex):
    ex.on("zfs get -H -o value type tank/media", stderr="cannot open: dataset does not exist", status=1)
    assert drive(ENTER * 3, lambda: cli.dispatch(ctx, "restore", "media")) == 0
    shown = output(ctx)
    assert "localhost:tank/media no longer exists: it can go back to its place" in shown
    (argv,) = ex.attached_calls
    assert argv[-2:] == ["--to", "tank/media"]
    assert "Swap" not in shown


def test_an_older_snapshot_to_another_host_and_dataset(ctx, ex):
    keys = DOWN + ENTER + DOWN + ENTER + "root@nas2" + ENTER + CLEAR + "tank/copy" + ENTER + ENTER
    assert drive(keys, lambda: cli.dispatch(ctx, "restore", "media")) == 0, output(ctx)
    (argv,) = ex.attached_calls
    assert argv[-4:] == ["--snapshot", "s1", "--to", "root@nas2:tank/copy"]


def test_a_refused_dry_run_is_shown_and_nothing_runs(ctx, ex):
    ex.on("--dry-run", stderr="zfs-sync-run: media: localhost:tank/x exists; ...", status=2)
    assert drive(ENTER * 2, lambda: cli.dispatch(ctx, "restore", "media")) == 2
    assert "problem: zfs-sync-run: media: localhost:tank/x exists" in output(ctx)
    assert ex.attached_calls == []


def test_a_failed_restore_says_so_and_offers_no_swap(ctx, ex):
    ex.attached_status = 1
    assert drive(ENTER * 3, lambda: cli.dispatch(ctx, "restore", "media")) == 1
    assert "the restore ended with exit status 1" in output(ctx)
    assert "Swap" not in output(ctx)


def test_restore_without_a_name_asks_for_the_job_and_is_in_the_menu(ctx, ex):
    assert drive(ENTER * 5, lambda: cli.dispatch(ctx, "restore")) == 0
    assert len(ex.attached_calls) == 1
    assert ("Restore from a backup", "restore") in cli.MENU


def test_browse_copies_chosen_paths_through_a_read_only_clone_removed_afterwards(ctx, ex):
    ex.on("zfs get -H -o value mounted,mountpoint backup/tank/media", "no\n-\n", host=BACKUP)
    ex.on("zfs get -H -o value mounted,mountpoint tank/media", "yes\n/tank/media\n", host="localhost")
    ex.on("mktemp -d /tmp/zsw-browse.", "/tmp/zsw-browse.x1\n", host=BACKUP)
    ex.on("zfs clone", "", host=BACKUP)
    ex.on(
        "zfs get -H -o value mounted,mountpoint backup/zsw-browse-", "yes\n/tmp/zsw-browse.x1\n", host=BACKUP
    )
    ex.on("find . -mindepth 1", "d notes\nf notes/readme.txt\nf movie.mkv\n", host=BACKUP)
    ex.on("zfs unmount", "", host=BACKUP)
    ex.on("zfs destroy -f backup/zsw-browse-", "", host=BACKUP)
    ex.on("rmdir", "", host=BACKUP)
    stages = []
    ex.pipeline = lambda s, *_: stages.extend(s)
    keys = ENTER + "nope" + ENTER + CLEAR + "notes/readme.txt" + ENTER + ENTER + ENTER
    assert drive(keys, lambda: cli.dispatch(ctx, "restore", "media", browse=True)) == 0, output(ctx)
    assert (
        "invalid: 'nope' is not in the snapshot (paths are relative to its top, as listed)" in ctx.ui.refused
    )
    clone = next(c for c in ex.commands(BACKUP) if c.startswith("zfs clone"))
    assert "-o readonly=on" in clone and "backup/tank/media@s2" in clone
    tar_c, tar_x = stages
    assert tar_c.argv[:2] == ("tar", "-C") and tar_c.argv[-1] == "notes/readme.txt"
    assert tar_x.argv == ("tar", "-C", "/tank/media", "--skip-old-files", "-xf", "-")
    assert any(c.startswith("zfs destroy -f backup/zsw-browse-") for c in ex.commands(BACKUP))


def test_browse_cleans_the_clone_up_after_ctrl_c(ctx, ex):
    ex.on("zfs get -H -o value mounted,mountpoint", "no\n-\n")
    ex.on("mktemp -d /tmp/zsw-browse.", "/tmp/zsw-browse.x1\n", host=BACKUP)
    ex.on("zfs clone", "", host=BACKUP)
    ex.on(
        "zfs get -H -o value mounted,mountpoint backup/zsw-browse-", "yes\n/tmp/zsw-browse.x1\n", host=BACKUP
    )
    ex.on("find . -mindepth 1", "f movie.mkv\n", host=BACKUP)
    ex.on("zfs unmount", "", host=BACKUP)
    ex.on("zfs destroy -f backup/zsw-browse-", "", host=BACKUP)
    ex.on("rmdir", "", host=BACKUP)
    assert drive(ENTER + "\x03", lambda: cli.dispatch(ctx, "restore", "media", browse=True)) == 130
    assert any(c.startswith("zfs destroy -f backup/zsw-browse-") for c in ex.commands(BACKUP))
