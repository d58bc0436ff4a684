"""Running one client pipeline: command lookup, parameter binding, the push pipeline, errors.

Commands follow PowerShell's processing model: every command of a pipeline is bound first,
then ``begin`` runs for all, each input object is pushed through ``process``, and ``end``
runs in order (a command's output is pushed into the next one as it is written, so
Out-Default prints while earlier commands are still running).

Errors follow PowerShell's rules: a cmdlet's non-terminating error is written and the
command goes on; a statement-terminating error (unknown command, binding error, a
cmdlet's ThrowTerminatingError, a runtime error in an expression) ends that statement and a
script continues with the next one; ``throw`` and ``-ErrorAction Stop`` end the whole
pipeline (Failed), as does any error of a command invoked directly (not as a script).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from psrpcore.types import ErrorCategory, ErrorRecord, PipelineResultTypes

from psremoting.pslang import arguments_from_command
from psremoting.pslang import ast as A
from psremoting.pslang.binder import NO_VALUE, ParameterBindingError, ParameterToken, bind
from psremoting.pslang.evaluator import (
    EvaluationError,
    Evaluator,
    ExitRequest,
    ThrowRequest,
)
from psremoting.pslang.parser import ParseError, parse
from psremoting.pslang.values import CaseInsensitiveDict, ScriptBlock, to_string

from .builtins_transfer import native_stage as native_transfer_stage
from .commands import ALIASES, Builtin, CommandContext, lookup_builtin
from .errors import PSError, command_not_found, make_error_record, position_message
from .io import PipelineIO, PipelineStopped
from .native import NativeStage, native_program
from .objects import from_wire
from .processors import (
    CommandProcessor,
    ExpressionSource,
    HandlerProcessor,
    Processor,
    Redirected,
    Routed,
)
from .script_stage import FunctionStage, ScriptStage

if TYPE_CHECKING:
    from . import Engine

__all__ = ["PipelineRun"]

Emit = Callable[[Any], None]


class PipelineRun:
    """The state of one client pipeline while the engine runs it."""

    def __init__(self, engine: Engine, io: PipelineIO) -> None:
        self.engine = engine
        self.io = io
        self.error_route: Emit = io.write_error
        self.script_text = ""
        #: How deep Invoke-Expression calls are nested (see make_processor's CommandNotFound).
        self.in_expression = 0
        self.evaluator = Evaluator(
            engine.scope, self.run_pipeline, engine.functions, on_statement_error=self._statement_error
        )
        self.evaluator.check_interrupt = self._check_stopped
        self.evaluator.catchable = self._catchable
        self.evaluator.write_redirect = lambda target, items, append: self.write_file(target, items, append)

    def _check_stopped(self) -> None:
        if self.io.stopping.is_set():
            raise PipelineStopped()

    def _catchable(self, exc: Exception) -> tuple[Any, list[str]] | None:
        """What ``catch`` sees (``$_``): the ErrorRecord of a terminating error, and its exception's types."""
        if isinstance(exc, PSError):
            record = exc.record
        elif isinstance(exc, ThrowRequest):
            record = self.thrown_error(exc)
        elif isinstance(exc, EvaluationError):
            record = self.runtime_error(exc)
        else:
            return None
        names = list(getattr(getattr(record.Exception, "PSObject", None), "type_names", []) or [])
        return record, names

    def _char(self, byte_offset: int) -> int:
        """A character offset in the script text from tree-sitter's byte offset."""
        text = self.script_text
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    # -- errors --------------------------------------------------------------------
    def write_error(self, record: ErrorRecord) -> None:
        """A non-terminating error, to the error stream or where the client merged it."""
        self.engine.record_error(record)
        self.error_route(record)

    def _statement_error(self, exc: Exception, statement: A.Statement) -> bool:
        if isinstance(exc, PSError) and not exc.script_terminating:
            self.write_error(exc.record)
        elif isinstance(exc, EvaluationError):
            self.write_error(self.runtime_error(exc))
        else:
            return False
        self.engine.scope.set("?", False)
        return True

    def runtime_error(self, exc: EvaluationError) -> ErrorRecord:
        """A RuntimeException ErrorRecord for an error inside an expression."""
        text = self.script_text
        return make_error_record(
            exc.message,
            "System.Management.Automation.RuntimeException",
            ErrorCategory.InvalidOperation
            if exc.error_id != "TypeNotFound"
            else ErrorCategory.InvalidOperation,
            exc.error_id,
            None,
            line=text,
            position=position_message(text, self._char(exc.pos), self._char(exc.pos) + 1) if text else None,
            invocation_name="",
        )

    # -- client level --------------------------------------------------------------
    def invoke(self, commands: list[Any]) -> None:
        """Run the CreatePipeline's commands (raises on a terminating end): one pipeline per
        statement (a command with EndOfStatement ends one, as ``PowerShell.AddStatement``);
        the client's input goes to the first."""
        statements: list[list[Any]] = [[]]
        for command in commands:
            statements[-1].append(command)
            if getattr(command, "end_of_statement", False):
                statements.append([])
        statements = [s for s in statements if s] or [[]]
        for index, statement in enumerate(statements):
            self._invoke_statement(statement, with_input=index == 0)

    def _invoke_statement(self, commands: list[Any], with_input: bool = True) -> None:
        stages: list[Processor] = []
        for command in commands:
            if command.is_script and (native := native_transfer_stage(self, command)) is not None:
                stages.append(native)  # Copy-Item's transfer scripts, performed natively
            elif command.is_script:
                self.script_text = command.command_text
                try:
                    script = parse(command.command_text)
                except ParseError as exc:
                    raise PSError(self.parse_error(exc), terminating=True) from exc
                stages.append(ScriptStage(self, script, [(n, from_wire(v)) for n, v in command.parameters]))
            else:
                stages.append(self._direct_command(command))
        final = self._final_output
        routes = self._error_routes(commands, stages, final)
        wrapped: list[Processor] = [Routed(self, stage, routes[i]) for i, stage in enumerate(stages)]
        self._link(wrapped, final)
        source = map(from_wire, self.io.input()) if with_input else iter(())
        if stages and isinstance(stages[0], ScriptStage):
            # The client's input is the script's external reader: read as it arrives.
            stages[0].external = source
            self._execute(wrapped, None, finish_on_exit=True)
        else:
            self._execute(wrapped, source, finish_on_exit=True)

    def _final_output(self, obj: Any) -> None:
        self.io.write_output(self.engine.to_wire(obj))

    def _error_routes(self, commands: list[Any], stages: list[Processor], final: Emit) -> list[Emit]:
        routes: list[Emit] = [self.io.write_error] * len(stages)
        claim = next((i for i, c in enumerate(commands) if getattr(c, "merge_unclaimed", False)), None)
        for i, command in enumerate(commands):
            merged = command.merge_error == PipelineResultTypes.Output or (
                command.merge_my == PipelineResultTypes.Error
                and command.merge_to == PipelineResultTypes.Output
            )
            if merged:
                routes[i] = (
                    lambda j: lambda rec: stages[j + 1].process(rec) if j + 1 < len(stages) else final(rec)
                )(i)
            elif command.merge_error == PipelineResultTypes.Null:
                routes[i] = lambda rec: None
            elif claim is not None and i < claim:
                routes[i] = (lambda j: lambda rec: stages[j].process(rec))(claim)
        return routes

    def parse_error(self, exc: ParseError) -> ErrorRecord:
        """A ParseException ErrorRecord, as PowerShell reports a script that does not parse."""
        text = exc.text
        record = make_error_record(
            exc.message,
            "System.Management.Automation.ParseException",
            ErrorCategory.ParserError,
            exc.error_id,
            None,
            position=position_message(text, exc.position, exc.position + 1) if text else None,
            invocation_name="",
        )
        if exc.incomplete:
            record.CategoryInfo.Reason = "IncompleteParseException"
            record.Exception.PSObject.type_names = [
                "System.Management.Automation.IncompleteParseException",
                "System.Management.Automation.ParseException",
                "System.Management.Automation.RuntimeException",
                "System.SystemException",
                "System.Exception",
                "System.Object",
            ]
        else:
            record.CategoryInfo.Reason = "ParseException"
        return record

    def _direct_command(self, command: Any) -> Processor:
        tokens: list[Any] = []
        for name, wire_value in command.parameters:
            value = from_wire(wire_value)
            tokens.append(
                value if name is None else ParameterToken(name, NO_VALUE if value is None else value)
            )
        return self.make_processor(command.command_text, tokens, self.evaluator, "", -1, False, direct=True)

    @staticmethod
    def _link(processors: list[Processor], final: Emit) -> None:
        for i, proc in enumerate(processors):
            emit = processors[i + 1].process if i + 1 < len(processors) else final
            if isinstance(proc, Redirected):
                proc.link(emit)
            else:
                proc.downstream = emit

    def _execute(
        self, processors: list[Processor], input_items: Iterator[Any] | None, finish_on_exit: bool = False
    ) -> None:
        for proc in processors:
            proc.begin()
        if input_items is not None:
            for item in input_items:
                if self.io.stopping.is_set():
                    raise PipelineStopped()
                processors[0].process(item)
        for index, proc in enumerate(processors):
            try:
                proc.end()
            except ExitRequest:
                if finish_on_exit:
                    # `exit` ends the script, but what it wrote still reaches Out-Default.
                    for later in processors[index + 1 :]:
                        later.end()
                raise

    # -- statements inside scripts -------------------------------------------------
    def run_pipeline(self, evaluator: Evaluator, pipeline: A.Pipeline, emit: Emit) -> None:
        """The evaluator's callback for a pipeline that contains commands."""
        if self.io.stopping.is_set():
            raise PipelineStopped()
        processors: list[Processor] = []
        for index, element in enumerate(pipeline.elements):
            if isinstance(element, A.Command):
                processors.append(self._script_command(evaluator, element, index > 0))
            else:
                processors.append(ExpressionSource(evaluator, element))
        self._link(processors, emit)
        errors_before = self.engine.error_count
        self._execute(processors, None)
        # $? is False after a pipeline that wrote an error, as in PowerShell.
        self.engine.scope.set("?", self.engine.error_count == errors_before)

    def _script_command(self, evaluator: Evaluator, command: A.Command, expecting_input: bool) -> Processor:
        if isinstance(command.name, str):
            name = command.name
        else:
            value = evaluator.evaluate(command.name)
            if isinstance(value, ScriptBlock):
                args, params = _split_arguments(self._tokens(evaluator, command), _switches(value))
                stage = FunctionStage(self, evaluator, value, args, params)
                stage.expecting_input = expecting_input
                if command.redirections:  # & { ... } 2>&1
                    targets = [
                        (r, evaluator.evaluate(r.target) if r.target is not None else None)
                        for r in command.redirections
                    ]
                    return Redirected(self, stage, None, targets)
                return stage
            name = to_string(value)
        tokens = self._tokens(evaluator, command)
        proc = self.make_processor(name, tokens, evaluator, command.text, command.pos, expecting_input)
        if command.redirections:
            targets = [
                (r, evaluator.evaluate(r.target) if r.target is not None else None)
                for r in command.redirections
            ]
            ctx = getattr(proc, "ctx", None)
            return Redirected(self, proc, ctx if isinstance(ctx, CommandContext) else None, targets)
        return proc

    def write_file(self, path: Any, items: list[Any], append: bool) -> None:
        """``> file``: the items as Out-File writes them (formatted text), in the sandbox."""
        from .builtins_content import write_text_file
        from .formatting import format_all

        lines = format_all(items)
        write_text_file(self, to_string(path), "\r\n".join(lines) + ("\r\n" if lines else ""), append)

    @staticmethod
    def _tokens(evaluator: Evaluator, command: A.Command) -> list[Any]:
        """The command's arguments evaluated, parameters as ParameterTokens (to bind later)."""
        return arguments_from_command(evaluator, command)

    def make_processor(
        self,
        name: str,
        tokens: list[Any],
        evaluator: Evaluator,
        text: str,
        pos: int,
        expecting_input: bool,
        direct: bool = False,
    ) -> Processor:
        """Resolve ``name`` (handlers, functions, built-ins, aliases) and bind its arguments."""
        position = None
        if pos >= 0 and self.script_text:
            start = self._char(pos)
            position = position_message(self.script_text, start, start + len(text.rstrip()))
        args, params = _split_arguments(tokens)
        allowed = self.engine.allowed_commands
        if (
            allowed is not None
            and name.lower() not in allowed
            and ALIASES.get(name.lower(), "").lower() not in allowed
        ):
            # A JEA endpoint: what the role does not allow does not exist there.
            if pos >= 0 and self.script_text:
                start = self._char(pos)
                position = position_message(self.script_text, start, start + len(name))
            # Inside Invoke-Expression a command Windows cannot find ends the pipeline Failed
            # (the recording test_client_execute_ps_failure: pypsrp's execute_ps); in a
            # script the error is written and the script goes on. try/catch catches both.
            raise PSError(
                command_not_found(name, self.script_text or None, position, self.engine.version),
                terminating=True,
                script_terminating=self.in_expression > 0,
            )
        handler = self.engine.handler_for(name)
        if handler is None and name.lower() in ALIASES:
            # An alias names the command it stands for, which a handler may have replaced.
            handler = self.engine.handler_for(ALIASES[name.lower()])
        if handler is not None:
            # A registered handler loads a module only if it says it comes from one.
            module = getattr(handler, "module", None)
            if module:
                self._load_module_of(ALIASES.get(name.lower(), name), direct, str(module))
            ctx = CommandContext(self, name, name, args, params, None, evaluator, _unset, text, position)
            proc: Processor = HandlerProcessor(handler, ctx)
            return _bind_emit(proc, ctx)
        function = self.engine.functions.get(name)
        if function is not None:
            args, params = _split_arguments(tokens, _switches(function))
            stage = FunctionStage(self, evaluator, function, args, {k: v for k, v in params.items()})
            stage.expecting_input = expecting_input
            return stage
        command = lookup_builtin(name)
        if command is None and native_program(name):
            return NativeStage(self, name, tokens)
        if command is None:
            if pos >= 0 and self.script_text:
                start = self._char(pos)
                position = position_message(self.script_text, start, start + len(name))
            # Inside Invoke-Expression a command Windows cannot find ends the pipeline Failed
            # (the recording test_client_execute_ps_failure: pypsrp's execute_ps); in a
            # script the error is written and the script goes on. try/catch catches both.
            raise PSError(
                command_not_found(name, self.script_text or None, position, self.engine.version),
                terminating=True,
                script_terminating=self.in_expression > 0,
            )
        self._load_module_of(command.name, direct)
        try:
            bound = bind(command.signature, tokens, expecting_input=expecting_input)
        except ParameterBindingError as exc:
            raise PSError(self.binding_error(command, exc, text, position), terminating=True) from exc
        ctx = CommandContext(self, command.name, name, args, params, bound, evaluator, _unset, text, position)
        return _bind_emit(CommandProcessor(command, ctx), ctx)

    def _load_module_of(self, command_name: str, direct: bool, module: str | None = None) -> None:
        """Auto-load the command's module: from a running script (not for a command the
        client added directly, resolved as the pipeline is built) Windows PowerShell 5.1
        writes its first-use progress record (modules.py)."""
        self.engine.modules.use(
            command_name,
            self.io,
            in_script=not direct,
            preference=self.engine.scope.get("ProgressPreference"),
            module=module,
        )

    def binding_error(
        self, command: Builtin, exc: ParameterBindingError, text: str, position: str | None
    ) -> ErrorRecord:
        """A ParameterBindingException ErrorRecord for ``command``."""
        category = (
            ErrorCategory.InvalidArgument if exc.category == "InvalidArgument" else ErrorCategory.InvalidData
        )
        return make_error_record(
            exc.message,
            "System.Management.Automation.ParameterBindingException",
            category,
            exc.error_id,
            None,
            command=command.name,
            line=self.script_text or text,
            position=position,
            fqid_suffix=command.fqid_suffix,
        )

    # -- flow control at the top ---------------------------------------------------
    @staticmethod
    def thrown_error(req: ThrowRequest) -> ErrorRecord:
        """The ErrorRecord ``throw value`` produces (RuntimeException, OperationStopped)."""
        value = req.value
        if isinstance(value, ErrorRecord):
            return value
        message = to_string(value) if value is not None else "ScriptHalted"
        return make_error_record(
            message,
            "System.Management.Automation.RuntimeException",
            ErrorCategory.OperationStopped,
            message,
            value,
        )


