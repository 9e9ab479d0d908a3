"""Asking and telling: questionary prompts and the wizard's printed lines.

Every prompt goes through `unsafe_ask()`; Ctrl-C and Ctrl-D (or the end of
input) raise `Cancelled`, which the CLI turns into exit status 130 before
anything is written.  Every text answer is checked in place: on Enter, an
answer its check refuses stays on the line with the reason below it
("minute 61 is out of range 0-59"), to be corrected; `UI.refused` keeps
each reason given, in order.  A menu's answered line shows the short answer,
never the hint text of the choice.  Plain text only: usable over any SSH
session.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable, TextIO

import questionary
from prompt_toolkit.application import get_app
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from prompt_toolkit.lexers import SimpleLexer
from prompt_toolkit.shortcuts.prompt import PromptSession
from prompt_toolkit.validation import ValidationError, Validator
from questionary.constants import DEFAULT_QUESTION_PREFIX
from questionary.prompts.common import InquirerControl
from questionary.styles import merge_styles_default

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


class _Checked(Validator):
    """Runs the answer's check on Enter; a refusal stays on screen with its reason."""

    def __init__(self, check: Check, refused: list):
        self.check = check
        self.refused = refused
        self.value: Any = None

    def validate(self, document) -> None:
        try:
            self.value = self.check(document.text.strip())
        except ValueError as exc:
            message = f"invalid: {exc}"
            self.refused.append(message)
            raise ValidationError(message=message, cursor_position=len(document.text)) from None


class _StrictFilter(InquirerControl):
    """A menu filtered by typing that shows no choice when nothing matches (questionary shows them all)."""

    nothing = "nothing"

    @property
    def filtered_choices(self):
        if not self.search_filter:
            return self.choices
        needle = self.search_filter.lower()
        found = [c for c in self.choices if needle in _plain(c.title).lower()]
        self.found_in_search = bool(found)
        return found

    def select_next(self) -> None:
        if self.filtered_choices:
            super().select_next()

    def select_previous(self) -> None:
        if self.filtered_choices:
            super().select_previous()

    def is_selection_valid(self) -> bool:
        return not self.filtered_choices or super().is_selection_valid()

    def no_match(self) -> str:
        return f"no {self.nothing} matches {self.search_filter!r}: Backspace to retype"

    def _get_choice_tokens(self):
        if self.filtered_choices:
            self.error_message = None
            return super()._get_choice_tokens()
        self.error_message = self.no_match()
        return [("class:text", f"   (no {self.nothing} matches {self.search_filter!r})")]


def _plain(title) -> str:
    return title if isinstance(title, str) else "".join(t[1] for t in title)


def _control(question: questionary.Question) -> InquirerControl:
    return next(
        w.content
        for w in question.application.layout.find_all_windows()
        if isinstance(w.content, InquirerControl)
    )


def _answer_shows(
    question: questionary.Question, answered: Sequence[str], refused: list
) -> questionary.Question:
    """Enter answers with the choice's short text; with a filter that matches nothing it does nothing."""
    ic = _control(question)
    bindings = KeyBindings()

    @bindings.add("c-m", eager=True)
    def _(event):
        if not ic.filtered_choices:
            refused.append(ic.no_match())
            return
        choice = ic.get_pointed_at()
        choice.title = answered[choice.value]
        ic.is_answered = True
        event.app.exit(result=choice.value)

    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings, bindings])
    return question


def _text_question(message: str, default: str, instruction: str | None, validator: Validator):
    """questionary's text prompt, whose instruction is gone from the line once answered."""

    def tokens():
        shown = [("class:qmark", DEFAULT_QUESTION_PREFIX), ("class:question", f" {message} ")]
        if instruction and not get_app().is_done:
            shown.append(("class:instruction", f"{instruction} "))
        return shown

    session: PromptSession = PromptSession(
        tokens,
        style=merge_styles_default([None]),
        validator=validator,
        validate_while_typing=False,
        lexer=SimpleLexer("class:answer"),
    )
    session.default_buffer.reset(Document(default))
    return questionary.Question(session.app)


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
        self.refused: list[str] = []  # each refusal shown under an answer, in order

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
        """Ask for text until `check` accepts it; returns what `check` returns.

        The check runs when Enter is pressed; a refusal is shown under the
        answer, which stays to be corrected.
        """
        checked = _Checked(check or (lambda answer: answer), self.refused)
        _ask(_text_question(message, default, instruction, checked))
        return checked.value

    def select(
        self,
        message: str,
        choices: Sequence[tuple],
        default: Any = None,
        search: str | None = None,
        instruction: str | None = None,
    ) -> Any:
        """One of `choices`: (title, value) or (title, value, answer), where
        `answer` is what the answered line shows (the title by default).

        `search` (what the choices are, e.g. "dataset") lets typing narrow the
        list; a filter that matches nothing says so and waits for a retype.
        """
        # values by position: questionary would replace a None value by the title
        items = [questionary.Choice(c[0], value=i) for i, c in enumerate(choices)]
        chosen = next((items[i] for i, c in enumerate(choices) if c[1] == default), None)
        question = questionary.select(
            message,
            choices=items,
            default=chosen,
            use_search_filter=bool(search),
            use_jk_keys=not search,
            instruction=instruction,
        )
        if search:
            ic = _control(question)
            ic.__class__ = _StrictFilter
            ic.nothing = search
        answered = [c[2] if len(c) > 2 else c[0] for c in choices]
        return choices[_ask(_cancel_on_ctrl_d(_answer_shows(question, answered, self.refused)))][1]

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
