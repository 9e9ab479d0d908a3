"""The live checks of a remote side, as the person meets them in `create`."""

from __future__ import annotations

import pytest
import yaml

from zfs_sync_wizard.cli import wizard as cli
from zfs_sync_wizard.jobs import job, schema
from zfs_sync_wizard.running.execute import Result
from zfs_sync_wizard.wizard import draft

from .conftest import CLEAR, CTRL_C, DOWN, ENTER, UP, custom, drive, output, screen
from .test_create import ENTER_THROUGH

BEFORE_HOST = ENTER + "media" + ENTER + ENTER
AFTER_CHECK = ENTER * 10  # destination dataset, options, snapshots, retention x2 ... commands? save, install


def attempts(*results):
    """A rule answering each call with the next result (the last one repeats)."""
    calls = []

    def answer(cmd):
        calls.append(cmd)
        return results[min(len(calls), len(results)) - 1]

    return answer


@pytest.mark.timeout(20)
def test_unknown_host_key_shows_the_fingerprint_and_records_it_when_accepted(ctx, ex):
    ex.on(
        "true",
        host="root@backup01",
        fn=attempts(
            Result(
                "",
                "No ED25519 host key is known for backup01 and you have requested strict checking.\r\nHost key verification failed.\r\n",
                255,
            ),
            Result("", "", 0),
        ),
    )
    ex.on(
        "ssh-keyscan -T 10 -p 22 backup01",
        "backup01 ssh-ed25519 AAAAC3Nz\n# backup01:22 SSH-2.0-OpenSSH_9.2p1\n",
    )
    ex.on("ssh-keygen -lf", "256 SHA256:n8Xh5yJRbWyBbq9mGz0 backup01 (ED25519)\n")
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + ENTER + "y" + AFTER_CHECK
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "The host key of backup01 is not known yet" in shown
    assert "    256 SHA256:n8Xh5yJRbWyBbq9mGz0 (ED25519)" in shown
    assert ctx.known_hosts.read_text() == "backup01 ssh-ed25519 AAAAC3Nz\n"
    assert "ok: logged in to root@backup01" in shown


@pytest.mark.timeout(20)
def test_unknown_host_key_declined_records_nothing(ctx, ex):
    ex.on("true", host="root@backup01", stderr="Host key verification failed.\r\n", status=255)
    ex.on("ssh-keyscan", "backup01 ssh-ed25519 AAAAC3Nz\n")
    ex.on("ssh-keygen -lf", "256 SHA256:n8Xh5 backup01 (ED25519)\n")
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + ENTER + ENTER + CTRL_C
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 130
    assert "the host key of backup01 was not accepted, so ssh cannot log in" in output(ctx)
    assert not ctx.known_hosts.exists()


@pytest.mark.timeout(20)
def test_changed_host_key_is_refused_with_the_way_out(ctx, ex):
    ex.on(
        "true",
        host="root@backup01",
        stderr=(
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
            "Offending ED25519 key in /root/.ssh/known_hosts:3\r\nHost key verification failed.\r\n"
        ),
        status=255,
    )
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + ENTER + CTRL_C
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 130
    shown = output(ctx)
    assert "has CHANGED" in shown and "ssh-keygen -R backup01" in shown
    assert not any("ssh-keyscan" in c for c in ex.commands())


@pytest.mark.timeout(20)
def test_refused_key_prints_ssh_copy_id_and_retry_succeeds(ctx, ex):
    ex.on(
        "true",
        host="root@backup01",
        fn=attempts(
            Result("", "root@backup01: Permission denied (publickey,password).\r\n", 255), Result("", "", 0)
        ),
    )
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + ENTER + ENTER + AFTER_CHECK  # ENTER: retry
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert f"ssh-copy-id -i {ctx.ssh_dir}/id_ed25519.pub -p 22 root@backup01" in shown
    assert shown.count("Checking ssh to root@backup01") == 2


@pytest.mark.timeout(20)
def test_closed_port_then_change_the_answer(ctx, ex):
    ex.on(
        "true",
        host="root@backup01:2222",
        stderr="ssh: connect to host backup01 port 2222: Connection refused\r\n",
        status=255,
    )
    keys = (
        BEFORE_HOST
        + "root@backup01"
        + ENTER
        + CLEAR
        + "2222"
        + ENTER
        + ENTER
        + DOWN
        + ENTER  # change the answers
        + ENTER
        + CLEAR
        + "22"
        + ENTER
        + ENTER
        + AFTER_CHECK
    )
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "nothing accepts connections on port 2222 of backup01 (connection refused)" in shown
    assert job.load_job(ctx.config_dir / "jobs" / "media.yaml").destination.endpoint.port == 22


