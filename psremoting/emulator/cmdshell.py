"""The minimal ``cmd`` shell (``windows/shell/cmd``): enough for pywinrm's ``run_ps``.

Windows would start ``powershell.exe -EncodedCommand <base64 UTF-16LE>`` in a cmd.exe shell;
the emulator decodes that script (or a ``-Command``/plain command line) and runs it through a
command :class:`~psremoting.emulator.engine.Engine` as a console would: output formatted to
text (``Out-String``) on stdout, errors as PowerShell prints them on stderr, exit code 0, 1
after errors, or N after ``exit N``. Any other executable gets cmd.exe's "is not recognized"
answer with exit code 1.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psrpcore
from psrpcore.types import HostMethodIdentifier

from psremoting.emulator import faults
from psremoting.emulator.shell_registry import Shell

log = logging.getLogger(__name__)

__all__ = ["CmdShell", "run_cmd_script"]


_PS_SWITCHES = {"-noprofile", "-nop", "-noninteractive", "-noni", "-nologo", "-mta", "-sta", "-noexit"}
_PS_VALUED = {
    "-executionpolicy",
    "-ep",
    "-ex",
    "-inputformat",
    "-outputformat",
    "-windowstyle",
    "-w",
    "-version",
}


def _powershell_script(args: list[str]) -> str | None:
    """The script a ``powershell.exe`` command line runs: -EncodedCommand, -Command, or the
    positional words (PowerShell's default is -Command)."""
    index = 0
    while index < len(args):
        flag = args[index].lower()
        if flag in ("-encodedcommand", "-enc", "-e", "-ec"):
            if index + 1 >= len(args):
                return None
            try:
                return base64.b64decode(args[index + 1], validate=True).decode("utf-16-le")
            except Exception as exc:
                raise faults.bad_base64("the -EncodedCommand argument") from exc
        if flag in ("-command", "-c"):
            return " ".join(args[index + 1 :])
        if flag in _PS_SWITCHES:
            index += 1
        elif flag in _PS_VALUED:
            index += 2
        else:
            return " ".join(args[index:])
    return None


class CmdShell(Shell):
    """A minimal ``cmd`` shell: enough for pywinrm's ``run_ps`` (``powershell -encodedcommand``)."""

    input_streams = "stdin"
    output_streams = "stdout stderr"

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        owner: str,
        client_ip: str,
        *,
        run_script: Callable[[str], tuple[bytes, bytes, int]],
    ) -> None:
        super().__init__(shell_id, resource_uri, owner, client_ip)
        self._run_script = run_script
        self.results: dict[str, tuple[bytes, bytes, int]] = {}

    def run(self, command_id: str, executable: str, arguments: list[str]) -> str:
        """Run ``powershell -encodedcommand B64`` (the only command line it knows)."""
        command_id = command_id.upper()
        exe = executable.strip().strip('"').lower()
        args = [a for a in arguments if a]
        if len(args) == 1 and " " in args[0]:
            args = args[0].split()
        script: str | None = None
        if exe in ("powershell", "powershell.exe", "pwsh", "pwsh.exe"):
            script = _powershell_script(args)
        if script is None:
            name = executable.strip() or "(empty)"
            result = (
                b"",
                f"'{name}' is not recognized as an internal or external command,\r\n"
                "operable program or batch file.\r\n".encode(),
                1,
            )
        else:
            result = self._run_script(script)
        with self.lock:
            self.results[command_id] = result
        return command_id

    def receive(self, command_id: str) -> tuple[bytes, bytes, int]:
        with self.lock:
            result = self.results.pop(command_id.upper(), None)
        if result is None:
            raise faults.command_not_found(command_id.upper())
        return result

    def command_ids(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(c, "Done") for c in self.results]

    def close(self) -> None:
        self.closed = True
        self.results.clear()


class _CollectingIO:
    """PipelineIO for a cmd-shell ``powershell -EncodedCommand``: collects text, as a console would."""

    has_host = True

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.exit_code: int | None = None

    def write_output(self, obj: Any) -> None:
        text = str(obj)
        self.stdout.append(text if text.endswith("\n") else text + "\r\n")

    def write_error(self, error_record: Any) -> None:
        info = getattr(error_record, "CategoryInfo", None)
        fqid = getattr(error_record, "FullyQualifiedErrorId", "") or ""
        self.stderr.append(
            f"{error_record}\r\n    + CategoryInfo          : {info}\r\n"
            f"    + FullyQualifiedErrorId : {fqid}\r\n \r\n"
        )

    def write_warning(self, message: str) -> None:
        self.stdout.append(f"WARNING: {message}\r\n")

    def write_verbose(self, message: str) -> None:
        """Verbose is off by default in a console."""

    def write_debug(self, message: str) -> None:
        """Debug is off by default in a console."""

    def write_information(self, data: Any, source: str) -> None:
        self.stdout.append(f"{data}\r\n")

    def write_progress(self, *args: Any, **kwargs: Any) -> None:
        """A non-interactive console shows no progress."""

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        name = method.name
        if name in ("Write1", "Write2"):
            self.stdout.append(str(args[-1]))
        elif name.startswith("WriteLine"):
            self.stdout.append((str(args[-1]) if args else "") + "\r\n")
        elif name == "WriteErrorLine":
            self.stderr.append(str(args[-1]) + "\r\n")
        elif name == "WriteWarningLine":
            self.stdout.append(f"WARNING: {args[-1]}\r\n")
        elif name == "SetShouldExit":
            self.exit_code = int(args[0]) if args else 0
        elif name in ("ReadLine", "ReadLineAsSecureString"):
            return ""
        return None

    def input(self) -> Iterator[Any]:
        return iter(())


def run_cmd_script(engine: Any, script: str) -> tuple[bytes, bytes, int]:
    """Run ``script`` as ``powershell -EncodedCommand`` would: (stdout, stderr, exit code)."""
    from psremoting.emulator.engine.io import InvocationResult

    io = _CollectingIO()
    commands = [psrpcore.Command(script, is_script=True), psrpcore.Command("Out-String")]
    try:
        result = engine.invoke(commands, io)
    except Exception as exc:  # the engine promises not to raise
        log.exception("engine failed on a cmd-shell script")
        io.stderr.append(f"{type(exc).__name__}: {exc}\r\n")
        result = InvocationResult(failed=None)
    if result.failed is not None:
        io.write_error(result.failed)
    code = io.exit_code
    if code is None:
        code = 1 if (result.failed is not None or io.stderr) else 0
    return "".join(io.stdout).encode("utf-8"), "".join(io.stderr).encode("utf-8"), code
