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

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from psrpcore.types import ErrorCategory, ErrorRecord, PipelineResultTypes

from psremoting.pslang import ast as A
from psremoting.pslang.binder import NO_VALUE, ParameterBindingError, ParameterToken, bind
from psremoting.pslang.evaluator import (
    EvaluationError,
    Evaluator,
    ExitRequest,
    ReturnRequest,
    ThrowRequest,
)
from psremoting.pslang.parser import ParseError, parse
from psremoting.pslang.values import CaseInsensitiveDict, ScriptBlock, enumerate_value, to_string

from .commands import Builtin, CommandContext, lookup_builtin
from .errors import PSError, command_not_found, make_error_record, position_message
from .io import PipelineIO, PipelineStopped

if TYPE_CHECKING:
    from . import Engine

__all__ = ["PipelineRun"]

Emit = Callable[[Any], None]


class _Processor:
    """One stage of a running pipeline (begin / process / end)."""

    downstream: Emit

    def begin(self) -> None:
        """Before any input."""

    def process(self, item: Any) -> None:
        """One input object."""

    def end(self) -> None:
        """After the input ended."""


class _CommandProcessor(_Processor):
    def __init__(self, command: Builtin, ctx: CommandContext) -> None:
        self.command = command
        self.ctx = ctx

    def begin(self) -> None:
        self.command.begin(self.ctx)

    def process(self, item: Any) -> None:
        self.ctx.check_stopped()
        try:
            self.command.process(self.ctx, item)
        except PSError as exc:
            if exc.terminating:
                raise
            self.ctx.write_error(exc.record)

    def end(self) -> None:
        self.ctx.check_stopped()
        try:
            self.command.end(self.ctx)
        except PSError as exc:
            if exc.terminating:
                raise
            self.ctx.write_error(exc.record)


class _HandlerProcessor(_Processor):
    def __init__(self, handler: Callable[[CommandContext], Any], ctx: CommandContext) -> None:
        self.handler = handler
        self.ctx = ctx

    def process(self, item: Any) -> None:
        self.ctx.input.append(item)

    def end(self) -> None:
        try:
            result = self.handler(self.ctx)
        except (PSError, PipelineStopped, ExitRequest):
            raise
        except Exception as exc:  # noqa: BLE001 - a handler's bug is reported as PowerShell would
            raise PSError(
                make_error_record(
                    str(exc) or type(exc).__name__,
                    "System.Management.Automation.RuntimeException",
                    ErrorCategory.NotSpecified,
                    type(exc).__name__,
                    None,
                    line=self.ctx.line,
                    position=self.ctx.position,
                )
            ) from exc
        if result is None:
            return
        if isinstance(result, (str, bytes, dict)) or not isinstance(result, Iterable):
            self.ctx.emit(result)
            return
        for item in result:
            self.ctx.emit(item)


class _FunctionProcessor(_Processor):
    def __init__(
        self,
        run: PipelineRun,
        evaluator: Evaluator,
        block: ScriptBlock,
        args: list[Any],
        params: dict[str, Any],
    ) -> None:
        self.run = run
        self.evaluator = evaluator
        self.block = block
        self.args = args
        self.params = params
        self.input: list[Any] = []

    def process(self, item: Any) -> None:
        self.input.append(item)

    def end(self) -> None:
        scope = self.evaluator.scope.child()
        positional = list(self.args)
        lowered = {k.lower(): v for k, v in self.params.items()}
        for pname in self.block.params:
            if pname.lower() in lowered:
                scope.set(pname, lowered[pname.lower()])
            else:
                scope.set(pname, positional.pop(0) if positional else None)
        scope.set("args", positional)
        scope.set("input", list(self.input))
        try:
            self.evaluator.child(scope).run_script(self.block.script, self.downstream)
        except ReturnRequest as req:
            if req.keyword != "return":
                raise


class _ExpressionSource(_Processor):
    def __init__(self, evaluator: Evaluator, expr: A.Expr) -> None:
        self.evaluator = evaluator
        self.expr = expr

    def end(self) -> None:
        value = self.evaluator.evaluate(self.expr)
        for item in enumerate_value(value) if not isinstance(value, dict) else [value]:
            self.downstream(item)


