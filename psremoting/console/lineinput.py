"""Reading a command at the prompt with prompt_toolkit: history, completion, highlighting.

One `PromptSession` per history file (the local prompt, and one per remote host), so Up
recalls what was typed on that host, also after a restart. A block that is incomplete
(open brace, trailing pipe, ...) continues with the `>> ` prompt until an empty line, as
PowerShell's console does. Ctrl+C at a prompt abandons the line (as PSReadLine); Ctrl+D on
an empty line raises EOFError (the caller leaves the session or the shell).
"""

from __future__ import annotations

import sys
from typing import Any

from psremoting.console.continuation import is_incomplete

CONTINUATION_PROMPT = ">> "


class LineInput:
    """Reads commands from the terminal (prompt_toolkit) or, without one, from plain stdin."""

    def __init__(self) -> None:
        self._sessions: dict[str, Any] = {}
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()

    def _session(self, history_key: str) -> Any:
        session = self._sessions.get(history_key)
        if session is None:
            from prompt_toolkit import PromptSession

            from psremoting.console import highlight
            from psremoting.console.completion import tab_bindings
            from psremoting.console.history import open_history

            session = PromptSession(
                history=open_history(history_key),
                lexer=highlight.lexer(),
                style=highlight.style(),
                include_default_pygments_style=False,
                complete_while_typing=False,
                enable_suspend=False,
                key_bindings=tab_bindings(),
            )
            self._sessions[history_key] = session
        return session

    def read(self, prompt: str, history_key: str, completer: Any = None) -> str:
        """A whole command (possibly several lines). KeyboardInterrupt: line abandoned; EOFError: Ctrl+D."""
        if not self.interactive:
            return self._read_plain(prompt)
        session = self._session(history_key)
        text: str = session.prompt(prompt, completer=completer)
        if not is_incomplete(text):
            return text
        lines = [text]
        while True:
            try:
                more: str = session.prompt(CONTINUATION_PROMPT, completer=completer)
            except EOFError:
                break
            if more.strip() == "":
                break
            lines.append(more)
        return "\n".join(lines)

    def _read_plain(self, prompt: str) -> str:
        """Without a terminal (input piped in): print the prompt, read lines the same way.

        Lines come through `piped_lines`, the reader that Read-Host and Get-Credential
        answers come from too, so a script's answer lines reach the prompt that asks."""
        from psremoting.console.terminal import piped_lines

        source = piped_lines(sys.stdin)
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = source.read_line()
        if line is None:
            sys.stdout.write("\n")
            raise EOFError
        lines = [line.rstrip("\r\n")]
        sys.stdout.write(lines[0] + "\n")  # a transcript: the command after its prompt
        while is_incomplete("\n".join(lines)):
            sys.stdout.write(CONTINUATION_PROMPT)
            sys.stdout.flush()
            more = source.read_line() or ""
            sys.stdout.write(more.rstrip("\r\n") + "\n")
            if not more or more.strip() == "":
                break
            lines.append(more.rstrip("\r\n"))
        return "\n".join(lines)
