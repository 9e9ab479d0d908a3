"""Features zfs-fuse lacks, on real OpenZFS: received properties (zfs receive
-o/-x), batched destroys, the restore of a raw-sent encrypted backup, and
`--verify --deep` reading a mounted dataset through `.zfs/snapshot`."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from .product import Product, ok, same

pytestmark = pytest.mark.timeout(600)
PASSPHRASE = "correct horse battery staple"
KEYFILE = "/root/secret.key"


def label(guest) -> str:
    """How the product names a guest's side in its messages: `root@127.0.0.1:PORT`."""
    return f"{guest.job_side('x')['host']}:{guest.ssh_port}"


def value_and_source(guest, dataset: str, prop: str) -> str:
    return guest.run(["zfs", "get", "-H", "-o", "value,source", prop, dataset]).stdout.strip()


def commands(stderr: str, verb: str) -> list[str]:
    """`HOST COMMAND` of each remote command `-v` logged that starts with `verb`
    (its lines read `zfs-sync-run: [HOST] COMMAND  (exit 0, 0.21 s)`)."""
    found = []
    for line in stderr.splitlines():
        where, _, command = line.partition(": ")[2].partition("] ")
        if where.startswith("[") and command.startswith(verb):
            found.append(f"{where[1:]} {command.split('  (exit ')[0]}")
    return found


