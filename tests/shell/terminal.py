"""A real pseudo-terminal for the shell tests: tmux, driven with send-keys and capture-pane.

Each `Terminal` runs one command in its own tmux server (a private socket in the test's
tmp folder), so tests never see each other's panes and every server is killed at the end.
Waiting is bounded polling of the screen (`wait_for`), never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 30.0


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class Terminal:
    """One command in a tmux pane of `width` x `height`."""

    def __init__(
        self,
        args: list[str],
        tmp: Path,
        env: dict[str, str] | None = None,
        width: int = 160,
        height: int = 50,
        cwd: Path | None = None,
    ) -> None:
        self.socket = str(tmp / "tmux.sock")
        self.cwd = cwd or tmp
        config = tmp / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g status off\n")
        self._config = str(config)
        full_env = dict(os.environ)
        full_env.update(
            {
                "HOME": str(tmp / "home"),
                "XDG_DATA_HOME": str(tmp / "data"),
                "PYTHONPATH": str(REPO),
                "TERM": "xterm-256color",
                "PYTHONUNBUFFERED": "1",
            }
        )
        full_env.pop("TMUX", None)
        if env:
            full_env.update(env)
        (tmp / "home").mkdir(exist_ok=True)
        self.env = full_env
        # tmux's own #{pane_dead_status} is not always filled in (tmux 3.3), so a small
        # wrapper writes the exit code to a file. The wrapper ignores Ctrl+C; the command
        # gets the default SIGINT handling back.
        self._status_file = tmp / "exit-status"
        wrapper = [
            sys.executable,
            str(Path(__file__).with_name("exit_status.py")),
            str(self._status_file),
            *args,
        ]
        command = " ".join(_quote(a) for a in wrapper)
        self._tmux(
            "-f",
            self._config,
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            str(self.cwd),
            command,
        )

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=self.env, timeout=10
        )
        return result.stdout

    # -- input ------------------------------------------------------------------------
    def type(self, text: str) -> None:
        """Type `text` literally (no Enter)."""
        self._tmux("send-keys", "-t", "t", "-l", text)

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name: Enter, Tab, C-c, C-d, Up, ..."""
        self._tmux("send-keys", "-t", "t", *keys)

    def line(self, text: str) -> None:
        """Type `text` and press Enter."""
        self.type(text)
        self.keys("Enter")

    # -- output -----------------------------------------------------------------------
    def screen(self) -> str:
        """The visible screen, trailing spaces kept (`-N`), trailing empty lines dropped.

        Only the visible part: tmux copies lines into its scrollback when a program redraws
        the top of the screen, so the scrollback can repeat a line; the panes are tall
        enough for every test.
        """
        text = self._tmux("capture-pane", "-p", "-J", "-N", "-t", "t")
        return text.rstrip("\n")

    def screen_with_colours(self) -> str:
        """The screen with its colour escape sequences (capture-pane -e)."""
        return self._tmux("capture-pane", "-p", "-e", "-J", "-t", "t")

    def wait_for(
        self, expected: str | re.Pattern[str] | Callable[[str], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> str:
        """Poll the screen until `expected` (text, regex or predicate) shows; the screen then."""
        deadline = time.monotonic() + timeout
        interval = 0.02
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if _matches(expected, screen):
                return screen
            if self.exit_status() is not None:
                screen = self.screen()
                if _matches(expected, screen):
                    return screen
                break
            time.sleep(interval)
            interval = min(interval * 1.5, 0.2)
        raise AssertionError(f"timed out waiting for {expected!r}; the screen was:\n{screen}")

    def count(self, text: str) -> int:
        return occurrences(text, self.screen())

    def wait_for_count(self, text: str, count: int, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until `text` appears at least `count` times (e.g. the n-th prompt)."""
        return self.wait_for(lambda s: occurrences(text, s) >= count, timeout)

    def exit_status(self) -> int | None:
        """The command's exit code once it has ended, else None."""
        try:
            text = self._status_file.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.exit_status()
            if status is not None:
                return status
            time.sleep(0.05)
        raise AssertionError(f"the command did not exit; the screen was:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=10
        )


def occurrences(text: str, screen: str) -> int:
    """How often `text` shows; a trailing space may be missing at the end of a line (the
    terminal holds the cursor there, no character: an empty prompt line is `PS /dir>`)."""
    if not text.endswith(" "):
        return screen.count(text)
    return len(re.findall(re.escape(text.rstrip(" ")) + r"(?: |$)", screen, re.M))


def _matches(expected: str | re.Pattern[str] | Callable[[str], bool], screen: str) -> bool:
    if isinstance(expected, str):
        return occurrences(expected, screen) > 0
    if isinstance(expected, re.Pattern):
        return expected.search(screen) is not None
    return expected(screen)


def _quote(arg: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./=:-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def psremoting_command(*args: str) -> list[str]:
    """The command line that runs psremoting from this checkout."""
    return [sys.executable, "-m", "psremoting", *args]
