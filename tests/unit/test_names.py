"""names: what a dataset, host, user, job name and snapshot prefix may be."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.jobs import names


@pytest.mark.parametrize(
    "value",
    ["tank", "tank/data", "tank/my data", "Pool_1/a.b/c-d/e:f", "t/" + "x" * 200],
)
def test_good_datasets(value):
    assert names.dataset(value) == value


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("-rf", "the pool name '-rf' must start with a letter"),
        ("tank//x", "is not a ZFS dataset name: it has an empty part"),
        ("tank/", "is not a ZFS dataset name: it has an empty part"),
        ("/tank", "is not a ZFS dataset name: it has an empty part"),
        ("tank/x@snap", "names a snapshot or bookmark"),
        ("tank/x#bm", "names a snapshot or bookmark"),
        ("1pool/x", "the pool name '1pool' must start with a letter"),
        ("tank/$(reboot)", "is not a ZFS dataset name: the character '$' in '$(reboot)' is not allowed"),
        ("tank/`id`", "the character '`' in '`id`' is not allowed"),
        ("tank/a;b", "the character ';' in 'a;b' is not allowed"),
        ("tank/a\nb", "the character '\\n' in 'a\\nb' is not allowed"),
        ("tank/media*", "the character '*' in 'media*' is not allowed"),
        ("tank/ä", "the character 'ä' is not allowed"),
        ("tank/..", "is not a ZFS dataset name: a part may not be '..'"),
        ("tank/ x", "a part may not start or end with a space"),
        ("raidz/x", "must start with a letter and not be reserved"),
        ("t/" + "x" * 254, "longer than 255"),
        ("", "expected a ZFS dataset name"),
        (None, "expected a ZFS dataset name"),
        (7, "expected a ZFS dataset name"),
    ],
)
def test_bad_datasets(value, fragment):
    with pytest.raises(ValueError) as info:
        names.dataset(value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("backup", (None, "backup")),
        ("backup.example.org", (None, "backup.example.org")),
        ("backup.example.org.", (None, "backup.example.org.")),
        ("root@backup", ("root", "backup")),
        ("_zsw@nas-1", ("_zsw", "nas-1")),
        ("192.0.2.7", (None, "192.0.2.7")),
        ("2001:db8::1", (None, "2001:db8::1")),
        ("zsw@[2001:db8::1]", ("zsw", "2001:db8::1")),
    ],
)
def test_good_hosts(value, expected):
    assert names.host(value) == expected


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("-oProxyCommand=x", "is not a host name"),
        ("host;rm", "is not a host name"),
        ("a b", "is not a host name"),
        ("host$(id)", "is not a host name"),
        ("-host", "is not a host name"),
        ("host-", "is not a host name"),
        ("a..b", "is not a host name"),
        ("-oProxyCommand=x@host", "is not a user name"),
        ("@host", "is not a user name"),
        ("root@", "is not a host name"),
        ("", "expected a host name"),
        (22, "expected a host name"),
    ],
)
def test_bad_hosts(value, fragment):
    with pytest.raises(ValueError) as info:
        names.host(value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "child, parent, inside",
    [
        ("tank/data", "tank/data", True),
        ("tank/data/x", "tank/data", True),
        ("tank/data2", "tank/data", False),
        ("tank", "tank/data", False),
        ("backup/data", "tank/data", False),
    ],
)
def test_is_inside(child, parent, inside):
    assert names.is_inside(child, parent) is inside


@pytest.mark.parametrize("value", ["home", "home_offsite", "nas-1.daily", "0backup", "j" * 64])
def test_good_job_names(value):
    assert names.job_name(value) == value


@pytest.mark.parametrize("value", ["", "_x", "-x", "a b", "a/b", "j" * 65, None])
def test_bad_job_names(value):
    with pytest.raises(ValueError, match="is not a job name"):
        names.job_name(value)


@pytest.mark.parametrize(
    "value, good",
    [
        ("zsw", True),
        ("auto:daily", True),
        ("a" * 32, True),
        ("a" * 33, False),
        ("-zsw", False),
        ("z/s", False),
    ],
)
def test_snapshot_prefix(value, good):
    if good:
        assert names.snapshot_prefix(value) == value
    else:
        with pytest.raises(ValueError, match="is not a snapshot prefix"):
            names.snapshot_prefix(value)
