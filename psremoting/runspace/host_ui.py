"""The host UI: what an interactive front end implements to show remote output and answer
the remote side's prompts (`HostUI`), and the UIs of the client itself: `BufferedHostUI`
collects text (tests, scripts), `NullHostUI` discards it, `NonInteractiveHostUI` tells the
server nobody can answer. `psremoting.runspace.host` routes PSRP host calls to one of them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from psremoting.protocol.objects import ProgressRecord

__all__ = [
    "InputEnded",
    "input_ended_message",
    "HostUI",
    "BufferedHostUI",
    "NullHostUI",
    "NonInteractiveHostUI",
    "FieldDescription",
    "ChoiceDescription",
]


class InputEnded(EOFError):
    """A prompt found the end of its input (stdin is not a terminal and has no more lines).

    A HostUI raises it instead of answering: the prompt fails at once with a clear error,
    rather than taking "" for an answer and asking again forever.
    """

    def __init__(self, prompt: str = "") -> None:
        self.prompt = prompt
        super().__init__(input_ended_message(prompt))


def input_ended_message(prompt: str = "") -> str:
    """The error a prompt at the end of input gives (`prompt` names it, e.g. Get-Credential)."""
    what = f"{prompt}: " if prompt else ""
    return (
        f"{what}Cannot read an answer: the input ended (standard input is not a terminal and has "
        "no more lines). Give the answers on standard input, or run the command at a terminal."
    )


@dataclass
class FieldDescription:
    """One field of a Prompt host call (Read-Host, mandatory parameters)."""

    name: str
    label: str = ""
    type_name: str = "System.String"
    is_mandatory: bool = False
    help_message: str = ""
    default_value: Any = None

    @property
    def is_secure(self) -> bool:
        return self.type_name.endswith("SecureString")

    @property
    def is_credential(self) -> bool:
        return self.type_name.endswith("PSCredential")


@dataclass
class ChoiceDescription:
    """One choice of a PromptForChoice host call (`&Yes` marks Y as the hot key)."""

    label: str
    help_message: str = ""


@runtime_checkable
class HostUI(Protocol):
    """What an interactive front end implements to show remote output and answer prompts.

    Colors are ConsoleColor names (``"Red"``) or None. Methods that return a value block
    until the user answered; raising KeyboardInterrupt there stops the remote command.
    """

    def write(self, text: str, fg: str | None = None, bg: str | None = None) -> None: ...
    def write_line(self, text: str = "") -> None: ...
    def write_error_line(self, text: str) -> None: ...
    def write_warning_line(self, text: str) -> None: ...
    def write_verbose_line(self, text: str) -> None: ...
    def write_debug_line(self, text: str) -> None: ...
    def write_progress(self, source_id: int, record: ProgressRecord) -> None: ...
    def read_line(self) -> str: ...
    def read_line_as_secure_string(self) -> str: ...
    def prompt_for_credential(
        self, caption: str, message: str, user_name: str, target_name: str
    ) -> tuple[str, str]: ...
    def prompt_for_choice(
        self, caption: str, message: str, choices: list[ChoiceDescription], default: int
    ) -> int: ...
    def prompt(self, caption: str, message: str, descriptions: list[FieldDescription]) -> dict[str, Any]: ...


class BufferedHostUI:
    """A HostUI that collects everything, as a console would show it, in `text`.

    Separate lists keep `errors`, `warnings`, `verbose`, `debug` and `progress`. Answers to
    prompts come from `input_lines` (ReadLine, Read-Host, Prompt fields), `credential` and
    `choices`; with nothing queued, ReadLine gives "" and a choice its default.
    Thread-safe: output of several sessions may be collected in one buffer.
    """

    def __init__(
        self,
        input_lines: Iterable[str] = (),
        *,
        credential: tuple[str, str] | None = None,
        choices: Iterable[int] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.verbose: list[str] = []
        self.debug: list[str] = []
        self.progress: list[tuple[int, ProgressRecord]] = []
        self.input_lines: deque[str] = deque(input_lines)
        self.credential = credential
        self.choices: deque[int] = deque(choices)
        self.prompts: list[str] = []

    @property
    def text(self) -> str:
        """Everything written, in order, as one string (newlines as \\n)."""
        with self._lock:
            return "".join(self._parts)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()

    def _add(self, text: str) -> None:
        with self._lock:
            self._parts.append(text)

    def write(self, text: str, fg: str | None = None, bg: str | None = None) -> None:
        self._add(text)

    def write_line(self, text: str = "") -> None:
        self._add(text + "\n")

    def write_error_line(self, text: str) -> None:
        self.errors.append(text)
        self._add(text + "\n")

    def write_warning_line(self, text: str) -> None:
        self.warnings.append(text)
        self._add(f"WARNING: {text}\n")

    def write_verbose_line(self, text: str) -> None:
        self.verbose.append(text)
        self._add(f"VERBOSE: {text}\n")

    def write_debug_line(self, text: str) -> None:
        self.debug.append(text)
        self._add(f"DEBUG: {text}\n")

    def write_progress(self, source_id: int, record: ProgressRecord) -> None:
        self.progress.append((source_id, record))

    def read_line(self) -> str:
        return self.input_lines.popleft() if self.input_lines else ""

    def read_line_as_secure_string(self) -> str:
        return self.read_line()

    def prompt_for_credential(
        self, caption: str, message: str, user_name: str, target_name: str
    ) -> tuple[str, str]:
        self.prompts.append(message)
        if self.credential is None:
            raise KeyboardInterrupt("no credential queued in BufferedHostUI")
        return self.credential

    def prompt_for_choice(
        self, caption: str, message: str, choices: list[ChoiceDescription], default: int
    ) -> int:
        self.prompts.append(message)
        return self.choices.popleft() if self.choices else max(default, 0)

    def prompt(self, caption: str, message: str, descriptions: list[FieldDescription]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for desc in descriptions:
            self.prompts.append(desc.label or desc.name)
            if desc.is_credential:
                result[desc.name] = self.credential
            else:
                result[desc.name] = self.read_line()
        return result


class NullHostUI(BufferedHostUI):
    """A HostUI that discards output (for sessions nobody watches)."""

    def _add(self, text: str) -> None:
        return None


class NonInteractiveHostUI(BufferedHostUI):
    """The host of commands nobody can answer (the Python API without a HostUI, `psremoting
    invoke`): pipelines tell the server they have no host UI (``interactive = False``), so a
    Read-Host, Get-Credential or confirmation prompt fails there with PowerShell's
    non-interactive-host error (HostFunctionNotImplemented) instead of reading "" here.
    Text written to it is collected, as BufferedHostUI does."""

    interactive = False
