"""Errors as the local shell shows them: PowerShell 7's concise view, `Cmdlet: message`.

`describe(error, command)` gives the red text for any exception a cmdlet raised: a
psremoting error keeps its PowerShell wording; an unexpected Python error says what
failed without a traceback. `CommandNotSupported` is the error for a command the local
shell does not run: it says so, and suggests Enter-PSSession or Invoke-Command.
"""

from __future__ import annotations


class ShellError(Exception):
    """An error the local shell reports itself (binding, lookup, usage), with PowerShell's wording."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.command = command


class CommandNotSupported(ShellError):
    """A command that exists in PowerShell (or not at all) but not in the local shell."""

    def __init__(self, name: str) -> None:
        message = (
            f"The term '{name}' is not a command of the psremoting local shell, which runs the PSSession "
            "cmdlets only (Get-Command lists them). To run it on a remote computer, enter a session "
            f"(Enter-PSSession -ComputerName HOST, then {name}) or use Invoke-Command -ComputerName HOST "
            f"-ScriptBlock {{ {name} }}."
        )
        super().__init__(message, name)


def describe(error: BaseException, command: str | None = None) -> str:
    """The text PowerShell 7 would print for `error` raised by `command` (without colour)."""
    prefix = f"{command}: " if command else ""
    if isinstance(error, ShellError):
        name = error.command or command
        return f"{name}: {error.message}" if name else error.message
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    record = getattr(error, "record", None)
    if record is not None and hasattr(record, "format"):
        return prefix + str(record.format())
    from psremoting.protocol.errors import PSRemotingError

    if isinstance(error, PSRemotingError):
        return prefix + message
    return f"{prefix}{type(error).__name__}: {message}"
