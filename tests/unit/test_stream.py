"""Executor.stream and the --deep checksum lines, with real local processes (no ZFS, no ssh)."""

from __future__ import annotations

import resource
import time

import pytest

from zfs_sync_wizard.commands import checksums
from zfs_sync_wizard.errors import CommandFailed
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.planning import content
from zfs_sync_wizard.running.execute import Executor

pytestmark = pytest.mark.timeout(60)
LOCAL = Endpoint()


def test_lines_arrive_in_order_and_a_clean_exit_raises_nothing():
    with Executor().stream(LOCAL, "printf 'a\\nb\\n'; printf c") as lines:
        assert list(lines) == [b"a\n", b"b\n", b"c"]


@pytest.mark.parametrize(
    "script, status, stderr",
    [("echo x; exit 4", 4, ""), ("echo x; echo 'find: denied' >&2", 0, "find: denied")],
)
def test_a_failure_or_any_stderr_is_an_error_not_a_short_stream(script, status, stderr):
    with pytest.raises(CommandFailed) as err:
        with Executor().stream(LOCAL, script) as lines:
            list(lines)
    assert (err.value.status, err.value.stderr) == (status, stderr)


def test_leaving_early_ends_the_whole_process_group(tmp_path):
    marker = tmp_path / "pid"
    with pytest.raises(KeyboardInterrupt):
        with Executor().stream(LOCAL, f"sleep 300 & echo $! > {marker}; yes") as lines:
            next(lines)
            raise KeyboardInterrupt
    pid = int(marker.read_text())

    def ended() -> bool:  # the signal is sent; the kernel ends the process a moment later
        try:
            return "(zombie)" in open(f"/proc/{pid}/status").read()
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 10
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ended()


def test_memory_stays_flat_while_the_other_side_is_not_read():
    """One side written fast, never read until the end: the kernel pipe makes it wait."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ex = Executor()
    with ex.stream(LOCAL, "yes | head -c 100000000") as fast, ex.stream(LOCAL, "sleep 1; echo done") as slow:
        assert list(slow) == [b"done\n"]
        assert sum(len(line) for line in fast) == 100_000_000
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_checksum_lines_of_a_real_tree_compare_equal_and_name_a_change(tmp_path):
    for side in ("a", "b"):
        for name in ("z.txt", "dir/one", "with space", "new\nline", "back\\slash"):
            path = tmp_path / side / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(name.encode())
    (tmp_path / "b" / "dir" / "one").write_bytes(b"changed")
    ex = Executor()
    script = checksums.checksum_script
    with (
        ex.stream(LOCAL, script(str(tmp_path / "a"))) as left,
        ex.stream(LOCAL, script(str(tmp_path / "b"))) as right,
    ):
        assert checksums.parse_ids(next(left))[0] > 0 and next(right)
        found = content.compare(left, right)
    assert found.files == 5 and found.first == [(content.DIFFERS, b"./dir/one")]


@pytest.mark.parametrize(
    "line, ids, stop",
    [
        (b"123 123\n", (123, 123), "kill -s TERM -- -123 2>/dev/null; true"),
        (b"123  99\n", (123, 99), "kill -s TERM -- -99 2>/dev/null; true"),
        (b"123 \n", (123, 0), "pkill -TERM -P 123; kill -TERM 123 2>/dev/null; true"),
        (b"", (0, 0), None),
    ],
)
def test_the_first_line_says_what_to_stop(line, ids, stop):
    assert checksums.parse_ids(line) == ids
    if stop:
        assert checksums.stop_script(*ids) == stop
