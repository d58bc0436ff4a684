"""Evaluate the subset's expressions and statements against a :class:`Scope`.

Commands are not run here: a pipeline that contains a command is handed to the
``run_pipeline`` callback given by the host (the emulator's engine, the local shell), so
both share one evaluator and differ only in the commands they know.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import ast as A
from . import control
from .dotnet import TypeName, call_method, cast, index_value, static_member, static_method
from .flow import EvaluationError, ExitRequest, FlowControl, ReturnRequest, ThrowRequest
from .operators import OperatorError, binary, unary
from .scope import Scope
from .typenames import PSObjectView
from .values import (
    CaseInsensitiveDict,
    ScriptBlock,
    enumerate_value,
    get_member,
    to_bool,
    to_number,
    to_string,
)

__all__ = [
    "EvaluationError",
    "Evaluator",
    "ExitRequest",
    "FlowControl",
    "ReturnRequest",
    "ThrowRequest",
    "TypeName",
    "invoke_script_block",
]

Emit = Callable[[Any], None]
PipelineRunner = Callable[["Evaluator", A.Pipeline, Emit], None]


class Evaluator:
    """Evaluates AST nodes in ``scope``; pipelines with commands go to ``run_pipeline``.

    ``run_pipeline(evaluator, pipeline, emit)`` runs one pipeline, calling ``emit`` for each
    output object. Without it, a command in an expression raises :class:`EvaluationError`.
    ``functions`` (name -> ScriptBlock) is shared with the runner for ``function f {...}``.
    """

    def __init__(
        self,
        scope: Scope,
        run_pipeline: PipelineRunner | None = None,
        functions: dict[str, ScriptBlock] | None = None,
        on_statement_error: Callable[[Exception, A.Statement], bool] | None = None,
    ) -> None:
        self.scope = scope
        self.run_pipeline = run_pipeline
        self.functions: dict[str, ScriptBlock] = functions if functions is not None else CaseInsensitiveDict()
        self.on_statement_error = on_statement_error
        #: Called on every loop turn; a host raises from it to stop a running script.
        self.check_interrupt: Callable[[], None] | None = None
        #: Maps a terminating error to ``($_ value, exception type names)`` for ``catch``.
        self.catchable: Callable[[Exception], tuple[Any, list[str]] | None] | None = None
        #: Writes ``expr > file`` output: ``(target, items, append)``; None discards it.
        self.write_redirect: Callable[[Any, list[Any], bool], None] | None = None
        #: ``$using:`` values for this run (name -> value); overrides the scope's.
        self.using: dict[str, Any] | None = None

    def copy(self, scope: Scope | None = None, **changes: Any) -> Evaluator:
        """This evaluator with another scope and/or hooks (``on_statement_error=None``...)."""
        other = Evaluator(
            scope if scope is not None else self.scope,
            self.run_pipeline,
            self.functions,
            changes.get("on_statement_error", self.on_statement_error),
        )
        other.check_interrupt = self.check_interrupt
        other.catchable = self.catchable
        other.write_redirect = self.write_redirect
        other.using = self.using
        return other

    def child(self, scope: Scope) -> Evaluator:
        """The same evaluator over another scope (a script block's)."""
        return self.copy(scope)

    # -- statements ----------------------------------------------------------------
    def run_script(self, script: A.Script, emit: Emit) -> None:
        """Run every statement of ``script``, emitting its output objects in order.

        A statement-terminating error goes to ``on_statement_error`` (when given): if it
        returns True the error was reported and the next statement runs, as in PowerShell.
        """
        handler = self.on_statement_error
        for statement in script.statements:
            if handler is None:
                self.run_statement(statement, emit)
                continue
            try:
                self.run_statement(statement, emit)
            except FlowControl:
                raise
            except Exception as exc:
                if not handler(exc, statement):
                    raise

    def collect(self, script: A.Script) -> list[Any]:
        """Run ``script`` and return its output as a list."""
        out: list[Any] = []
        self.run_script(script, out.append)
        return out

    def run_statement(self, stmt: A.Statement, emit: Emit) -> None:
        """Run one statement (pipeline, assignment, flow control, if, foreach, function)."""
        if isinstance(stmt, A.Pipeline):
            self.run_pipeline_statement(stmt, emit)
        elif isinstance(stmt, A.Assignment):
            self.assign(stmt)
        elif isinstance(stmt, A.Flow):
            self.flow(stmt, emit)
        elif isinstance(stmt, A.If):
            for cond, body in stmt.clauses:
                if to_bool(self.statement_value(cond)):
                    self.run_script(body, emit)
                    return
            if stmt.else_body is not None:
                self.run_script(stmt.else_body, emit)
        elif isinstance(stmt, A.Foreach):
            for item in enumerate_value(self.statement_value(stmt.iterable)):
                if self.check_interrupt is not None:
                    self.check_interrupt()
                self.scope.set(stmt.variable, item)
                try:
                    self.run_script(stmt.body, emit)
                except ReturnRequest as req:
                    if req.keyword == "break":
                        break
                    if req.keyword != "continue":
                        raise
        elif isinstance(stmt, A.While):
            control.run_while(self, stmt, emit)
        elif isinstance(stmt, A.For):
            control.run_for(self, stmt, emit)
        elif isinstance(stmt, A.Try):
            control.run_try(self, stmt, emit)
        elif isinstance(stmt, A.FunctionDef):
            block = stmt.body
            self.functions[stmt.name] = ScriptBlock(block.text, block.body, block.params)
        elif isinstance(stmt, A.Unsupported):
            raise EvaluationError(
                f"The '{stmt.kind}' statement is not supported by this PowerShell subset.",
                stmt.pos,
                "NotSupported",
            )

    def run_pipeline_statement(self, pipeline: A.Pipeline, emit: Emit) -> None:
        """A pipeline: an expression alone is evaluated here; anything with a command goes to the runner."""
        if len(pipeline.elements) == 1 and not isinstance(pipeline.elements[0], A.Command):
            only = pipeline.elements[0]
            if isinstance(only, A.UnaryOp) and only.op in ("++", "--", "post++", "post--"):
                self.evaluate(only)  # $i++ as a statement writes nothing
                return
            value = self.evaluate(only)
            items = list(enumerate_value(value)) if not isinstance(value, dict) else [value]
            for redirection in pipeline.redirections:
                if redirection.stream in ("1", "*") and not redirection.merge_to_output:
                    target = self.evaluate(redirection.target) if redirection.target is not None else None
                    if target is not None and self.write_redirect is not None:
                        self.write_redirect(target, items, redirection.append)
                    items = []
            for item in items:
                emit(item)
            return
        if self.run_pipeline is None:
            first = pipeline.elements[0] if pipeline.elements else None
            name = first.name_text if isinstance(first, A.Command) else "command"
            raise EvaluationError(
                f"The term '{name}' cannot be run here.", pipeline.pos, "CommandNotFoundException"
            )
        self.run_pipeline(self, pipeline, emit)

    def statement_value(self, stmt: A.Statement) -> Any:
        """The value of a statement used as an expression: one object, a list, or None."""
        if (
            isinstance(stmt, A.Pipeline)
            and len(stmt.elements) == 1
            and not isinstance(stmt.elements[0], A.Command)
        ):
            return self.evaluate(stmt.elements[0])
        out: list[Any] = []
        self.run_statement(stmt, out.append)
        return _unwrap(out)

    def flow(self, stmt: A.Flow, emit: Emit) -> None:
        value = self.statement_value(stmt.value) if stmt.value is not None else None
        if stmt.keyword == "exit":
            try:
                code = int(to_number(value)) if value is not None else 0
            except ValueError:
                code = 0
            raise ExitRequest(code)
        if stmt.keyword == "return":
            for item in enumerate_value(value):
                emit(item)
            raise ReturnRequest("return")
        if stmt.keyword == "throw":
            raise ThrowRequest(value)
        raise ReturnRequest(stmt.keyword)

    def assign(self, stmt: A.Assignment) -> None:
        value = self.statement_value(stmt.value)
        if stmt.op != "=":
            current = self.evaluate(stmt.target)
            try:
                value = binary(stmt.op[0], current, value)
            except (OperatorError, ValueError) as exc:
                raise EvaluationError(str(exc), stmt.pos) from exc
        self.assign_to(stmt.target, value)

    def assign_to(self, target: A.Expr, value: Any) -> None:
        """Store ``value`` into a variable, ``$x.Member`` or ``$x[index]``."""
        if isinstance(target, A.Variable):
            if target.scope == "env":
                if value is None:
                    self.scope.env.pop(target.name, None)
                else:
                    self.scope.env[target.name] = to_string(value)
                return
            self.scope.assign(target.name, value)
        elif isinstance(target, A.Member):
            obj = self.evaluate(target.target)
            name = target.name if isinstance(target.name, str) else to_string(self.evaluate(target.name))
            if isinstance(obj, dict):
                obj[name] = value
            else:
                try:
                    setattr(obj, name, value)
                except (AttributeError, TypeError) as exc:
                    raise EvaluationError(
                        f"The property '{name}' cannot be found on this object. Verify that the property exists and can be set.",
                        target.pos,
                        "PropertyAssignmentException",
                    ) from exc
        elif isinstance(target, A.Index):
            obj = self.evaluate(target.target)
            index = self.evaluate(target.index)
            try:
                obj[index if not isinstance(obj, list) else int(to_number(index))] = value
            except (IndexError, TypeError) as exc:
                raise EvaluationError(
                    "Index was outside the bounds of the array.", target.pos, "IndexOutOfRange"
                ) from exc
        elif isinstance(target, A.Cast):
            self.assign_to(target.operand, cast(target.type_name, value))
        elif isinstance(target, A.ArrayLiteral):
            # $a, $b = 1, 2, 3: one value each, the rest to the last.
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            for i, item in enumerate(target.items):
                if i == len(target.items) - 1:
                    rest = values[i:]
                    self.assign_to(item, rest[0] if len(rest) == 1 else (rest or None))
                else:
                    self.assign_to(item, values[i] if i < len(values) else None)
        else:
            raise EvaluationError("The assignment expression is not valid.", 0, "InvalidLeftHandSide")

    # -- expressions ---------------------------------------------------------------
    def evaluate(self, expr: A.Expr) -> Any:
        """The value of one expression node."""
        method = getattr(self, "_e_" + type(expr).__name__)
        try:
            return method(expr)
        except (OperatorError, ValueError) as exc:
            raise EvaluationError(str(exc), getattr(expr, "pos", 0)) from exc

    def _e_Constant(self, expr: A.Constant) -> Any:
        return expr.value

    def _e_ExpandableString(self, expr: A.ExpandableString) -> Any:
        out: list[str] = []
        for part in expr.parts:
            out.append(part if isinstance(part, str) else to_string(self.evaluate(part)))
        return "".join(out)

    def _e_Splat(self, expr: A.Splat) -> Any:
        return self.scope.lookup(expr.name)  # outside a command's arguments: the variable's value

    def _e_Variable(self, expr: A.Variable) -> Any:
        name, scope = expr.name, expr.scope
        lower = name.lower()
        if scope == "env":
            return self.scope.env.get(name)
        if scope == "using":
            using = self.using if self.using is not None else self.scope.using
            if using is not None:
                for key, value in using.items():
                    if key.lower() == name.lower():
                        return value
                return None
        if scope in (None, "global", "script", "local", "private", "using", "variable"):
            if lower == "true":
                return True
            if lower == "false":
                return False
            if lower == "null":
                return None
            return self.scope.lookup(name)
        return None

    def _e_Member(self, expr: A.Member) -> Any:
        obj = self.evaluate(expr.target)
        name = expr.name if isinstance(expr.name, str) else to_string(self.evaluate(expr.name))
        if expr.static and isinstance(expr.target, A.TypeLiteral):
            return static_member(expr.target.name, name)
        if name.lower() == "psobject" and obj is not None:
            return PSObjectView(obj)
        return get_member(obj, name)

    def _e_MethodCall(self, expr: A.MethodCall) -> Any:
        args = [self.evaluate(a) for a in expr.args]
        if expr.static and isinstance(expr.target, A.TypeLiteral):
            return static_method(expr.target.name, expr.name, args)
        obj = self.evaluate(expr.target)
        return call_method(obj, expr.name, args, lambda block, a: invoke_script_block(self, block, a))

    def _e_Index(self, expr: A.Index) -> Any:
        obj = self.evaluate(expr.target)
        index = self.evaluate(expr.index)
        return index_value(obj, index)

    def _e_ArrayLiteral(self, expr: A.ArrayLiteral) -> Any:
        return [self.evaluate(item) for item in expr.items]

    def _e_ArrayExpr(self, expr: A.ArrayExpr) -> Any:
        return self.collect(expr.body)

    def _e_SubExpr(self, expr: A.SubExpr) -> Any:
        return _unwrap(self.collect(expr.body))

    def _e_Paren(self, expr: A.Paren) -> Any:
        stmt = expr.statement
        if isinstance(stmt, A.Assignment):
            self.assign(stmt)
            return self.evaluate(stmt.target)
        return self.statement_value(stmt)

    def _e_HashLiteral(self, expr: A.HashLiteral) -> Any:
        table = CaseInsensitiveDict()
        for key, value in expr.entries:
            table[self.evaluate(key)] = self.statement_value(value)
        return table

    def _e_ScriptBlockExpr(self, expr: A.ScriptBlockExpr) -> Any:
        return ScriptBlock(expr.text, expr.body, expr.params, closure=self.scope)

    def _e_BinaryOp(self, expr: A.BinaryOp) -> Any:
        if expr.op == "-and":
            return to_bool(self.evaluate(expr.left)) and to_bool(self.evaluate(expr.right))
        if expr.op == "-or":
            return to_bool(self.evaluate(expr.left)) or to_bool(self.evaluate(expr.right))
        left = self.evaluate(expr.left)
        right = self.evaluate(expr.right)
        result = binary(expr.op, left, right)
        if expr.op in ("-match", "-cmatch", "-imatch") and result is True:
            flags = 0 if expr.op == "-cmatch" else re.IGNORECASE
            m = re.search(to_string(right), to_string(left), flags)
            if m is not None:
                groups = CaseInsensitiveDict({0: m.group(0)})
                for i, g in enumerate(m.groups(), 1):
                    if g is not None:
                        groups[i] = g
                for gname, g in m.groupdict().items():
                    if g is not None:
                        groups[gname] = g
                self.scope.set("Matches", groups)
        return result

    def _e_UnaryOp(self, expr: A.UnaryOp) -> Any:
        if expr.op in ("++", "--", "post++", "post--"):
            current = self.evaluate(expr.operand)
            new = to_number(current) + (1 if "++" in expr.op else -1)
            self.assign_to(expr.operand, new)
            return new if not expr.op.startswith("post") else current
        return unary(expr.op, self.evaluate(expr.operand))

    def _e_TypeLiteral(self, expr: A.TypeLiteral) -> Any:
        return TypeName(expr.name)

    def _e_Cast(self, expr: A.Cast) -> Any:
        try:
            return cast(expr.type_name, self.evaluate(expr.operand))
        except EvaluationError as exc:
            raise EvaluationError(exc.message, expr.pos, exc.error_id) from exc
        except (ValueError, TypeError) as exc:
            raise EvaluationError(
                f'Cannot convert value to type "{expr.type_name}". {exc}',
                expr.pos,
                "InvalidCastFromStringToInteger",
            ) from exc


#: The [type]s a declared parameter is converted to (others keep the value as given).
_PARAMETER_TYPES = frozenset(
    {"string", "int", "int32", "int64", "long", "double", "bool", "boolean", "switch", "string[]", "int[]"}
)


_NET_NAMES = {"int": "System.Int32", "int32": "System.Int32", "int64": "System.Int64", "long": "System.Int64",
              "double": "System.Double"}  # fmt: skip


def bind_parameters(
    evaluator: Evaluator, scope: Scope, script: A.Script, args: list[Any], named: dict[str, Any] | None = None
) -> list[Any]:
    """Set the parameters `script` declares in `scope`, as PowerShell binds them: by name (from
    `named`), else by position (from `args`), else the default value, evaluated in `scope` so
    that it can use the parameters before it; then converted to the parameter's [type]
    (``[int]$n`` unset is 0). Returns the arguments left over, for ``$args``."""
    positional = list(args)
    given = {k.lower(): v for k, v in (named or {}).items()}
    inner = evaluator.child(scope)
    for spec in script.param_specs or tuple(A.ParamSpec(n) for n in script.param_names):
        kind = (spec.type_name or "").lower().removeprefix("system.")
        if spec.name.lower() in given:
            value = given.pop(spec.name.lower())
        elif positional and kind != "switch":
            value = positional.pop(0)
        else:
            value = inner.evaluate(spec.default) if spec.default is not None else None
        if kind in _PARAMETER_TYPES:
            try:
                value = cast(kind, value)
            except (ValueError, TypeError, EvaluationError) as exc:
                base = kind.removesuffix("[]")
                net = _NET_NAMES.get(base, base) + ("[]" if kind.endswith("[]") else "")
                raise EvaluationError(
                    f"Cannot process argument transformation on parameter '{spec.name}'. Cannot convert "
                    f'value "{to_string(value)}" to type "{net}". Error: "Input string was not in a '
                    'correct format."',
                    0,
                    "ParameterArgumentTransformationError",
                ) from exc
        scope.set(spec.name, value)
    return positional


def invoke_script_block(
    evaluator: Evaluator,
    block: ScriptBlock,
    args: list[Any],
    dollar_under: Any = None,
    use_under: bool = False,
) -> Any:
    """Run a script block in a child scope with ``param()`` bound from ``args``; its output (unwrapped)."""
    parent = block.closure if isinstance(block.closure, Scope) else evaluator.scope
    scope = parent.child()
    scope.set("args", bind_parameters(evaluator, scope, block.script, args))
    if use_under:
        scope.set("_", dollar_under)
        scope.set("PSItem", dollar_under)
    out: list[Any] = []
    try:
        evaluator.child(scope).run_script(block.script, out.append)
    except ReturnRequest as req:
        if req.keyword != "return":
            raise
    return _unwrap(out)


def _unwrap(values: list[Any]) -> Any:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values