@pytest.mark.timeout(20)
def test_missing_remote_mbuffer_is_named_and_the_default_avoids_it(ctx, ex):
    ex.on("command -v", "missing mbuffer\n", host="root@backup01")
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + ENTER + DOWN + DOWN + ENTER + AFTER_CHECK
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "missing on root@backup01: 'mbuffer' (package mbuffer)" in shown
    assert "default changed: no mbuffer (buffer: none), since mbuffer is missing" in shown
    data = yaml.safe_load((ctx.config_dir / "jobs" / "media.yaml").read_text())
    assert data["transfer"]["buffer"] is None


@pytest.mark.timeout(20)
def test_named_key_is_offered_and_used(ctx, ex):
    (ctx.ssh_dir / "backup_key").write_text("k")
    (ctx.ssh_dir / "backup_key").chmod(0o600)
    (ctx.ssh_dir / "backup_key.pub").write_text("k")
    keys = BEFORE_HOST + "root@backup01" + ENTER + ENTER + DOWN + ENTER + AFTER_CHECK
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    loaded = job.load_job(ctx.config_dir / "jobs" / "media.yaml")
    assert loaded.destination.endpoint.ssh_key == str(ctx.ssh_dir / "backup_key")


@pytest.mark.timeout(20)
def test_pull_lists_the_remote_sources_datasets_over_ssh(ctx, ex):
    from .conftest import LISTING

    ex.on("true", host="root@fileserver")
    ex.on("command -v", "", host="root@fileserver")
    ex.on("zfs get -Hp -o name,property,value type,used,referenced", LISTING, host="root@fileserver")
    ex.on(
        "zfs get -Hp -o name,property,value type,used,referenced",
        stderr="no pool",
        status=1,
        host="localhost",
    )
    ex.on("zpool list -H -o name", "backup\n", host="localhost")
    ex.on("zfs get -Hp -d 1", stderr="dataset does not exist", status=1, host="localhost")
    keys = DOWN + ENTER + "root@fileserver" + ENTER + ENTER + ENTER + "media" + ENTER + ENTER + AFTER_CHECK
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    loaded = job.load_job(ctx.config_dir / "jobs" / "media.yaml")
    assert loaded.source.endpoint.target == "root@fileserver" and loaded.destination.endpoint.is_local
    assert "4 datasets on root@fileserver" in output(ctx)


@pytest.mark.timeout(20)
def test_unrelated_destination_warns_and_asks_for_another(ctx, ex):
    ex.on(
        "backup/tank/media",
        "backup/tank/media\tguid\t5\nbackup/tank/media@old\tguid\t999\n",
        host="root@backup01",
    )
    ex.on(
        "backup/new",
        stderr="cannot open 'backup/new': dataset does not exist",
        status=1,
        host="root@backup01",
    )
    keys = ENTER_THROUGH.replace(
        "root@backup01" + ENTER * 4,
        "root@backup01" + ENTER * 3 + ENTER + ENTER + CLEAR + "backup/new" + ENTER,
    )
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "holds 1 snapshot(s), none of them from this source: unrelated data" in shown
    assert job.load_job(ctx.config_dir / "jobs" / "media.yaml").destination.dataset == "backup/new"


@pytest.mark.timeout(20)
def test_destination_with_snapshots_of_this_source_is_a_resumed_setup(ctx, ex):
    ex.on(
        "backup/tank/media",
        "backup/tank/media\tguid\t5\nbackup/tank/media@s1\tguid\t101\n",
        host="root@backup01",
    )
    assert drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "already holds 1 snapshot(s) of this source (newest common: @s1): a resumed setup" in shown
    assert "Next run: continues from @s1, sending only what changed since." in shown


@pytest.mark.timeout(20)
def test_changed_transfer_options(ctx):
    answers = [
        "y",  # change the transfer options
        DOWN * 2 + ENTER,  # lz4
        CLEAR + "none" + ENTER,  # no mbuffer
        CLEAR + "20M" + ENTER,  # bandwidth limit
        DOWN + ENTER,  # zfs send -i
        DOWN * 2 + ENTER if draft.supported("transfer", "raw") else "",  # raw: never
        "n",  # destination writable
    ]
    keys = ENTER_THROUGH.replace("root@backup01" + ENTER * 5, "root@backup01" + ENTER * 4 + "".join(answers))
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0, output(ctx)
    data = yaml.safe_load((ctx.config_dir / "jobs" / "media.yaml").read_text())
    transfer = data["transfer"]
    assert (transfer["compression"], transfer["buffer"], transfer["bandwidth_limit"]) == ("lz4", None, "20M")
    assert transfer["incremental"] == "direct"
    assert transfer.get("raw", "never") == "never"
    assert data["destination"]["readonly"] is False
    assert "transfer: compression auto, mbuffer 128M, no bandwidth limit, incrementals -I" in output(ctx)


