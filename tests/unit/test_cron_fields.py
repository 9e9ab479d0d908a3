"""Cron expressions checked field by field: the message names the field and the value at fault."""

from __future__ import annotations

import pytest
from croniter import croniter

from zfs_sync_wizard.schedule import cron

ACCEPTED = [
    ("0 2 * * *", "0 2 * * *"),
    ("  30   1 * * 1-5 ", "30 1 * * 1-5"),
    ("*/15 * * * *", "*/15 * * * *"),
    ("0 0-23/2 * * *", "0 0-23/2 * * *"),
    ("0,30 8,20 * * *", "0,30 8,20 * * *"),
    ("0 2 * * mon-fri", "0 2 * * mon-fri"),
    ("0 2 * * MON,wed", "0 2 * * MON,wed"),
    ("0 3 1 jan-jun/2 *", "0 3 1 jan-jun/2 *"),
    ("0 2 * * 7", "0 2 * * 7"),  # Sunday, as 0 is
    ("59 23 31 12 6", "59 23 31 12 6"),
    ("@daily", "@daily"),
    ("@HOURLY", "@hourly"),
    ("@annually", "@annually"),
]


@pytest.mark.parametrize("expression, normalized", ACCEPTED)
def test_accepted_and_valid_for_croniter(expression, normalized):
    assert cron.check_expression(expression) == normalized
    assert croniter.is_valid(normalized)


REFUSED = [
    ("61 * * * *", "minute 61 is out of range 0-59"),
    ("0 24 * * *", "hour 24 is out of range 0-23"),
    ("0 2 0 * *", "day of month 0 is out of range 1-31"),
    ("0 2 32 * *", "day of month 32 is out of range 1-31"),
    ("0 2 * 13 *", "month 13 is out of range 1-12"),
    ("0 2 * 0 *", "month 0 is out of range 1-12"),
    ("0 2 * * 8", "day of week 8 is out of range 0-7"),
    ("0 2 * foo *", "month 'foo' is not a number 1-12 or a name jan-dec"),
    ("0 2 * * mo", "day of week 'mo' is not a number 0-7 or a name sun-sat"),
    ("0 2 * * jan", "day of week 'jan' is not a number 0-7 or a name sun-sat"),
    ("x * * * *", "minute 'x' is not a number 0-59"),
    ("0 -1 * * *", "hour: a range needs a number on each side of '-'"),
    ("30-10 * * * *", "minute range 30-10 goes backwards"),
    ("*/0 * * * *", "minute step 0 must be at least 1"),
    ("*/x * * * *", "minute step 'x' is not a whole number"),
    ("5/10 * * * *", "minute '5/10': a step needs a range or *"),
    ("1,,2 * * * *", "minute '1,,2' has an empty item in its list"),
    ("0 2 ? * *", "day of month '?': cron has no ? L W or #"),
    ("0 2 L * *", "day of month 'L': cron has no ? L W or #"),
    ("* * *", "expected five fields: minute hour day-of-month month day-of-week, got 3"),
    ("0 0 2 * * *", "expected five fields: minute hour day-of-month month day-of-week, got 6"),
    ("", "expected five fields"),
    ("@reboot", "'@reboot' is not one of @hourly, @daily"),
    ("@nightly", "'@nightly' is not one of"),
]


@pytest.mark.parametrize("expression, message", REFUSED)
def test_refused_with_the_exact_problem(expression, message):
    with pytest.raises(ValueError) as info:
        cron.check_expression(expression)
    assert str(info.value).startswith(message)
