"""The runner killed with SIGKILL at each phase of a run: the next run, with
no manual step, completes; no snapshot or hold of the job is left over and
no lock stands in the way. Both sides are compared by GUIDs and checksums."""

from __future__ import annotations

import json

import pytest

from .replication import SENDING, assert_same, ok, unwrap_command, wait_for_process, wait_until, wrap_command

pytestmark = pytest.mark.timeout(240)

# the source's zfs kills the runner (its parent) at one of the run's commands, before or after running
# it (not at the usage probe, `zfs send` alone, which a shell runs)
KILL = 'if [ "$1" = {sub} ] && [ $# -gt 1 ]; then {before}; "$REAL" "$@"; status=$?; {after}; exit $status; fi; exec "$REAL" "$@"'
PHASES = {
    "while taking the snapshot": ("snapshot", "after", 1),  # taken, never sent
    "between snapshot and send": ("send", "before", 1),
    "after the receive, before the holds": ("hold", "before", 1),
    "mid-prune": ("destroy", "before", 2),  # the destination pruned, the source not yet
}


def job_state(host, dataset: str) -> tuple:
    """The job's snapshots, and how many holds each has."""
    snaps = [name for name in host.snapshots(dataset) if name.startswith("zsw_media_")]
    refs = [
        host.run(["zfs", "get", "-H", "-o", "value", "userrefs", f"{dataset}@{s}"]).stdout.strip()
        for s in snaps
    ]
    return snaps, refs


def assert_recovered(hosts, media) -> None:
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))  # no manual step
    assert_same(src, "tank/media", dst, "backup/media")
    src_snaps, src_refs = job_state(src, "tank/media")
    dst_snaps, dst_refs = job_state(dst, "backup/media")
    assert src_snaps == dst_snaps and len(src_snaps) == 1  # keep 1: nothing left over
    assert src_refs == dst_refs == ["1"]  # the base alone is held, once


@pytest.mark.parametrize("phase", PHASES)
def test_killed_at_a_phase_the_next_run_recovers(hosts, media, phase):
    sub, when, run = PHASES[phase]
    for _ in range(run - 1):
        ok(media.run("media"))
        hosts.src.write_random("tank/media", "more.bin", 16 << 10)
    kill = "kill -KILL $PPID"
    before = f"{kill}; exit 137" if when == "before" else ":"  # the command itself never runs
    script = KILL.format(sub=sub, before=before, after=kill if when == "after" else ":")
    wrap_command(hosts.src, "/usr/sbin/zfs", script)
    try:
        killed = media.run("media")
    finally:
        unwrap_command(hosts.src, "/usr/sbin/zfs")
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    assert_recovered(hosts, media)


def test_killed_mid_transfer_the_next_run_recovers(hosts, media):
    media.slow("media", "20k")  # ~10 s for 200 KiB
    running, pid = media.start_locked("media")
    wait_for_process(hosts.src, SENDING)
    hosts.src.run(["kill", "-KILL", str(pid)])
    assert running.wait().returncode == -9
    # its transfer dies with it: nothing of it runs on, on either side
    wait_until(hosts.src, '! pgrep --ns $$ --nslist net -f "^[^ ]*zfs send"')
    wait_until(hosts.dst, '! pgrep --ns $$ --nslist net -f "^zfs receive"')
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("bandwidth_limit: 20k", "bandwidth_limit: null"))
    assert_recovered(hosts, media)


def test_a_renamed_destination_is_not_seeded_anew_beside_it_and_the_advice_works(hosts, media):
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    dst.run(["zfs", "rename", "backup/media", "backup/media-old"])
    before = dst.props("backup")
    refused = media.run("media")
    assert refused.returncode == 1
    assert "the destination does not exist, yet this job replicated tank/media there before" in refused.stderr
    assert dst.props("backup") == before  # no second full copy beside the renamed one
    advice = refused.stderr.split("release the hold on the source and run again: ")[1].split("\n")[0]
    assert advice.startswith("zfs release zsw_media tank/media@zsw_media_")
    src.run(advice.split())  # exactly what it says, on the source
    ok(media.run("media"))  # starts over with a full copy, as asked
    assert_same(src, "tank/media", dst, "backup/media")
    assert dst.snapshots("backup/media-old")  # the renamed copy is untouched


