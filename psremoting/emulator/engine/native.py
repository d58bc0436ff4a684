"""Native programs a PowerShell script runs (``cmd.exe /c set``, ``whoami.exe``, ``hostname``,
``ipconfig``), through the emulated `cmd_exe.CmdExe`.

As in PowerShell: the command line is built from the arguments (one with a space is put in
double quotes), the program's stdout comes back as one string per line, each stderr line as
a NativeCommandError record, and ``$LASTEXITCODE`` holds the exit code.
"""

from __future__ import annotations

from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import NO_VALUE, ParameterToken
from psremoting.pslang.values import to_string

from .cmd_exe import CmdExe, join_arguments
from .errors import make_error_record
from .processors import Processor
from .run_state import RunState

__all__ = ["NATIVE_PROGRAMS", "NativeStage", "native_program"]

#: The programs of C:\Windows\system32 the emulator runs (with or without ``.exe``).
NATIVE_PROGRAMS = frozenset({"cmd", "whoami", "hostname", "ipconfig"})


def native_program(name: str) -> bool:
    """Whether ``name`` is a native program the emulator knows."""
    lower = name.lower().rsplit("\\", 1)[-1]
    if lower.endswith(".exe"):
        lower = lower[:-4]
    return lower in NATIVE_PROGRAMS


class NativeStage(Processor):
    """One native program in a pipeline: its input (as text) is its stdin."""

    def __init__(self, run: RunState, name: str, tokens: list[Any]) -> None:
        self.run = run
        self.name = name
        self.args: list[str] = []
        for token in tokens:
            if isinstance(token, ParameterToken):
                self.args.append(f"-{token.name}")
                if token.value is not NO_VALUE and token.value is not True:
                    self.args.append(to_string(token.value))
            else:
                self.args.append(to_string(token))
        self.input: list[str] = []

    def process(self, item: Any) -> None:
        self.input.append(to_string(item))

    def end(self) -> None:
        engine = self.run.engine
        cmd = CmdExe(
            engine.scope.env,
            engine.location,
            computer_name=engine.computer_name,
            username=engine.username,
            sandbox=engine.sandbox,
        )
        line = " ".join([self.name, join_arguments(self.args)]).strip()
        result = cmd.run(line, "\r\n".join(self.input))
        for text in result.out.splitlines():
            self.downstream(text)
        for text in result.err.splitlines():
            self.run.write_error(
                make_error_record(
                    text,
                    "System.Management.Automation.RemoteException",
                    ErrorCategory.NotSpecified,
                    "NativeCommandError",
                    text,
                )
            )
        engine.scope.set("LASTEXITCODE", result.code)
