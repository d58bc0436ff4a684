"""The emulator's command engine: runs PowerShell-subset pipelines for one runspace pool.

This is a test double of a Windows host's PowerShell, not PowerShell: it parses the client's
scripts with tree-sitter-powershell (:mod:`psremoting.pslang`), binds parameters with
PowerShell's rules, runs a set of built-ins that return real-looking objects (FileInfo,
DateTime, ErrorRecords with Windows' messages and ids) over a sandbox folder shown as ``C:\\``,
and formats Out-Default's text as Windows PowerShell 5.1 does on a remote host.

Built-ins: prompt, Out-Default, Out-Host, Out-String, Out-Null, Exit-PSSession, TabExpansion2,
Get-Command, Get-Location/Set-Location, Get-ChildItem, Get-Item, Get-Content, Set-Content,
Add-Content, Test-Path, New-Item, mkdir, Remove-Item, Join-Path, Split-Path, Write-Output/
Error/Warning/Verbose/Debug/Information/Host/Progress, Read-Host, Get-Credential,
Start-Sleep, Get-Date, ForEach-Object, Where-Object, Select-Object, Sort-Object,
Measure-Object, Format-Table/List (as text), Invoke-Expression, Get/Set/Remove-Variable,
Clear-Host (a no-op), hostname, whoami; with the usual aliases. ``exit N`` calls the host's
SetShouldExit. Modules: ``runtime`` (a pipeline run), ``processors`` (its stages),
``commands`` (declaring built-ins), ``builtins_*``, ``filesystem`` (the sandbox),
``objects``/``formatting`` (what output looks like), ``errors``, ``session``, ``io``.

The shell glue creates one :class:`Engine` per runspace pool and calls :meth:`Engine.invoke`
in a worker thread per pipeline (see ``docs/internals.md``, "Emulator engine <-> PSRP
shell glue"). Commands registered from Python (``Emulator.register(name, handler)``) are
called as ``handler(ctx)`` with ``ctx.args``, ``ctx.params``, ``ctx.input``, ``ctx.io`` and
``ctx.engine``; they override built-ins of the same name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from psrpcore.types import ErrorCategory, ErrorRecord, HostMethodIdentifier

from psremoting.pslang.evaluator import EvaluationError, ExitRequest, ReturnRequest, ThrowRequest
from psremoting.pslang.scope import Scope
from psremoting.pslang.values import CaseInsensitiveDict, ScriptBlock

from ..config import DEFAULT_PROCESSES
from . import (  # noqa: F401 - importing registers the built-ins
    builtins_cim,
    builtins_commands,
    builtins_content,
    builtins_core,
    builtins_described,
    builtins_formatdata,
    builtins_fs,
    builtins_host,
    builtins_hostdata,
    builtins_jobs,
    builtins_json,
    builtins_modules,
    builtins_pipeline,
    builtins_process,
    builtins_remoting,
    builtins_services,
    builtins_system,
    builtins_utility,
    builtins_winevent,
)
from .builtins_jobs import JobTable
from .cmd_exe import PROGRAM_FILES
from .commands import CommandContext
from .errors import PSError, make_error_record
from .filesystem import SYSTEM_FOLDERS, Sandbox, SandboxEscape
from .host_ui import ServerRemoteHost
from .io import InvocationResult, PipelineIO, PipelineStopped
from .modules import LoadedModules
from .objects import path_info, to_wire
from .runtime import PipelineRun
from .session import ExecutionContextStub, version_table
from .session import environment as session_environment
from .wsman_drive import wsman_settings

__all__ = ["Engine", "Handler", "HandlerContext", "InvocationResult", "PipelineIO", "PipelineStopped"]

#: The context a registered handler receives (``.args``, ``.params``, ``.input``, ``.io``, ``.engine``).
HandlerContext = CommandContext
Handler = Callable[[CommandContext], "Iterable[Any] | None"]


class Engine:
    """The remote session of one runspace pool: variables, location, functions, sandbox.

    ``root`` is the sandbox folder shown as ``C:\\`` (a temporary folder when None);
    ``commands`` maps names to handlers registered from Python and is read live, so handlers
    registered later are seen; ``version`` picks Windows PowerShell ``"5.1"`` or ``"7"``.
    """

    def __init__(
        self,
        computer_name: str = "SERVER01",
        username: str = "user",
        root: Path | None = None,
        commands: Mapping[str, Handler] | None = None,
        version: str = "5.1",
        logon: Callable[[str, str], bool] | None = None,
        delegated: Any = None,
        services: Iterable[Mapping[str, Any]] = (),
        processes: Iterable[Mapping[str, Any]] | None = None,
        registry: Mapping[str, Mapping[str, Any]] | None = None,
        events: Iterable[Mapping[str, Any]] = (),
        allowed_commands: Iterable[str] | None = None,
        virtual_account: bool = False,
        no_profile: bool = False,
        allow_unencrypted: bool = False,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.computer_name = computer_name
        #: The WinRM service's settings under ``WSMan:\localhost`` (container -> name -> value).
        self.wsman_settings = wsman_settings(allow_unencrypted)
        #: The credential the client delegated to this session (CredSSP's password, a
        #: forwarded Kerberos ticket: `psremoting.emulator.auth.DelegatedCredential`), with
        #: which the second hop logs on when no -Credential is given; None: the double hop.
        self.delegated = delegated
        #: The services Get-Service lists (the emulator config's ``services``).
        self.services: list[Mapping[str, Any]] = list(services)
        #: The processes Get-Process lists (the emulator config's ``processes``).
        self.processes: list[Mapping[str, Any]] = list(
            processes if processes is not None else DEFAULT_PROCESSES
        )
        #: Registry keys (``HKLM:\\...``) -> values beside the default ones (Get-ItemProperty).
        self.registry: dict[str, Mapping[str, Any]] = dict(registry or {})
        #: Declared event log entries, newest first, before the default ones (Get-EventLog).
        self.events: list[Mapping[str, Any]] = list(events)
        #: A JEA endpoint's commands (lower-case names); None: every command exists.
        self.allowed_commands: frozenset[str] | None = (
            frozenset(c.lower() for c in allowed_commands) if allowed_commands is not None else None
        )
        if virtual_account:
            # JEA's RunAsVirtualAccount: the session runs as WinRM's virtual account.
            username = f"WinRM VA_1_{_short_user(username)}"
        #: Pipelines the client ran with AddToHistory (Get-History).
        self.history: list[dict[str, Any]] = []
        #: Checks a user name and password as another computer of this emulator would (the
        #: second hop of ``Invoke-Command -Credential``); None: no second hop can log on.
        self.logon = logon
        self.username = _short_user(username)
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="psremoting-sandbox-"))
        self.root = Path(root)
        self.home = f"C:\\Users\\{self.username}"
        self.sandbox = Sandbox(self.root, home=self.home)
        self.commands: Mapping[str, Handler] = commands if commands is not None else {}
        self.version = version
        #: The modules this runspace has loaded; loading one from a script writes Windows
        #: PowerShell 5.1's "Preparing modules for first use." progress record (modules.py).
        self.modules = LoadedModules(announce=version.startswith("5"))
        self.functions: dict[str, ScriptBlock] = CaseInsensitiveDict()
        self.errors: list[ErrorRecord] = []
        #: Errors written so far in this session (``$?`` compares it around a pipeline).
        self.error_count = 0
        self._lock = threading.Lock()
        #: The session's background jobs (Start-Job).
        self.jobs = JobTable()
        self._running = threading.local()
        self._home_ready = False
        self.location = self.home + "\\Documents"
        self.scope = Scope(env=session_environment(computer_name, self.username, environment))
        if no_profile:
            # WINRS_NOPROFILE: no user profile is loaded; the process sees the system profile.
            self.scope.env["USERPROFILE"] = "C:\\Windows\\system32\\config\\systemprofile"
        self._init_variables()

    def _init_variables(self) -> None:
        s = self.scope
        s.set("PSVersionTable", version_table(self.version))
        s.set("HOME", self.home)
        s.set("PWD", path_info(self.location))
        s.set("executionContext", ExecutionContextStub(self))
        s.set("Host", ServerRemoteHost(self))
        s.set("nestedPromptLevel", 0)
        s.set("PID", os.getpid())
        s.set("ErrorActionPreference", "Continue")
        s.set("WarningPreference", "Continue")
        s.set("VerbosePreference", "SilentlyContinue")
        s.set("DebugPreference", "SilentlyContinue")
        s.set("InformationPreference", "SilentlyContinue")
        s.set("ProgressPreference", "Continue")
        s.set("ConfirmPreference", "High")
        s.set("WhatIfPreference", False)
        s.set("LASTEXITCODE", 0)
        s.set("?", True)
        s.set("Error", self.errors)
        s.set("PSHOME", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0")
        s.set("ShellId", "Microsoft.PowerShell")

    # -- used by built-ins ---------------------------------------------------------
    def ensure_home(self) -> None:
        """Create, on first use, a default Windows Server's skeleton in the sandbox: its
        folders (`SYSTEM_FOLDERS`), the programs the cmd shell runs (C:\\Windows\\System32\\
        cmd.exe ..., `cmd_exe.PROGRAM_FILES`), ``C:\\Users\\<user>\\Documents`` and the
        user's ``%TEMP%``. What is already there is left as it is."""
        if self._home_ready:
            return
        with self._lock:
            folders = [*SYSTEM_FOLDERS, self.home + "\\Documents", self.home + "\\AppData\\Local\\Temp"]
            for folder in folders:
                with contextlib.suppress(OSError, SandboxEscape):
                    self.sandbox.host_path(folder).mkdir(parents=True, exist_ok=True)
            for program in sorted(PROGRAM_FILES):
                with contextlib.suppress(OSError, SandboxEscape):
                    target = self.sandbox.host_path(program)
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(b"MZ")  # a PE image's first bytes; never run
            self._home_ready = True

    def set_location(self, windows_path: str) -> None:
        """Change the current location (the caller checked that it exists)."""
        self.location = windows_path
        self.scope.set("PWD", path_info(windows_path))

    def handler_for(self, name: str) -> Handler | None:
        """The handler registered for ``name`` (case-insensitive), or None."""
        commands = self.commands
        handler = commands.get(name)
        if handler is not None:
            return handler
        lower = name.lower()
        for key, value in list(commands.items()):
            if key.lower() == lower:
                return value
        return None

    def record_error(self, record: ErrorRecord) -> None:
        """Keep ``record`` in ``$Error`` (newest first, at most 256)."""
        self.errors.insert(0, record)
        del self.errors[256:]
        self.error_count += 1

    @staticmethod
    def to_wire(obj: Any) -> Any:
        """Convert an output object to what psrpcore serializes."""
        return to_wire(obj)

    # -- the contract with the shell glue ------------------------------------------
    def invoke(self, commands: list[Any], io: PipelineIO) -> InvocationResult:
        """Run one CreatePipeline's commands; blocks until the pipeline ends; never raises."""
        self.ensure_home()
        run = PipelineRun(self, io)
        saved = getattr(self._running, "io", None)
        self._running.io = io
        try:
            return self._invoke(run, commands, io)
        finally:
            self._running.io = saved

    @property
    def current_io(self) -> PipelineIO | None:
        """The pipeline this thread runs (``$host``'s calls go to its client)."""
        return getattr(self._running, "io", None)

    def _invoke(self, run: PipelineRun, commands: list[Any], io: PipelineIO) -> InvocationResult:
        try:
            run.invoke(list(commands))
        except ExitRequest as req:
            self.scope.set("LASTEXITCODE", req.code)
            # SetShouldExit is a host method, not a UI one: Windows' ServerRemoteHost sends
            # it to the client whether or not the client gave a host UI.
            try:
                io.host_call(HostMethodIdentifier.SetShouldExit, [req.code])
            except PipelineStopped:
                return InvocationResult(stopped=True)
            return InvocationResult()
        except ReturnRequest:
            return InvocationResult()
        except PipelineStopped:
            return InvocationResult(stopped=True)
        except PSError as exc:
            self.record_error(exc.record)
            return InvocationResult(failed=exc.record)
        except ThrowRequest as req:
            record = run.thrown_error(req)
            self.record_error(record)
            return InvocationResult(failed=record)
        except EvaluationError as exc:
            record = run.runtime_error(exc)
            self.record_error(record)
            return InvocationResult(failed=record)
        except Exception as exc:
            record = make_error_record(
                f"The emulator's engine failed: {type(exc).__name__}: {exc}",
                "System.Management.Automation.RuntimeException",
                ErrorCategory.NotSpecified,
                "EmulatorEngineError",
            )
            return InvocationResult(failed=record)
        return InvocationResult()


def _short_user(username: str) -> str:
    """``DOMAIN\\user`` or ``user@REALM`` -> ``user`` (the profile folder name)."""
    name = username.split("\\")[-1].split("@")[0]
    return name or "user"