class _ScriptStage(_Processor):
    """A client command with ``is_script``: the parsed script, run at ``end`` with ``$input``."""

    def __init__(self, run: PipelineRun, script: A.Script, parameters: list[tuple[str | None, Any]]) -> None:
        self.run = run
        self.script = script
        self.parameters = parameters
        self.input: list[Any] = []

    def process(self, item: Any) -> None:
        self.input.append(item)

    def end(self) -> None:
        evaluator = self.run.evaluator
        if self.input:
            evaluator.scope.set("input", list(self.input))
        if self.parameters or self.script.param_names:
            # A script with parameters (param() block, AddParameter/AddArgument) runs in its own scope.
            scope = evaluator.scope.child()
            positional = [value for name, value in self.parameters if name is None]
            named = {name.lower(): value for name, value in self.parameters if name is not None}
            for pname in self.script.param_names:
                if pname.lower() in named:
                    scope.set(pname, named.pop(pname.lower()))
                else:
                    scope.set(pname, positional.pop(0) if positional else None)
            scope.set("args", positional)
            evaluator = evaluator.child(scope)
        try:
            evaluator.run_script(self.script, self.downstream)
        finally:
            if self.input:
                self.run.evaluator.scope.remove("input")


class _Routed(_Processor):
    """Wraps a client-level stage so that errors written while it runs go to its route."""

    def __init__(self, run: PipelineRun, inner: _Processor, route: Emit) -> None:
        self.run = run
        self.inner = inner
        self.route = route

    @property
    def downstream(self) -> Emit:
        return self.inner.downstream

    @downstream.setter
    def downstream(self, emit: Emit) -> None:
        self.inner.downstream = emit

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        saved = self.run.error_route
        self.run.error_route = self.route
        try:
            fn(*args)
        finally:
            self.run.error_route = saved

    def begin(self) -> None:
        self._call(self.inner.begin)

    def process(self, item: Any) -> None:
        self._call(self.inner.process, item)

    def end(self) -> None:
        self._call(self.inner.end)


