"""zfs-sync-wizard: guided, safe ZFS replication over SSH."""

__version__ = "0.1.0"
