"""Parse PowerShell-subset text into :mod:`psremoting.pslang.ast` with tree-sitter-powershell.

tree-sitter gives the concrete syntax tree; this module maps the node types the subset uses
onto the small AST, reports syntax errors as :class:`ParseError` (``incomplete`` when more
input could complete the text, as PowerShell's IncompleteParseException), and caches parses
by text because interactive shells send the same lines (``prompt``) again and again.

One known grammar gap is patched: tree-sitter-powershell rejects a bareword list such as
``-ComputerName a,b`` (PowerShell reads it as the array ``'a','b'``), so barewords directly
followed by a comma are quoted and the text is parsed again.
"""

from __future__ import annotations

import functools
import re

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from . import ast as A
from .recovery import (
    COMMAND_DASH,
    call_keyword_commands,
    first_error,
    is_incomplete,
    quote_barewords_before_commas,
    unclosed,
)

__all__ = ["ParseError", "parse"]

_LANGUAGE = Language(tree_sitter_powershell.language())
_PARSER = Parser(_LANGUAGE)

_PASS_THROUGH = {
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
_GLUED_REDIRECTION = re.compile(r"^([1-6*])?>(>)?(&1|\S+)$")
_MULTIPLIERS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


class ParseError(Exception):
    """A syntax error: ``message``, ``position`` (character offset) and ``incomplete``.

    ``incomplete`` is True when the text is a valid beginning that more lines could complete
    (an unclosed brace, parenthesis or quote, a trailing ``|``): a shell then reads a
    continuation line (``>> ``) instead of reporting the error.
    """

    def __init__(
        self, message: str, position: int, incomplete: bool, text: str = "", error_id: str = "UnexpectedToken"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.incomplete = incomplete
        self.text = text
        #: PowerShell's ParseError id (``UnexpectedToken``, ``MissingEndCurlyBrace``...).
        self.error_id = error_id

    def __repr__(self) -> str:
        return f"ParseError({self.message!r}, position={self.position}, incomplete={self.incomplete})"


def parse(text: str) -> A.Script:
    """Parse ``text`` into a :class:`~psremoting.pslang.ast.Script`; raise :class:`ParseError`."""
    return _parse_cached(text)


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str) -> A.Script:
    if not text.strip():
        return A.Script((), text)
    source = text
    for _ in range(8):
        data = source.encode("utf-8")
        tree = _PARSER.parse(data)
        root = tree.root_node
        if not root.has_error:
            builder = _Builder(data)
            param_block = next((c for c in root.named_children if c.type == "param_block"), None)
            params = builder._parameter_names(param_block) if param_block is not None else ()
            return builder.script(root, text, params)
        if root.type == "ERROR" and root.children and all(c.type == "comment" for c in root.children):
            return A.Script((), text)
        patched = quote_barewords_before_commas(root, data)
        if patched is None:
            patched = call_keyword_commands(source)
        if patched is None and COMMAND_DASH.search(source.rstrip()):
            # ``Get-Date -``: in command mode a lone dash is a bare word argument.
            patched = source.rstrip()[:-1] + "'-'"
        if patched is None:
            break
        source = patched
    _raise_parse_error(text)
    raise AssertionError("unreachable")  # pragma: no cover


def _raise_parse_error(text: str) -> None:
    data = text.encode("utf-8")
    root = _PARSER.parse(data).root_node
    node = first_error(root)
    byte_pos = node.start_byte if node is not None else 0
    position = len(data[:byte_pos].decode("utf-8", errors="ignore"))
    incomplete = is_incomplete(text)
    error_id = "UnexpectedToken"
    if incomplete:
        message = "Missing closing delimiter or statement continuation: the input is incomplete."
        error_id = "IncompleteInput"
        opener = unclosed(text)
        if opener in ("{", "@{"):
            message = "Missing closing '}' in statement block or type definition."
            error_id = "MissingEndCurlyBrace"
        elif opener in ("(", "@(", "$("):
            message = "Missing closing ')' in expression."
            error_id = "MissingEndParenthesisInExpression"
        elif opener == "[":
            message = "Missing ']' at end of attribute or type literal."
            error_id = "EndSquareBracketExpectedAtEndOfAttribute"
        elif opener in ("'", '"', "@'", '@"'):
            message = "The string is missing the terminator: " + ("'" if "'" in opener else '"') + "."
            error_id = "TerminatorExpectedAtEndOfString"
        position = len(text)
    else:
        bad = text[position : position + 20].split("\n")[0] or text[position : position + 1]
        message = f"Unexpected token '{bad.strip() or bad}' in expression or statement."
    raise ParseError(message, position, incomplete, text, error_id)


def _unescape(raw: str) -> str:
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


def _number(text: str) -> int | float | None:
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


class _Builder:
    """Maps one tree-sitter tree onto the AST."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def src(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8")

    # -- statements ----------------------------------------------------------------
    def script(self, node: Node, text: str, params: tuple[str, ...] = ()) -> A.Script:
        statements: list[A.Statement] = []
        self._collect_statements(node, statements)
        return A.Script(tuple(statements), text, params)

    def _collect_statements(self, node: Node, out: list[A.Statement]) -> None:
        for child in node.named_children:
            kind = child.type
            if kind in ("statement_list", "script_block_body", "statement_block"):
                self._collect_statements(child, out)
            elif kind in ("comment", "empty_statement", "param_block"):
                continue
            else:
                out.append(self.statement(child))

    def statement(self, node: Node) -> A.Statement:
        kind = node.type
        if kind == "pipeline":
            return self.pipeline(node)
        if kind == "assignment_expression":
            return self.assignment(node)
        if kind == "flow_control_statement":
            keyword = self.src(node.children[0]).lower()
            value_nodes = [c for c in node.named_children if c.type not in ("comment",)]
            value = self.statement(value_nodes[0]) if value_nodes else None
            if keyword in ("break", "continue") and value is not None:
                value = None
            return A.Flow(keyword, value, node.start_byte)
        if kind == "if_statement":
            return self.if_statement(node)
        if kind == "foreach_statement":
            var = next(c for c in node.named_children if c.type == "variable")
            stmt = next(c for c in node.named_children if c.type == "pipeline")
            loop = next(c for c in node.named_children if c.type == "statement_block")
            name, _ = self._variable_name(self.src(var))
            return A.Foreach(name, self.statement(stmt), self.script(loop, self.src(loop)), node.start_byte)
        if kind in ("while_statement", "do_statement"):
            cond = next(c for c in node.named_children if c.type == "while_condition")
            body = next(c for c in node.named_children if c.type == "statement_block")
            loop_kind = "while"
            if kind == "do_statement":
                loop_kind = "do-until" if any(c.type == "until" for c in node.children) else "do-while"
            return A.While(self.statement(cond.named_children[0]), self.script(body, self.src(body)), loop_kind, node.start_byte)
        if kind == "for_statement":
            parts = {c.type: c for c in node.named_children}

            def part(name: str) -> A.Statement | None:
                child = parts.get(name)
                return self.statement(child.named_children[0]) if child is not None and child.named_children else None

            body = parts["statement_block"]
            return A.For(
                part("for_initializer"), part("for_condition"), part("for_iterator"),
                self.script(body, self.src(body)), node.start_byte,
            )
        if kind == "try_statement":
            return self.try_statement(node)
        if kind == "function_statement":
            name_node = next(c for c in node.named_children if c.type == "function_name")
            block = next((c for c in node.named_children if c.type == "script_block"), None)
            body = (
                self.script_block(block, node)
                if block is not None
                else A.ScriptBlockExpr("", A.Script((), ""), (), node.start_byte)
            )
            decl = next((c for c in node.named_children if c.type == "function_parameter_declaration"), None)
            if decl is not None:
                names = self._parameter_names(decl) + body.params
                body = A.ScriptBlockExpr(
                    body.text, A.Script(body.body.statements, body.body.text, names), names, body.pos
                )
            return A.FunctionDef(self.src(name_node), body, node.start_byte)
        if kind in _PASS_THROUGH or kind.endswith("_expression") or kind.endswith("_literal"):
            return A.Pipeline((self.expr(node),), self.src(node), node.start_byte)
        return A.Unsupported(kind, self.src(node), node.start_byte)

    def try_statement(self, node: Node) -> A.Try:
        body = next(c for c in node.named_children if c.type == "statement_block")
        catches: list[tuple[tuple[str, ...], A.Script]] = []
        finally_body: A.Script | None = None
        for child in node.named_children:
            if child.type == "catch_clauses":
                for clause in child.named_children:
                    types_node = next((c for c in clause.named_children if c.type == "catch_type_list"), None)
                    types = (
                        tuple(self._type_name(t) for t in types_node.named_children if t.type == "type_literal")
                        if types_node is not None
                        else ()
                    )
                    block = next(c for c in clause.named_children if c.type == "statement_block")
                    catches.append((types, self.script(block, self.src(block))))
            elif child.type == "finally_clause":
                block = next(c for c in child.named_children if c.type == "statement_block")
                finally_body = self.script(block, self.src(block))
        return A.Try(self.script(body, self.src(body)), tuple(catches), finally_body, node.start_byte)

    def if_statement(self, node: Node) -> A.If:
        clauses: list[tuple[A.Statement, A.Script]] = []
        else_body: A.Script | None = None
        cond: Node | None = None
        for child in node.named_children:
            if child.type == "pipeline":
                cond = child
            elif child.type == "statement_block" and cond is not None:
                clauses.append((self.statement(cond), self.script(child, self.src(child))))
                cond = None
            elif child.type == "elseif_clauses":
                for clause in child.named_children:
                    c = next(x for x in clause.named_children if x.type == "pipeline")
                    b = next(x for x in clause.named_children if x.type == "statement_block")
                    clauses.append((self.statement(c), self.script(b, self.src(b))))
            elif child.type == "else_clause":
                b = next(x for x in child.named_children if x.type == "statement_block")
                else_body = self.script(b, self.src(b))
        return A.If(tuple(clauses), else_body, node.start_byte)

    def assignment(self, node: Node) -> A.Assignment:
        named = node.named_children
        target = self.expr(named[0])
        op = self.src(next(c for c in named if c.type == "assignement_operator")).strip()
        value_node = named[-1]
        return A.Assignment(target, op, self.statement(value_node), node.start_byte)

    def pipeline(self, node: Node) -> A.Statement:
        named = [c for c in node.named_children if c.type != "comment"]
        if len(named) == 1 and named[0].type == "assignment_expression":
            return self.assignment(named[0])
        elements: list[A.Command | A.Expr] = []
        redirections: list[A.Redirection] = []
        for chain in named:
            if chain.type != "pipeline_chain":
                elements.append(self.element(chain))
                continue
            for child in chain.named_children:
                if child.type == "comment":
                    continue
                if child.type == "redirections":
                    redirections.extend(self.redirection(r) for r in child.named_children if r.type == "redirection")
                    continue
                elements.append(self.element(child))
        return A.Pipeline(tuple(elements), self.src(node), node.start_byte, tuple(redirections))

    def element(self, node: Node) -> A.Command | A.Expr:
        if node.type == "command":
            return self.command(node)
        return self.expr(node)

    # -- commands ------------------------------------------------------------------
    def command(self, node: Node) -> A.Command | A.Expr:
        invocation: str | None = None
        name: str | A.Expr = ""
        elements: list[A.CommandParameter | A.Expr] = []
        redirections: list[A.Redirection] = []
        for child in node.named_children:
            kind = child.type
            if kind == "command_invokation_operator":
                invocation = self.src(child).strip()
            elif kind == "command_name":
                name = self.src(child)
            elif kind == "command_name_expr":
                inner = child.named_children[0] if child.named_children else child
                name = self.src(inner) if inner.type == "command_name" else self.expr(inner)
            elif kind == "command_elements":
                elements, redirections = self.command_elements(child)
        if isinstance(name, str) and invocation is None and not elements:
            literal = self._numeric_command_name(name, node.start_byte)
            if literal is not None:
                return literal
        return A.Command(name, tuple(elements), invocation, self.src(node), node.start_byte, tuple(redirections))

    def _numeric_command_name(self, name: str, pos: int) -> A.Expr | None:
        """The grammar reads ``1..3`` or ``42`` at a statement's start as a command name."""
        if ".." in name:
            left, _, right = name.partition("..")
            lo, hi = _number(left), _number(right)
            if isinstance(lo, int) and isinstance(hi, int):
                return A.BinaryOp("..", A.Constant(lo, pos), A.Constant(hi, pos), pos)
        value = _number(name)
        return A.Constant(value, pos) if value is not None else None

    def command_elements(self, node: Node) -> tuple[list[A.CommandParameter | A.Expr], list[A.Redirection]]:
        out: list[A.CommandParameter | A.Expr] = []
        redirections: list[A.Redirection] = []
        colon_pending: A.CommandParameter | None = None
        for child in node.children:
            kind = child.type
            if kind == "command_argument_sep":
                if self.src(child).strip() == ":" and out and isinstance(out[-1], A.CommandParameter):
                    colon_pending = out[-1]
                continue
            if kind == "comment":
                continue
            if kind == "command_parameter":
                text = self.src(child)
                out.append(A.CommandParameter(text[1:].rstrip(":"), None, text, child.start_byte))
                if text.endswith(":"):
                    colon_pending = out[-1]  # type: ignore[assignment]
                continue
            if kind == "redirection":
                redirections.append(self.redirection(child))
                continue
            if kind == "generic_token":
                glued = _GLUED_REDIRECTION.match(self.src(child))
                if glued is not None:
                    redirections.append(self._glued_redirection(glued, child.start_byte))
                    continue
                value = self.bareword(child)
            elif not child.is_named:
                continue
            else:
                value = self.expr(child)
            if colon_pending is not None and out and out[-1] is colon_pending:
                out[-1] = A.CommandParameter(colon_pending.name, value, colon_pending.text, colon_pending.pos)
                colon_pending = None
                continue
            colon_pending = None
            out.append(value)
        return out, redirections

    def redirection(self, node: Node) -> A.Redirection:
        """``>``/``>>``/``N>``/``*>`` to a file or ``$null``, or ``N>&1``."""
        operator = next((c for c in node.named_children if c.type.endswith("redirection_operator")), None)
        op = self.src(operator).strip() if operator is not None else ">"
        if op.endswith("&1"):
            return A.Redirection(op[0] if op[0] != ">" else "1", None, False, True)
        stream = op.rstrip(">") or "1"
        target_node = next((c for c in node.named_children if c.type == "redirected_file_name"), None)
        target: A.Expr | None = None
        if target_node is not None:
            parts = [c for c in target_node.named_children if c.type != "command_argument_sep"]
            if parts:
                target = self.bareword(parts[0]) if parts[0].type == "generic_token" else self.expr(parts[0])
        return A.Redirection(stream, target, op.endswith(">>"), False)

    def _glued_redirection(self, m: re.Match[str], pos: int) -> A.Redirection:
        """``2>$null`` written without a space: the grammar reads it as one bare word."""
        stream = m.group(1) or "1"
        if m.group(3) == "&1":
            return A.Redirection(stream, None, False, True)
        target_text = m.group(3)
        target: A.Expr
        if target_text.startswith("$"):
            name, scope = self._variable_name(target_text)
            target = A.Variable(name, scope, pos)
        else:
            target = A.Constant(target_text, pos, bareword=True)
        return A.Redirection(stream, target, bool(m.group(2)), False)

    def bareword(self, node: Node) -> A.Expr:
        text = self.src(node)
        if "$" in text:
            return self.expandable_parts(node, text, 0, 0, quoted=False)
        number = _number(text)
        if number is not None:
            return A.Constant(number, node.start_byte)
        return A.Constant(_unescape(text) if "`" in text else text, node.start_byte, bareword=True)

    # -- expressions ---------------------------------------------------------------
    def expr(self, node: Node) -> A.Expr:
        kind = node.type
        named = [c for c in node.named_children if c.type != "comment"]
        pos = node.start_byte
        if kind in _PASS_THROUGH:
            if kind in ("array_literal_expression",) and any(c.type == "," for c in node.children):
                return A.ArrayLiteral(tuple(self.expr(c) for c in named), pos)
            if len(named) == 1 and len(node.children) == 1:
                return self.expr(named[0])
            return self.binary(node)
        method = getattr(self, "x_" + kind, None)
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
        raise ParseError(f"The '{self.src(node)}' construct is not supported here.", pos, False)

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
            raise ParseError("An expression was expected.", node.start_byte, False)
        return result

    def x_integer_literal(self, node: Node, named: list[Node]) -> A.Expr:
        value = _number(self.src(node))
        return A.Constant(value if value is not None else self.src(node), node.start_byte)

    x_real_literal = x_integer_literal

    def x_variable(self, node: Node, named: list[Node]) -> A.Expr:
        name, scope = self._variable_name(self.src(node))
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
                parts.append(_unescape(self.data[cursor : child.start_byte].decode("utf-8")))
            parts.append(self.expr(child))
            cursor = child.end_byte
        if end > cursor:
            parts.append(_unescape(self.data[cursor:end].decode("utf-8")))
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
        param_block = next((c for c in block.named_children if c.type == "param_block"), None)
        params = self._parameter_names(param_block) if param_block is not None else ()
        return A.ScriptBlockExpr(inner, self.script(block, inner, params), params, outer.start_byte)

    def _parameter_names(self, node: Node) -> tuple[str, ...]:
        """Names declared in a ``param(...)`` block or a function's ``($a, $b)``."""
        names: list[str] = []
        plist = next((c for c in node.named_children if c.type == "parameter_list"), None)
        if plist is not None:
            for p in plist.named_children:
                var = next((c for c in p.named_children if c.type == "variable"), None)
                if var is not None:
                    names.append(self._variable_name(self.src(var))[0])
        return tuple(names)

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
