"""sanoid: reading which datasets sanoid manages, and the sanoid.conf
section for a job's snapshots (pure)."""
