"""Evaluate the subset's expressions and statements against a :class:`Scope`.

Commands are not run here: a pipeline that contains a command is handed to the
``run_pipeline`` callback given by the host (the emulator's engine, the local shell), so
both share one evaluator and differ only in the commands they know.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

from . import ast as A
from .operators import OperatorError, binary, unary
from .scope import Scope
from .values import (
    CaseInsensitiveDict,
    PSCustom,
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
]

Emit = Callable[[Any], None]
PipelineRunner = Callable[["Evaluator", A.Pipeline, Emit], None]


class EvaluationError(Exception):
    """A runtime error in an expression (PowerShell's RuntimeException), with its position.

    ``error_id`` is PowerShell's FullyQualifiedErrorId for the same error where known.
    """

    def __init__(self, message: str, pos: int = 0, error_id: str = "RuntimeException") -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.error_id = error_id


class FlowControl(Exception):  # noqa: N818 - not an error, a non-local exit
    """Base of the non-local exits (exit, return, break, continue, throw)."""


class ExitRequest(FlowControl):
    """``exit N``: ends the script; ``code`` is N (0 when omitted)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit {code}")
        self.code = code


class ReturnRequest(FlowControl):
    """``return``, ``break`` or ``continue`` leaving a script block or loop."""

    def __init__(self, keyword: str = "return") -> None:
        super().__init__(keyword)
        self.keyword = keyword


class ThrowRequest(FlowControl):
    """``throw value``: a terminating error carrying the thrown value."""

    def __init__(self, value: Any) -> None:
        super().__init__(to_string(value) or "ScriptHalted")
        self.value = value


_CASTS: dict[str, Callable[[Any], Any]] = {}


def _cast(type_name: str, value: Any) -> Any:
    name = type_name.lower().removeprefix("system.")
    if name in ("int", "int32", "int64", "long", "byte", "int16", "uint32", "uint64"):
        number = to_number(value)
        return int(round(number)) if isinstance(number, float) else number
    if name in ("double", "float", "single", "decimal"):
        return float(to_number(value))
    if name == "string":
        return to_string(value)
    if name in ("bool", "boolean", "switch", "management.automation.switchparameter"):
        return to_bool(value)
    if name in ("array", "object[]", "string[]", "int[]"):
        items = list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])
        if name == "string[]":
            return [to_string(i) for i in items]
        if name == "int[]":
            return [int(to_number(i)) for i in items]
        return items
    if name in ("hashtable", "collections.hashtable", "ordered") and isinstance(value, dict):
        return CaseInsensitiveDict(value.items())
    if name in ("pscustomobject", "management.automation.pscustomobject"):
        if isinstance(value, dict):
            return PSCustom(value.items())
        return value
    if name in ("datetime",):
        if isinstance(value, _dt.datetime):
            return value
        return _dt.datetime.fromisoformat(to_string(value))
    if name in ("scriptblock", "management.automation.scriptblock"):
        return value
    if name in ("void",):
        return None
    if name in ("object", "psobject"):
        return value
    raise EvaluationError(f"Unable to find type [{type_name}].", 0, "TypeNotFound")


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "toupper": lambda s: s.upper(),
    "tolower": lambda s: s.lower(),
    "trim": lambda s, chars=None: s.strip(chars),
    "trimstart": lambda s, chars=None: s.lstrip(chars),
    "trimend": lambda s, chars=None: s.rstrip(chars),
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "contains": lambda s, p: p in s,
    "replace": lambda s, a, b: s.replace(a, b),
    "split": lambda s, sep=None: s.split(sep) if sep else s.split(),
    "substring": lambda s, start, length=None: s[start:] if length is None else s[start : start + length],
    "indexof": lambda s, p: s.find(p),
    "padleft": lambda s, n, c=" ": s.rjust(n, c),
    "padright": lambda s, n, c=" ": s.ljust(n, c),
}


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

    def child(self, scope: Scope) -> Evaluator:
        """The same evaluator over another scope (a script block's)."""
        return Evaluator(scope, self.run_pipeline, self.functions, self.on_statement_error)

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
                self.scope.set(stmt.variable, item)
                try:
                    self.run_script(stmt.body, emit)
                except ReturnRequest as req:
                    if req.keyword == "break":
                        break
                    if req.keyword != "continue":
                        raise
        elif isinstance(stmt, A.FunctionDef):
            block = stmt.body
            self.functions[stmt.name] = ScriptBlock(block.text, block.body, block.params)
        else:
            raise EvaluationError(
                f"The '{stmt.kind}' statement is not supported by this PowerShell subset.",
                stmt.pos,
                "NotSupported",
            )

    def run_pipeline_statement(self, pipeline: A.Pipeline, emit: Emit) -> None:
        """A pipeline: an expression alone is evaluated here; anything with a command goes to the runner."""
        if len(pipeline.elements) == 1 and not isinstance(pipeline.elements[0], A.Command):
            value = self.evaluate(pipeline.elements[0])
            for item in enumerate_value(value) if not isinstance(value, dict) else [value]:
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
            self.assign_to(target.operand, _cast(target.type_name, value))
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

    def _e_Constant(self, expr: A.Constant) -> Any:  # noqa: N802
        return expr.value

    def _e_ExpandableString(self, expr: A.ExpandableString) -> Any:  # noqa: N802
        out: list[str] = []
        for part in expr.parts:
            out.append(part if isinstance(part, str) else to_string(self.evaluate(part)))
        return "".join(out)

    def _e_Variable(self, expr: A.Variable) -> Any:  # noqa: N802
        name, scope = expr.name, expr.scope
        lower = name.lower()
        if scope == "env":
            return self.scope.env.get(name)
        if scope == "using" and self.scope.using is not None:
            return (
                self.scope.using.get(name)
                if not isinstance(self.scope.using, Scope)
                else self.scope.using.lookup(name)
            )
        if scope in (None, "global", "script", "local", "private", "using", "variable"):
            if lower == "true":
                return True
            if lower == "false":
                return False
            if lower == "null":
                return None
            return self.scope.lookup(name)
        return None

    def _e_Member(self, expr: A.Member) -> Any:  # noqa: N802
        obj = self.evaluate(expr.target)
        name = expr.name if isinstance(expr.name, str) else to_string(self.evaluate(expr.name))
        if expr.static and isinstance(expr.target, A.TypeLiteral):
            return _static_member(expr.target.name, name)
        return get_member(obj, name)

    def _e_MethodCall(self, expr: A.MethodCall) -> Any:  # noqa: N802
        args = [self.evaluate(a) for a in expr.args]
        if expr.static and isinstance(expr.target, A.TypeLiteral):
            return _static_method(expr.target.name, expr.name, args)
        obj = self.evaluate(expr.target)
        return call_method(obj, expr.name, args, self)

    def _e_Index(self, expr: A.Index) -> Any:  # noqa: N802
        obj = self.evaluate(expr.target)
        index = self.evaluate(expr.index)
        return index_value(obj, index)

    def _e_ArrayLiteral(self, expr: A.ArrayLiteral) -> Any:  # noqa: N802
        return [self.evaluate(item) for item in expr.items]

    def _e_ArrayExpr(self, expr: A.ArrayExpr) -> Any:  # noqa: N802
        return self.collect(expr.body)

    def _e_SubExpr(self, expr: A.SubExpr) -> Any:  # noqa: N802
        return _unwrap(self.collect(expr.body))

    def _e_Paren(self, expr: A.Paren) -> Any:  # noqa: N802
        stmt = expr.statement
        if isinstance(stmt, A.Assignment):
            self.assign(stmt)
            return self.evaluate(stmt.target)
        return self.statement_value(stmt)

    def _e_HashLiteral(self, expr: A.HashLiteral) -> Any:  # noqa: N802
        table = CaseInsensitiveDict()
        for key, value in expr.entries:
            table[self.evaluate(key)] = self.statement_value(value)
        return table

    def _e_ScriptBlockExpr(self, expr: A.ScriptBlockExpr) -> Any:  # noqa: N802
        return ScriptBlock(expr.text, expr.body, expr.params, closure=self.scope)

    def _e_BinaryOp(self, expr: A.BinaryOp) -> Any:  # noqa: N802
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

    def _e_UnaryOp(self, expr: A.UnaryOp) -> Any:  # noqa: N802
        if expr.op in ("++", "--", "post++", "post--"):
            current = self.evaluate(expr.operand)
            new = to_number(current) + (1 if "++" in expr.op else -1)
            self.assign_to(expr.operand, new)
            return new if not expr.op.startswith("post") else current
        return unary(expr.op, self.evaluate(expr.operand))

    def _e_TypeLiteral(self, expr: A.TypeLiteral) -> Any:  # noqa: N802
        return TypeName(expr.name)

    def _e_Cast(self, expr: A.Cast) -> Any:  # noqa: N802
        try:
            return _cast(expr.type_name, self.evaluate(expr.operand))
        except EvaluationError as exc:
            raise EvaluationError(exc.message, expr.pos, exc.error_id) from exc
        except (ValueError, TypeError) as exc:
            raise EvaluationError(
                f'Cannot convert value to type "{expr.type_name}". {exc}',
                expr.pos,
                "InvalidCastFromStringToInteger",
            ) from exc


