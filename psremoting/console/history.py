"""Where the shell keeps its command history: one file per host in the user's data folder.

`$XDG_DATA_HOME/psremoting/history/<host>.history` (default `~/.local/share/...`) on Linux,
`~/Library/Application Support/psremoting/...` on macOS, `%LOCALAPPDATA%\\psremoting\\...`
on Windows. The local prompt uses `local.history`. Lines typed at `[server01]:` are recalled
the next time that host is entered, as PSReadLine keeps history across sessions.

Secrets stay out of the files: answers to Read-Host -AsSecureString and Get-Credential are
read from the terminal directly (``terminal.py``), never through the history; a typed line
that looks sensitive (it mentions a password, a token, a secret, an API key or
-AsPlainText, PSReadLine's rule) is recalled in this session but not written to the file;
the folder is 0700 and each file 0600.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prompt_toolkit.history import History

LOCAL = "local"

#: PSReadLine's rule for lines kept out of the history file.
SENSITIVE = re.compile(r"password|asplaintext|token|apikey|secret", re.IGNORECASE)


def is_sensitive(line: str) -> bool:
    """Whether a typed line may hold a secret (then it is not written to the history file)."""
    return SENSITIVE.search(line) is not None


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


def open_history(host: str = LOCAL) -> History:
    """A prompt_toolkit history backed by the file of `host` (in memory if it cannot be written)."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class PrivateFileHistory(FileHistory):
        """A FileHistory whose file is the user's alone and never gets a sensitive line."""

        def store_string(self, string: str) -> None:
            if not is_sensitive(string):
                super().store_string(string)

    try:
        path = history_path(host)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return PrivateFileHistory(str(path))
    except OSError:
        return InMemoryHistory()
