"""The syntax tree of the PowerShell subset: small frozen dataclasses.

The parser (``parser.py``) builds these from tree-sitter-powershell's concrete tree; the
evaluator and the engines walk them. ``pos`` is the offset of a node in the parsed
text in UTF-8 bytes (as tree-sitter counts; equal to the character offset for ASCII text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArrayExpr",
    "ArrayLiteral",
    "Assignment",
    "BinaryOp",
    "Cast",
    "Command",
    "CommandParameter",
    "Constant",
    "ExpandableString",
    "Expr",
    "Flow",
    "Foreach",
    "For",
    "FunctionDef",
    "HashLiteral",
    "If",
    "Index",
    "Member",
    "MethodCall",
    "Paren",
    "Pipeline",
    "Redirection",
    "Script",
    "ScriptBlockExpr",
    "Statement",
    "SubExpr",
    "Try",
    "TypeLiteral",
    "UnaryOp",
    "Unsupported",
    "Variable",
    "While",
]


@dataclass(frozen=True)
class Constant:
    """A literal: string, number, or a bareword command argument (always a string)."""

    value: Any
    pos: int = 0
    bareword: bool = False


@dataclass(frozen=True)
class ExpandableString:
    """A double-quoted string: literal text parts and embedded expressions, in order."""

    parts: tuple[str | Expr, ...]
    pos: int = 0


@dataclass(frozen=True)
class Variable:
    """``$name``; ``scope`` is the drive or scope qualifier (``env``, ``using``, ``global``...) or None."""

    name: str
    scope: str | None = None
    pos: int = 0


@dataclass(frozen=True)
class Splat:
    """``@name`` among a command's arguments: a hashtable's entries as named parameters, an
    array's items as positional arguments."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class Member:
    """``target.name`` (``static`` for ``[Type]::name``); ``name`` may be an expression (``$x.$p``)."""

    target: Expr
    name: str | Expr
    static: bool = False
    pos: int = 0


@dataclass(frozen=True)
class MethodCall:
    """``target.name(args)``."""

    target: Expr
    name: str
    args: tuple[Expr, ...]
    static: bool = False
    pos: int = 0


@dataclass(frozen=True)
class Index:
    """``target[index]``."""

    target: Expr
    index: Expr
    pos: int = 0


@dataclass(frozen=True)
class ArrayLiteral:
    """``a, b, c`` (the comma operator)."""

    items: tuple[Expr, ...]
    pos: int = 0


@dataclass(frozen=True)
class ArrayExpr:
    """``@( statements )``: the output of the statements, always as a list."""

    body: Script
    pos: int = 0


@dataclass(frozen=True)
class SubExpr:
    """``$( statements )``: the output of the statements (one value unwrapped)."""

    body: Script
    pos: int = 0


@dataclass(frozen=True)
class Paren:
    """``( pipeline )``."""

    statement: Statement
    pos: int = 0


@dataclass(frozen=True)
class HashLiteral:
    """``@{ key = value; ... }`` in source order."""

    entries: tuple[tuple[Expr, Statement], ...]
    pos: int = 0


@dataclass(frozen=True)
class ScriptBlockExpr:
    """``{ ... }``: ``text`` is the source between the braces, ``body`` its parse."""

    text: str
    body: Script
    params: tuple[str, ...] = ()
    pos: int = 0


@dataclass(frozen=True)
class BinaryOp:
    """``left op right``; ``op`` is lower-case (``+``, ``-eq``, ``-and``, ``..``, ``-f``...)."""

    op: str
    left: Expr
    right: Expr
    pos: int = 0


@dataclass(frozen=True)
class UnaryOp:
    """``op operand`` (``!``, ``-not``, ``-``, ``+``, ``,``)."""

    op: str
    operand: Expr
    pos: int = 0