def test_received_properties_are_set_and_excluded_as_the_job_says(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/share"])
    a.run(["zfs", "set", "sharenfs=on", "tank/share"], check=False)  # exportfs may complain: no NFS server
    assert value_and_source(a, "tank/share", "sharenfs") == "on\tlocal"
    a.write_random("tank/share", "doc.pdf", 256 << 10)
    product = Product(tmp_path)
    properties = {"set": {"canmount": "off", "com.example:backup": "yes"}, "exclude": ["sharenfs"]}
    product.job("share", a.job_side("tank/share"), dict(b.job_side("backup/share"), properties=properties))

    dry = product.run("--dry-run", "share")
    assert dry.returncode == 0, dry.stderr
    assert (
        "zfs receive -u -s -o canmount=off -o com.example:backup=yes -x sharenfs backup/share" in dry.stdout
    )
    ok(product.run("share"))
    a.write_random("tank/share", "more.pdf", 64 << 10)
    ok(product.run("share"))  # the incremental receive takes the same -o/-x

    assert value_and_source(b, "backup/share", "canmount") == "off\tlocal"
    assert value_and_source(b, "backup/share", "com.example:backup") == "yes\tlocal"
    # not shared on the backup (the streams carry no properties, no send -p; -x would keep it out)
    assert value_and_source(b, "backup/share", "sharenfs") == "off\tdefault"
    assert b.prop("backup/share", "mounted") == "no"
    same(a, "tank/share", b, "backup/share")


def test_retention_destroys_a_runs_snapshots_in_one_command_per_side(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    product = Product(tmp_path)
    src, dst = a.job_side("tank/media"), b.job_side("backup/media")
    product.job("media", src, dst, snapshots={"keep": 4})
    for day in ("01", "02"):  # named as the job's own from earlier runs (one run fewer each)
        a.write_random("tank/media", f"{day}.bin", 64 << 10)
        a.run(["zfs", "snapshot", f"tank/media@zsw_media_202611{day}T000000Z"])
    ok(product.run("media"))  # sends all three, holds its own newest
    old = list(a.snapshots("tank/media"))
    assert len(old) == 3 and list(b.snapshots("backup/media")) == old

    product.job("media", src, dst, snapshots={"keep": 1})
    a.write_random("tank/media", "3.bin", 64 << 10)
    dry = product.run("--dry-run", "media")  # what would go, and the space zfs destroy -nvp says it frees
    assert dry.returncode == 0, dry.stderr
    prunes = [line for line in dry.stdout.splitlines() if line.startswith("# prune on ")]
    assert len(prunes) == 2 and all(
        re.search(r"snapshot\(s\): .* \(frees [0-9.]+ [KM]?i?B\)$", p) for p in prunes
    ), dry.stdout
    assert list(a.snapshots("tank/media")) == old and list(b.snapshots("backup/media")) == old  # nothing went
    pruned = product.run("-v", "media")
    assert pruned.returncode == 0, pruned.stderr
    (kept,) = a.snapshots("tank/media")
    assert kept not in old
    assert commands(pruned.stderr, "zfs destroy") == [
        f"{label(b)} zfs destroy backup/media@{','.join(old)}",
        f"{label(a)} zfs destroy tank/media@{','.join(old)}",
    ]
    assert list(b.snapshots("backup/media")) == [kept]  # the common base stays, on both sides
    same(a, "tank/media", b, "backup/media")


def test_an_encrypted_backup_sent_raw_is_restored_encrypted_with_the_same_files(pools, tmp_path):
    a, b = pools.a, pools.b
    a.sh('umask 077; printf "%s" "$1" > "$2"', PASSPHRASE, KEYFILE)
    a.run(
        ["zfs", "create", "-o", "encryption=on", "-o", "keyformat=passphrase"]
        + ["-o", f"keylocation=file://{KEYFILE}", "tank/secret"]
    )
    a.write_random("tank/secret", "ledger.db", 1 << 20)
    a.write_file("tank/secret", "notes/plan.txt", b"nothing to see\n")
    product = Product(tmp_path)
    product.job("secret", a.job_side("tank/secret"), b.job_side("backup/secret"))
    ok(product.run("secret"))
    assert b.prop("backup/secret", "keystatus") == "unavailable"  # the backup never had the key
    ((snap, guid),) = b.snapshots("backup/secret").items()
    original = a.checksum(f"tank/secret@{snap}")
    target = "tank/secret-restored"

    dry = product.run("--dry-run", "--restore", "secret", "--snapshot", snap, "--to", target)
    assert dry.returncode == 0, dry.stderr
    assert f"zfs send -w backup/secret@{snap}" in dry.stdout
    assert a.run(["zfs", "list", target], check=False).returncode != 0  # the dry run changed nothing

    restored = product.run("--restore", "secret", "--snapshot", snap, "--to", target)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert restored.stderr == ""
    lines = restored.stdout.splitlines()
    assert lines[0].startswith(f"restored {label(b)}:backup/secret@{snap} -> {label(a)}:{target}@{snap} (")
    assert lines[1] == f"verified: {label(a)}:{target}@{snap} has guid {guid}, the same as the backup's"
    assert f"to put it in place of tank/secret (on {label(a)}):" in lines

    assert a.snapshots(target) == {snap: guid}
    everything = a.run(["zfs", "get", "-Hp", "-r", "-o", "name,value", "guid", "tank"]).stdout
    again = product.run("--restore", "secret", "--snapshot", snap, "--to", target)
    today = datetime.now().strftime("%Y%m%d")
    assert again.returncode == 2, again.stdout + again.stderr
    assert again.stderr == (
        f"zfs-sync-run: secret: {label(a)}:{target} exists; a restore never receives into an existing "
        f"dataset, so nothing was changed. Either restore beside it under a new name: --to "
        f"{a.job_side('x')['host']}:{target}-restored-{today}, or move the existing one away first "
        f"(on {label(a)}): zfs rename {target} {target}-old-{today}\n"
    )
    assert a.run(["zfs", "get", "-Hp", "-r", "-o", "name,value", "guid", "tank"]).stdout == everything
    assert a.prop(target, "encryption") == "aes-256-gcm"
    assert a.prop(target, "keystatus") == "unavailable"  # sent raw: still ciphertext
    assert b.prop("backup/secret", "keystatus") == "unavailable"
    a.run(["zfs", "load-key", "-L", f"file://{KEYFILE}", target])
    a.run(["zfs", "mount", target])
    assert a.checksum(target) == original


def test_verify_deep_reads_a_mounted_source_through_dot_zfs_without_a_clone(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "movie.mkv", 512 << 10)
    a.write_file("tank/media", "notes/a.txt", b"hello\n")
    product = Product(tmp_path)
    product.job("media", a.job_side("tank/media"), b.job_side("backup/media"))
    ok(product.run("media"))
    (snap,) = a.snapshots("tank/media")
    assert a.prop("tank/media", "mounted") == "yes" and b.prop("backup/media", "mounted") == "no"
    before = [g.run(["zfs", "list", "-H", "-o", "name", "-t", "all"]).stdout for g in (a, b)]

    deep = product.run("-v", "--verify", "--deep", "media")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert (
        f"media: tank/media -> backup/media: content of @{snap} equal (2 files)" in deep.stdout.splitlines()
    )
    clones = commands(deep.stderr, "zfs clone")
    assert [c.split()[0] for c in clones] == [label(b)]  # only the unmounted backup needed one
    assert "backup/media@" in clones[0] and " backup/zsw-verify-" in clones[0]
    assert [g.run(["zfs", "list", "-H", "-o", "name", "-t", "all"]).stdout for g in (a, b)] == before
