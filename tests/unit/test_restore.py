"""Restore planning (pure): --to parsing, which backup dataset, the reversed job, the refusals."""

from __future__ import annotations

from datetime import datetime

import pytest

from zfs_sync_wizard.jobs import job as jobmod
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.planning import restore as rp
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot
from zfs_sync_wizard.planning.plan import Transfer

NOW = datetime(2026, 12, 1, 10, 0)
BACKUP = Endpoint("backup01", "root", 2222, "/root/.ssh/zsw", None)


def push(recursive: bool = False, source_host: str | None = None) -> jobmod.Job:
    data = {
        "source": {"dataset": "tank/media", "recursive": recursive},
        "destination": {"dataset": "backup/media", "host": "root@backup01", "port": 2222},
    }
    if source_host:
        data["source"]["host"] = source_host
    return jobmod.from_mapping(data, "media", "media.yaml")


@pytest.mark.parametrize(
    "value, host, user, dataset",
    [
        ("tank/media-restored", None, None, "tank/media-restored"),
        ("root@nas2:tank/x", "nas2", "root", "tank/x"),
        ("nas2:tank/x", "nas2", None, "tank/x"),
        ("[2001:db8::1]:tank/x", "2001:db8::1", None, "tank/x"),
        ("pool:with/colon", "pool", None, "with/colon"),  # a host first: the documented rule
    ],
)
def test_to_is_host_and_dataset_or_a_dataset_on_the_source_host(value, host, user, dataset):
    endpoint, target = rp.parse_to(value, push())
    assert (endpoint.host, endpoint.user, target) == (host, user, dataset)


def test_to_a_host_of_the_job_keeps_its_port_and_key():
    endpoint, _ = rp.parse_to("root@backup01:backup/copy", push())
    assert endpoint.port == 2222 and endpoint == push().destination.endpoint


@pytest.mark.parametrize("value", ["-rf/x", "tank/a;b", "tank@snap", "root@bad host:tank/x", "[::1]:-x"])
def test_to_refuses_what_is_not_a_dataset_or_host(value):
    with pytest.raises(ValueError):
        rp.parse_to(value, push())


def test_default_names_beside_the_dataset():
    assert rp.beside("tank/media", NOW) == "tank/media-restored-20261201"
    assert rp.set_aside("tank/media", NOW) == "tank/media-old-20261201"


def test_backup_dataset_is_the_top_one_or_a_child_of_a_recursive_job():
    assert rp.backup_dataset(push(), None) == "backup/media"
    assert rp.backup_dataset(push(True), "backup/media/photos") == "backup/media/photos"
    assert rp.original(push(True), "backup/media/photos") == "tank/media/photos"
    with pytest.raises(rp.RestoreRefused, match="not recursive"):
        rp.backup_dataset(push(), "backup/media/photos")
    with pytest.raises(rp.RestoreRefused, match="not the job's backup"):
        rp.backup_dataset(push(True), "backup/other")


def test_reversed_job_sends_from_the_backup_into_the_target_and_keeps_nothing():
    job = push(source_host="root@nas")
    req = rp.Request("backup/media", "s2", "tank/media-restored", job.source.endpoint)
    rev = rp.reversed_job(job, req)
    assert rev.source == jobmod.Side("backup/media", job.destination.endpoint)
    assert rev.destination == jobmod.Side("tank/media-restored", job.source.endpoint)
    assert not (rev.recursive or rev.readonly or rev.rollback or rev.take_snapshots or rev.hold)
    assert rev.direct is None and rev.wire_compression == "zstd"


def test_a_target_inside_the_backup_tree_is_refused():
    job = push()
    with pytest.raises(rp.RestoreRefused, match="inside the job's backup"):
        rp.check_target(job, rp.Request("backup/media", "s", "backup/media/x", job.destination.endpoint))
    rp.check_target(job, rp.Request("backup/media", "s", "backup/media/x", Endpoint()))  # another machine


def backup_with(*names: str) -> Dataset:
    return Dataset("backup/media", 1, [Snapshot(n, 100 + i, 10 + i, 0) for i, n in enumerate(names)])


def test_plan_is_one_full_send_of_the_snapshot_with_its_guid():
    req = rp.Request("backup/media", "s2", "tank/r", Endpoint())
    pair = rp.plan(backup_with("s1", "s2", "s3"), req, "backup01")
    assert isinstance(pair.plan, Transfer) and len(pair.plan.sends) == 1
    step = pair.plan.sends[0]
    assert (step.target, step.base, step.force, step.target_guid) == ("s2", None, False, 101)
    assert [s.name for s in rp.until(backup_with("s1", "s2", "s3"), "s2").snapshots] == ["s1", "s2"]


def test_plan_refuses_a_missing_snapshot_or_backup_listing_the_newest():
    req = rp.Request("backup/media", "nope", "tank/r", Endpoint())
    with pytest.raises(rp.RestoreRefused, match="no snapshot @nope; newest first: @s3, @s2, @s1"):
        rp.plan(backup_with("s1", "s2", "s3"), req, "backup01")
    with pytest.raises(rp.RestoreRefused, match="backup01:backup/media does not exist"):
        rp.plan(None, req, "backup01")


def test_exists_message_names_both_ways_out():
    req = rp.Request("backup/media", "s", "tank/media", Endpoint("nas", "root"))
    text = rp.exists_message(req, NOW)
    assert "root@nas:tank/media exists" in text and "nothing was changed" in text
    assert "--to root@nas:tank/media-restored-20261201" in text
    assert "zfs rename tank/media tank/media-old-20261201" in text
    again = rp.Request("backup/media", "s", "tank/media-restored-20261201", Endpoint())
    assert "--to tank/media-restored-20261201-2" in rp.exists_message(again, NOW)