@dataclass(frozen=True)
class TypeLiteral:
    """``[TypeName]``."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class Cast:
    """``[TypeName] operand``."""

    type_name: str
    operand: Expr
    pos: int = 0


Expr = (
    Constant
    | ExpandableString
    | Variable
    | Splat
    | Member
    | MethodCall
    | Index
    | ArrayLiteral
    | ArrayExpr
    | SubExpr
    | Paren
    | HashLiteral
    | ScriptBlockExpr
    | BinaryOp
    | UnaryOp
    | TypeLiteral
    | Cast
)


@dataclass(frozen=True)
class Redirection:
    """``> file``, ``>> file``, ``2> $null``, ``2>&1``, ``*> file``: ``stream`` is ``1``-``6`` or ``*``."""

    stream: str
    target: Expr | None = None
    append: bool = False
    merge_to_output: bool = False


@dataclass(frozen=True)
class CommandParameter:
    """``-Name``, ``-Name:value`` (``argument`` set), as written (``name`` without the dash)."""

    name: str
    argument: Expr | None = None
    text: str = ""
    pos: int = 0


@dataclass(frozen=True)
class Command:
    """A command invocation: its name (text or expression), then parameters and arguments."""

    name: str | Expr
    elements: tuple[CommandParameter | Expr, ...] = ()
    invocation: str | None = None  # "&" or "." when written with a call operator
    text: str = ""
    pos: int = 0
    redirections: tuple[Redirection, ...] = ()

    @property
    def name_text(self) -> str:
        """The command name when it is literal text, else ``""``."""
        return self.name if isinstance(self.name, str) else ""


@dataclass(frozen=True)
class Pipeline:
    """``a | b | c``: each element is a Command or, first only, an expression."""

    elements: tuple[Command | Expr, ...]
    text: str = ""
    pos: int = 0
    #: Redirections of an expression statement (``1 > $null``); commands carry their own.
    redirections: tuple[Redirection, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """``target op= value``."""

    target: Expr
    op: str
    value: Statement
    pos: int = 0


@dataclass(frozen=True)
class Flow:
    """``exit``, ``return``, ``throw``, ``break``, ``continue`` with an optional value."""

    keyword: str
    value: Statement | None = None
    pos: int = 0


@dataclass(frozen=True)
class If:
    """``if (c) {..} elseif (c) {..} else {..}``."""

    clauses: tuple[tuple[Statement, Script], ...]
    else_body: Script | None = None
    pos: int = 0


@dataclass(frozen=True)
class Foreach:
    """``foreach ($v in expr) { body }``."""

    variable: str
    iterable: Statement
    body: Script
    pos: int = 0


@dataclass(frozen=True)
class While:
    """``while (c) {..}`` (``kind="while"``), ``do {..} while (c)`` or ``do {..} until (c)``."""

    condition: Statement
    body: Script
    kind: str = "while"
    pos: int = 0


@dataclass(frozen=True)
class For:
    """``for (init; condition; iterator) { body }``."""

    init: Statement | None
    condition: Statement | None
    iterator: Statement | None
    body: Script
    pos: int = 0


@dataclass(frozen=True)
class Try:
    """``try {..} catch [T] {..} finally {..}``; ``catches`` pairs type names (empty: any) with bodies."""

    body: Script
    catches: tuple[tuple[tuple[str, ...], Script], ...] = ()
    finally_body: Script | None = None
    pos: int = 0


@dataclass(frozen=True)
class FunctionDef:
    """``function Name { [param(...)] body }``."""

    name: str
    body: ScriptBlockExpr
    pos: int = 0


@dataclass(frozen=True)
class Unsupported:
    """A construct the grammar accepts but the subset does not run (``while``, ``class``...)."""

    kind: str
    text: str
    pos: int = 0


Statement = Pipeline | Assignment | Flow | If | Foreach | While | For | Try | FunctionDef | Unsupported


@dataclass(frozen=True)
class ParamSpec:
    """A parameter declared by ``param(...)`` or a function's ``($a = 1)``: its name, its
    ``[type]`` (the type literal among its attributes, if any) and its default value."""

    name: str
    type_name: str | None = None
    default: Expr | None = None


@dataclass(frozen=True)
class Script:
    """A parsed script: its statements in order, the text they came from, its parameters."""

    statements: tuple[Statement, ...]
    text: str = ""
    param_names: tuple[str, ...] = field(default=())
    param_specs: tuple[ParamSpec, ...] = field(default=())
