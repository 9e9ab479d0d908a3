"""Listing datasets: sizes, snapshot counts and sanoid, parsed from real output shapes."""

from __future__ import annotations

from zfs_sync_wizard.sanoid import config as sanoid
from zfs_sync_wizard.wizard import datasets

from .conftest import LISTING

SANOID_CONF = """
[tank/media]
  use_template = production
  recursive = yes
[tank/media/scratch]
  autosnap = no
[tank/vm]
  use_template = backup
[tank/home]
  process_children_only = yes
  recursive = yes

[template_production]
  hourly = 36
[template_backup]
  autosnap = no   # pruned only
"""


def test_parse_counts_snapshots_and_reads_exact_sizes():
    found = {d.name: d for d in datasets.parse(LISTING)}
    assert list(found) == ["tank", "tank/media", "tank/media/photos", "tank/vm"]
    media = found["tank/media"]
    assert (media.used, media.referenced, media.snapshots) == (2097152, 1048576, 1)
    assert media.sanoid == "autosnap snapshots"
    assert found["tank/vm"].kind == "volume"
    assert found["tank"].snapshots == 0 and found["tank"].sanoid == ""


def test_parse_ignores_bookmarks_and_junk():
    text = "tank\ttype\tfilesystem\ntank#bm\ttype\tbookmark\nnot a line\n"
    assert [d.name for d in datasets.parse(text)] == ["tank"]


def test_sanoid_conf_sections_templates_and_recursion():
    sections = sanoid.parse(SANOID_CONF)
    manages = lambda name: sanoid.manages(name, sections)  # noqa: E731
    assert manages("tank/media")
    assert manages("tank/media/photos")  # recursive parent
    assert not manages("tank/media/scratch")  # its own section says autosnap = no
    assert not manages("tank/vm")  # the template says autosnap = no
    assert not manages("tank/home")  # process_children_only
    assert manages("tank/home/alice")
    assert not manages("tank")


def test_broken_sanoid_conf_is_no_conf():
    assert sanoid.parse("[unclosed\nx") == {}


def test_titles_are_aligned_and_humanized():
    titles = datasets.titles(datasets.parse(LISTING, sanoid.parse("[tank/vm]\n")))
    assert titles[1] == (
        "tank/media            2.0 MiB     1 snapshot  sanoid (autosnap snapshots)",
        "tank/media",
    )
    assert titles[3] == (
        "tank/vm             512.0 KiB    0 snapshots  volume  sanoid (sanoid.conf)",
        "tank/vm",
    )
