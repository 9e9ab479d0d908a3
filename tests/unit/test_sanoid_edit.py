"""sanoid/edit.py: our section of sanoid.conf written, every other byte kept.

The files below have the shapes of sanoid's own sanoid.conf example and
sanoid.defaults.conf (templates, use_template lists, recursive = zfs and
yes, process_children_only, commented-out sections, tab and odd spacing,
comments right above headers, no newline at the end, CRLF lines).
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.errors import ConfigError
from zfs_sync_wizard.sanoid import config, edit

EXAMPLE = """\
######################################
# This is a sample sanoid.conf file. #
######################################

## name your backup modules with the path to their ZFS dataset - no leading slash.
#[zpoolname/datasetname]
#\tuse_template = production,demo
#\thourly = 12

[tank/vm]
\tuse_template = production,demo
\thourly = 12
\tmonthly = 1

# handle datasets recursively, atomically
[tank/parent2]
\tuse_template = production
\trecursive = zfs

[tank/home]
  use_template=production
  recursive   =   yes
  process_children_only = yes

#############################
# templates below this line #
#############################

[template_demo]
\tdaily = 60

[template_production]
\tfrequently = 0
\thourly = 36
\tdaily = 30
\tmonthly = 3
\tyearly = 0
\tautosnap = yes
\tautoprune = yes

[template_backup]
\tautoprune = yes
\thourly = 30
\tdaily = 90
\tmonthly = 12
\tyearly = 0

