"""Raw sends, holds and direct remote-to-remote transfers on real OpenZFS."""

from __future__ import annotations

import pytest

from .product import Product, ok, same

pytestmark = pytest.mark.timeout(600)
PASSPHRASE = "correct horse battery staple"


def encrypted(guest, dataset: str) -> None:
    guest.sh(
        'printf "%s" "$2" | zfs create -o encryption=on -o keyformat=passphrase -o keylocation=prompt "$1"',
        dataset,
        PASSPHRASE,
    )


def test_an_encrypted_dataset_is_sent_raw_and_readable_after_loading_the_key(pools, tmp_path):
    a, b = pools.a, pools.b
    encrypted(a, "tank/secret")
    a.write_random("tank/secret", "ledger.db", 1 << 20)
    product = Product(tmp_path)
    product.job("secret", a.job_side("tank/secret"), b.job_side("backup/secret"))
    dry = product.run("--dry-run", "secret")
    assert "zfs send -w tank/secret@zsw_secret_" in dry.stdout
    ok(product.run("secret"))

    assert b.prop("backup/secret", "encryption") == "aes-256-gcm"
    assert b.prop("backup/secret", "keystatus") == "unavailable"  # only ciphertext arrived
    b.sh('printf "%s" "$2" | zfs load-key "$1"', "backup/secret", PASSPHRASE)
    same(a, "tank/secret", b, "backup/secret")


def test_an_interrupted_raw_send_resumes(pools, tmp_path):
    a, b = pools.a, pools.b
    encrypted(a, "tank/secret")
    a.write_random("tank/secret", "ledger.db", 16 << 20)
    product = Product(tmp_path)
    slow = {"compression": "none", "buffer": None, "bandwidth_limit": "1M", "retries": 0}
    product.job("secret", a.job_side("tank/secret"), b.job_side("backup/secret"), transfer=slow)
    before = b.allocated(pools.dst)
    running = product.start("secret")
    b.wait_for_process("zfs receive -u -s", timeout=120)
    b.wait_for_allocated(pools.dst, before + (1 << 20))  # data on disk: a token to resume from
    assert a.kill("zfs send") >= 1
    assert running.wait().returncode == 1

    ok(product.run("secret"))
    assert product.record("secret")["sent"][0]["kind"] == "resume"
    assert b.prop("backup/secret", "encryption") == "aes-256-gcm"
    b.sh('printf "%s" "$2" | zfs load-key "$1"', "backup/secret", PASSPHRASE)
    same(a, "tank/secret", b, "backup/secret")


def test_the_incremental_base_survives_an_attempt_to_destroy_it(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "a.bin", 256 << 10)
    product = Product(tmp_path)
    product.job("media", a.job_side("tank/media"), b.job_side("backup/media"))
    ok(product.run("media"))
    (base,) = a.snapshots("tank/media")
    for guest, dataset in ((a, "tank/media"), (b, "backup/media")):
        refused = guest.run(["zfs", "destroy", f"{dataset}@{base}"], check=False)
        assert refused.returncode != 0 and "it's being held" in refused.stderr  # OpenZFS 2.3's wording
        assert "zsw_media" in guest.run(["zfs", "holds", "-H", f"{dataset}@{base}"]).stdout
    a.write_random("tank/media", "b.bin", 64 << 10)
    ok(product.run("media"))  # the incremental had its base
    assert base not in a.snapshots("tank/media")  # released, then pruned
    same(a, "tank/media", b, "backup/media")


def test_direct_remote_to_remote_streams_between_the_guests(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "a.bin", 512 << 10)
    product = Product(tmp_path)
    direct = {"direct": True, "direct_host": "root@10.0.2.2"}  # b, as a reaches it
    product.job("direct", a.job_side("tank/media"), b.job_side("backup/media"), transfer=direct)
    ok(product.run("direct"))
    same(a, "tank/media", b, "backup/media")
    assert product.record("direct")["bytes"] > 512 << 10


def test_a_rollback_names_every_snapshot_and_bookmark_it_destroys(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "movie.mkv", 1 << 20)
    product = Product(tmp_path)
    product.job("media", a.job_side("tank/media"), b.job_side("backup/media"))
    ok(product.run("media"))
    b.run(["zfs", "snapshot", "backup/media@made-on-backup"])
    b.run(["zfs", "bookmark", "backup/media@made-on-backup", "backup/media#marked-on-backup"])
    a.write_random("tank/media", "more.mkv", 1 << 20)
    common = list(a.snapshots("tank/media"))[-1]

    rolled = product.run("--rollback", "media")
    assert rolled.returncode == 0, rolled.stderr
    where = f"{b.job_side('backup/media')['host']}:{b.ssh_port}:backup/media"
    assert rolled.stderr.splitlines() == [
        f"zfs-sync-run: media: destroying on the destination: {where}: snapshot @made-on-backup "
        f"(zfs rollback -r to @{common})",
        f"zfs-sync-run: media: destroying on the destination: {where}: bookmark #marked-on-backup "
        f"(zfs rollback -r to @{common})",
    ]
    assert len(product.record("media")["destroyed"]) == 2
    gone = b.run(["zfs", "list", "-t", "bookmark", "backup/media#marked-on-backup"], check=False)
    assert gone.returncode != 0
    same(a, "tank/media", b, "backup/media")


def unprivileged(guest, user: str = "zsw") -> None:
    """A user on the guest that this machine's client key logs in as; no zfs rights yet.
    (Password "*", not useradd's locked "!": sshd without PAM refuses locked accounts.)"""
    guest.sh(
        'id "$1" >/dev/null 2>&1 || useradd -m -s /bin/sh -p "*" "$1"; mkdir -p /home/"$1"/.ssh;'
        ' cp /root/.ssh/authorized_keys /home/"$1"/.ssh/; chown -R "$1": /home/"$1"/.ssh;'
        ' chmod 700 /home/"$1"/.ssh',
        user,
    )


def test_a_job_runs_as_unprivileged_users_given_exactly_what_check_prints(pools, tmp_path):
    a, b = pools.a, pools.b
    for guest in (a, b):
        unprivileged(guest)
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "movie.mkv", 1 << 20)
    product = Product(tmp_path)
    as_zsw = {"host": f"zsw@{a.address_from_host}"}
    product.job(
        "media",
        dict(a.job_side("tank/media"), **as_zsw),
        dict(b.job_side("backup/media"), host=f"zsw@{b.address_from_host}"),
    )
    check = product.run("--check", "media")
    assert check.returncode == 0, check.stderr
    lines = [
        x.split("to run without root, ", 1)[1]
        for x in check.stdout.splitlines()
        if "to run without root, " in x
    ]
    assert lines == [
        f"on zsw@{a.address_from_host}:{a.ssh_port}: zfs allow -u zsw send,hold,release,snapshot,destroy,mount tank/media",
        f"on zsw@{b.address_from_host}:{b.ssh_port}: zfs allow -u zsw receive,create,mount,hold,release,destroy,readonly backup",
    ]
    denied = product.run("media")
    assert denied.returncode == 1 and "permission denied" in denied.stderr.lower()

    for line, guest in zip(lines, (a, b)):
        guest.run(line.split(": ", 1)[1].split())  # exactly what --check printed, by root there
    ok(product.run("media"))
    a.write_random("tank/media", "more.mkv", 1 << 20)
    ok(product.run("media"))  # incremental, holds moved, the old snapshot pruned: all as zsw
    same(a, "tank/media", b, "backup/media")
    (base,) = b.snapshots("backup/media")
    assert b.prop(f"backup/media@{base}", "userrefs") == "1"
