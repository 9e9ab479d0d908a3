#!/usr/bin/env python3
"""`zfs-sync-gate`: the forced command of a restricted ssh key (authorized_keys
`restrict,command="zfs-sync-gate --send tank/media"`), letting through only
what zfs-sync-run runs on that host, for the datasets named.

zfs-sync-run sends every remote command as `env LC_ALL=C sh -c SCRIPT`, and
its scripts use a small part of the shell: simple commands joined by `|`,
`;`, `&&`, `||`, brace groups, redirections to stderr or /dev/null, and `$?`.
The gate reads SCRIPT in that grammar only (any other character, expansion
or construct is refused), checks every command against the allow list and
every dataset against the roots it was given, then runs a script it renders
itself from the checked words, each one quoted again: what runs is what was
checked, never a second reading of the original text.

Self-contained (standard library only, no import of the rest of the
package), so it can be copied to a host that does not have zfs-sync-wizard
installed: `install -m 755 gate.py /usr/local/bin/zfs-sync-gate`.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import struct
import sys
import zlib

_PLAIN = re.compile(r"[\w@%+=:,./-]")  # what shlex.quote leaves unquoted
_OPERATORS = ("||", "&&", "|", ";")
_REDIRECTS = {">&2", "2>&1", ">/dev/null", "2>/dev/null"}
STATUS = "\0status\0"  # stands for an unquoted `$?` inside a word


class Refused(Exception):
    pass


# -- reading the script ---------------------------------------------------------------


def tokens(script: str) -> list[str]:
    """Words (with `$?` as STATUS) and operators; anything outside the grammar is refused."""
    out: list[str] = []
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t":
            i += 1
            continue
        op = next((o for o in _OPERATORS if script.startswith(o, i)), None)
        if op:
            out.append(op)
            i += len(op)
            continue
        redirect = next(
            (r for r in sorted(_REDIRECTS, key=len, reverse=True) if script.startswith(r, i)), None
        )
        if redirect and (i + len(redirect) == n or script[i + len(redirect)] in " \t;|&}"):
            out.append(redirect)
            i += len(redirect)
            continue
        word, end = _word(script, i)
        if end == i:
            raise Refused(f"character {c!r} is not allowed")
        out.append(word)
        i = end
    return out


def _word(script: str, i: int) -> tuple[str, int]:
    word, n = "", len(script)
    while i < n and script[i] not in " \t;|&":
        c = script[i]
        if c == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise Refused("unterminated quote")
            word, i = word + script[i + 1 : end], end + 1
        elif c == '"':
            end = script.find('"', i + 1)
            text = script[i + 1 : end] if end >= 0 else ""
            if end < 0 or any(ch in text for ch in "$`\\"):
                raise Refused("a double-quoted word with an expansion")
            word, i = word + text, end + 1
        elif script.startswith("$?", i):
            word, i = word + STATUS, i + 2
        elif _PLAIN.match(c) or c in "{}":
            word, i = word + c, i + 1
        else:
            raise Refused(f"character {c!r} is not allowed")
    return word, i


def commands(words: list[str]) -> list[list[str]]:
    """The argv of each command of the script (redirections, all harmless, left
    out), checking its shape: `{` and `}` only as brace groups."""
    out: list[list[str]] = []
    argv: list[str] = []
    depth = 0
    for w in words + [";"]:
        if w == "{" and not argv:
            depth += 1
        elif w == "}" and not argv:
            depth -= 1
            if depth < 0:
                raise Refused("unbalanced braces")
        elif w in _OPERATORS:
            if argv:
                out.append(argv)
            argv = []
        elif w in _REDIRECTS:
            pass
        elif "{" in w or "}" in w:
            raise Refused(f"braces inside a word: {w!r}")
        else:
            argv.append(w)
    if depth:
        raise Refused("unbalanced braces")
    return out


def render(words: list[str]) -> str:
    """The script the gate runs: operators and redirections as they were, every word quoted."""
    out = []
    for w in words:
        if w in _OPERATORS or w in _REDIRECTS or w in ("{", "}"):
            out.append(w)
        else:
            out.append("$?".join(shlex.quote(part) if part else "" for part in w.split(STATUS)) or "''")
    return " ".join(out)


# -- what may run -----------------------------------------------------------------------

READ = {"list", "get"}
SEND = {"send", "snapshot", "hold", "release", "holds", "destroy"}
RECEIVE = {"receive", "recv", "hold", "release", "holds", "destroy", "create", "unmount", "set"}
# zfs options that take a value, per subcommand (the value is never a dataset unless listed)
_VALUED = {
    "list": "otsSd",
    "get": "otsd",
    "send": "iIt",
    "receive": "oxd",
    "recv": "oxd",
}
_DATASET_VALUED = {"i", "I"}  # send -i/-I take a snapshot


class Policy:
    def __init__(self, send: list[str], receive: list[str], rollback: bool):
        self.send, self.receive, self.rollback = send, receive, rollback

    def check(self, argv: list[str]) -> None:
        name = argv[0]
        if any(STATUS in w for w in argv) and name != "echo":
            raise Refused(f"$? outside echo: {shlex.join(argv)}")
        if name in ("echo", "true"):
            return
        if name == "command" and argv[1:2] == ["-v"] and len(argv) == 3:
            return
        if name == "zfs" and len(argv) > 1:
            return self._zfs(argv[1], argv[2:])
        if name == "zpool" and argv[1:] == ["list", "-H", "-o", "name"]:
            return
        if name == "zpool" and argv[1:2] == ["sync"] and len(argv) == 3 and argv[2] in self._pools():
            return  # before a source listing reads `written` (running/listing.py)
        if name in _STREAM and _stream_ok(argv):
            return
        raise Refused(f"not allowed: {shlex.join(argv)}")

    def _pools(self) -> set[str]:
        return {root.split("/")[0] for root in self.send}

    def _zfs(self, sub: str, args: list[str]) -> None:
        if sub not in READ | SEND | RECEIVE | {"rollback"}:
            raise Refused(f"zfs {sub} is not allowed")
        if any(a.startswith("--") for a in args):  # e.g. send --resume=TOKEN: never sent by the runner
            raise Refused(f"zfs {sub}: long options are not allowed")
        flags, values, positional = _split(sub, args)
        if sub == "send" and "t" in values:
            positional.append(resume_target(values["t"]))
        if sub == "get" and positional:
            positional = positional[1:]  # the property list
        elif sub in ("hold", "release") and positional:
            positional = positional[1:]  # the tag
        elif sub == "set":
            if not positional or positional[0] != "readonly=on":
                raise Refused("zfs set: only readonly=on")
            positional = positional[1:]
        elif sub == "destroy" and (
            # the dry run -nvp, or -r: a snapshot name in the descendants too (never a dataset)
            (flags and flags != {"r"} and ("n" not in flags or flags - {"n", "v", "p"}))
            or any("@" not in p and "#" not in p for p in positional)
        ):
            raise Refused("zfs destroy: only snapshots and bookmarks")
        elif sub == "rollback":
            if not self.rollback:
                raise Refused("zfs rollback: the gate was not given --rollback")
        if sub in ("receive", "recv") and "F" in flags and not self.rollback:
            raise Refused("zfs receive -F: the gate was not given --rollback")
        positional += [values[k] for k in _DATASET_VALUED if k in values and "@" not in values[k][:1]]
        for dataset in positional:
            self._dataset(sub, dataset)

    def _dataset(self, sub: str, name: str) -> None:
        base = re.split("[@#]", name, maxsplit=1)[0]
        if sub in READ and any(_under(base, r) or _under(r, base) for r in self.send + self.receive):
            return
        if sub in SEND and sub != "receive" and any(_under(base, r) for r in self.send):
            return
        if (sub in RECEIVE or sub == "rollback") and any(_under(base, r) for r in self.receive):
            return
        raise Refused(f"zfs {sub} of {name}: not under the datasets this key may use")


def _under(name: str, root: str) -> bool:
    return name == root or name.startswith(root + "/")


def _split(sub: str, args: list[str]) -> tuple[set, dict, list]:
    flags: set = set()
    values: dict = {}
    positional: list = []
    valued = _VALUED.get(sub, "")
    it = iter(args)
    for a in it:
        if a.startswith("-") and len(a) > 1:
            for j, letter in enumerate(a[1:]):
                if letter in valued:
                    rest = a[j + 2 :]
                    values[letter] = rest or next(it, "")
                    break
                flags.add(letter)
        else:
            positional.append(a)
    return flags, values, positional


# stream filters: (options, options taking a value); no file names, no output files
_STREAM = {
    "mbuffer": ({"-q"}, {"-s", "-m"}),
    "zstd": ({"-q", "-c", "-d", "-T0"}, set()),
    "lz4": ({"-q", "-c", "-d"}, set()),
    "pv": ({"-f", "-n", "-b", "-t", "-q"}, {"-i", "-s", "-L"}),
}
_LEVEL = re.compile(r"-\d{1,2}|--fast=\d{1,2}")
_SIZE = re.compile(r"\d+(\.\d+)?[kKmMgGtT]?")


def _stream_ok(argv: list[str]) -> bool:
    """A stream filter with the options zfs-sync-run gives it, reading stdin only."""
    flags, valued = _STREAM[argv[0]]
    it = iter(argv[1:])
    for a in it:
        if a in valued:
            if not _SIZE.fullmatch(next(it, "")):
                return False
        elif a not in flags and not (argv[0] == "zstd" and _LEVEL.fullmatch(a)):
            return False
    return True


def resume_target(token: str) -> str:
    """The snapshot a resume token sends (its `toname`): the token is
    `1-CKSUM-SIZE-HEX`, HEX a zlib-compressed packed nvlist."""
    try:
        _, _, _, payload = token.split("-", 3)
        data = zlib.decompress(bytes.fromhex(payload))
        return _nvlist_string(data, "toname")
    except (ValueError, zlib.error, struct.error, IndexError) as exc:
        raise Refused(f"unreadable resume token ({exc})") from None


def _nvlist_string(data: bytes, key: str) -> str:
    """A string pair of a native-encoded nvlist (nvpair: size, name size, reserved,
    element count, type, name padded to 8 bytes, value)."""
    order = "<" if data[1] == 1 else ">"
    offset = 4 + 8  # encoding header, then nvl_version and nvl_nvflag
    found = []
    while True:
        (size,) = struct.unpack_from(order + "i", data, offset)
        if size == 0:  # the list's end
            break
        if size < 16:
            raise ValueError("malformed nvpair")
        _, name_size, _, _, dtype = struct.unpack_from(order + "ihhii", data, offset)
        name = data[offset + 16 : offset + 16 + name_size - 1].decode()
        value = offset + 16 + (name_size + 7) // 8 * 8
        if name == key and dtype == 9:  # DATA_TYPE_STRING
            found.append(data[value : data.index(b"\0", value)].decode())
        offset += size
    if len(found) != 1:
        raise ValueError(f"{len(found)} {key} entries")
    return found[0]


# -- the program ---------------------------------------------------------------------------


def checked(original: str, policy: Policy) -> str:
    """The script to run for ssh's `original` command, or Refused."""
    if "\n" in original or "\r" in original:
        raise Refused("a newline in the command")
    try:
        outer = shlex.split(original)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    if len(outer) != 5 or outer[:4] != ["env", "LC_ALL=C", "sh", "-c"]:
        raise Refused("not a zfs-sync-run command")
    words = tokens(outer[4])
    for argv in commands(words):
        policy.check(argv)
    return render(words)


def main(argv: list | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="zfs-sync-gate",
        description="Forced command for a restricted ssh key: runs only what zfs-sync-run "
        "runs, for the datasets named (see zfs-sync-run(8), RESTRICTED KEYS).",
    )
    p.add_argument(
        "--send",
        action="append",
        default=[],
        metavar="DATASET",
        help="may list, snapshot, hold, send and destroy snapshots of DATASET and below",
    )
    p.add_argument(
        "--receive", action="append", default=[], metavar="DATASET", help="may receive into DATASET and below"
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help="may roll back and receive -F (jobs with destination.rollback)",
    )
    args = p.parse_args(argv)
    original = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    try:
        script = checked(original, Policy(args.send, args.receive, args.rollback))
    except Refused as exc:
        print(f"zfs-sync-gate: refused: {exc}: {original[:300]!r}", file=sys.stderr)
        return 126
    os.environ["LC_ALL"] = "C"
    os.execv("/bin/sh", ["sh", "-c", script])
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
