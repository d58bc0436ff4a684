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
import time
from collections.abc import Callable, Iterator
from typing import Any

import psrpcore
from psrpcore.types import HostMethodIdentifier

from psremoting.emulator import faults
from psremoting.emulator.engine.cmd_exe import PROGRAM_FILES
from psremoting.emulator.shell_faults import cmd_parameter_incorrect, file_not_found, unknown_command_id
from psremoting.emulator.shell_registry import Shell

log = logging.getLogger(__name__)

__all__ = ["CmdShell", "run_cmd_script", "run_command_line"]


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


class _Process:
    """One command of the cmd shell: its stdin as the client sends it, its output as it is written."""

    def __init__(self) -> None:
        self.stdin: list[bytes] = []
        self.stdin_done = False
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.done = False
        self.code = 0
        self.reported = False


class CmdShell(Shell):
    """The ``cmd`` shell: each Command starts a process (a thread running
    :class:`~psremoting.emulator.engine.cmd_exe.CmdExe`) and is answered at once; Send feeds
    its stdin, Receive long-polls for its output and exit code, Signal ends it."""

    input_streams = "stdin"
    output_streams = "stdout stderr"

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        owner: str,
        client_ip: str,
        *,
        run_line: Callable[[CmdShell, str, Callable[[], str]], tuple[bytes, bytes, int]],
        environment: dict[str, str] | None = None,
        working_directory: str = "",
        no_profile: bool = False,
    ) -> None:
        super().__init__(shell_id, resource_uri, owner, client_ip)
        self._run_line = run_line
        self.environment = dict(environment or {})
        self.working_directory = working_directory
        self.no_profile = no_profile
        self.processes: dict[str, _Process] = {}

    def check_program(self, executable: str) -> None:
        """Refuse, as Windows does, a program started without cmd.exe (WINRS_SKIP_CMD_SHELL)
        that is not the full path of one of the emulated programs: no PATH search then."""
        if executable.strip().strip('"').lower() not in PROGRAM_FILES:
            raise file_not_found()

    def run(self, command_id: str, executable: str, arguments: list[str]) -> str:
        """Start ``executable arguments`` (a cmd.exe command line); returns at once."""
        command_id = command_id.upper()
        line = " ".join([executable.strip(), *[a for a in arguments if a]]).strip()
        process = _Process()
        with self.lock:
            self.processes[command_id] = process
        thread = threading.Thread(
            target=self._main, args=(process, line), name=f"cmd-{command_id[:8]}", daemon=True
        )
        thread.start()
        return command_id

    def _main(self, process: _Process, line: str) -> None:
        def read_stdin() -> str:
            with self.lock:
                while not process.stdin_done and not self.closed:
                    self.cond.wait(1.0)
                return b"".join(process.stdin).decode("utf-8", errors="replace")

        try:
            out, err, code = self._run_line(self, line, read_stdin)
        except Exception as exc:  # the interpreter promises not to raise
            log.exception("cmd shell command failed")
            out, err, code = b"", f"{type(exc).__name__}: {exc}\r\n".encode(), 1
        with self.lock:
            process.stdout += out
            process.stderr += err
            process.code = code
            process.done = True
            self.cond.notify_all()

    def _process(self, command_id: str | None) -> _Process:
        if not command_id:
            raise cmd_parameter_incorrect()  # no CommandId: the cmd plugin's error 87
        process = self.processes.get(command_id.upper())
        if process is None:
            raise unknown_command_id()  # recording test_winrs_bad_cmd_id
        return process

    def send(self, command_id: str | None, data: bytes, end: bool) -> None:
        with self.lock:
            process = self._process(command_id)
            process.stdin.append(data)
            process.stdin_done = process.stdin_done or end
            self.cond.notify_all()

    def receive(self, command_id: str | None, timeout: float) -> tuple[bytes, bytes, bool, int]:
        """What the command wrote since the last Receive, whether it ended, its exit code;
        waits up to ``timeout`` seconds for something to say (then Windows' TimedOut fault)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self.lock:
            process = self._process(command_id)
            while not (process.stdout or process.stderr or process.done):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise faults.operation_timed_out()
                self.cond.wait(left)
            out, err = bytes(process.stdout), bytes(process.stderr)
            process.stdout.clear()
            process.stderr.clear()
            if process.done:
                process.reported = True
            return out, err, process.done, process.code

    def signal(self, command_id: str) -> None:
        with self.lock:
            self.processes.pop(command_id.upper(), None)
            self.cond.notify_all()

    def command_ids(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(c, "Done" if p.done else "Running") for c, p in self.processes.items()]

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.processes.clear()
            self.cond.notify_all()


class _CollectingIO:
    """PipelineIO for a cmd-shell ``powershell -EncodedCommand``: collects text, as a console would."""

    has_host = True

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.exit_code: int | None = None

    def write_output(self, obj: Any) -> None:
        # Out-String -Stream: one line per object, written as the console writes a line.
        self.stdout.append(f"{obj}\r\n")

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
        """Write-Host reaches the console through the host (WriteLine); the information
        stream itself is not shown (InformationPreference is SilentlyContinue)."""

    def write_progress(self, *args: Any, **kwargs: Any) -> None:
        """A non-interactive console shows no progress."""

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        name = method.name
        if name in ("Write1", "Write2"):
            self.stdout.append(str(args[-1]))
        elif name.startswith("WriteLine"):
            # The console host ends a Write-Host line with LF alone when stdout is a pipe.
            self.stdout.append((str(args[-1]) if args else "") + "\n")
        elif name == "WriteErrorLine":
            self.stderr.append(str(args[-1]) + "\n")
        elif name == "WriteWarningLine":
            self.stdout.append(f"WARNING: {args[-1]}\n")
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
    out_string = psrpcore.Command("Out-String")
    out_string.add_parameter("Stream", True)
    commands = [psrpcore.Command(script, is_script=True), out_string]
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


def run_command_line(
    shell: CmdShell, line: str, read_stdin: Callable[[], str], make_engine: Callable[[], Any]
) -> tuple[bytes, bytes, int]:
    """Run one cmd shell command line (``dir``, ``cmd.exe /c ...``, ``powershell.exe -``...)
    with the shell's environment and working directory; (stdout, stderr, exit code)."""
    from psremoting.emulator.engine.cmd_exe import CmdExe

    engine = make_engine()
    env = engine.scope.env
    if shell.no_profile:
        env["USERPROFILE"] = "C:\\Windows\\system32\\config\\systemprofile"
    for key, value in shell.environment.items():
        env[key] = value
    cwd = shell.working_directory or engine.home
    engine.ensure_home()

    def powershell(args: list[str], stdin: Any) -> tuple[str, str, int]:
        if args and args[-1] == "-":
            script: str | None = stdin() if callable(stdin) else str(stdin)
        else:
            script = _powershell_script(args)
        if script is None:
            return "", "", 0
        engine.set_location(cmd.cwd)
        out, err, code = run_cmd_script(engine, script)
        return out.decode("utf-8"), err.decode("utf-8"), code

    cmd = CmdExe(
        env,
        cwd,
        computer_name=engine.computer_name,
        username=engine.username,
        sandbox=engine.sandbox,
        run_powershell=powershell,
    )
    result = cmd.run(line, read_stdin)
    return result.out.encode("utf-8"), result.err.encode("utf-8"), result.code
