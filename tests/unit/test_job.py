"""Job files: every sample in samples/valid loads, every one in samples/invalid fails.

Each invalid sample's first line is `# expect: <fragment>`; the ConfigError's
message must contain it and start with the file's path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zfs_sync_wizard.errors import ConfigError, ExitCode
from zfs_sync_wizard.jobs import job as jobmod
from zfs_sync_wizard.jobs import schema
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.jobs.job import load_defaults, load_job

SAMPLES = Path(__file__).parent / "samples"
VALID = sorted((SAMPLES / "valid").glob("*.yaml"))
INVALID = sorted((SAMPLES / "invalid").glob("*.yaml"))

MINIMAL = "source:\n  dataset: tank/data\ndestination:\n  host: backup\n  dataset: backup/data\n"


def expected_fragment(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ...'"
    return first[len("# expect: ") :]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sample_directories_are_populated():
    assert len(VALID) >= 4
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_sample_loads(path):
    job = load_job(path)
    assert job.name == path.stem
    assert job.path == path


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_sample_fails_with_its_message(path):
    fragment = expected_fragment(path)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert fragment in message
    assert info.value.where == str(path)
    assert info.value.exit_code == ExitCode.USAGE == 2


def test_push_minimal_gets_every_default():
    job = load_job(SAMPLES / "valid" / "push_minimal.yaml")
    assert job.source == jobmod.Side("tank/data", Endpoint())
    assert job.destination == jobmod.Side("backup/data", Endpoint(host="backup.example.org"))
    assert (job.recursive, job.readonly, job.rollback) == (False, True, False)
    assert (job.compression, job.buffer, job.bandwidth_limit) == ("auto", "128M", None)
    assert (job.incremental, job.initial) == ("intermediate", "oldest")
    assert (job.take_snapshots, job.snapshot_prefix, job.keep, job.schedule) == (True, "zsw", 1, None)
    assert job.when_unchanged == "skip"
    assert job.snapshot_stem == "zsw_push_minimal_"
    assert job.wire_compression == "zstd"


def test_pull_sample_has_a_remote_source_with_port_and_key():
    job = load_job(SAMPLES / "valid" / "pull_with_key.yaml")
    assert job.source.endpoint == Endpoint(
        host="fileserver.example.org", user="root", port=2222, ssh_key="/root/.ssh/id_zsw"
    )
    assert job.source.endpoint.label == "root@fileserver.example.org:2222"
    assert job.destination.endpoint.is_local
    # same dataset name on both sides is fine: different hosts
    assert job.source.dataset == job.destination.dataset == "tank/data"


def test_local_to_local_sample_stays_uncompressed():
    job = load_job(SAMPLES / "valid" / "local_to_local.yaml")
    assert job.source.endpoint.is_local and job.destination.endpoint.is_local
    assert job.recursive is True
    assert job.wire_compression is None


def test_every_key_sample_sets_every_schema_key():
    path = SAMPLES / "valid" / "every_key.yaml"
    raw = yaml.safe_load(path.read_text())
    for key, spec in schema.SCHEMA.items():
        assert key in raw, f"every_key.yaml lacks {key}"
        if isinstance(spec, dict):
            assert set(raw[key]) == set(spec), f"every_key.yaml: {key} keys differ from the schema"
    job = load_job(path)
    assert job.source == jobmod.Side(
        "tank/my data",
        Endpoint(
            host="2001:db8::1",
            user="zsw",
            port=2200,
            ssh_key="/etc/zsw/keys/source",
            known_hosts="/etc/zsw/known_hosts",
        ),
    )
    assert job.destination == jobmod.Side(
        "backup/hosts/fileserver",
        Endpoint(
            host="192.0.2.7",
            port=2222,
            ssh_key="/etc/zsw/keys/destination",
            known_hosts="~/.ssh/zsw_known_hosts",
        ),
    )
    assert (job.recursive, job.readonly, job.rollback) == (True, False, True)
    assert (job.compression, job.buffer, job.bandwidth_limit) == ("lz4", "1G", "20M")
    assert (job.incremental, job.initial) == ("direct", "newest")
    assert (job.take_snapshots, job.snapshot_prefix, job.keep, job.hold) == (True, "nightly", 7, False)
    assert job.when_unchanged == "take"
    assert (job.snapshot_source, job.snapshot_include, job.snapshot_exclude) == (
        "existing",
        ("autosnap_*_daily", "autosnap_*_weekly"),
        ("*_frequently",),
    )
    assert (job.prune_destination, job.source_exclude) == (False, ("cache", "*/tmp"))
    assert job.receive_set == (("canmount", "off"), ("com.example:role", "backup"))
    assert job.receive_exclude == ("sharenfs", "sharesmb", "mountpoint")
    assert (job.raw, job.retries, job.retry_delay) == ("never", 5, 7)
    assert (job.parallel, job.tree_stream) == (2, "never")
    assert job.retention["destination"] == {"hourly": 5, "daily": 6, "weekly": 7, "monthly": 8, "yearly": 10}
    assert job.direct == Endpoint("backup.internal", "zsw", 2222)  # as the source reaches the destination
    assert job.schedule == "30 1 * * 1-5"
    assert job.snapshot_stem == "nightly_every_key_"
    assert job.wire_compression == "lz4"
    assert job.logs == {"max_bytes": "64k", "keep": 3, "runs": 50, "progress_interval": 10}


@pytest.mark.parametrize("section", ["", "source", "destination", "transfer", "snapshots"])
def test_unknown_key_message_lists_every_allowed_key(tmp_path, section):
    data = yaml.safe_load(MINIMAL)
    if section:
        data.setdefault(section, {})["bogus"] = 1
    else:
        data["bogus"] = 1
    path = write(tmp_path, "j.yaml", yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_job(path)
    keypath = f"{section}.bogus" if section else "bogus"
    allowed = ", ".join(schema.SCHEMA[section] if section else schema.SCHEMA)
    assert str(info.value) == f"{path}: {keypath}: unknown key (allowed: {allowed})"


def test_buffer_false_means_no_mbuffer():
    job = load_job(SAMPLES / "valid" / "sibling_dataset.yaml")
    assert job.buffer is None
    assert job.compression == "none"


@pytest.mark.parametrize(
    "transfer, src_host, dst_host, wire",
    [
        ("auto", None, None, None),
        ("auto", None, "backup", "zstd"),
        ("auto", "nas", None, "zstd"),
        ("auto", "nas", "backup", "zstd"),
        ("lz4", None, "backup", "lz4"),
        ("lz4", None, None, None),
        ("zstd", None, None, None),
        ("none", None, "backup", None),
    ],
)
def test_wire_compression(transfer, src_host, dst_host, wire):
    data = {
        "source": {"dataset": "tank/data", "host": src_host},
        "destination": {"dataset": "backup/data", "host": dst_host},
        "transfer": {"compression": transfer},
    }
    assert jobmod.from_mapping(data, "j", "test").wire_compression == wire


@pytest.mark.parametrize(
    "size, expected",
    [(128, "128"), ("512k", "512k"), ("1G", "1G"), ("64m", "64m"), (False, None), (None, None)],
)
def test_buffer_sizes(tmp_path, size, expected):
    path = write(tmp_path, "j.yaml", MINIMAL + "transfer:\n  buffer: " + yaml.safe_dump(size).split("\n")[0])
    assert load_job(path).buffer == expected


@pytest.mark.parametrize(
    "schedule",
    ["0 2 * * *", "*/15 * * * *", "30 1 * * 1-5", "0 3 * * mon", "0 0 1 1 *"],
)
def test_valid_cron_lines(tmp_path, schedule):
    path = write(tmp_path, "j.yaml", MINIMAL + f'schedule: "{schedule}"\n')
    assert load_job(path).schedule == schedule


@pytest.mark.parametrize(
    "src, dst",
    [
        # same dataset, different hosts
        ({"host": "nas"}, {"host": "backup"}),
        # this machine and a remote one
        ({}, {"host": "backup"}),
        ({"host": "nas"}, {}),
        # same host name, different ports: two machines behind one address
        ({"host": "gw", "port": 2201}, {"host": "gw", "port": 2202}),
    ],
)
def test_same_dataset_allowed_when_hosts_differ(src, dst):
    data = {"source": dict(src, dataset="tank/data"), "destination": dict(dst, dataset="tank/data/inner")}
    job = jobmod.from_mapping(data, "j", "where.yaml")
    assert job.destination.dataset == "tank/data/inner"


def test_overlap_with_different_users_on_one_host_is_refused():
    data = {
        "source": {"dataset": "tank/data", "host": "root@nas"},
        "destination": {"dataset": "tank/data/copy", "host": "backup@nas"},
    }
    with pytest.raises(ConfigError, match=r"destination\.dataset: .* overlaps it on the same host"):
        jobmod.from_mapping(data, "j", "where.yaml")


def test_from_mapping_error_names_where_and_key():
    data = {
        "source": {"dataset": "tank/data"},
        "destination": {"dataset": "b/x"},
        "transfer": {"buffer": "x"},
    }
    with pytest.raises(ConfigError) as info:
        jobmod.from_mapping(data, "j", "/etc/zfs-sync-wizard/jobs/j.yaml")
    assert str(info.value).startswith("/etc/zfs-sync-wizard/jobs/j.yaml: transfer.buffer: ")
    assert info.value.problem.startswith("transfer.buffer: expected a size")


def test_unreadable_file_is_a_config_error(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read: "):
        load_job(missing)


def test_dumped_settings_load_back_to_the_same_job(tmp_path):
    original = load_job(SAMPLES / "valid" / "every_key.yaml")
    again = write(tmp_path, "every_key.yaml", jobmod.dump(original.settings))
    reloaded = load_job(again)
    assert reloaded.settings == original.settings
    assert reloaded.source == original.source and reloaded.destination == original.destination


def test_dump_writes_keys_in_schema_order():
    job = load_job(SAMPLES / "valid" / "push_minimal.yaml")  # the file omits version, puts source first
    dumped = yaml.safe_load(jobmod.dump(job.settings))
    assert list(dumped) == list(schema.SCHEMA)
    assert list(dumped["destination"]) == list(schema.SCHEMA["destination"])


@pytest.mark.parametrize("schedule", ["0 2 * * * *", "0 0 2 * * * 2030"])
def test_cron_line_with_more_than_five_fields_is_refused(tmp_path, schedule):
    path = write(tmp_path, "j.yaml", MINIMAL + f'schedule: "{schedule}"\n')
    with pytest.raises(ConfigError, match="schedule: expected a cron expression of five fields"):
        load_job(path)


def test_version_true_is_refused(tmp_path):
    path = write(tmp_path, "j.yaml", "version: true\n" + MINIMAL)
    with pytest.raises(ConfigError, match="version: expected 1"):
        load_job(path)


# defaults.yaml


def test_absent_defaults_file_means_no_defaults(tmp_path):
    assert load_defaults(tmp_path / "defaults.yaml") == {}


def test_empty_defaults_file_means_no_defaults(tmp_path):
    assert load_defaults(write(tmp_path, "defaults.yaml", "# nothing yet\n")) == {}


def test_defaults_apply_when_the_job_is_silent(tmp_path):
    defaults = load_defaults(
        write(
            tmp_path,
            "defaults.yaml",
            "destination:\n  host: backup\n  port: 2222\n"
            "transfer:\n  compression: lz4\n  bandwidth_limit: 5M\nsnapshots:\n  keep: 4\n"
            "schedule: '0 3 * * *'\n",
        )
    )
    job = load_job(
        write(tmp_path, "j.yaml", "source:\n  dataset: tank/a\ndestination:\n  dataset: b/a\n"), defaults
    )
    assert job.destination.endpoint == Endpoint(host="backup", port=2222)
    assert (job.compression, job.bandwidth_limit, job.keep, job.schedule) == ("lz4", "5M", 4, "0 3 * * *")
    assert job.buffer == "128M"  # neither sets it: the schema's default


def test_job_overrides_defaults_key_by_key(tmp_path):
    defaults = load_defaults(
        write(
            tmp_path, "defaults.yaml", "transfer:\n  compression: lz4\n  buffer: 1G\nsnapshots:\n  keep: 4\n"
        )
    )
    job = load_job(
        write(tmp_path, "j.yaml", MINIMAL + "transfer:\n  compression: none\nsnapshots:\n  keep: 0\n"),
        defaults,
    )
    assert job.compression == "none"  # the job's value
    assert job.buffer == "1G"  # the sibling key still comes from defaults
    assert job.keep == 0


def test_job_can_clear_a_default_host(tmp_path):
    defaults = load_defaults(write(tmp_path, "defaults.yaml", "destination:\n  host: backup\n"))
    job = load_job(
        write(tmp_path, "j.yaml", "source:\n  dataset: tank/a\ndestination:\n  host: null\n  dataset: b/a\n"),
        defaults,
    )
    assert job.destination.endpoint.is_local


def test_defaults_are_not_mutated_by_loading_jobs(tmp_path):
    defaults = load_defaults(write(tmp_path, "defaults.yaml", "transfer:\n  compression: lz4\n"))
    load_job(write(tmp_path, "j.yaml", MINIMAL + "transfer:\n  compression: none\n"), defaults)
    assert defaults == {"transfer": {"compression": "lz4"}}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("source:\n  dataset: tank/a\n", "source.dataset: belongs in a job file, not in defaults"),
        ("destination:\n  dataset: b/a\n", "destination.dataset: belongs in a job file, not in defaults"),
        ("transfer:\n  compression: gzip\n", "transfer.compression: expected one of"),
        ("snapshot:\n  keep: 2\n", "snapshot: unknown key (allowed: version, source"),
        ("- a\n", "the file: expected a mapping of keys"),
        ("transfer: [\n", "line 2: not valid YAML"),
    ],
)
def test_bad_defaults_file(tmp_path, text, fragment):
    path = write(tmp_path, "defaults.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_defaults(path)
    assert str(info.value).startswith(f"{path}: ")
    assert fragment in str(info.value)
    assert info.value.exit_code == 2


def test_job_error_is_reported_against_the_job_file_not_defaults(tmp_path):
    defaults = load_defaults(write(tmp_path, "defaults.yaml", "transfer:\n  compression: lz4\n"))
    job_path = write(tmp_path, "j.yaml", MINIMAL + "transfer:\n  compression: gzip\n")
    with pytest.raises(ConfigError) as info:
        load_job(job_path, defaults)
    assert str(info.value).startswith(f"{job_path}: transfer.compression: ")


def test_defaults_can_complete_a_job_that_lacks_a_required_section(tmp_path):
    # destination.host from defaults; the job still has to name its datasets
    defaults = load_defaults(write(tmp_path, "defaults.yaml", "destination:\n  host: backup\n"))
    path = write(tmp_path, "j.yaml", "source:\n  dataset: tank/a\n")
    with pytest.raises(ConfigError, match=r"j\.yaml: destination\.dataset: missing \(required\)"):
        load_job(path, defaults)


def test_checker_returns_the_keys_validation_function():
    assert schema.checker("transfer", "compression")("zstd") == "zstd"
    with pytest.raises(ValueError, match="expected one of"):
        schema.checker("transfer", "compression")("gzip")
    assert schema.checker("", "schedule")(None) is None


@pytest.mark.parametrize(
    "src, dst",
    [
        ({}, {"host": "localhost"}),  # "localhost" is this machine
        ({"host": "127.0.0.1"}, {}),
        ({"host": "NAS"}, {"host": "root@nas."}),  # host names are case-insensitive
    ],
)
def test_overlap_is_refused_whatever_the_spelling_of_the_same_machine(src, dst):
    data = {"source": dict(src, dataset="tank/data"), "destination": dict(dst, dataset="tank/data/copy")}
    with pytest.raises(ConfigError, match=r"overlaps it on the same host"):
        jobmod.from_mapping(data, "j", "where.yaml")


# -- files that must not be trusted


def test_a_job_file_that_is_not_utf8_is_refused_by_name(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.encode() + b"# caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_job(path)
    assert (
        str(info.value)
        == f"{path}: not UTF-8 text (byte 0xe9 at offset {len(MINIMAL) + 5}); save it as UTF-8"
    )
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("writable", ["file", "folder"])
def test_a_job_others_may_change_is_refused(tmp_path, writable):
    folder = tmp_path / "jobs"
    folder.mkdir()
    path = write(folder, "media.yaml", MINIMAL)
    target = path if writable == "file" else folder
    target.chmod(target.stat().st_mode | 0o002)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    assert f"{target} is writable by every user" in str(info.value)
    assert f"Run: chmod o-w {target}" in str(info.value)


def test_a_sticky_world_writable_folder_is_fine(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)  # like /tmp: others cannot replace what it holds
    assert load_job(write(folder, "media.yaml", MINIMAL)).name == "media"


def test_hold_tag_and_stem_never_collide_between_prefix_and_job_names():
    a = jobmod.from_mapping(
        {"source": {"dataset": "tank/a"}, "destination": {"dataset": "b/a"}, "snapshots": {"prefix": "zsw"}},
        "b_c",
        "a.yaml",
    )
    assert (a.snapshot_stem, a.hold_tag) == ("zsw_b_c_", "zsw_b_c")
    with pytest.raises(ConfigError, match="no _"):
        jobmod.from_mapping(
            {
                "source": {"dataset": "tank/a"},
                "destination": {"dataset": "b/a"},
                "snapshots": {"prefix": "zsw_b"},
            },
            "c",
            "b.yaml",
        )


# -- two jobs, one destination


def _job(name: str, destination: str, host: str | None = "backup01", recursive: bool = False):
    dst = {"dataset": destination} | ({"host": host} if host else {})
    data = {"source": {"dataset": f"tank/{name}", "recursive": recursive}, "destination": dst}
    return jobmod.from_mapping(data, name, f"/etc/zsw/jobs/{name}.yaml")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("a", "backup/media"), ("b", "backup/media"), True),
        (("a", "backup/media", "root@BACKUP01."), ("b", "backup/media"), True),  # one machine, two spellings
        (("a", "backup/media"), ("b", "backup/media", "backup02"), False),
        (("a", "backup/media"), ("b", "backup/media2"), False),
        (("a", "backup", "backup01", True), ("b", "backup/media"), True),  # inside a recursive job's tree
        (("a", "backup", "backup01", False), ("b", "backup/media"), False),
    ],
)
def test_same_destination(a, b, same):
    assert jobmod.same_destination(_job(*a), _job(*b)) is same
    assert jobmod.same_destination(_job(*b), _job(*a)) is same


def test_two_jobs_into_one_destination_are_refused_naming_both_files():
    a, b, c = _job("a", "backup/media"), _job("b", "backup/media"), _job("c", "backup/other")
    jobmod.check_destinations([c], [a, c])
    with pytest.raises(ConfigError) as info:
        jobmod.check_destinations([a], [a, b, c])
    assert str(info.value) == (
        "/etc/zsw/jobs/a.yaml: destination.dataset: backup01:backup/media is also written by the job in "
        "/etc/zsw/jobs/b.yaml (backup/media); two jobs receiving into one dataset would undo each other's "
        "snapshots. Give each job its own destination dataset"
    )
