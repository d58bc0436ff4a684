"""Building the AST's expressions from tree-sitter nodes, and the literal rules of PowerShell.

:class:`ExpressionBuilder` is the expression half of the parser's tree walker (the statement
half is in ``parser.py``): operators, variables, strings with their ``$var``/``$(...)``
parts and backtick escapes, numbers with ``0x`` and ``kb``..``pb`` suffixes, hashtables,
script blocks, members, indexes, casts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tree_sitter import Node

from . import ast as A

__all__ = ["GLUED_REDIRECTION", "PASS_THROUGH", "ExpressionBuilder", "ParseFailure", "number", "unescape"]


class ParseFailure(Exception):
    """A construct tree-sitter accepted that the subset cannot represent (turned into ParseError)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


PASS_THROUGH = {
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "array_literal_expression",
    "unary_expression",
    "argument_expression",
    "logical_argument_expression",
    "bitwise_argument_expression",
    "comparison_argument_expression",
    "additive_argument_expression",
    "multiplicative_argument_expression",
    "format_argument_expression",
    "range_argument_expression",
    "left_assignment_expression",
    "while_condition",
}
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
}
_NUMBER = re.compile(r"^(0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?)(kb|mb|gb|tb|pb)?$", re.IGNORECASE)
GLUED_REDIRECTION = re.compile(r"^([1-6*])?>(>)?(&1|\S+)$")
_MULTIPLIERS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def unescape(raw: str) -> str:
    """Process PowerShell's backtick escapes (and ``""``) in the literal text of a "..." string."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == "`" and i + 1 < n:
            nxt = raw[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if c == '"' and i + 1 < n and raw[i + 1] == '"':
            out.append('"')
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def number(text: str) -> int | float | None:
    m = _NUMBER.match(text)
    if m is None:
        return None
    body, suffix = m.group(1), (m.group(4) or "").lower()
    value: int | float
    if body.lower().startswith("0x"):
        value = int(body, 16)
    elif m.group(2) or m.group(3):
        value = float(body)
    else:
        value = int(body)
    if suffix:
        value = value * _MULTIPLIERS[suffix]
    return value


class ExpressionBuilder:
    """Maps tree-sitter expression nodes onto the AST (statements are the subclass's)."""

    data: bytes

    def src(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8")

    def script(self, node: Node, text: str, params: tuple[A.ParamSpec, ...] = ()) -> A.Script:
        raise NotImplementedError

    def statement(self, node: Node) -> A.Statement:
        raise NotImplementedError

    def pipeline(self, node: Node) -> A.Statement:
        raise NotImplementedError

    def command(self, node: Node) -> A.Command | A.Expr:
        raise NotImplementedError

    def bareword(self, node: Node) -> A.Expr:
        raise NotImplementedError

    # -- expressions ---------------------------------------------------------------
    def expr(self, node: Node) -> A.Expr:
        kind = node.type
        named = [c for c in node.named_children if c.type != "comment"]
        pos = node.start_byte
        if kind in PASS_THROUGH:
            if kind in ("array_literal_expression",) and any(c.type == "," for c in node.children):
                return A.ArrayLiteral(tuple(self.expr(c) for c in named), pos)
            if len(named) == 1 and len(node.children) == 1:
                return self.expr(named[0])
            return self.binary(node)
        method: Callable[[Node, list[Node]], A.Expr] | None = getattr(self, "x_" + kind, None)
        if method is not None:
            return method(node, named)
        if kind == "pipeline":
            stmt = self.pipeline(node)
            if (
                isinstance(stmt, A.Pipeline)
                and len(stmt.elements) == 1
                and not isinstance(stmt.elements[0], A.Command)
            ):
                return stmt.elements[0]
            return A.Paren(stmt, pos)
        if kind == "command":
            result = self.command(node)
            if isinstance(result, A.Command):
                return A.Paren(A.Pipeline((result,), self.src(node), pos), pos)
            return result
        if kind == "generic_token":
            return self.bareword(node)
        raise ParseFailure(f"The '{self.src(node)}' construct is not supported here.", pos)

    def binary(self, node: Node) -> A.Expr:
        """A left-associative chain ``operand (op operand)*`` as nested BinaryOps."""
        result: A.Expr | None = None
        op: str | None = None
        for child in node.children:
            if child.type == "comment":
                continue
            if not child.is_named or child.type.endswith("_operator"):
                op = self.src(child).strip().lower()
                continue
            operand = self.expr(child)
            result = operand if result is None else A.BinaryOp(op or "", result, operand, node.start_byte)
        if result is None:  # pragma: no cover - the grammar never yields an empty chain
            raise ParseFailure("An expression was expected.", node.start_byte)
        return result

    def x_integer_literal(self, node: Node, named: list[Node]) -> A.Expr:
        value = number(self.src(node))
        return A.Constant(value if value is not None else self.src(node), node.start_byte)

    x_real_literal = x_integer_literal

    def x_variable(self, node: Node, named: list[Node]) -> A.Expr:
        text = self.src(node)
        name, scope = self._variable_name(text)
        if text.startswith("@") and scope is None:
            return A.Splat(name, node.start_byte)
        return A.Variable(name, scope, node.start_byte)

    @staticmethod
    def _variable_name(text: str) -> tuple[str, str | None]:
        body = text[1:] if text[:1] in ("$", "@") else text
        if body.startswith("{") and body.endswith("}"):
            body = body[1:-1]
        if ":" in body:
            scope, _, name = body.partition(":")
            return name, scope.lower()
        return body, None

    def x_string_literal(self, node: Node, named: list[Node]) -> A.Expr:
        if not named:
            return A.Constant(self.src(node), node.start_byte)
        return self.expr(named[0])

    def x_verbatim_string_characters(self, node: Node, named: list[Node]) -> A.Expr:
        text = self.src(node)
        return A.Constant(text[1:-1].replace("''", "'"), node.start_byte)

    def x_verbatim_here_string_characters(self, node: Node, named: list[Node]) -> A.Expr:
        text = self.src(node)
        body = text[2:-2]
        body = body.split("\n", 1)[1] if "\n" in body else ""
        return A.Constant(body[:-1] if body.endswith("\n") else body, node.start_byte)

    def x_expandable_string_literal(self, node: Node, named: list[Node]) -> A.Expr:
        return self.expandable_parts(node, self.src(node), 1, 1, quoted=True)

    def x_expandable_here_string_literal(self, node: Node, named: list[Node]) -> A.Expr:
        text = self.src(node)
        first_nl = text.find("\n")
        end_cut = 3 if text.endswith('\n"@') else 2
        return self.expandable_parts(node, text, first_nl + 1, end_cut, quoted=True)

    def expandable_parts(self, node: Node, text: str, head: int, tail: int, quoted: bool) -> A.Expr:
        """Split an expandable string into literal text and its ``$var`` / ``$(...)`` parts."""
        start = node.start_byte
        base = len(text[:head].encode("utf-8"))
        stop = (
            len(text.encode("utf-8")) - len(text[len(text) - tail :].encode("utf-8"))
            if tail
            else len(text.encode("utf-8"))
        )
        parts: list[str | A.Expr] = []
        cursor = start + base
        end = start + stop
        for child in node.named_children:
            if child.type not in ("variable", "sub_expression"):
                continue
            if child.start_byte > cursor:
                parts.append(unescape(self.data[cursor : child.start_byte].decode("utf-8")))
            parts.append(self.expr(child))
            cursor = child.end_byte
        if end > cursor:
            parts.append(unescape(self.data[cursor:end].decode("utf-8")))
        if (
            not quoted
            and "$" in "".join(p for p in parts if isinstance(p, str))
            and not any(not isinstance(p, str) for p in parts)
        ):
            # A bareword such as C:\Users\$n: the grammar keeps it as one token.
            return self._bareword_variables("".join(p for p in parts if isinstance(p, str)), start)
        if all(isinstance(p, str) for p in parts):
            return A.Constant("".join(p for p in parts if isinstance(p, str)), start)
        return A.ExpandableString(tuple(parts), start)

    def _bareword_variables(self, text: str, pos: int) -> A.Expr:
        parts: list[str | A.Expr] = []
        for i, piece in enumerate(re.split(r"(\$(?:\w+:)?\w+)", text)):
            if i % 2:
                name, scope = self._variable_name(piece)
                parts.append(A.Variable(name, scope, pos))
            elif piece:
                parts.append(piece)
        return A.ExpandableString(tuple(parts), pos)

    def x_sub_expression(self, node: Node, named: list[Node]) -> A.Expr:
        return A.SubExpr(self.script(node, self.src(node)[2:-1]), node.start_byte)

    def x_array_expression(self, node: Node, named: list[Node]) -> A.Expr:
        return A.ArrayExpr(self.script(node, self.src(node)[2:-1]), node.start_byte)

    def x_parenthesized_expression(self, node: Node, named: list[Node]) -> A.Expr:
        if not named:
            return A.Paren(A.Pipeline((), "", node.start_byte), node.start_byte)
        inner = named[0]
        stmt = self.statement(inner)
        if (
            isinstance(stmt, A.Pipeline)
            and len(stmt.elements) == 1
            and not isinstance(stmt.elements[0], A.Command)
        ):
            return A.Paren(stmt, node.start_byte)
        return A.Paren(stmt, node.start_byte)

    def x_hash_literal_expression(self, node: Node, named: list[Node]) -> A.Expr:
        entries: list[tuple[A.Expr, A.Statement]] = []
        body = next((c for c in named if c.type == "hash_literal_body"), None)
        if body is not None:
            for entry in body.named_children:
                if entry.type != "hash_entry":
                    continue
                parts = [c for c in entry.named_children if c.type != "comment"]
                key_node = parts[0]
                if key_node.type == "key_expression":
                    inner = key_node.named_children[0] if key_node.named_children else key_node
                    key: A.Expr = (
                        A.Constant(self.src(inner), inner.start_byte)
                        if inner.type in ("simple_name", "key_expression")
                        else self.expr(inner)
                    )
                else:
                    key = self.expr(key_node)
                entries.append((key, self.statement(parts[-1])))
        return A.HashLiteral(tuple(entries), node.start_byte)

    def x_script_block_expression(self, node: Node, named: list[Node]) -> A.Expr:
        block = next((c for c in named if c.type == "script_block"), None)
        return self.script_block(block, node)

    def script_block(self, block: Node | None, outer: Node) -> A.ScriptBlockExpr:
        text = self.src(outer)
        inner = text[text.index("{") + 1 : text.rindex("}")] if "{" in text and "}" in text else ""
        if block is None:
            return A.ScriptBlockExpr(inner, A.Script((), inner), (), outer.start_byte)
        # `{ param($n) ... }`: the grammar hangs the param block on the expression, beside the body.
        param_block = next(
            (c for c in (*outer.named_children, *block.named_children) if c.type == "param_block"), None
        )
        specs = self.parameters(param_block) if param_block is not None else ()
        script = self.script(block, inner, specs)
        return A.ScriptBlockExpr(inner, script, script.param_names, outer.start_byte)

    def parameters(self, node: Node) -> tuple[A.ParamSpec, ...]:
        """The parameters declared in a ``param(...)`` block or a function's ``($a, $b = 2)``."""
        specs: list[A.ParamSpec] = []
        plist = next((c for c in node.named_children if c.type == "parameter_list"), None)
        for p in plist.named_children if plist is not None else ():
            var = next((c for c in p.named_children if c.type == "variable"), None)
            if var is None:
                continue
            default = next((c for c in p.named_children if c.type == "script_parameter_default"), None)
            value = default.named_children[-1] if default is not None and default.named_children else None
            specs.append(
                A.ParamSpec(
                    self._variable_name(self.src(var))[0],
                    self._declared_type(p),
                    self.expr(value) if value is not None else None,
                )
            )
        return tuple(specs)

    def _declared_type(self, parameter: Node) -> str | None:
        """``[int]`` of ``[Parameter()][int]$n``: the attribute that is a bare type literal."""
        attributes = next((c for c in parameter.named_children if c.type == "attribute_list"), None)
        for attribute in attributes.named_children if attributes is not None else ():
            kinds = [c.type for c in attribute.named_children]
            if kinds == ["type_literal"]:
                spec = next(
                    (c for c in attribute.named_children[0].named_children if c.type == "type_spec"), None
                )
                if spec is not None:
                    return self.src(spec)
        return None

    def x_member_access(self, node: Node, named: list[Node]) -> A.Expr:
        target = self.expr(named[0])
        static = any(c.type == "::" for c in node.children)
        member = named[-1]
        return A.Member(target, self._member_name(member), static, node.start_byte)

    def _member_name(self, node: Node) -> str | A.Expr:
        inner = node.named_children[0] if node.named_children else node
        if inner.type in ("simple_name", "member_name"):
            return self.src(inner)
        if inner.type == "string_literal":
            value = self.expr(inner)
            return value.value if isinstance(value, A.Constant) else value
        return self.expr(inner)

    def x_invokation_expression(self, node: Node, named: list[Node]) -> A.Expr:
        target = self.expr(named[0])
        static = any(c.type == "::" for c in node.children)
        name_node = next(c for c in named if c.type == "member_name")
        name = self._member_name(name_node)
        args_node = next((c for c in named if c.type == "argument_list"), None)
        args: list[A.Expr] = []
        if args_node is not None:
            for lst in args_node.named_children:
                for arg in lst.named_children:
                    if arg.type != "comment":
                        args.append(self.expr(arg))
        return A.MethodCall(
            target, name if isinstance(name, str) else "", tuple(args), static, node.start_byte
        )

    def x_element_access(self, node: Node, named: list[Node]) -> A.Expr:
        return A.Index(self.expr(named[0]), self.expr(named[1]), node.start_byte)

    def x_expression_with_unary_operator(self, node: Node, named: list[Node]) -> A.Expr:
        if node.children[0].is_named:
            return self.expr(node.children[0])
        op = self.src(node.children[0]).strip().lower()
        return A.UnaryOp(op, self.expr(named[-1]), node.start_byte)

    def x_cast_expression(self, node: Node, named: list[Node]) -> A.Expr:
        type_name = self._type_name(named[0])
        return A.Cast(type_name, self.expr(named[-1]), node.start_byte)

    def x_type_literal(self, node: Node, named: list[Node]) -> A.Expr:
        return A.TypeLiteral(self._type_name(node), node.start_byte)

    def _type_name(self, node: Node) -> str:
        return self.src(node).strip()[1:-1].strip()

    def x_pre_increment_expression(self, node: Node, named: list[Node]) -> A.Expr:
        return A.UnaryOp(self.src(node.children[0]).strip(), self.expr(named[-1]), node.start_byte)

    x_pre_decrement_expression = x_pre_increment_expression

    def x_post_increment_expression(self, node: Node, named: list[Node]) -> A.Expr:
        return A.UnaryOp("post" + self.src(node.children[-1]).strip(), self.expr(named[0]), node.start_byte)

    x_post_decrement_expression = x_post_increment_expression