@pytest.mark.timeout(20)
def test_existing_empty_destination_is_a_warning_not_a_stop(ctx, ex):
    ex.on("backup/tank/media", "backup/tank/media\tguid\t5\n", host="root@backup01")
    assert drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create")) == 0
    assert "exists and has no snapshots: the first run receives into it only if it holds no files" in output(
        ctx
    )


@pytest.mark.timeout(20)
def test_retention_is_asked_and_written_once_the_schema_has_it(ctx):
    keys = ENTER_THROUGH.replace(
        "root@backup01" + ENTER * 4 + ENTER + ENTER + ENTER + ENTER,  # ... options, sanoid's, retention x2
        "root@backup01"
        + ENTER * 4
        + ENTER
        + ENTER
        + custom(1, 2, 3, 4)  # retention on the source: each count asked alone
        + DOWN
        + ENTER,  # retention on the destination: the "nightly backup" preset
    )
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0, output(ctx)
    path = ctx.config_dir / "jobs" / "media.yaml"
    answered = {
        "source": {"hourly": 1, "daily": 2, "weekly": 3, "monthly": 4, "yearly": 0},
        "destination": {"hourly": 0, "daily": 7, "weekly": 4, "monthly": 6, "yearly": 0},
    }
    assert yaml.safe_load(path.read_text())["retention"] == answered
    assert job.load_job(path).retention == answered
    shown = output(ctx)
    assert "changes to sanoid.conf on localhost (source):" in shown
    assert "+\thourly = 1\n    +\tdaily = 2\n    +\tweekly = 3\n    +\tmonthly = 4" in shown
    assert "changes to sanoid.conf on root@backup01 (destination):" in shown
    assert "+[backup/tank/media]\n    +\trecursive = yes\n    +\thourly = 0\n    +\tdaily = 7" in shown


@pytest.mark.timeout(20)
def test_retention_of_the_runners_own_snapshots(ctx):
    keys = ENTER_THROUGH.replace(
        "root@backup01" + ENTER * 4 + ENTER + ENTER + ENTER + ENTER,
        "root@backup01"
        + ENTER * 4
        + ENTER
        + UP
        + ENTER  # the runner's own snapshots
        + ENTER  # keep 1
        + custom(48, 14, 8, 2)
        + ENTER,
    )
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0, output(ctx)
    loaded = job.load_job(ctx.config_dir / "jobs" / "media.yaml")
    assert loaded.take_snapshots and loaded.keep == 1
    assert loaded.retention == {
        "source": {"hourly": 48, "daily": 14, "weekly": 8, "monthly": 2, "yearly": 0},
        "destination": schema.schema_defaults()["retention"]["destination"],
    }
    shown = output(ctx)
    assert "the runner also keeps the newest of its own replication snapshots" in shown
    drawn = screen()
    assert "? Snapshots to keep on the source custom" in drawn  # the answered line: the answer alone
    assert "? Hourly snapshots to keep on the source 48" in drawn
    assert "? Snapshots to keep on the destination default for the destination: 30 daily" in drawn
    assert "sanoid.conf" not in shown  # no sanoid.conf to show


@pytest.mark.timeout(20)
def test_the_ssh_check_measures_the_link_and_the_preview_says_how_long_the_first_run_takes(ctx, ex):
    ex.link_rate = 512 << 10  # a slow line: 512 KiB/s
    ex.on("zfs get -Hp -o name,property,value type,used,referenced", _LISTING_OF_2_GIB)
    assert drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    # once logged in: 1 MiB of random data (ssh's start), then 1 + 8 MiB: 8 MiB timed
    assert ex.uploads == [("root@backup01", 1 << 20), ("root@backup01", 9 << 20)]
    assert "ok: link speed: 512 KiB/s (timed over 8.0 MiB of random data sent to root@backup01)" in shown
    assert (
        "First run: sends everything, about 2.0 GiB (the datasets' referenced size): "
        "about 68 minutes at the 512 KiB/s the ssh check measured; later runs send only what changed."
    ) in shown


@pytest.mark.timeout(20)
def test_a_link_speed_that_cannot_be_measured_is_said_and_the_preview_gives_no_time(ctx, ex):
    ex.link_rate = None  # the sample's connection breaks
    assert drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert "warning: could not measure the link speed to root@backup01: " in shown
    assert "about 2.0 MiB (the datasets' referenced size); later runs send only what changed." in shown


_LISTING_OF_2_GIB = "\n".join(
    [
        "tank/media\ttype\tfilesystem",
        "tank/media\tused\t2147483648",
        "tank/media\treferenced\t2147483648",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\ttype\tsnapshot",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\tused\t0",
        "tank/media@autosnap_2024-05-01_00:00:00_daily\treferenced\t2147483648",
        "tank/media/photos\ttype\tfilesystem",  # an empty child: ENTER_THROUGH includes it
        "tank/media/photos\tused\t0",
        "tank/media/photos\treferenced\t0",
    ]
)
