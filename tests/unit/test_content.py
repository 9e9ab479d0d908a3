"""content: merging two path-sorted sha256sum streams (the --deep check)."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import content
from zfs_sync_wizard.planning.content import DIFFERS, EXTRA, MISSING

A, B = "a" * 64, "b" * 64


def stream(text: str) -> list[bytes]:
    """ "path=digest,..." as sha256sum prints it."""
    out = []
    for item in filter(None, text.split(",")):
        path, digest = item.split("=")
        out.append(f"{digest}  ./{path}\n".encode())
    return out


@pytest.mark.parametrize(
    "source, destination, files, found",
    [
        ("", "", 0, []),
        (f"a={A},b={B}", f"a={A},b={B}", 2, []),
        (f"a={A},b={B}", f"a={A},b={A}", 2, [(DIFFERS, "b")]),
        (f"a={A},b={B},c={A}", f"a={A},c={A}", 3, [(MISSING, "b")]),
        (f"a={A},c={A}", f"a={A},b={B},c={A}", 3, [(EXTRA, "b")]),
        (f"b={A}", "", 1, [(MISSING, "b")]),
        ("", f"b={A}", 1, [(EXTRA, "b")]),
        (f"a={A},d/x={A}", f"d/x={B},e={A}", 3, [(MISSING, "a"), (DIFFERS, "d/x"), (EXTRA, "e")]),
    ],
)
def test_compare(source, destination, files, found):
    result = content.compare(stream(source), stream(destination))
    assert result.files == files
    assert [(kind, path.decode()[2:]) for kind, path in result.first] == found
    assert result.count == len(found)


def test_only_the_first_differences_are_kept_the_rest_counted():
    many = ",".join(f"f{i:04d}={A}" for i in range(1000))
    result = content.compare(stream(many), iter(()))
    assert result.count == 1000 and len(result.first) == content.SHOWN
    text = content.lines("m", "snap", result)
    assert text[0] == "m: content of @snap DIFFERENT (1000 of 1000 files)" and text[-1] == "  and 990 more"


def test_streams_are_consumed_lazily():
    def endless(digest):
        i = 0
        while True:
            yield f"{digest}  ./f{i:012d}\n".encode()
            i += 1

    left, right = endless(A), endless(A)
    merged = content.compare(_take(left, 100_000), _take(right, 100_000))
    assert merged.files == 100_000 and merged.count == 0


def _take(it, n):
    for _ in range(n):
        yield next(it)


@pytest.mark.parametrize(
    "line, path",
    [
        (f"{A}  ./plain\n", b"./plain"),
        (f"{A}  ./two  spaces\n", b"./two  spaces"),
        (f"\\{A}  ./new\\nline\n", b"./new\nline"),
        (f"\\{A}  ./back\\\\slash\n", b"./back\\slash"),
    ],
)
def test_parse_unescapes_sha256sum_names(line, path):
    entry = content.parse(line.encode())
    assert entry.path == path and entry.digest == A


def test_a_stream_out_of_order_is_an_error_not_a_difference():
    with pytest.raises(ValueError, match="out of order"):
        content.compare(stream(f"b={A},a={A}"), stream(f"a={A},b={A}"))


def test_an_unreadable_line_is_an_error():
    with pytest.raises(ValueError, match="unexpected checksum line"):
        content.parse(b"sha256sum: ./x: Permission denied\n")


def test_lines_when_equal():
    assert content.lines("m", "s", content.compare(stream(f"a={A}"), stream(f"a={A}"))) == [
        "m: content of @s equal (1 file)"
    ]
