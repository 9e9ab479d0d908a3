"""busy.run: a zfs command refused as busy is tried again, any other refusal stands at once."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.errors import CommandFailed
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.running import busy
from zfs_sync_wizard.running.execute import Result

RENAME = ["zfs", "rename", "tank/media", "tank/media-old-20261201"]
BUSY = "cannot rename 'tank/media': dataset is busy"


class Answers:
    """An executor whose commands get the given stderr texts in turn ('' succeeds)."""

    def __init__(self, *answers: str):
        self.answers, self.calls = list(answers), 0

    def run(self, endpoint, argv, *, changes, check=True):
        assert changes and check and list(argv) == RENAME
        self.calls += 1
        stderr = self.answers.pop(0)
        if stderr:
            raise CommandFailed(endpoint.label, " ".join(argv), 1, stderr)
        return Result("", "", 0)


@pytest.fixture
def pauses(monkeypatch) -> list:
    slept: list = []
    monkeypatch.setattr(busy.time, "sleep", slept.append)
    return slept


@pytest.mark.parametrize(
    "answers, calls, slept",
    [
        (("",), 1, []),
        ((BUSY, ""), 2, [0.2]),
        ((BUSY, BUSY, BUSY, ""), 4, [0.2, 0.5, 1]),
    ],
)
def test_busy_is_tried_again_until_it_works(pauses, answers, calls, slept):
    ex = Answers(*answers)
    assert busy.run(ex, Endpoint(), RENAME) == Result("", "", 0)
    assert ex.calls == calls and pauses == slept


def test_busy_that_stands_is_raised_after_the_last_pause(pauses):
    ex = Answers(*[BUSY] * 7)
    with pytest.raises(CommandFailed, match="dataset is busy"):
        busy.run(ex, Endpoint(), RENAME)
    assert ex.calls == 7 and pauses == list(busy.PAUSES)


def test_any_other_refusal_is_raised_at_once(pauses):
    ex = Answers("cannot rename to 'tank/media-old-20261201': dataset already exists", "")
    with pytest.raises(CommandFailed, match="already exists"):
        busy.run(ex, Endpoint(), RENAME)
    assert ex.calls == 1 and pauses == []