def _unset(_: Any) -> None:  # pragma: no cover - replaced by _bind_emit before use
    raise RuntimeError("emit used before the pipeline was linked")


def _bind_emit(proc: Processor, ctx: CommandContext) -> Processor:
    """Make ``ctx.emit`` follow the processor's downstream once the pipeline is linked."""
    ctx.emit = lambda obj: proc.downstream(obj)
    return proc


def _switches(block: ScriptBlock) -> frozenset[str]:
    """The ``[switch]`` parameters a script block or function declares (lower-case)."""
    return frozenset(
        p.name.lower()
        for p in block.script.param_specs
        if (p.type_name or "").lower() in ("switch", "management.automation.switchparameter")
    )


def _split_arguments(
    tokens: list[Any], switches: frozenset[str] = frozenset()
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and named arguments for an unbound handler: ``-Name value``, ``-Switch`` as
    True (as is a declared ``switches`` parameter, which takes no value after it)."""
    params: dict[str, Any] = CaseInsensitiveDict()
    args: list[Any] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not isinstance(token, ParameterToken):
            args.append(token)
            continue
        if token.value is not NO_VALUE:
            params[token.name] = token.value
        elif (
            i < len(tokens)
            and not isinstance(tokens[i], ParameterToken)
            and token.name.lower() not in switches
        ):
            params[token.name] = tokens[i]
            i += 1
        else:
            params[token.name] = True
    return args, params