class TypeName(str):
    """The value of a ``[Type]`` literal: its name."""

    __slots__ = ()


def _static_member(type_name: str, name: str) -> Any:
    lower = (type_name.lower().removeprefix("system."), name.lower())
    if lower == ("datetime", "now"):
        return _dt.datetime.now()
    if lower == ("environment", "newline"):
        return "\r\n"
    if lower == ("string", "empty"):
        return ""
    if lower in (("int32", "maxvalue"), ("int", "maxvalue")):
        return 2**31 - 1
    raise EvaluationError(
        f"The property '{name}' of [{type_name}] is not supported by this PowerShell subset."
    )


def _static_method(type_name: str, name: str, args: list[Any]) -> Any:
    key = (type_name.lower().removeprefix("system."), name.lower())
    if key == ("math", "round"):
        return round(to_number(args[0]), int(to_number(args[1])) if len(args) > 1 else 0)
    if key == ("math", "max"):
        return max(to_number(a) for a in args)
    if key == ("math", "min"):
        return min(to_number(a) for a in args)
    if key == ("string", "isnullorempty"):
        return not args or args[0] is None or to_string(args[0]) == ""
    if key == ("string", "join"):
        items = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
        return to_string(args[0]).join(to_string(i) for i in items)
    raise EvaluationError(
        f"[{type_name}]::{name}() is not supported by this PowerShell subset.", 0, "MethodNotFound"
    )