def test_a_source_snapshot_destroyed_between_planning_and_sending(hosts, media):
    src, dst = hosts.src, hosts.dst
    # the send's own snapshot vanishes just before `zfs send` reads it
    gone = 'if [ "$1" = send ] && [ $# -gt 1 ]; then for s; do :; done; "$REAL" destroy "$s"; fi; exec "$REAL" "$@"'
    wrap_command(src, "/usr/sbin/zfs", gone)
    try:
        failed = media.run("media")
    finally:
        unwrap_command(src, "/usr/sbin/zfs")
    assert failed.returncode == 1
    assert "stage 'zfs send' failed on localhost" in failed.stderr
    assert "backup/media" not in dst.run(["zfs", "list", "-H", "-o", "name"]).stdout
    ok(media.run("media"))
    assert_same(src, "tank/media", dst, "backup/media")


def test_a_truncated_job_file_runs_nothing(hosts, media):
    job = media.config / "jobs" / "media.yaml"
    text = job.read_text()
    job.write_text(text[: len(text) // 2].rsplit("\n", 1)[0] + "\n  host: 'root@")  # cut off mid-write
    before = hosts.src.props("tank"), hosts.dst.props("backup")
    result = media.run("media")
    assert result.returncode == 2 and result.stderr.startswith(f"zfs-sync-run: {job}: ")
    assert (hosts.src.props("tank"), hosts.dst.props("backup")) == before


def test_different_jobs_at_once_over_one_host_keep_to_their_own(hosts, media):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/photos"])
    src.write_random("tank/photos", "album.raw", 200 << 10)
    media.job(
        "photos",
        {
            "source": {"dataset": "tank/photos"},
            "destination": {"dataset": "backup/photos", "host": f"root@{dst.address}"},
        },
    )
    for name in ("media", "photos"):
        media.slow(name, "40k")
    runs = [media.start(name) for name in ("media", "photos")]
    for run in runs:
        ok(run.wait())
    for name in ("media", "photos"):
        assert_same(src, f"tank/{name}", dst, f"backup/{name}")
        (only,) = src.snapshots(f"tank/{name}")
        assert only.startswith(f"zsw_{name}_")  # each job's own snapshot, held by its own tag
        src.run(["zfs", "release", f"zsw_{name}", f"tank/{name}@{only}"])
        dst.run(["zfs", "release", f"zsw_{name}", f"backup/{name}@{only}"])


def test_a_full_destination_pool_is_named_with_what_was_needed_and_the_run_after_freeing_space_works(
    hosts, media
):
    src, dst = hosts.src, hosts.dst
    dst.run(["zfs", "create", "-o", "reservation=64M", "backup/reserved"])  # space the receive cannot have
    src.write_random("tank/media", "movie-4k.mkv", 64 << 20)
    data = src.checksum("tank/media")
    full = media.run("media")
    assert full.returncode == 1
    assert f"stage 'zfs receive' failed on root@{dst.address}" in full.stderr
    assert "the destination pool backup has " in full.stderr and "this stream needs about 64." in full.stderr
    assert "Free space there (or grow the pool), then run again" in full.stderr
    assert src.checksum("tank/media") == data
    dst.run(["zfs", "set", "reservation=none", "backup/reserved"])  # what the message asks: free space
    ok(media.run("media"))
    assert_same(src, "tank/media", dst, "backup/media")


CUT = ["iptables", "-I", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset"]
RESTORE = [
    "iptables",
    "-D",
    "INPUT",
    "-p",
    "tcp",
    "--dport",
    "22",
    "-j",
    "REJECT",
    "--reject-with",
    "tcp-reset",
]


def test_the_network_cut_mid_transfer_and_restored_is_retried_in_the_same_run(hosts, media):
    src, dst = hosts.src, hosts.dst
    media.slow("media", "40k")
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text() + "  retries: 4\n")
    log = media.state / "logs" / "media.log"
    running = media.start("media")
    wait_for_process(src, SENDING)
    dst.run(CUT)  # the destination answers every packet of its ssh port with a reset, from now on
    try:
        wait_until(src, f"grep -q 'attempt 1 failed' {log}")
    finally:
        dst.run(RESTORE)
    ok(running.wait())
    record = json.loads((media.state / "runs" / "media.json").read_text())
    assert record["retries"] and "attempt 1 failed" in record["retries"][0]
    assert_same(src, "tank/media", dst, "backup/media")


def test_a_run_that_gives_up_on_the_network_says_so_and_the_next_run_continues(hosts, media):
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text() + "transfer:\n  retries: 1\n  retry_delay: 0\n")
    hosts.dst.run(CUT)
    try:
        cut = media.run("media")
    finally:
        hosts.dst.run(RESTORE)
    assert cut.returncode == 1
    assert f"ssh to root@{hosts.dst.address} failed" in cut.stderr or "stage 'ssh to" in cut.stderr
    ok(media.run("media"))
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")
