"""The remote prompt: `[Server01]: PS C:\\Users\\user\\Documents> ` and one pipeline a line.

Each line runs remotely (the client adds Out-Default), on a worker thread, its output
printed by the host UI as it arrives; the main thread waits and turns Ctrl+C into
`InteractiveSession.stop()`: the command stops, the session stays. Ctrl+D at the remote
prompt leaves the remote session (like `exit`); Ctrl+C at the prompt clears the line.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.lineinput import LineInput

log = logging.getLogger(__name__)

#: After Ctrl+C, how long to wait for the stopped command to end before giving up on it.
STOP_GRACE_SECONDS = 15.0
FALLBACK_PROMPT = "PS>"


def remote_prompt(session: Any) -> str:
    """The session's prompt (its remote `prompt` function), or `[HOST]: PS>` if that fails."""
    try:
        text = session.prompt()
    except Exception:
        text = ""
    if text:
        return str(text)
    return f"[{getattr(session, 'computer_name', '?')}]: {FALLBACK_PROMPT} "


class RemoteRunner:
    """Runs lines in an interactive session, with Ctrl+C stopping the running command."""

    def __init__(self, ui: ConsoleHostUI, line_input: LineInput) -> None:
        self.ui = ui
        self.input = line_input
        #: Set when an interactive session ended because its connection broke.
        self.lost_connection = False
        self._interrupted = threading.Event()

    @contextlib.contextmanager
    def _ctrl_c_sets_a_flag(self) -> Iterator[None]:
        """While a line runs, Ctrl+C (SIGINT) only raises a flag that `run_line` polls, so it
        never lands in the middle of the client's network code. (Elsewhere, e.g. while the
        prompt is fetched from a server that does not answer, Ctrl+C interrupts as usual.)"""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_sigint(_signum: int, _frame: Any) -> None:
            self._interrupted.set()

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def run_line(self, session: Any, text: str) -> None:
        """Run `text` remotely; return when it ends, or soon after Ctrl+C stopped it."""
        done = threading.Event()
        failure: list[BaseException] = []
        results: list[Any] = []

        def work() -> None:
            try:
                results.append(session.run(text, ui=self.ui))
            except BaseException as error:
                failure.append(error)
            finally:
                done.set()

        self.ui.reader.cancel.clear()
        self._interrupted.clear()
        worker = threading.Thread(target=work, name="psremoting-remote-line", daemon=True)
        with self._ctrl_c_sets_a_flag():
            worker.start()
            stopped_at = self._wait(session, done)
        log.debug("remote command ended")
        self.ui.end_command()
        if failure and stopped_at is None:
            self._report(failure[0])
        result = results[0] if results else None
        if getattr(result, "exited", False) and getattr(result, "error", None) is not None:
            # The session ended under the user (broken, closed by the server), not by `exit`.
            self.lost_connection = True

    def _wait(self, session: Any, done: threading.Event) -> float | None:
        """Wait for the line to end, stopping it (once) on Ctrl+C; returns when Ctrl+C came, or None."""
        stopped_at: float | None = None
        while not done.is_set():
            try:
                done.wait(0.05)
            except KeyboardInterrupt:  # SIGINT under the default handler (run_line not on the main thread)
                self._interrupted.set()
            if self._interrupted.is_set() and stopped_at is None:
                stopped_at = time.monotonic()
                log.debug("Ctrl+C: stopping the remote command")
                self._stop(session)
                continue
            if stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_SECONDS:
                self.ui.write_warning_line(
                    "The remote command did not stop in time; it keeps running on the server, "
                    "and its output is no longer shown."
                )
                break
        return stopped_at

    def _stop(self, session: Any) -> None:
        """Ctrl+C: abandon any pending Read-Host, and stop the remote pipeline."""
        self.ui.reader.cancel.set()
        try:
            session.stop()
        except Exception as error:
            self.ui.write_error_line(f"Could not stop the remote command: {error}")

    def _report(self, error: BaseException) -> None:
        from psremoting.console.errors import describe

        self.ui.write_error_line(describe(error))

    def loop(self) -> None:
        """Prompt and run lines while an interactive session is on the stack."""
        from psremoting.cmdlets.interactive import current
        from psremoting.console.completion import RemoteCompleter

        while True:
            session = current()
            if session is None or not getattr(session, "is_active", True):
                return
            try:
                prompt = remote_prompt(session)
                log.debug("prompting")
                text = self.input.read(prompt, str(session.computer_name), RemoteCompleter(session))
            except KeyboardInterrupt:
                continue
            except EOFError:
                self._leave(session)
                continue
            if not text.strip():
                continue
            try:
                self.run_line(session, text)
            except KeyboardInterrupt:
                continue

    def _leave(self, session: Any) -> None:
        """Ctrl+D at the remote prompt: leave as Exit-PSSession would (locally, no server trip)."""
        from psremoting.cmdlets.interactive import exit_pssession

        self.ui.write_line()
        try:
            exit_pssession()
        except Exception as error:
            self.ui.write_error_line(f"Leaving the session failed: {error}")
