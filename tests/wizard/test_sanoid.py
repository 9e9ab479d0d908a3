"""`zfs-sync-wizard sanoid NAME` in process, writing real files on this machine.

A job whose both sides are this machine, so both sides' sanoid.conf are
local files under tmp_path (`--sanoid-conf`, `--destination-sanoid-conf`);
the Executor is the real one: the files are read and written by the same
shell commands that run on a remote side.
"""

from __future__ import annotations

import os
import stat

import pytest
import yaml

from zfs_sync_wizard.cli import wizard as cli
from zfs_sync_wizard.errors import CommandFailed
from zfs_sync_wizard.running.execute import Executor
from zfs_sync_wizard.wizard import sanoidconf

from .conftest import ENTER, drive, make_context, output

HAND_WRITTEN = """\
# sanoid.conf, by hand
[tank/vm]
\tuse_template = production
\trecursive = zfs

[template_production]
  hourly = 36
  daily=30
"""
SOURCE_SECTION = (
    "# managed by zfs-sync-wizard job media: edits here are replaced\n[tank/media]\n"
    "\thourly = 24\n\tdaily = 7\n\tweekly = 4\n\tmonthly = 0\n\tyearly = 0\n\tautosnap = yes\n\tautoprune = yes\n"
)


@pytest.fixture
def ctx(tmp_path):
    context = make_context(tmp_path, None)
    context.executor = Executor()
    jobs = context.config_dir / "jobs"
    jobs.mkdir(parents=True)
    job = {
        "source": {"dataset": "tank/media", "recursive": False},
        "destination": {"dataset": "backup/media"},
        "snapshots": {"take": False},
        "retention": {
            "source": {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0},
            "destination": {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12},
        },
    }
    (jobs / "media.yaml").write_text(yaml.safe_dump(job))
    return context


@pytest.mark.timeout(20)
def test_sections_are_written_after_a_diff_keeping_mode_bytes_and_a_backup(ctx, tmp_path):
    (tmp_path / "src").mkdir()
    conf = tmp_path / "src" / "sanoid.conf"
    conf.write_text(HAND_WRITTEN)
    conf.chmod(0o640)
    code = drive(
        ENTER * 4, lambda: sanoidconf.command(ctx, "media", str(tmp_path / "src"), str(tmp_path / "dst"))
    )
    shown = output(ctx)
    assert code == 0, shown
    assert f"--- {conf} (now)" in shown and "    +[tank/media]" in shown
    assert conf.read_text() == HAND_WRITTEN + "\n" + SOURCE_SECTION
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o640
    backup = tmp_path / "src" / "sanoid.conf.bak-20240507210000"
    assert backup.read_text() == HAND_WRITTEN
    assert f"ok: wrote localhost:{conf} (the previous one kept as {backup})" in shown
    new = (tmp_path / "dst" / "sanoid.conf").read_text()
    assert new.startswith("# managed by zfs-sync-wizard job media") and "\tautosnap = no\n" in new
    assert sorted(p.name for p in tmp_path.joinpath("src").iterdir()) == ["sanoid.conf", backup.name]

    ctx.ui._stream.truncate(0)
    assert drive(ENTER, lambda: sanoidconf.command(ctx, "media", str(conf), str(tmp_path / "dst"))) == 0
    shown = output(ctx)
    assert f"ok: localhost:{conf}: the source's section is up to date" in shown
    assert "the destination's section is up to date" in shown
    assert conf.read_text() == HAND_WRITTEN + "\n" + SOURCE_SECTION


@pytest.mark.timeout(20)
def test_saying_no_writes_nothing(ctx, tmp_path):
    (tmp_path / "src").mkdir()
    conf = tmp_path / "src" / "sanoid.conf"
    conf.write_text(HAND_WRITTEN)
    assert drive("n" + "n", lambda: sanoidconf.command(ctx, "media", str(conf), str(tmp_path / "dst"))) == 0
    assert conf.read_text() == HAND_WRITTEN
    assert not (tmp_path / "dst").exists()
    assert [p.name for p in (tmp_path / "src").iterdir()] == ["sanoid.conf"]


@pytest.mark.timeout(20)
def test_a_hand_written_section_is_refused_with_exit_2_and_left_alone(ctx, tmp_path, capsys):
    (tmp_path / "src").mkdir()
    conf = tmp_path / "src" / "sanoid.conf"
    text = HAND_WRITTEN + "\n[tank/media]\n\tuse_template = production\n"
    conf.write_text(text)
    assert cli.dispatch(ctx, "sanoid", "media", str(conf), None) == 2
    error = capsys.readouterr().err
    assert (
        f"zfs-sync-wizard: localhost:{conf}: a hand-written section for tank/media exists (line 10)" in error
    )
    assert "# managed by zfs-sync-wizard job media: edits here are replaced" in error
    assert conf.read_text() == text


@pytest.mark.timeout(20)
def test_a_file_changed_since_it_was_read_is_not_overwritten(ctx, tmp_path):
    conf = tmp_path / "sanoid.conf"
    conf.write_text(HAND_WRITTEN)
    job = cli.manage.load(ctx, "media")
    change = sanoidconf.prepare(ctx, job, "source", str(conf))
    conf.write_text(HAND_WRITTEN + "# meanwhile\n")
    with pytest.raises(CommandFailed, match="changed since it was read; nothing written"):
        sanoidconf.write(ctx, change)
    assert conf.read_text() == HAND_WRITTEN + "# meanwhile\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".sanoid", "sanoid.conf.bak"))] == []


def test_conf_path_is_a_file_or_a_folder():
    assert sanoidconf.conf_path(None) == "/etc/sanoid/sanoid.conf"
    assert sanoidconf.conf_path("/srv/sanoid/") == "/srv/sanoid/sanoid.conf"
    assert sanoidconf.conf_path("/srv/x.conf") == "/srv/x.conf"


def test_command_line():
    args = cli.parser().parse_args(
        ["sanoid", "media", "--sanoid-conf", "/a", "--destination-sanoid-conf", "/b"]
    )
    assert (args.command, args.name, args.sanoid_conf, args.destination_sanoid_conf) == (
        "sanoid",
        "media",
        "/a",
        "/b",
    )
