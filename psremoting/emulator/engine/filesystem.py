"""The sandbox: a host folder shown to the client as the ``C:\\`` drive.

Every path the client gives is resolved against the session's current location, normalised
the Windows way (case-insensitive names, ``\\`` or ``/`` separators, ``.`` and ``..``), and
mapped under the sandbox root. A path that would leave the root (``..`` past ``C:\\``, a
symlink pointing outside, another drive) is refused with :class:`SandboxEscape`, so the
emulator never reads or writes outside the folder it was given.
"""

from __future__ import annotations

import ntpath
import os
from pathlib import Path

__all__ = ["HIDDEN_FOLDERS", "SYSTEM_FOLDERS", "Sandbox", "SandboxEscape", "is_hidden"]

#: The folders of a default Windows Server's C:\ that the sandbox has from a session's first
#: use (``Test-Path C:\Windows\System32`` is True; scripts find C:\Windows\Temp and
#: C:\ProgramData), spelt as Windows spells them.
SYSTEM_FOLDERS = (
    "C:\\PerfLogs",
    "C:\\Program Files\\PowerShell\\7",
    "C:\\Program Files (x86)",
    "C:\\ProgramData",
    "C:\\Users\\Public",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
    "C:\\Windows\\Temp",
)
#: Folders with the Hidden attribute: ``Get-ChildItem`` lists them only with -Force or
#: -Hidden, as on Windows (lower-case Windows paths).
HIDDEN_FOLDERS = frozenset({"c:\\programdata"})


def is_hidden(windows_path: str) -> bool:
    """Whether ``windows_path`` (absolute) has the Hidden attribute on a Windows Server."""
    return windows_path.rstrip("\\").lower() in HIDDEN_FOLDERS


class SandboxEscape(Exception):
    """A path that resolves outside the sandbox root."""


class Sandbox:
    """Maps Windows paths (``C:\\Users\\x``) to paths under ``root`` and back."""

    drive = "C:"

    def __init__(self, root: Path, home: str = "C:\\Users\\user\\Documents") -> None:
        self.home = home
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def normalize(self, path: str, cwd: str) -> str:
        """The absolute Windows form of ``path`` relative to ``cwd`` (no ``..``, no trailing ``\\``)."""
        text = path.replace("/", "\\")
        if text.lower().startswith("microsoft.powershell.core\\filesystem::"):
            text = text.split("::", 1)[1]
        if text.lower().startswith("filesystem::"):
            text = text.split("::", 1)[1]
        if text.startswith("~"):
            text = self.home + text[1:]
        drive, rest = ntpath.splitdrive(text)
        if drive and drive.upper() != self.drive:
            raise SandboxEscape(
                f"Cannot find drive. A drive with the name '{drive.rstrip(':')}' does not exist."
            )
        if not drive:
            text = self.drive + rest if rest.startswith("\\") else cwd.rstrip("\\") + "\\" + rest
        parts: list[str] = []
        for part in text[len(self.drive) :].split("\\"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return self.drive + "\\" + "\\".join(parts)

    def host_path(self, windows_path: str) -> Path:
        """The host path for an absolute Windows path, matching existing names case-insensitively."""
        parts = [p for p in windows_path[len(self.drive) :].split("\\") if p]
        current = self.root
        for part in parts:
            candidate = current / part
            if not candidate.exists() and current.is_dir():
                lower = part.lower()
                try:
                    for entry in os.scandir(current):
                        if entry.name.lower() == lower:
                            candidate = current / entry.name
                            break
                except OSError:
                    pass
            current = candidate
        self.check_inside(current)
        return current

    def check_inside(self, host: Path) -> None:
        """Refuse a host path that resolves (through symlinks) outside the root."""
        try:
            resolved = host.resolve()
        except (OSError, RuntimeError) as exc:
            raise SandboxEscape(str(exc)) from exc
        if resolved != self.root and self.root not in resolved.parents:
            # No host path in the message: it may reach the client.
            raise SandboxEscape("The path is outside the sandbox.")

    def windows_path(self, host: Path) -> str:
        """The ``C:\\...`` form of a host path under the root."""
        rel = Path(os.path.abspath(host)).relative_to(self.root)
        parts = [p for p in rel.parts if p not in ("", ".")]
        return self.drive + "\\" + "\\".join(parts)
