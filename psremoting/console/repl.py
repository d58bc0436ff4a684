"""The read-eval-print loops behind `psremoting shell` and `psremoting enter`.

The shell alternates between two prompts: the local `PS /current/dir> `, where the
interpreter runs the session cmdlets, and, while an interactive session is entered
(Enter-PSSession), the remote `[Server01]: PS C:\\...> ` handled by `RemoteRunner`.
`exit` at the local prompt ends the shell; Ctrl+D does too.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
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
    """Leave any entered session and close every PSSession: the shell's process ends."""
    try:
        from psremoting.interactive import current, exit_pssession
        from psremoting.session import get_pssession, remove_pssession

        while current() is not None:
            exit_pssession()
        sessions = get_pssession()
        if sessions:
            remove_pssession(session=sessions)
    except Exception:  # noqa: BLE001,S110 - best effort at exit; the server times sessions out anyway
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
        from psremoting.console.completion import LocalCompleter
        from psremoting.interactive import current

        completer = LocalCompleter(self.interpreter.variable_names)
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


def _cli_credential(args: argparse.Namespace) -> Any:
    """-u/--username or PSREMOTING_USERNAME; the password from the environment, stdin or a prompt."""
    from psremoting.options import PSCredential

    user = getattr(args, "username", None) or os.environ.get("PSREMOTING_USERNAME")
    if not user:
        return None
    password = os.environ.get("PSREMOTING_PASSWORD")
    if getattr(args, "password_stdin", False):
        password = sys.stdin.readline().rstrip("\r\n")
    if password is None:
        password = getpass.getpass(f"Password for user {user}: ")
    return PSCredential(user, password)


def run_enter(args: argparse.Namespace) -> int:
    """`psremoting enter HOST`: a temporary session, closed on exit; 1 if it cannot connect."""
    from psremoting.console.errors import describe
    from psremoting.console.terminal import command_mode
    from psremoting.interactive import current, enter_pssession
    from psremoting.options import SessionOption

    configure_logging()
    exit_cleanly_on_sigterm()
    ui = ConsoleHostUI()
    with _maybe_emulator(bool(args.emulator)):
        kwargs: dict[str, Any] = {}
        credential = None if args.emulator else _cli_credential(args)
        if credential is not None:
            kwargs["credential"] = credential
        if args.port:
            kwargs["port"] = args.port
        if args.ssl:
            kwargs["use_ssl"] = True
        if args.auth:
            kwargs["authentication"] = args.auth
        if args.configuration_name:
            kwargs["configuration_name"] = args.configuration_name
        if args.skip_ca_check or args.skip_cn_check:
            kwargs["session_option"] = SessionOption(skip_ca_check=args.skip_ca_check, skip_cn_check=args.skip_cn_check)
        try:
            enter_pssession(args.host, ui=ui, **kwargs)
        except KeyboardInterrupt:
            return 130
        except Exception as error:  # noqa: BLE001 - any failure to connect ends here with a message
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
        sys.stderr.write(f"The connection to {args.host} was lost; the session has ended.\n")
        return 1
    return 0
