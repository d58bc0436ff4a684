"""How engine commands are declared: :class:`Builtin`, the registry, and :class:`CommandContext`.

A built-in is a :class:`Builtin` with a :class:`~psremoting.pslang.binder.CommandSignature`.
The simple ones define ``run(ctx)`` (called once, after all pipeline input arrived in
``ctx.input``) and return the objects to write; streaming ones override ``process`` (per
input object) like a cmdlet's ProcessRecord. Modules under ``builtins_*`` register theirs
with :func:`register_builtin`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from psrpcore.types import ErrorCategory, ErrorRecord, HostMethodIdentifier

from psremoting.pslang.binder import BoundParameters, CommandSignature

from .errors import PSError, make_error_record
from .io import PipelineIO, PipelineStopped
from .objects import from_wire
from .run_state import RunState

if TYPE_CHECKING:
    from psremoting.pslang.evaluator import Evaluator

    from . import Engine

__all__ = ["BUILTINS", "Builtin", "CommandContext", "builtin", "lookup_builtin", "register_builtin"]

BUILTINS: dict[str, Builtin] = {}
ALIASES: dict[str, str] = {}


class CommandContext:
    """One invocation of a command: its arguments, input, output and the session around it.

    For handlers registered with ``Emulator.register``: ``args`` (positional values),
    ``params`` (named values, names as written), ``input`` (pipeline input, a list),
    ``io`` and ``engine``. Built-ins also get ``bound`` (the binder's result).
    """

    def __init__(
        self,
        run: RunState,
        name: str,
        invocation_name: str,
        args: list[Any],
        params: dict[str, Any],
        bound: BoundParameters | None,
        evaluator: Evaluator,
        emit: Callable[[Any], None],
        line: str = "",
        position: str | None = None,
    ) -> None:
        self.run_state = run
        self.name = name
        self.invocation_name = invocation_name
        self.args = args
        self.params = params
        self.bound = bound
        self.evaluator = evaluator
        self.input: list[Any] = []
        self.emit = emit
        self.line = line
        self.position = position
        self.state: dict[str, Any] = {}
        #: Where this command's non-terminating errors go when redirected (``2>$null``, ``2>&1``).
        self.error_sink: Callable[[ErrorRecord], None] | None = None

    @property
    def io(self) -> PipelineIO:
        """The pipeline's connection to the client."""
        return self.run_state.io

    @property
    def engine(self) -> Engine:
        """The engine (session state: location, variables, sandbox)."""
        return self.run_state.engine

    def get(self, name: str, default: Any = None) -> Any:
        """A bound parameter's value (built-ins) or a named argument (handlers)."""
        if self.bound is not None:
            return self.bound.get(name, default)
        for key, value in self.params.items():
            if key.lower() == name.lower():
                return value
        return default

    def switch(self, name: str) -> bool:
        """Whether switch ``-name`` is on."""
        return bool(self.get(name, False))

    def write_error(self, record: ErrorRecord) -> None:
        """A non-terminating error (the command goes on), honouring ``-ErrorAction``."""
        action = self.preference("ErrorAction", "ErrorActionPreference")
        if action == "stop":
            raise PSError(record, terminating=True, script_terminating=True)
        if action in ("silentlycontinue", "ignore"):
            return
        if self.error_sink is not None:
            self.run_state.engine.record_error(record)
            self.error_sink(record)
            return
        self.run_state.write_error(record)

    def preference(self, parameter: str, variable: str) -> str:
        """``-<parameter>`` if given, else ``$<variable>`` (lower-case), as PowerShell resolves it."""
        value = self.get(parameter) if self.bound is not None else None
        if value is None:
            value = self.evaluator.scope.lookup(variable) or ""
        return str(value).lower()

    def stream_enabled(self, switch: str | None, variable: str, action: str | None = None) -> bool:
        """Whether a Write-Verbose/Debug/Warning record is written (``-Verbose``, then the preference)."""
        if switch is not None and self.bound is not None and switch in self.bound:
            return self.switch(switch)
        value = (
            self.preference(action, variable)
            if action
            else str(self.evaluator.scope.lookup(variable) or "").lower()
        )
        return value not in ("silentlycontinue", "ignore")

    def error(
        self,
        message: str,
        exception_type: str,
        category: ErrorCategory,
        error_id: str,
        target: Any = None,
    ) -> ErrorRecord:
        """An ErrorRecord attributed to this command, as PowerShell builds it for a cmdlet."""
        return make_error_record(
            message,
            exception_type,
            category,
            error_id,
            target,
            command=self.name,
            line=self.line,
            position=self.position,
        )

    def check_stopped(self) -> None:
        """Raise :class:`PipelineStopped` if the client asked to stop."""
        if self.io.stopping.is_set():
            raise PipelineStopped()

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        """A host call; when the client has no host, writes are dropped and prompts fail as on Windows."""
        self.check_stopped()
        if not self.io.has_host:
            if method.is_void():
                return None
            # InternalHostUserInterface: ReadLine throws HostFunctionNotImplemented's text,
            # the prompts (Prompt, PromptForChoice, PromptForCredential) the one with their message.
            reads = (HostMethodIdentifier.ReadLine, HostMethodIdentifier.ReadLineAsSecureString)
            message = (
                "A command that prompts the user failed because the host program or the command type does "
                "not support user interaction. Try a host program that supports user interaction, such as "
                "the PowerShell Console, and remove prompt-related commands from command types that do not "
                "support user interaction."
                if method in reads
                else "A command that prompts the user failed because the host program or the command type does "
                "not support user interaction. The host was attempting to request confirmation with the "
                "following message: " + (str(args[1]) if len(args) > 1 and args[1] else "")
            )
            raise PSError(
                self.error(
                    message,
                    "System.Management.Automation.Host.HostException",
                    ErrorCategory.NotImplemented,
                    "HostFunctionNotImplemented",
                ),
                terminating=True,
            )
        return from_wire(self.io.host_call(method, args))

    def write_line(self, text: str = "") -> None:
        """One line to the host (WriteLine2), as Out-Default writes."""
        self.host_call(HostMethodIdentifier.WriteLine2, [text])


class Builtin:
    """A built-in command. Subclasses set ``signature`` and override ``run`` or ``process``."""

    signature: CommandSignature = CommandSignature("Unnamed")
    aliases: tuple[str, ...] = ()
    #: The .NET class in FullyQualifiedErrorIds (``...GetChildItemCommand``); "" for functions.
    fqid_suffix: str | None = None
    #: Shown by Get-Command: Cmdlet or Function.
    command_type: str = "Cmdlet"
    #: Get-Command's HelpUri (the command's online help), "" for none.
    help_uri: str = ""

    @property
    def name(self) -> str:
        """The command's name."""
        return self.signature.name

    def begin(self, ctx: CommandContext) -> None:
        """Called once before any input (BeginProcessing)."""

    def process(self, ctx: CommandContext, item: Any) -> None:
        """Called per input object; the default collects it into ``ctx.input``."""
        ctx.input.append(item)

    def end(self, ctx: CommandContext) -> None:
        """Called once after the input ended; the default calls :meth:`run` and writes its result."""
        result = self.run(ctx)
        if result is not None:
            for item in result:
                ctx.emit(item)

    def run(self, ctx: CommandContext) -> Iterable[Any] | None:
        """The command's work for simple built-ins; returns the objects to write."""
        return None


class _FunctionBuiltin(Builtin):
    def __init__(
        self,
        signature: CommandSignature,
        fn: Callable[[CommandContext], Iterable[Any] | None],
        aliases: tuple[str, ...],
        command_type: str,
    ) -> None:
        self.signature = signature
        self.aliases = aliases
        self.command_type = command_type
        self._fn = fn

    def run(self, ctx: CommandContext) -> Iterable[Any] | None:
        return self._fn(ctx)


def register_builtin(command: Builtin) -> Builtin:
    """Add a built-in (and its aliases) to the registry."""
    BUILTINS[command.name.lower()] = command
    for alias in command.aliases:
        ALIASES[alias.lower()] = command.name
    return command


def builtin(
    signature: CommandSignature, aliases: tuple[str, ...] = (), command_type: str = "Cmdlet"
) -> Callable[
    [Callable[[CommandContext], Iterable[Any] | None]], Callable[[CommandContext], Iterable[Any] | None]
]:
    """Decorator: register ``fn(ctx) -> iterable`` as a simple built-in (`command_type`:
    what Get-Command calls it on Windows, a Cmdlet or, for the script modules', a Function)."""

    def wrap(
        fn: Callable[[CommandContext], Iterable[Any] | None],
    ) -> Callable[[CommandContext], Iterable[Any] | None]:
        register_builtin(_FunctionBuiltin(signature, fn, aliases, command_type))
        return fn

    return wrap


def lookup_builtin(name: str) -> Builtin | None:
    """The built-in called or aliased ``name`` (case-insensitive), or None."""
    lower = name.lower()
    command = BUILTINS.get(lower)
    if command is None and lower in ALIASES:
        command = BUILTINS.get(ALIASES[lower].lower())
    return command
