"""Command-line entry points: `zfs-sync-run` and `zfs-sync-wizard`."""
