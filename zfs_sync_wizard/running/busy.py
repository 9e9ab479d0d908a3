"""ZFS commands that zfs refuses with "dataset is busy" for a moment after the
dataset was last used: zfs-fuse releases an unmounted dataset or a read clone
late; OpenZFS while an unmount settles.  Such a command is tried again with
growing pauses (about 16 s in all) before the refusal stands."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from ..errors import CommandFailed
from ..jobs.endpoint import Endpoint
from .execute import Executor, Result

log = logging.getLogger("zfs_sync_wizard")
PAUSES = (0.2, 0.5, 1, 2, 4, 8)


def run(ex: Executor, endpoint: Endpoint, argv: Sequence[str]) -> Result | None:
    """`ex.run(endpoint, argv, changes=True)`, tried again while zfs says the dataset is busy;
    CommandFailed once that stands (or for any other refusal, at once)."""
    for pause in PAUSES:
        try:
            return ex.run(endpoint, argv, changes=True)
        except CommandFailed as exc:
            if "busy" not in exc.stderr:
                raise
            log.debug("%s on %s: busy; again in %g s", " ".join(argv), endpoint.label, pause)
            time.sleep(pause)
    return ex.run(endpoint, argv, changes=True)  # the last try: its refusal stands
