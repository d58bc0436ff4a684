"""Where the shell keeps its command history: one file per host in the user's data folder.

`$XDG_DATA_HOME/psremoting/history/<host>.history` (default `~/.local/share/...`) on Linux,
`~/Library/Application Support/psremoting/...` on macOS, `%LOCALAPPDATA%\\psremoting\\...`
on Windows. The local prompt uses `local.history`. Lines typed at `[server01]:` are recalled
the next time that host is entered, as PSReadLine keeps history across sessions.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path

LOCAL = "local"


def data_dir() -> Path:
    """The per-user data folder of psremoting (not created here)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "psremoting"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "psremoting"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "psremoting"


def _file_name(host: str) -> str:
    """A safe file name for `host`: lower-case, anything unusual replaced by `_`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", host.strip().lower()) or "_"
    if name.startswith("."):
        name = "_" + name
    return name + ".history"


def history_path(host: str = LOCAL, create: bool = True) -> Path:
    """The history file of `host` (or of the local prompt); its folder is created if asked."""
    folder = data_dir() / "history"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
    return folder / _file_name(host)


def open_history(host: str = LOCAL):  # -> prompt_toolkit.history.History
    """A prompt_toolkit history backed by the file of `host` (in memory if it cannot be written)."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        return FileHistory(str(history_path(host)))
    except OSError:
        return InMemoryHistory()
