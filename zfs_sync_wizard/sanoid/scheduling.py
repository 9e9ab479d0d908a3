"""Is sanoid installed and scheduled on a host (pure): the probe to run there, and
what its answer means, with the exact commands that fix what is missing.

sanoid does nothing by itself: Debian's package enables `sanoid.timer`
(systemd) and ships /etc/cron.d/sanoid, whose line runs only where systemd
is not running.  So with systemd the timer must be enabled; without it, an
active cron line that starts sanoid must exist.
"""

from __future__ import annotations

from dataclasses import dataclass

CONF = "/etc/sanoid/sanoid.conf"
CRON_FILE = "/etc/cron.d/sanoid"
# the line Debian's package ships, without its "only without systemd" guard
CRON_LINE = "*/15 * * * * root TZ=UTC {program} --cron --quiet"
ENABLE_TIMER = "systemctl enable --now sanoid.timer"

# one line per fact; cron lines as `cron=FILE:LINE` (grep -H)
PROBE = """\
p=$(command -v sanoid 2>/dev/null) && echo "program=$p" || echo "program="
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
command -v systemctl >/dev/null 2>&1 && echo "timer=$(systemctl is-enabled sanoid.timer 2>/dev/null)"
for f in /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* /var/spool/cron/*; do
  [ -f "$f" ] && grep -H sanoid "$f" 2>/dev/null | sed 's/^/cron=/'
done
exit 0
"""


@dataclass(frozen=True)
class State:
    program: str  # sanoid's path; "" when it is not installed
    systemd: bool  # systemd runs this host
    timer: str  # `systemctl is-enabled sanoid.timer`: enabled, disabled, masked, ... or ""
    cron: tuple  # active cron lines that start sanoid, as "FILE:LINE"

    @property
    def scheduled(self) -> bool:
        return (self.systemd and self.timer == "enabled") or bool(self.cron)


def parse(output: str) -> State | None:
    """The probe's answer; None when it did not answer (the host could not be asked)."""
    facts: dict = {"cron": []}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "cron":
            facts["cron"].append(value)
        else:
            facts[key] = value.strip()
    if "program" not in facts:
        return None
    systemd = facts.get("systemd") == "yes"
    return State(
        program=facts["program"],
        systemd=systemd,
        timer=facts.get("timer", ""),
        cron=tuple(line for line in facts["cron"] if _runs_sanoid(line, systemd)),
    )


def _runs_sanoid(grepped: str, systemd: bool) -> bool:
    """A cron line (FILE:LINE) that starts sanoid here, not a comment or a variable."""
    _, _, line = grepped.partition(":")
    line = line.strip()
    if not line or line.startswith("#") or "=" in line.split()[0]:
        return False
    if systemd and "/run/systemd/system" in line:  # Debian's line steps aside for the timer
        return False
    return True


def advice(state: State | None, host: str, conf: str = CONF) -> list[str]:
    """What to do so that sanoid reads `conf` and runs on `host`; [] when nothing is missing."""
    if state is None:
        return [f"could not ask {host} whether sanoid is installed and scheduled"]
    out = []
    if not state.program:
        out.append(
            f"sanoid is not installed on {host}: install it (Debian, Ubuntu: apt-get install sanoid), "
            "or nothing takes or prunes these snapshots"
        )
    elif not state.scheduled:
        if state.systemd:
            how = f"run: {ENABLE_TIMER}" + (f" (it is {state.timer} now)" if state.timer else "")
        else:
            how = f"add this line to {CRON_FILE}:\n{CRON_LINE.format(program=state.program)}"
        out.append(f"sanoid is installed on {host} but nothing starts it: {how}")
    if conf != CONF:
        out.append(
            f"sanoid reads {CONF}; for {conf} it must be started with --configdir "
            f"{conf.rsplit('/', 1)[0] or '/'} (in its timer or cron line)"
        )
    return out
