"""Pure command building: every zfs argv (zfs), transfer pipelines as
stages (pipeline), ssh command lines and the ControlMaster setup (ssh), and
the prerequisite probes (probes).  Their rendering is the dry-run text;
running them is running/execute.py's job."""
