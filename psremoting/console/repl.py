"""The read-eval-print loops behind `psremoting shell` and `psremoting enter`.

The shell alternates between two prompts: the local `PS /current/dir> `, where the
interpreter runs the session cmdlets, and, while an interactive session is entered
(Enter-PSSession), the remote `[Server01]: PS C:\\...> ` handled by `RemoteRunner`.
`exit` at the local prompt ends the shell; Ctrl+D does too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.lineinput import LineInput
from psremoting.console.remote import RemoteRunner


def configure_logging() -> None:
    """Keep library log records off the terminal (they would garble the prompt).

    With PSREMOTING_LOG=FILE they are written to FILE (debug level) instead.
    """
    import logging

    logger = logging.getLogger("psremoting")
    target = os.environ.get("PSREMOTING_LOG")
    if target:
        with contextlib.suppress(OSError):  # a debug log is the user's alone: 0600 when we create it
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler: logging.Handler = logging.FileHandler(target, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends the shell through its `finally` blocks (terminal settings restored,
    temporary sessions closed) instead of killing it on the spot."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))


def local_prompt() -> str:
    """`PS /current/dir> `, as pwsh shows it on Linux."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "?"
    return f"PS {cwd}> "


@contextlib.contextmanager
def _maybe_emulator(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from psremoting.console.emulator_mode import emulated_computers

    with emulated_computers():
        yield


def _close_everything() -> None:
    """Leave any entered session; then, as PowerShell's `exit`, close the idle sessions,
    disconnect the busy ones and leave the Disconnected ones on their servers."""
    try:
        from psremoting.cmdlets.interactive import current, exit_pssession
        from psremoting.cmdlets.sessions import end_of_process

        while current() is not None:
            exit_pssession()
        end_of_process()
    except Exception:
        pass


class Shell:
    """The local shell: interpreter, line input, remote runner, one host UI."""

    def __init__(self, ui: ConsoleHostUI | None = None) -> None:
        from psremoting.console.interpreter import Interpreter

        self.ui = ui or ConsoleHostUI()
        self.input = LineInput()
        self.remote = RemoteRunner(self.ui, self.input)
        self._typed: list[str] = []
        self.interpreter = Interpreter(self.ui, history=lambda: list(self._typed))

    def loop(self) -> int:
        """Prompt until `exit` or Ctrl+D; the shell's exit code."""
        from psremoting.cmdlets.interactive import current
        from psremoting.console.completion import LocalCompleter

        completer = LocalCompleter(self.interpreter.variable_names, self.interpreter.imported.specs)
        while True:
            if current() is not None:
                self.remote.loop()
                continue
            try:
                text = self.input.read(local_prompt(), "local", completer)
            except KeyboardInterrupt:
                continue
            except EOFError:
                self.ui.write_line()
                return 0
            if not text.strip():
                continue
            self._typed.append(text)
            outcome = self.interpreter.execute(text)
            if outcome.exit_code is not None:
                return outcome.exit_code


def run_shell(emulator: bool = False) -> int:
    """`psremoting shell`: the local shell until `exit`."""
    from psremoting.console.terminal import command_mode

    configure_logging()
    exit_cleanly_on_sigterm()
    with command_mode(), _maybe_emulator(emulator):
        shell = Shell()
        try:
            return shell.loop()
        finally:
            _close_everything()


def run_enter(
    host: str | None, connection: dict[str, Any], *, emulator: bool = False, shown: str | None = None
) -> int:
    """`psremoting enter HOST`: a temporary session to ``host`` (``connection``: the keyword
    arguments of ``enter_pssession``; with ``connection_uri`` in it, `host` is None and
    `shown` names the computer in messages), closed on exit; 1 if it cannot connect."""
    from psremoting.cmdlets.interactive import current, enter_pssession
    from psremoting.console.errors import describe
    from psremoting.console.terminal import command_mode

    configure_logging()
    exit_cleanly_on_sigterm()
    ui = ConsoleHostUI()
    with _maybe_emulator(emulator):
        try:
            enter_pssession(host, ui=ui, **connection)
        except KeyboardInterrupt:
            return 130
        except Exception as error:
            sys.stderr.write(describe(error, "Enter-PSSession") + "\n")
            return 1
        line_input = LineInput()
        runner = RemoteRunner(ui, line_input)
        try:
            with command_mode():
                runner.loop()
        finally:
            if current() is not None:
                _close_everything()
    if runner.lost_connection:
        sys.stderr.write(f"The connection to {host or shown} was lost; the session has ended.\n")
        return 1
    return 0
