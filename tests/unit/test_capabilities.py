"""capabilities: features read off each side's zfs usage text."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.errors import ZswError
from zfs_sync_wizard.planning import capabilities

# verbatim from zfs-fuse 0.7.0 (Debian 12)
FUSE_SEND = "missing snapshot argument\nusage:\n\tsend [-RDp] [-[iI] snapshot] <snapshot>\n\nFor the property list, run: zfs set|get\n"
FUSE_RECEIVE = "missing snapshot argument\nusage:\n\treceive [-vnF] <filesystem|volume|snapshot>\n\treceive [-vnF] -d <filesystem>\n"
# OpenZFS 2.x
OPENZFS_SEND = (
    "missing snapshot argument\nusage:\n"
    "\tsend [-DLPbcehnpsVvw] [-i|-I snapshot]\n"
    "\t     [-R [-X dataset[,dataset]...]]     <snapshot>\n"
    "\tsend [-DnVvPLecw] [-i snapshot|bookmark] <filesystem|volume|snapshot>\n"
    "\tsend [-DnPpVvLec] [-i bookmark|snapshot] --redact <bookmark> <snapshot>\n"
    "\tsend [-nVvPe] -t <receive_resume_token>\n"
    "\tsend [-PnVv] --saved filesystem\n"
)
OPENZFS_RECEIVE = (
    "missing snapshot argument\nusage:\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ...\n"
    "\t    <filesystem|volume|snapshot>\n"
    "\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ... \n"
    "\t    [-d | -e] <filesystem>\n"
    "\treceive -A <filesystem|volume>\n"
)
FUSE = capabilities.parse(FUSE_SEND, FUSE_RECEIVE)
OPENZFS = capabilities.parse(OPENZFS_SEND, OPENZFS_RECEIVE)
NOTHING = capabilities.parse("sh: 1: zfs: not found\n", "")


def test_openzfs_has_everything():
    assert OPENZFS.raw and OPENZFS.estimate and OPENZFS.send_token
    assert OPENZFS.resumable_receive and OPENZFS.receive_abort
    assert {"L", "e", "c", "w", "s"} <= OPENZFS.send


def test_zfs_fuse_has_none_of_the_modern_features():
    assert FUSE.send == frozenset("RDp") and FUSE.receive == frozenset("vnF")
    assert not (FUSE.raw or FUSE.estimate or FUSE.send_token or FUSE.resumable_receive)


@pytest.mark.parametrize(
    "src, dst, resumable, flags",
    [
        (OPENZFS, OPENZFS, True, ["-L", "-e", "-c"]),
        (OPENZFS, FUSE, False, []),  # an old receiver gets plain streams
        (FUSE, OPENZFS, False, []),  # the source cannot send -t
        (FUSE, FUSE, False, []),
        (NOTHING, OPENZFS, False, []),
    ],
)
def test_features_used_only_where_both_ends_have_them(src, dst, resumable, flags):
    assert capabilities.resumable(src, dst) is resumable
    assert capabilities.stream_flags(src, dst) == flags


def test_describe_for_check():
    assert capabilities.describe(OPENZFS, OPENZFS) == [
        "resumable (zfs receive -s, zfs send -t)",
        "raw send of encrypted datasets (-w)",
        "-L -e -c",
        "size estimates (zfs send -nvP)",
    ]
    assert capabilities.describe(FUSE, FUSE) == ["not resumable (restart from the last common snapshot)"]


MODERN = capabilities.Capabilities(
    send=frozenset("wLecnvP"), receive=frozenset("s"), send_token=True, receive_abort=True
)
OLD = capabilities.Capabilities(send=frozenset("vRDp"), receive=frozenset("vnFu"))


@pytest.mark.parametrize(
    ("raw", "encrypted", "src", "dst", "expected"),
    [
        ("auto", True, MODERN, MODERN, ["-w"]),
        ("auto", False, MODERN, MODERN, ["-L", "-e", "-c"]),
        ("auto", False, MODERN, OLD, []),  # an old receiver gets a plain stream
        ("never", True, MODERN, MODERN, ["-L", "-e", "-c"]),
        ("always", False, MODERN, OLD, ["-w"]),
        ("auto", True, OLD, MODERN, []),  # no raw send: the dataset is sent as the source has it
    ],
)
def test_send_flags(raw, encrypted, src, dst, expected):
    assert capabilities.send_flags(raw, encrypted, src, dst, "root@src") == expected


def test_send_flags_refuse_raw_always_without_raw_send():
    with pytest.raises(ZswError, match="transfer.raw is 'always' but zfs on root@src has no raw send"):
        capabilities.send_flags("always", True, OLD, MODERN, "root@src")


def test_receive_properties_read_off_the_receive_usage():
    assert OPENZFS.receive_properties and OPENZFS.batch_destroy
    assert not (FUSE.receive_properties or FUSE.batch_destroy)


@pytest.mark.parametrize(
    ("dst", "set_", "exclude", "options", "note"),
    [
        (OPENZFS, (), (), [], None),
        (
            OPENZFS,
            (("canmount", "off"),),
            ("sharenfs", "sharesmb"),
            ["-o", "canmount=off", "-x", "sharenfs", "-x", "sharesmb"],
            None,
        ),
        (FUSE, (), (), [], None),
        (
            FUSE,
            (),
            ("sharenfs", "sharesmb"),
            [],
            "zfs on backup has no zfs receive -x: properties received as sent (not excluded: sharenfs, sharesmb)",
        ),
    ],
)
def test_receive_options(dst, set_, exclude, options, note):
    assert capabilities.receive_options(dst, set_, exclude, "backup") == (options, note)


def test_a_property_to_set_on_a_receiver_without_o_is_an_error():
    with pytest.raises(ZswError, match=r"destination.properties.set \(canmount=off\): zfs on backup has no"):
        capabilities.receive_options(FUSE, (("canmount", "off"),), (), "backup")