def call_method(obj: Any, name: str, args: list[Any], evaluator: Evaluator | None = None) -> Any:
    """``obj.Name(args)``: common .NET methods on strings and collections, else the Python method."""
    lower = name.lower()
    if lower == "tostring" and not args:
        return to_string(obj)
    if lower == "gettype" and not args:
        return TypeName(_type_name(obj))
    if isinstance(obj, str) and lower in _STRING_METHODS:
        return _STRING_METHODS[lower](obj, *args)
    if isinstance(obj, dict) and lower in ("containskey", "contains"):
        return args[0] in obj
    if isinstance(obj, dict) and lower == "add":
        obj[args[0]] = args[1]
        return None
    if isinstance(obj, dict) and lower == "remove":
        obj.pop(args[0], None)
        return None
    if isinstance(obj, list) and lower == "contains":
        return args[0] in obj
    if isinstance(obj, ScriptBlock) and lower in ("invoke", "invokereturnasis") and evaluator is not None:
        return invoke_script_block(evaluator, obj, args)
    target = None
    for attr in dir(obj):
        if attr.lower() == lower and not attr.startswith("__"):
            target = getattr(obj, attr)
            break
    if target is None or not callable(target):
        raise EvaluationError(
            f"Method invocation failed because [{_type_name(obj)}] does not contain a method named '{name}'.",
            0,
            "MethodNotFound",
        )
    return target(*args)


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
    for i, pname in enumerate(block.params):
        scope.set(pname, args[i] if i < len(args) else None)
    scope.set("args", list(args[len(block.params) :]))
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


def index_value(obj: Any, index: Any) -> Any:
    """``obj[index]``: lists (negative and list indexes), strings, dicts and PSObjects."""
    if isinstance(index, (list, tuple)):
        return [index_value(obj, i) for i in index]
    if obj is None:
        raise EvaluationError("Cannot index into a null array.", 0, "NullArray")
    if isinstance(obj, dict):
        return obj.get(index) if isinstance(obj, CaseInsensitiveDict) else obj.get(index)
    if isinstance(obj, (list, tuple, str)):
        try:
            return obj[int(to_number(index))]
        except IndexError:
            return None
    try:
        return obj[index]
    except (KeyError, IndexError, TypeError, AttributeError):
        return get_member(obj, to_string(index), None) if isinstance(index, str) else None


def _type_name(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "System.Boolean"
    if isinstance(obj, int):
        return "System.Int32"
    if isinstance(obj, float):
        return "System.Double"
    if isinstance(obj, str):
        return "System.String"
    if isinstance(obj, PSCustom):
        return "System.Management.Automation.PSCustomObject"
    if isinstance(obj, dict):
        return "System.Collections.Hashtable"
    if isinstance(obj, (list, tuple)):
        return "System.Object[]"
    if isinstance(obj, ScriptBlock):
        return "System.Management.Automation.ScriptBlock"
    names = getattr(getattr(obj, "PSObject", None), "type_names", None)
    if names:
        return str(names[0])
    return type(obj).__name__


def _unwrap(values: list[Any]) -> Any:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values
