"""Throwaway ZFS "hosts" on one machine, for integration tests and the demo.

Two modes (see fuse.py and openzfs.py):

- fuse (where OpenZFS is absent): hosts ``src`` (zsw-src, 10.231.0.1) and
  ``dst`` (zsw-dst, 10.231.0.2), each with its own namespaces, zfs-fuse
  daemon and sshd on port 22. Run on src, ``ssh root@10.231.0.2 CMD`` (or
  ``root@zsw-dst``) works with BatchMode and StrictHostKeyChecking=yes and
  no options: the host's /root/.ssh holds the client key and known_hosts.
- openzfs (where OpenZFS is present): both hosts are this machine; pools get
  unique names; one sshd on 127.0.0.1:<port>: use ``ssh_client_options``.

API::

    with Sandbox() as sbx:               # Sandbox(base_dir=None, *, data_dir=None, mode=None)
        sbx.mode, sbx.id, sbx.timings
        src, dst = sbx.src, sbx.dst      # also sbx.hosts; sbx.reset() between tests
        src.name, src.hostname, src.address, src.ssh_port
        src.client_key, src.known_hosts  # paths usable from the root namespace
        src.run(argv, check=True, input=None, env=None, timeout=60, cwd=None)
        src.sh(script, *args, **run_kwargs)          # sh -c script sh *args
        pool = src.create_pool("tank", size="128M", properties=None)  # real name
        src.write_file("tank/a", "dir/f", b"data")
        src.write_random("tank", "big", 10 << 20)
        src.checksum("tank"), src.checksum("tank@snap")  # sha256 of the tree
        src.snapshots("tank")            # {"snap": "guid", ...}, oldest first
        src.props("tank")                # zfs get -Hp -r all tank
        src.hide_command("mbuffer")      # absent on src only (fuse mode)
        src.unhide_command("mbuffer")
        src.destroy_pool("tank")
        src.run(["/path/to/venv/bin/zfs-sync-run", ...])   # the product, by its path
    ssh_client_options(dst)              # -p, -i, UserKnownHostsFile, ...

Commands run with a clean environment (fixed PATH, HOME=/root,
LANG=C.UTF-8; no PYTHONPATH, no virtualenv on PATH). A failed
command raises ``CommandError`` (a ``SandboxError``) naming host and stderr.

Crash safety: state lives in /run/zsw-sandbox/<id>/ and pool images in
/var/tmp/zsw-sandbox/<id>/; ``start()`` first reaps every sandbox whose
owner process is dead (see state.py). Sandboxes with different ids coexist.
"""

from __future__ import annotations

from .detect import OPENZFS_SKIP_MESSAGE, fuse_mode_unavailable, openzfs_present
from .host import Host
from .proc import CommandError, SandboxError
from .sandbox import Sandbox
from .sshkit import ssh_client_options

__all__ = [
    "OPENZFS_SKIP_MESSAGE",
    "CommandError",
    "Host",
    "Sandbox",
    "SandboxError",
    "fuse_mode_unavailable",
    "openzfs_present",
    "ssh_client_options",
]