class PipelineRun:
    """The state of one client pipeline while the engine runs it."""

    def __init__(self, engine: Engine, io: PipelineIO) -> None:
        self.engine = engine
        self.io = io
        self.error_route: Emit = io.write_error
        self.script_text = ""
        self.evaluator = Evaluator(
            engine.scope, self.run_pipeline, engine.functions, on_statement_error=self._statement_error
        )

    # -- errors --------------------------------------------------------------------
    def write_error(self, record: ErrorRecord) -> None:
        """A non-terminating error, to the error stream or where the client merged it."""
        self.engine.record_error(record)
        self.error_route(record)

    def _statement_error(self, exc: Exception, statement: A.Statement) -> bool:
        if isinstance(exc, PSError) and not exc.script_terminating:
            self.write_error(exc.record)
            return True
        if isinstance(exc, EvaluationError):
            self.write_error(self.runtime_error(exc))
            return True
        return False

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
            position=position_message(text, exc.pos, exc.pos + 1) if text else None,
            invocation_name="",
        )

    # -- client level --------------------------------------------------------------
    def invoke(self, commands: list[Any]) -> None:
        """Run the CreatePipeline's commands as one pipeline (raises on a terminating end)."""
        stages: list[_Processor] = []
        for command in commands:
            if command.is_script:
                self.script_text = command.command_text
                try:
                    script = parse(command.command_text)
                except ParseError as exc:
                    raise PSError(self.parse_error(exc), terminating=True) from exc
                stages.append(_ScriptStage(self, script, list(command.parameters)))
            else:
                stages.append(self._direct_command(command))
        final = self._final_output
        routes = self._error_routes(commands, stages, final)
        wrapped: list[_Processor] = [_Routed(self, stage, routes[i]) for i, stage in enumerate(stages)]
        self._link(wrapped, final)
        self._execute(wrapped, self.io.input(), finish_on_exit=True)

    def _final_output(self, obj: Any) -> None:
        self.io.write_output(self.engine.to_wire(obj))

    def _error_routes(self, commands: list[Any], stages: list[_Processor], final: Emit) -> list[Emit]:
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

    def _direct_command(self, command: Any) -> _Processor:
        tokens: list[Any] = []
        for name, value in command.parameters:
            tokens.append(
                value if name is None else ParameterToken(name, NO_VALUE if value is None else value)
            )
        return self.make_processor(command.command_text, tokens, self.evaluator, "", -1, False, direct=True)

    @staticmethod
    def _link(processors: list[_Processor], final: Emit) -> None:
        for i, proc in enumerate(processors):
            proc.downstream = processors[i + 1].process if i + 1 < len(processors) else final

    def _execute(
        self, processors: list[_Processor], input_items: Iterator[Any] | None, finish_on_exit: bool = False
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
        processors: list[_Processor] = []
        for index, element in enumerate(pipeline.elements):
            if isinstance(element, A.Command):
                processors.append(self._script_command(evaluator, element, index > 0))
            else:
                processors.append(_ExpressionSource(evaluator, element))
        self._link(processors, emit)
        self._execute(processors, None)

    def _script_command(self, evaluator: Evaluator, command: A.Command, expecting_input: bool) -> _Processor:
        if isinstance(command.name, str):
            name = command.name
        else:
            value = evaluator.evaluate(command.name)
            if isinstance(value, ScriptBlock):
                return _FunctionProcessor(self, evaluator, value, self._plain_args(evaluator, command), {})
            name = to_string(value)
        tokens: list[Any] = []
        for element in command.elements:
            if isinstance(element, A.CommandParameter):
                argument = NO_VALUE if element.argument is None else evaluator.evaluate(element.argument)
                tokens.append(ParameterToken(element.name, argument))
            else:
                tokens.append(evaluator.evaluate(element))
        return self.make_processor(name, tokens, evaluator, command.text, command.pos, expecting_input)

    @staticmethod
    def _plain_args(evaluator: Evaluator, command: A.Command) -> list[Any]:
        return [evaluator.evaluate(e) for e in command.elements if not isinstance(e, A.CommandParameter)]

    def make_processor(
        self,
        name: str,
        tokens: list[Any],
        evaluator: Evaluator,
        text: str,
        pos: int,
        expecting_input: bool,
        direct: bool = False,
    ) -> _Processor:
        """Resolve ``name`` (handlers, functions, built-ins, aliases) and bind its arguments."""
        position = None
        if pos >= 0 and self.script_text:
            position = position_message(self.script_text, pos, pos + len(text.rstrip()))
        args, params = _split_arguments(tokens)
        handler = self.engine.handler_for(name)
        if handler is not None:
            ctx = CommandContext(self, name, name, args, params, None, evaluator, _unset, text, position)
            proc: _Processor = _HandlerProcessor(handler, ctx)
            return _bind_emit(proc, ctx)
        function = self.engine.functions.get(name)
        if function is not None:
            return _FunctionProcessor(self, evaluator, function, args, {k: v for k, v in params.items()})
        command = lookup_builtin(name)
        if command is None:
            if pos >= 0 and self.script_text:
                position = position_message(self.script_text, pos, pos + len(name))
            raise PSError(command_not_found(name, self.script_text or None, position), terminating=True)
        try:
            bound = bind(command.signature, tokens, expecting_input=expecting_input)
        except ParameterBindingError as exc:
            raise PSError(self.binding_error(command, exc, text, position), terminating=True) from exc
        ctx = CommandContext(self, command.name, name, args, params, bound, evaluator, _unset, text, position)
        return _bind_emit(_CommandProcessor(command, ctx), ctx)

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


def _bind_emit(proc: _Processor, ctx: CommandContext) -> _Processor:
    """Make ``ctx.emit`` follow the processor's downstream once the pipeline is linked."""
    ctx.emit = lambda obj: proc.downstream(obj)
    return proc


def _split_arguments(tokens: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional and named arguments for an unbound handler: ``-Name value``, ``-Switch`` as True."""
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
        elif i < len(tokens) and not isinstance(tokens[i], ParameterToken):
            params[token.name] = tokens[i]
            i += 1
        else:
            params[token.name] = True
    return args, params
