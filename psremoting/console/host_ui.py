"""`ConsoleHostUI`: the HostUI (docs/internals.md) of a terminal.

Remote output reaches the shell as host calls (`write`, `write_line`, `write_error_line`,
...) while the command runs, and is printed at once, not at the end. Errors are red and
warnings/verbose/debug yellow with PowerShell's `WARNING: ` / `VERBOSE: ` / `DEBUG: `
prefixes. Write-Progress draws a bar under the output. Read-Host, secure input and
credential prompts read from the terminal, and give up when Ctrl+C is pressed.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

from psremoting.console import ansi
from psremoting.console.progress import ProgressBoard
from psremoting.console.terminal import InputCancelled, TerminalReader

__all__ = ["ConsoleHostUI", "InputCancelled"]


def _label_of(choice: Any) -> tuple[str, str]:
    """(label, help) of a ChoiceDescription given as a str, tuple, dict or object."""
    if isinstance(choice, str):
        return choice, ""
    if isinstance(choice, (tuple, list)):
        return str(choice[0]), str(choice[1]) if len(choice) > 1 else ""
    if isinstance(choice, dict):
        label = choice.get("label") or choice.get("Label") or ""
        help_text = choice.get("help_message") or choice.get("HelpMessage") or ""
        return str(label), str(help_text)
    label = getattr(choice, "label", None) or getattr(choice, "Label", None) or str(choice)
    help_text = getattr(choice, "help_message", None) or getattr(choice, "HelpMessage", None) or ""
    return str(label), str(help_text)


def _field_info(field: Any) -> tuple[str, str, str]:
    """(name, .NET type name, label) of a FieldDescription given as a str, dict or object."""
    if isinstance(field, str):
        return field, "", ""
    if isinstance(field, dict):
        get = field.get
    else:

        def get(key: str, default: Any = None) -> Any:
            return getattr(field, key, default)

    name = str(get("name") or get("Name") or "")
    type_name = str(
        get("type_name")
        or get("parameter_type")
        or get("ParameterTypeFullName")
        or get("ParameterTypeName")
        or ""
    )
    label = str(get("label") or get("Label") or "").replace("&", "")
    return name, type_name, label


def _hotkey(label: str) -> tuple[str, str]:
    """(hot key, label without '&') as PowerShell reads `&Yes` -> ('Y', 'Yes')."""
    index = label.find("&")
    if 0 <= index < len(label) - 1:
        return label[index + 1].upper(), label[:index] + label[index + 1 :]
    clean = label.replace("&", "")
    return (clean[:1].upper(), clean)


class ConsoleHostUI:
    """Prints host output to a terminal as it arrives; reads answers from it.

    `color=None` means colour when `stdout` is a terminal. Safe to call from the thread
    that runs a remote pipeline while the main thread waits: writes hold a lock.
    """

    def __init__(
        self,
        stdout: IO[str] | None = None,
        stdin: IO[str] | None = None,
        color: bool | None = None,
    ) -> None:
        self._out = stdout if stdout is not None else sys.stdout
        self.reader = TerminalReader(stdin, self._out)
        if color is None:
            isatty = getattr(self._out, "isatty", None)
            color = bool(isatty and isatty())
        self.color = color
        self._lock = threading.RLock()
        self._progress = ProgressBoard()
        self._progress_lines = 0
        self._at_line_start = True

    # -- output ---------------------------------------------------------------------
    def _raw(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def _erase_progress(self) -> None:
        if self._progress_lines:
            # The cursor sits at the end of the last progress line: clear each line upwards.
            self._raw("\r\x1b[2K" + "\x1b[1A\x1b[2K" * (self._progress_lines - 1))
            self._progress_lines = 0

    def _draw_progress(self) -> None:
        if not self._progress or not self._at_line_start:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        lines = self._progress.lines(width)
        text = "\n".join(ansi.paint(line, ansi.PROGRESS, self.color) for line in lines)
        self._raw(text)
        self._progress_lines = len(lines)

    def _emit(self, text: str, style: str = "") -> None:
        if not text:
            return
        with self._lock:
            self._erase_progress()
            self._raw(ansi.paint(text, style, self.color))
            self._at_line_start = text.endswith("\n")
            self._draw_progress()

    def write(self, text: str, fg: Any = None, bg: Any = None) -> None:
        """Text without a newline (Write-Host -NoNewline, prompts), in the given colours."""
        self._emit(text, ansi.sgr(fg, bg))

    def write_line(self, text: str = "", fg: Any = None, bg: Any = None) -> None:
        self._emit(text + "\n", ansi.sgr(fg, bg))

    def write_error_line(self, text: str) -> None:
        self._emit(self._line_start() + text + "\n", ansi.ERROR)

    def write_warning_line(self, text: str) -> None:
        self._emit(self._line_start() + "WARNING: " + text + "\n", ansi.WARNING)

    def write_verbose_line(self, text: str) -> None:
        self._emit(self._line_start() + "VERBOSE: " + text + "\n", ansi.VERBOSE)

    def write_debug_line(self, text: str) -> None:
        self._emit(self._line_start() + "DEBUG: " + text + "\n", ansi.DEBUG)

    def write_information(self, text: str) -> None:
        """Information records (Write-Information, Write-Host through the information stream)."""
        self.write_line(text)

    def _line_start(self) -> str:
        return "" if self._at_line_start else "\n"

    def write_progress(self, source_id: int, record: Any) -> None:
        """Draw (or remove, on Completed) the bar of one activity."""
        with self._lock:
            self._erase_progress()
            self._progress.update(int(source_id or 0), record)
            self._draw_progress()

    def end_command(self) -> None:
        """The command is over: remove any progress bar left on screen, end a partial line."""
        with self._lock:
            self._erase_progress()
            self._progress.clear()
            if not self._at_line_start:
                self._raw("\n")
                self._at_line_start = True

    # -- input ----------------------------------------------------------------------
    def _prepare_input(self) -> None:
        with self._lock:
            self._erase_progress()

    def read_line(self) -> str:
        """Read-Host: the prompt text was written by the remote side; read the answer."""
        self._prepare_input()
        try:
            return self.reader.read_line()
        finally:
            self._at_line_start = True  # the reader ended the line (Enter, or at the end of input)

    def read_line_as_secure_string(self) -> str:
        """Read-Host -AsSecureString: read without echo, one `*` per character."""
        self._prepare_input()
        try:
            return self.reader.read_secret()
        finally:
            self._at_line_start = True

    def prompt_for_credential(
        self,
        caption: str | None = None,
        message: str | None = None,
        user_name: str | None = None,
        target_name: str | None = None,
    ) -> tuple[str, str]:
        """Get-Credential: caption and message, then `User: ` and `Password for user X: `."""
        self._prepare_input()
        if caption:
            self.write_line(caption)
        if message:
            self.write_line(message)
        user = user_name or ""
        if not user:
            while not user:
                self.write("User: ")
                user = self.read_line().strip()
        self.write(f"Password for user {user}: ")
        password = self.read_line_as_secure_string()
        return user, password

    def prompt_for_choice(
        self, caption: str | None, message: str | None, choices: Sequence[Any], default: int | None = 0
    ) -> int:
        """$Host.UI.PromptForChoice: `[Y] Yes  [N] No  [?] Help (default is "Y"): `."""
        self._prepare_input()
        labels = [_label_of(c) for c in choices]
        keys = [_hotkey(label) for label, _ in labels]
        if caption:
            self.write_line(caption)
        if message:
            self.write_line(message)
        while True:
            menu = "  ".join(f"[{key}] {text}" for key, text in keys)
            suffix = ""
            if default is not None and 0 <= default < len(keys):
                suffix = f' (default is "{keys[default][0]}")'
            self.write(f"{menu}  [?] Help{suffix}: ")
            answer = self.read_line().strip()
            if not answer and default is not None and 0 <= default < len(keys):
                return default
            if answer == "?":
                for (key, _), (_, help_text) in zip(keys, labels, strict=False):
                    self.write_line(f"{key} - {help_text}")
                continue
            for index, (key, text) in enumerate(keys):
                if answer.upper() == key or answer.lower() == text.lower():
                    return index

    def prompt(self, caption: str | None, message: str | None, descriptions: Sequence[Any]) -> dict[str, Any]:
        """$Host.UI.Prompt: one `Name: ` line per field; credential fields ask for a password."""
        self._prepare_input()
        if caption:
            self.write_line(caption)
        if message:
            self.write_line(message)
        answers: dict[str, Any] = {}
        for field in descriptions:
            name, type_name, label = _field_info(field)
            if "credential" in type_name.lower():
                answers[name] = self.prompt_for_credential(None, None, None, None)
            elif "securestring" in type_name.lower():
                self.write(f"{label or name}: ")
                answers[name] = self.read_line_as_secure_string()
            else:
                self.write(f"{label or name}: ")
                answers[name] = self.read_line()
        return answers
