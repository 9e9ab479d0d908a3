"""Record docs/wizard-transcript.md from a real session, with nothing added by hand.

Builds the sandbox (two zfs-fuse hosts with sshd, each in its own
namespaces), installs this checkout as a wheel into a fresh venv (as users
install it), and types into the installed `zfs-sync-wizard` on a real
terminal (tmux, on the source host) the keys a person would: create a job,
run it (its progress drawn by the runner), restore its snapshot.  Each key
is sent only once the question it answers is on the screen.  The pane's
text, as `tmux capture-pane -p -J` gives it, goes into the markdown
verbatim.  The source host's crontab spool is a scratch directory bound
over the real one in that host's private mount namespace, so this
machine's crontab is never touched.  Everything it made is removed.

    .venv/bin/python -m dev.record_transcript [OUTPUT]     (as root, from the checkout)

OUTPUT defaults to docs/wizard-transcript.md.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import time
from pathlib import Path

from tests import installed

from .sandbox import Sandbox, SandboxError
from .sandbox.proc import SYSTEM_PATH

REPO = Path(__file__).resolve().parents[1]
BASE = Path("/tmp/zsw-transcript")  # the venv, the job's config and state, tmux's socket
SPOOL = "/var/spool/cron/crontabs"
COLUMNS, ROWS = 120, 50
PROMPT = "root@zsw-src:/# "
COMMAND = ".venv/bin/python -m dev.record_transcript"
WAIT = 180  # seconds any one screen may take to appear


class Terminal:
    """A shell on the host in a tmux pane: lines typed, keys pressed, the screen read."""

    def __init__(self, host, path: str):
        self.host, self.sock = host, str(BASE / "tmux.sock")
        conf = BASE / "tmux.conf"
        conf.write_text("set -g history-limit 10000\nset -g status off\n")
        shell = f"env PATH={shlex.quote(path)} PS1={shlex.quote(PROMPT)} bash --norc --noprofile"
        self.tmux("-f", str(conf), "new-session", "-d", "-s", "zsw", "-x", str(COLUMNS), "-y", str(ROWS))
        self.tmux("respawn-pane", "-k", "-t", "zsw", "-c", "/", shell)
        self.seen: dict[str, int] = {}
        self.expect(PROMPT)

    def tmux(self, *args: str) -> str:
        return self.host.run(["tmux", "-S", self.sock, *args], timeout=30, cwd="/").stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", "zsw")

    def expect(self, text: str) -> None:
        """Wait until `text` is on the screen once more than it was before."""
        wanted = self.seen.get(text, 0) + 1
        deadline = time.monotonic() + WAIT
        while self.screen().count(text) < wanted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {WAIT} s for {text!r}; the screen:\n{self.screen()}")
            time.sleep(0.2)  # polling the condition, not a fixed wait
        self.seen[text] = wanted

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "zsw", "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "zsw", *keys)

    def answer(self, question: str, *, text: str = "", key: str = "Enter") -> None:
        """Once `question` shows (questionary's '? ' before it): type `text` (if any), then press `key`."""
        self.expect(f"? {question}")
        if text:
            self.type(text)
        if key:
            self.press(key)

    def command(self, line: str) -> None:
        self.type(line)
        self.press("Enter")

    def close(self) -> None:
        self.host.run(["tmux", "-S", self.sock, "kill-server"], check=False)


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else REPO / "docs" / "wizard-transcript.md"
    if BASE.exists():
        shutil.rmtree(BASE)  # a previous recording's
    BASE.mkdir(parents=True)
    try:
        product = installed.build(BASE)  # BASE/venv: the wheel of this checkout, as pip installs it
        with Sandbox(mode="fuse") as sbx:
            screen = _record(sbx, product)
    except SandboxError as exc:
        print(f"record_transcript: could not build the sandbox: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(BASE, ignore_errors=True)
    lines = screen.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    output.write_text(_markdown("\n".join(lines)))
    print(f"wrote {output}")
    return 0


def _record(sbx: Sandbox, product) -> str:
    src, dst = sbx.src, sbx.dst
    src.create_pool("tank", size="512M")  # room for the data and its restored copy
    dst.create_pool("backup", size="512M")
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movies/big-buck-bunny.mkv", 48 << 20)
    src.write_file("tank/media", "README.txt", b"Plex media library\n")
    # a backup host this machine has never logged in to: its host key is not known yet
    for name in (dst.address, dst.hostname):
        src.run(["ssh-keygen", "-q", "-R", name, "-f", "/root/.ssh/known_hosts"], check=False)
    spool = BASE / "crontabs"
    spool.mkdir()
    spool.chmod(0o1730)
    src.sh('mount --bind "$1" "$2"', str(spool), SPOOL)
    term = Terminal(src, f"{product.venv / 'bin'}:{SYSTEM_PATH}")
    try:
        _session(term, dst)
        return term.screen()
    finally:
        term.close()
        src.sh('umount "$1"', SPOOL)


def _session(term: Terminal, dst) -> None:
    dirs = f"--config-dir {BASE}/config --state-dir {BASE}/state"
    term.command(f"zfs-sync-wizard {dirs} create")
    term.answer("Where does the data go?")  # push
    term.answer("Source dataset", text="media")  # type to filter, Enter takes it
    term.answer("Destination host ([user@]host)", text=f"root@{dst.address}")
    term.answer("SSH port")
    term.answer("SSH key")
    term.answer("Is this the right key?", key="y")
    term.answer("Destination dataset")
    term.answer("Change these transfer options?")
    term.answer("Which snapshots should be replicated?")
    term.answer("How many of the newest")
    term.answer("Snapshots to keep on the source")
    term.answer("Snapshots to keep on the destination")
    term.answer("Job name")
    term.answer("When should it run?")
    term.answer("Show the exact commands?")  # No: the plan in words is enough here
    term.answer("Save /")
    term.answer("Install the schedule")
    term.expect(PROMPT)

    term.command(f"zfs-sync-wizard {dirs} run media")
    term.answer("Show the exact commands?")
    term.answer("Run it now?")
    term.answer("Verify it now")
    term.expect(PROMPT)

    term.command(f"zfs-sync-wizard {dirs} restore media")
    term.answer("Which snapshot? (newest first)")
    term.answer("Where should it go?")  # beside the source
    term.answer("Restore @")
    term.answer("Swap the restored dataset into place now?")  # No
    term.expect(PROMPT)


def _markdown(screen: str) -> str:
    return f"""# A session with zfs-sync-wizard

A real session, recorded by `{COMMAND}` (as root, from the checkout;
[dev/record_transcript.py](../dev/record_transcript.py)). It builds the
project's sandbox: two zfs-fuse hosts with sshd, each in its own network
namespace, this machine `zsw-src` with pool `tank` (`tank/media` holds a
48 MiB file) and a backup host at `10.231.0.2` with pool `backup`, whose host
key this machine has not seen yet. It installs the checkout as a wheel into
a fresh venv (`{BASE}/venv`, put on `PATH`), then types into the installed
`zfs-sync-wizard`, on a {COLUMNS}x{ROWS} tmux terminal on `zsw-src`, what a
person types: create a job, run it, restore its snapshot. Each key is sent
once its question is on the screen; most are Enter on the proposed answer.
Below is the terminal's text as `tmux capture-pane -p -J -S -2000` gave it,
unedited (only the blank lines after the last prompt are left out).
Answered questions read `? question answer`; the runner's progress bar
(pv's) shows its last state. `--config-dir` and `--state-dir` point at a
scratch directory, which is why they appear in the crontab line; with the
defaults (root: `/etc/zfs-sync-wizard`, `/var/lib/zfs-sync-wizard`) the
commands are just `zfs-sync-wizard create`, `run media`, `restore media`.

```
{screen}
```
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