\t### don't take new snapshots - snapshots on backup
\t### datasets are replicated in from source
\tautosnap = no
\thourly_warn = 2880
"""

TEMPLATE_DEFAULT_ONLY = """\
[template_default]
hourly=10
daily =  5
"""

WANT = edit.Want("media", "tank/media", {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0}, autosnap=True)
OURS = (
    "# managed by zfs-sync-wizard job media: edits here are replaced\n"
    "[tank/media]\n"
    "\thourly = 24\n\tdaily = 7\n\tweekly = 4\n\tmonthly = 0\n\tyearly = 0\n"
    "\tautosnap = yes\n\tautoprune = yes\n"
)


@pytest.mark.parametrize(
    "before, expected",
    [
        ("", OURS),
        (EXAMPLE, EXAMPLE + "\n" + OURS),
        (EXAMPLE + "\n\n", EXAMPLE + "\n\n" + OURS),  # blank lines at the end are kept as they are
        (TEMPLATE_DEFAULT_ONLY.rstrip("\n"), TEMPLATE_DEFAULT_ONLY + "\n" + OURS),  # the last newline added
        ("# only a comment\n", "# only a comment\n\n" + OURS),
        ("[tank]\r\n\tuse_template = production\r\n", "[tank]\r\n\tuse_template = production\r\n\n" + OURS),
    ],
)
def test_a_new_section_is_appended_and_nothing_else_changes(before, expected):
    after = edit.update(before, WANT)
    assert after == expected
    assert after.startswith(before.rstrip("\n"))  # byte for byte: what was there is still there
    assert edit.update(after, WANT) == after  # idempotent


def _with_ours(head: str, ours: str, tail: str) -> str:
    return head + ours + tail


@pytest.mark.parametrize(
    "head, tail",
    [
        ("", ""),
        (EXAMPLE + "\n", ""),
        ("", "\n" + EXAMPLE),  # ours first, hand-written sections after it
        ("[tank/a]\n\thourly = 1\n\n", "\n# the backup pool\n## (by hand)\n[backup]\n  autosnap = no\n"),
        ("[tank/a]\n\thourly = 1\n", "[tank/b]\n\thourly = 2\n"),  # no blank lines at all
        (EXAMPLE + "\n", "\n\n; a semicolon comment\n   \n[template_x]\n\tdaily=1"),  # no newline at the end
    ],
)
def test_our_section_is_replaced_in_place_every_other_byte_identical(head, tail):
    stale = OURS.replace("hourly = 24", "hourly = 48").replace("\tautoprune = yes\n", "\tautoprune = no\n")
    # a hand edit inside our section, and one of its comment lines: both are ours to replace
    stale = stale.replace("\tdaily = 7\n", "\tdaily = 7\n# tweaked by hand\n\tmonitor = no\n")
    before = _with_ours(head, stale, tail)
    after = edit.update(before, WANT)
    assert after == head + OURS + tail
    assert after[: len(head)] == head and after[len(after) - len(tail) :] == tail
    assert edit.update(after, WANT) == after


def test_changed_counts_and_recursion_replace_only_our_lines():
    first = edit.update(EXAMPLE, WANT)
    want = edit.Want(
        "media", "tank/media", {"hourly": 0, "daily": 30, "yearly": 2}, autosnap=False, recursive="yes"
    )
    second = edit.update(first, want)
    assert second[: len(EXAMPLE)] == EXAMPLE
    assert second[len(EXAMPLE) :] == (
        "\n# managed by zfs-sync-wizard job media: edits here are replaced\n[tank/media]\n\trecursive = yes\n"
        "\thourly = 0\n\tdaily = 30\n\tweekly = 0\n\tmonthly = 0\n\tyearly = 2\n\tautosnap = no\n\tautoprune = yes\n"
    )


def test_two_sections_of_one_job_on_one_host_source_and_destination():
    source = WANT
    destination = edit.Want("media", "backup/media", {"daily": 30}, autosnap=False)
    text = edit.update(edit.update(EXAMPLE, source), destination)
    assert [s.name for s in edit.owned(text, "media")] == ["tank/media", "backup/media"]
    again = edit.update(edit.update(text, destination), source)
    assert again == text


@pytest.mark.parametrize(
    "text, line",
    [
        ("[tank/media]\n\tuse_template = production\n", 1),
        (EXAMPLE + "\n[tank/media]\n  hourly = 1\n", EXAMPLE.count("\n") + 2),
        ("[media]\n\tpath = tank/media\n\tuse_template = production\n", 1),  # by its path
        # a marker that is not right above the header does not make it ours
        (
            "# managed by zfs-sync-wizard job media: edits here are replaced\n\n[tank/media]\n\thourly = 1\n",
            3,
        ),
    ],
)
def test_a_hand_written_section_for_the_dataset_is_refused_and_never_touched(text, line):
    with pytest.raises(ConfigError) as caught:
        edit.update(text, WANT, where="/etc/sanoid/sanoid.conf")
    message = str(caught.value)
    assert message.startswith("/etc/sanoid/sanoid.conf: a hand-written section for tank/media exists")
    assert f"(line {line})" in message
    assert "# managed by zfs-sync-wizard job media: edits here are replaced" in message  # what to change


def test_another_jobs_section_for_the_dataset_is_refused():
    text = OURS.replace("job media:", "job photos:")
    with pytest.raises(ConfigError, match="managed by job photos, not media"):
        edit.update(text, WANT)


def test_our_section_twice_is_refused():
    with pytest.raises(ConfigError, match="appears twice"):
        edit.update(OURS + "\n" + OURS, WANT)


def test_commented_out_sections_and_other_datasets_are_not_sections_of_ours():
    names = [s.name for s in edit.sections(EXAMPLE)]
    assert names == [
        "tank/vm",
        "tank/parent2",
        "tank/home",
        "template_demo",
        "template_production",
        "template_backup",
    ]
    home = edit.sections(EXAMPLE)[2]
    assert home.options == {"use_template": "production", "recursive": "yes", "process_children_only": "yes"}
    assert EXAMPLE.splitlines()[home.end] == ""  # the blank and comment lines after it are not its own


def test_notes_name_a_recursive_parent():
    text = edit.update(EXAMPLE, edit.Want("media", "tank/parent2/media", {}, autosnap=True))
    (note,) = edit.notes(text, edit.Want("media", "tank/parent2/media", {}, autosnap=True))
    assert note.startswith("[tank/parent2] (line 16) covers tank/parent2/media too (recursive = zfs)")
    assert edit.notes(EXAMPLE, WANT) == []


def test_sections_left_behind_by_a_changed_dataset_are_named():
    text = edit.update(EXAMPLE, WANT)
    moved = edit.Want("media", "tank/films", WANT.counts, autosnap=True)
    after = edit.update(text, moved)
    assert edit.left_behind(after, "media", {"tank/films", "backup/films"}) == [
        f"[tank/media] (line {EXAMPLE.count(chr(10)) + 3}) is still marked as job media's, which no longer "
        "replicates tank/media: remove it (and its marker line) if sanoid should stop there"
    ]
    assert edit.left_behind(after, "media", {"tank/films", "tank/media"}) == []


def test_what_we_write_reads_back_as_sanoid_reads_it():
    text = edit.update(EXAMPLE, WANT)
    sections = config.parse(text)
    assert sections["tank/media"]["hourly"] == "24" and sections["tank/media"]["autosnap"] == "yes"
    assert config.manages("tank/media", sections)
    off = edit.update(text, edit.Want("media", "tank/media", WANT.counts, autosnap=False))
    assert not config.manages("tank/media", config.parse(off))


def test_a_dataset_that_cannot_be_a_section_name_is_refused():
    with pytest.raises(ValueError):
        edit.update("", edit.Want("media", "tank/a]b", {}, autosnap=True))
