"""Reading a line (or a secret) from the terminal while a remote command runs.

Read-Host, Read-Host -AsSecureString and Get-Credential arrive as host calls during a
pipeline, on the thread that runs it, while the main thread waits for Ctrl+C. A blocking
`input()` could not be abandoned when the user presses Ctrl+C, so these readers poll the
terminal with `select` and give up with `InputCancelled` as soon as `cancel` is set.
Secrets are read with echo off, one character at a time, showing `*` as PowerShell does.

Without a terminal (input piped in), answers are the next lines of stdin, read through the
same buffer as the commands (`piped_lines`), so a script's answer lines are not lost; at the
end of input a prompt raises `InputEnded` at once instead of asking again and again.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import select
import sys
import threading
from collections.abc import Iterator
from typing import IO

from psremoting.runspace.host_ui import InputEnded

_POLL_SECONDS = 0.05


class InputCancelled(KeyboardInterrupt):
    """The user pressed Ctrl+C (or the command was stopped) while input was being read.

    A KeyboardInterrupt, as the HostUI contract asks: the client then stops the command.
    """


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with lone surrogates (bytes that were not UTF-8, as ``surrogateescape`` keeps
    them on stdin) as U+FFFD: they can be neither parsed, sent nor echoed as they are."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


class PipedLines:
    """Lines of a non-terminal stream, read by one helper thread at a time.

    A blocking ``readline`` cannot be abandoned on Ctrl+C; here it runs in a helper thread
    and the caller waits with a cancel event. An abandoned line is kept for the next reader,
    and the shell's command reader and the prompts share this one object (and the stream's
    buffer), so every line goes to whoever asks next, in order.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lines: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._reading = False
        self._ended = False

    def _read_one(self) -> None:
        try:
            line = without_surrogates(self._stream.readline())
        except (OSError, ValueError):  # UnicodeDecodeError too: a stream decoding strictly
            line = ""
        self._lines.put(line)

    def read_line(self, cancel: threading.Event | None = None) -> str | None:
        """The next line with its newline, or None at the end of input; `InputCancelled`
        when `cancel` is set first."""
        while True:
            with self._lock:
                if self._ended and self._lines.empty():
                    return None
                if not self._reading and self._lines.empty():
                    self._reading = True
                    threading.Thread(target=self._read_one, name="psremoting-stdin", daemon=True).start()
            try:
                line = self._lines.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if cancel is not None and cancel.is_set():
                    raise InputCancelled() from None
                continue
            with self._lock:
                self._reading = False
                if not line:
                    self._ended = True
                    return None
            return line


_piped: dict[int, PipedLines] = {}
_piped_lock = threading.Lock()


def piped_lines(stream: IO[str]) -> PipedLines:
    """The one `PipedLines` reader of `stream` (the shell and its prompts share it)."""
    with _piped_lock:
        reader = _piped.get(id(stream))
        if reader is None or reader._stream is not stream:
            reader = _piped[id(stream)] = PipedLines(stream)
        return reader


class TerminalReader:
    """Reads from `stdin` (a terminal or a pipe), writing echoes to `stdout`."""

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        self._stdin = stdin if stdin is not None else sys.stdin
        self._stdout = stdout if stdout is not None else sys.stdout
        self.cancel = threading.Event()

    def _fd(self) -> int | None:
        try:
            return self._stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return None

    def _is_tty(self) -> bool:
        fd = self._fd()
        return fd is not None and os.isatty(fd)

    def _wait_readable(self, fd: int) -> None:
        while not self.cancel.is_set():
            ready, _, _ = select.select([fd], [], [], _POLL_SECONDS)
            if ready:
                return
        raise InputCancelled()

    def read_line(self) -> str:
        """One line, without its newline; `InputCancelled` if cancelled first; `InputEnded`
        (an EOFError) at the end of input, which a prompt must not take for an answer."""
        fd = self._fd()
        if fd is not None and self._is_tty():
            return self._read_typed(fd, secret=False)
        if fd is None:
            line: str | None = without_surrogates(self._stdin.readline()) or None
        else:
            line = piped_lines(self._stdin).read_line(self.cancel)
        if line is None:
            self._echo("\n")  # end the prompt's line before the error is shown
            raise InputEnded()
        if fd is not None:
            self._echo("\n")  # piped answers are not echoed: end the prompt's line, as Enter would
        return line.rstrip("\r\n")

    def read_secret(self) -> str:
        """A line typed without echo, shown as `*` per character; backspace works."""
        fd = self._fd()
        if fd is None or not self._is_tty():
            return self.read_line()
        return self._read_typed(fd, secret=True)

    def _read_typed(self, fd: int, secret: bool) -> str:
        """Read keys one by one with the terminal's echo off, echoing them (or `*`) ourselves.

        Echoing here, not in the terminal, means keys typed early (before the question
        showed) are neither lost nor shown twice, and a secret never appears.
        """
        chars: list[str] = []
        pending = bytearray()
        with _no_echo(fd):
            while True:
                self._wait_readable(fd)
                byte = os.read(fd, 1)
                if not byte or byte in (b"\n", b"\r"):
                    break
                if byte == b"\x04" and not chars:  # Ctrl+D on an empty answer
                    break
                if byte in (b"\x7f", b"\x08"):
                    if chars:
                        chars.pop()
                        self._echo("\b \b")
                    continue
                if byte == b"\x15":  # Ctrl+U: clear the answer
                    self._echo("\b \b" * len(chars))
                    chars.clear()
                    continue
                if byte == b"\x1b" or (byte < b" " and byte != b"\t"):
                    continue  # escape sequences and control keys are not part of an answer
                pending += byte
                try:
                    text = pending.decode("utf-8")
                except UnicodeDecodeError:
                    if len(pending) < 4:
                        continue
                    text = pending.decode("utf-8", "replace")
                pending.clear()
                chars.append(text)
                self._echo("*" if secret else text)
        self._echo("\n")
        return "".join(chars)

    def _echo(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()


@contextlib.contextmanager
def command_mode(stream: IO[str] | None = None) -> Iterator[None]:
    """While the shell runs (outside its prompts): the terminal neither echoes nor edits lines.

    Keys typed ahead while a command runs stay queued, unseen, for the next prompt (as in
    PowerShell's console), instead of being echoed in the middle of the output; answers to
    Read-Host are echoed by `TerminalReader`. Ctrl+C still interrupts. The terminal's
    settings are restored on the way out. Does nothing when `stream` is not a terminal.
    """
    target = stream if stream is not None else sys.stdin
    try:
        fd = target.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    if fd < 0 or not os.isatty(fd):
        yield
        return
    with _no_echo(fd):
        yield


@contextlib.contextmanager
def _no_echo(fd: int) -> Iterator[None]:
    """Terminal in non-canonical mode without echo (signals still work), restored after."""
    import termios

    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~(termios.ECHO | termios.ICANON)
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSADRAIN, new)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
