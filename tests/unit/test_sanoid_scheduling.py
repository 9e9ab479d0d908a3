"""sanoid/scheduling.py: is sanoid installed and started on a host, and what to do if not."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.sanoid import scheduling

DEBIAN_CRON = (
    "cron=/etc/cron.d/sanoid:*/15 * * * * root [ -f /etc/sanoid/sanoid.conf ] && "
    "if [ ! -d /run/systemd/system ]; then TZ=UTC /usr/sbin/sanoid --cron --quiet; fi"
)


@pytest.mark.parametrize(
    "output, scheduled, advice",
    [
        # Debian's package on a systemd machine: the timer, enabled
        ("program=/usr/sbin/sanoid\nsystemd=yes\ntimer=enabled\n" + DEBIAN_CRON, True, []),
        # the timer disabled: Debian's cron line steps aside for systemd, so nothing runs
        (
            "program=/usr/sbin/sanoid\nsystemd=yes\ntimer=disabled\n" + DEBIAN_CRON,
            False,
            [
                "sanoid is installed on h but nothing starts it: run: systemctl enable --now sanoid.timer (it is disabled now)"
            ],
        ),
        # a container without systemd: Debian's cron line runs it
        ("program=/usr/sbin/sanoid\nsystemd=no\ntimer=\n" + DEBIAN_CRON, True, []),
        # no systemd, the cron line commented out, a variable naming sanoid
        (
            "program=/usr/local/bin/sanoid\nsystemd=no\n"
            "cron=/etc/cron.d/sanoid:# */15 * * * * root sanoid --cron\n"
            "cron=/etc/crontab:SANOID=/usr/sbin/sanoid\n",
            False,
            [
                "sanoid is installed on h but nothing starts it: add this line to /etc/cron.d/sanoid:\n"
                "*/15 * * * * root TZ=UTC /usr/local/bin/sanoid --cron --quiet"
            ],
        ),
        # a user's crontab line
        (
            "program=/usr/sbin/sanoid\nsystemd=no\ncron=/var/spool/cron/crontabs/root:*/5 * * * * sanoid --cron\n",
            True,
            [],
        ),
        (
            "program=\nsystemd=yes\ntimer=\n",
            False,
            [
                "sanoid is not installed on h: install it (Debian, Ubuntu: apt-get install sanoid), or nothing takes or prunes these snapshots"
            ],
        ),
    ],
)
def test_installed_and_scheduled(output, scheduled, advice):
    state = scheduling.parse(output)
    assert state.scheduled == scheduled
    assert scheduling.advice(state, "h") == advice


def test_no_answer_and_another_config_folder():
    assert scheduling.parse("") is None
    assert scheduling.advice(None, "h") == ["could not ask h whether sanoid is installed and scheduled"]
    state = scheduling.parse("program=/usr/sbin/sanoid\nsystemd=yes\ntimer=enabled\n")
    assert scheduling.advice(state, "h", "/srv/sanoid/sanoid.conf") == [
        "sanoid reads /etc/sanoid/sanoid.conf; for /srv/sanoid/sanoid.conf it must be started with "
        "--configdir /srv/sanoid (in its timer or cron line)"
    ]
