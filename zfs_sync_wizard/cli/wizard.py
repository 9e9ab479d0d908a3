"""`zfs-sync-wizard`: set up, schedule and look after replication jobs by answering questions.

Without a command it opens a menu; each menu entry is also a command
(zfs-sync-wizard(1)).  Ctrl-C or Ctrl-D at any prompt ends it with exit
status 130 and nothing half-written.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..errors import ExitCode, ZswError
from ..jobs import names, paths
from ..wizard import envcheck, flows, manage, sanoidconf
from ..wizard import restore as restoring
from ..wizard.context import Context
from ..wizard.prompts import Cancelled

PROG = "zfs-sync-wizard"
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
COMMANDS = {
    "create": ("create a job (NAME optional)", lambda ctx, name: flows.create(ctx, name)),
    "edit": ("change a job; shows the difference before saving", lambda ctx, name: flows.edit(ctx, name)),
    "run": ("show the plan, then run a job now", lambda ctx, name: manage.run(ctx, name)),
    "schedule": ("install a job in your crontab", lambda ctx, name: manage.schedule_job(ctx, name)),
    "unschedule": ("remove a job from your crontab", lambda ctx, name: manage.unschedule(ctx, name)),
    "list": ("jobs, schedules, next and last runs", lambda ctx, name: manage.list_jobs(ctx)),
    "logs": ("recent runs of a job and their logs", lambda ctx, name: manage.logs(ctx, name)),
    "check": ("check this machine and every job", lambda ctx, name: envcheck.check(ctx)),
    "sanoid": (
        "write the job's sections of sanoid.conf on both sides",
        lambda ctx, name, source=None, destination=None: sanoidconf.command(ctx, name, source, destination),
    ),
    "restore": (
        "get data back from a job's backup: a snapshot into a new dataset, or single files (--browse)",
        lambda ctx, name, browse=False: restoring.restore(ctx, name, browse),
    ),
}
NEEDS_NAME = {"edit", "run", "schedule", "unschedule", "logs", "sanoid"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Set up ZFS replication jobs by answering questions; without a command, a menu.",
        epilog="exit status: 0 done, 1 a check or run failed, 2 bad command line or job file, 130 cancelled",
    )
    p.add_argument(
        "--config-dir", metavar="DIR", help="default: $ZFS_SYNC_CONFIG_DIR, /etc/zfs-sync-wizard for root"
    )
    p.add_argument(
        "--state-dir", metavar="DIR", help="default: $ZFS_SYNC_STATE_DIR, /var/lib/zfs-sync-wizard for root"
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command, (text, _) in COMMANDS.items():
        cp = sub.add_parser(command, help=text, description=text)
        if command in ("create", "restore"):
            cp.add_argument("name", nargs="?", metavar="NAME")
        if command == "restore":
            cp.add_argument(
                "--browse", action="store_true", help="copy single files or folders out of a snapshot"
            )
        elif command in NEEDS_NAME:
            cp.add_argument("name", metavar="NAME")
        if command == "sanoid":
            cp.add_argument(
                "--sanoid-conf",
                metavar="PATH",
                help="the source's sanoid.conf, or the folder holding it (default /etc/sanoid/sanoid.conf)",
            )
            cp.add_argument(
                "--destination-sanoid-conf",
                metavar="PATH",
                help="the same on the destination host (default /etc/sanoid/sanoid.conf)",
            )
    return p


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    _extend_path()
    ctx = Context(
        config_dir=paths.config_dir(args.config_dir),
        state_dir=paths.state_dir(args.state_dir),
        state_dir_given=bool(args.state_dir),
    )
    if args.command == "sanoid":
        return dispatch(ctx, "sanoid", args.name, args.sanoid_conf, args.destination_sanoid_conf)
    if args.command == "restore":
        return dispatch(ctx, "restore", args.name, browse=args.browse)
    return dispatch(ctx, args.command, getattr(args, "name", None))


def _extend_path() -> None:
    # zfs and zpool live in /usr/sbin or /sbin, often missing from a user's PATH
    have = os.environ.get("PATH", "").split(":")
    os.environ["PATH"] = ":".join(have + [d for d in SYSTEM_PATH if d not in have]).strip(":")


def dispatch(ctx: Context, command: str | None, name: str | None = None, *options, **flags) -> int:
    try:
        if command is None:
            return menu(ctx)
        if name is not None:
            names.job_name(name)
        return int(COMMANDS[command][1](ctx, name, *options, **flags))
    except (Cancelled, KeyboardInterrupt):
        ctx.ui.say()
        ctx.ui.say("Cancelled; nothing was saved.")
        return ExitCode.INTERRUPTED
    except ZswError as exc:
        _error(exc)
        return int(exc.exit_code)
    except ValueError as exc:
        _error(exc)
        return ExitCode.USAGE


def _error(exc: Exception) -> None:
    print(f"{PROG}: {exc}", file=sys.stderr, flush=True)


MENU = (
    ("Create a job", "create"),
    ("Edit a job", "edit"),
    ("Run a job now", "run"),
    ("Schedule a job", "schedule"),
    ("Unschedule a job", "unschedule"),
    ("List jobs and schedules", "list"),
    ("Show a job's logs", "logs"),
    ("Restore from a backup", "restore"),
    ("Check the environment", "check"),
    ("Quit", "quit"),
)


def menu(ctx: Context) -> int:
    """The menu: one command after another until Quit; a failed command returns here."""
    ui = ctx.ui
    ui.say(f"{PROG} {__version__}: job files in {paths.jobs_dir(ctx.config_dir)}")
    last = ExitCode.OK
    while True:
        command = ui.select(
            "What would you like to do?", MENU, default="create" if not _job_names(ctx) else "list"
        )
        if command == "quit":
            return int(last)
        name = None
        if command in NEEDS_NAME:
            name = _choose_job(ctx, command)
            if name is None:
                continue
        try:
            last = COMMANDS[command][1](ctx, name)
        except ZswError as exc:
            ui.problem(str(exc))
            last = exc.exit_code


def _job_names(ctx: Context) -> list[str]:
    return sorted(p.stem for p in paths.jobs_dir(ctx.config_dir).glob("*.yaml"))


def _choose_job(ctx: Context, command: str) -> str | None:
    jobs = _job_names(ctx)
    if not jobs:
        ctx.ui.say("No jobs yet: create one first.")
        return None
    choices = [(n, n) for n in jobs] + [("(back to the menu)", None)]
    return ctx.ui.select(f"Which job ({command})?", choices, default=jobs[0])


if __name__ == "__main__":
    sys.exit(main())
