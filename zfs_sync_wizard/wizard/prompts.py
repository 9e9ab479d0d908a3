"""Asking and telling: questionary prompts and the wizard's printed lines.

Every prompt goes through `unsafe_ask()`; Ctrl-C and Ctrl-D (or the end of
input) raise `Cancelled`, which the CLI turns into exit status 130 before
anything is written.  An answer that fails its check is explained on its
own line and asked again.  Plain text only: usable over any SSH session.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable, TextIO

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

Check = Callable[[str], Any]
_COLORS = {
    "error": "1;31",
    "warning": "33",
}  # ANSI: bold red, yellow  # returns the cleaned value or raises ValueError


class Cancelled(Exception):
    """The person pressed Ctrl-C or Ctrl-D: stop, write nothing."""


def _cancel_on_ctrl_d(question: questionary.Question) -> questionary.Question:
    # select and confirm ignore Ctrl-D by default; a hung prompt is worse than a cancel
    bindings = KeyBindings()

    @bindings.add("c-d", eager=True)
    def _(event):
        event.app.exit(exception=EOFError, style="class:aborting")

    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings, bindings])
    return question


def _ask(question: questionary.Question) -> Any:
    try:
        return question.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise Cancelled() from None


class UI:
    """The wizard's conversation: prompts in, plain lines out."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None):
        self._stream = stream
        self.color = color  # None: colors where the output is a terminal

    # -- telling ------------------------------------------------------------

    def say(self, text: str = "") -> None:
        stream = self._stream or sys.stdout
        print(text, file=stream, flush=True)

    def heading(self, text: str) -> None:
        self.say()
        self.say(f"== {text} ==")

    def ok(self, text: str) -> None:
        self.say(f"  ok: {text}")

    def note(self, text: str) -> None:
        self.say(_indent(text, "  "))

    def warn(self, text: str) -> None:
        self.say(_indent(f"warning: {text}", "  "))

    def problem(self, text: str) -> None:
        self.say(_indent(f"problem: {text}", "  "))

    def marked(self, text: str, kind: str | None) -> None:
        """A line shown as is, in red (kind "error") or yellow ("warning") on a terminal."""
        stream = self._stream or sys.stdout
        color = self.color if self.color is not None else stream.isatty()
        code = _COLORS.get(kind or "") if color else None
        self.say(f"\x1b[{code}m{text}\x1b[0m" if code else text)

    def block(self, text: str) -> None:
        """A block shown as is (YAML, a plan, a diff), indented."""
        for line in text.rstrip("\n").splitlines():
            self.say("    " + line)

    # -- asking -------------------------------------------------------------

    def text(
        self,
        message: str,
        default: str = "",
        check: Check | None = None,
        instruction: str | None = None,
    ) -> Any:
        """Ask for text until `check` accepts it; returns what `check` returns."""
        while True:
            answer = _ask(questionary.text(message, default=default, instruction=instruction))
            answer = answer.strip()
            if check is None:
                return answer
            try:
                return check(answer)
            except ValueError as exc:
                self.say(f"  invalid: {exc}")

    def select(
        self,
        message: str,
        choices: Sequence[tuple[str, Any]],
        default: Any = None,
        search: bool = False,
        instruction: str | None = None,
    ) -> Any:
        """One of `choices` (title, value); `search` lets typing narrow the list."""
        # values by position: questionary would replace a None value by the title
        items = [questionary.Choice(title, value=i) for i, (title, _) in enumerate(choices)]
        chosen = next((items[i] for i, (_, value) in enumerate(choices) if value == default), None)
        question = questionary.select(
            message,
            choices=items,
            default=chosen,
            use_search_filter=search,
            use_jk_keys=not search,
            instruction=instruction,
        )
        return choices[_ask(_cancel_on_ctrl_d(question))][1]

    def confirm(self, message: str, default: bool = True) -> bool:
        return bool(_ask(_cancel_on_ctrl_d(questionary.confirm(message, default=default))))


def _indent(text: str, prefix: str) -> str:
    lines = text.splitlines() or [""]
    head = prefix + lines[0]
    rest = [prefix + "  " + line for line in lines[1:]]
    return "\n".join([head] + rest)


def choice_check(allowed: Sequence[str]) -> Check:
    def check(answer: str) -> str:
        if answer not in allowed:
            raise ValueError("expected one of: " + ", ".join(allowed))
        return answer

    return check
