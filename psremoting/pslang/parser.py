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
from .expressions import GLUED_REDIRECTION, PASS_THROUGH, ExpressionBuilder, ParseFailure, number, unescape
from .recovery import (
    COMMAND_DASH,
    break_after_param_blocks,
    call_keyword_commands,
    first_error,
    is_incomplete,
    lowercase_number_multipliers,
    quote_barewords_before_commas,
    unclosed,
)

__all__ = ["ParseError", "parse"]

_LANGUAGE = Language(tree_sitter_powershell.language())
_PARSER = Parser(_LANGUAGE)


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
    """Parse ``text`` into a :class:`~psremoting.pslang.ast.Script`; raise :class:`ParseError`.

    Short texts (interactive lines, ``prompt``) are cached; long ones (a script carrying
    data) are not, so the cache stays small. Lone surrogates (bytes that were not UTF-8,
    kept by Python's ``surrogateescape`` on stdin and argv) are read as U+FFFD, as a console
    shows bytes it cannot decode: they cannot be encoded for the grammar otherwise.
    """
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    if len(text) <= _CACHED_TEXT_LIMIT:
        return _parse_cached(text)
    return _parse_uncached(text)


_CACHED_TEXT_LIMIT = 4096
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> A.Script:
    return _parse_uncached(text)


#: A parameter name ending in digits (-UseUTF16): tree-sitter-powershell ends the parameter at
#: the first digit and reads the rest as a redirection missing its ">".
_DIGIT_PARAMETER = re.compile(r"(?<=[\s(;|{])-([A-Za-z_][A-Za-z_]*?)(\d+)(?=[\s:;|)}]|$)")
_DIGIT_WORDS = "qwertyuiop"  # 0-9 as letters, behind a marker no PowerShell name has


def _hide_parameter_digits(text: str) -> tuple[str, dict[str, str]]:
    """`text` with the digits of such parameter names spelled as letters (outside quotes), and
    the names to give back (spelled -> real)."""
    if not any(c.isdigit() for c in text):
        return text, {}
    renames: dict[str, str] = {}
    out: list[str] = []
    quote: str | None = None
    last = 0
    for index, ch in enumerate(text):
        if quote is not None:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            continue
        if ch != "-":
            continue
        match = _DIGIT_PARAMETER.match(text, index)  # its look-behind sees the character before
        if match is None:
            continue
        spelled = match.group(1) + "Xqz" + "".join(_DIGIT_WORDS[int(d)] for d in match.group(2))
        renames[spelled.lower()] = match.group(1) + match.group(2)
        out.append(text[last:index] + "-" + spelled)
        last = match.end()
    out.append(text[last:])
    return "".join(out), renames


def _parse_uncached(text: str) -> A.Script:
    if not text.strip():
        return A.Script((), text)
    source, renames = _hide_parameter_digits(text)
    for _ in range(8):
        data = source.encode("utf-8")
        tree = _PARSER.parse(data)
        root = tree.root_node
        if not root.has_error:
            builder = _Builder(data)
            builder.renames = renames
            param_block = next((c for c in root.named_children if c.type == "param_block"), None)
            params = builder.parameters(param_block) if param_block is not None else ()
            try:
                return builder.script(root, text, params)
            except ParseFailure as exc:
                raise ParseError(exc.message, exc.position, False, text) from exc
        if root.type == "ERROR" and root.children and all(c.type == "comment" for c in root.children):
            return A.Script((), text)
        patched = quote_barewords_before_commas(root, data)
        if patched is None:
            patched = break_after_param_blocks(root, data)
        if patched is None:
            patched = lowercase_number_multipliers(root, data)
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


class _Builder(ExpressionBuilder):
    """Maps one tree-sitter tree onto the AST."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        #: Parameter names whose digits were spelled as letters for the grammar (spelled -> real).
        self.renames: dict[str, str] = {}

    def src(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8")

    # -- statements ----------------------------------------------------------------
    def script(self, node: Node, text: str, params: tuple[A.ParamSpec, ...] = ()) -> A.Script:
        statements: list[A.Statement] = []
        self._collect_statements(node, statements)
        return A.Script(tuple(statements), text, tuple(p.name for p in params), params)

    def _collect_statements(self, node: Node, out: list[A.Statement]) -> None:
        for child in node.named_children:
            kind = child.type
            if kind in ("statement_list", "script_block_body", "statement_block"):
                self._collect_statements(child, out)
            elif kind == "named_block_list":
                out.extend(
                    self._named_block(block) for block in child.named_children if block.type == "named_block"
                )
            elif kind in ("comment", "empty_statement", "param_block"):
                continue
            else:
                out.append(self.statement(child))

    def _named_block(self, node: Node) -> A.Statement:
        """``begin { }`` inside a script block: written as the command the grammar reads at a
        script's top level (``begin`` with one script block argument), so that both places
        look alike to :func:`psremoting.pslang.blocks.named_blocks`."""
        name_node = next(c for c in node.named_children if c.type == "block_name")
        block = next(c for c in node.named_children if c.type == "statement_block")
        text = self.src(block)
        inner = text[1:-1] if text.startswith("{") and text.endswith("}") else text
        body = A.ScriptBlockExpr(inner, self.script(block, inner), (), block.start_byte)
        command = A.Command(self.src(name_node), (body,), None, self.src(node), node.start_byte)
        return A.Pipeline((command,), self.src(node), node.start_byte)

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
            block = next(c for c in node.named_children if c.type == "statement_block")
            loop_kind = "while"
            if kind == "do_statement":
                loop_kind = "do-until" if any(c.type == "until" for c in node.children) else "do-while"
            return A.While(
                self.statement(cond.named_children[0]),
                self.script(block, self.src(block)),
                loop_kind,
                node.start_byte,
            )
        if kind == "for_statement":
            parts = {c.type: c for c in node.named_children}

            def part(name: str) -> A.Statement | None:
                child = parts.get(name)
                return (
                    self.statement(child.named_children[0])
                    if child is not None and child.named_children
                    else None
                )

            loop_body = parts["statement_block"]
            return A.For(
                part("for_initializer"),
                part("for_condition"),
                part("for_iterator"),
                self.script(loop_body, self.src(loop_body)),
                node.start_byte,
            )
        if kind == "try_statement":
            return self.try_statement(node)
        if kind == "function_statement":
            name_node = next(c for c in node.named_children if c.type == "function_name")
            sb_node = next((c for c in node.named_children if c.type == "script_block"), None)
            body = (
                self.script_block(sb_node, node)
                if sb_node is not None
                else A.ScriptBlockExpr("", A.Script((), ""), (), node.start_byte)
            )
            decl = next((c for c in node.named_children if c.type == "function_parameter_declaration"), None)
            if decl is not None:
                specs = self.parameters(decl) + body.body.param_specs
                names = tuple(p.name for p in specs)
                body = A.ScriptBlockExpr(
                    body.text, A.Script(body.body.statements, body.body.text, names, specs), names, body.pos
                )
            return A.FunctionDef(self.src(name_node), body, node.start_byte)
        if kind in PASS_THROUGH or kind.endswith("_expression") or kind.endswith("_literal"):
            return A.Pipeline((self.expr(node),), self.src(node), node.start_byte)
        return A.Unsupported(kind.removesuffix("_statement"), self.src(node), node.start_byte)

    def try_statement(self, node: Node) -> A.Try:
        body = next(c for c in node.named_children if c.type == "statement_block")
        catches: list[tuple[tuple[str, ...], A.Script]] = []
        finally_body: A.Script | None = None
        for child in node.named_children:
            if child.type == "catch_clauses":
                for clause in child.named_children:
                    types_node = next((c for c in clause.named_children if c.type == "catch_type_list"), None)
                    types = (
                        tuple(
                            self._type_name(t) for t in types_node.named_children if t.type == "type_literal"
                        )
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
                    redirections.extend(
                        self.redirection(r) for r in child.named_children if r.type == "redirection"
                    )
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
                if inner.type == "path_command_name":  # `& $f` (a variable) or `& .\run.ps1` (a path)
                    parts = inner.named_children
                    inner = parts[0] if len(parts) == 1 and parts[0].type == "variable" else inner
                plain = inner.type in ("command_name", "path_command_name")
                name = self.src(inner) if plain else self.expr(inner)
            elif kind == "command_elements":
                elements, redirections = self.command_elements(child)
        if isinstance(name, str) and invocation is None and not elements:
            literal = self._numeric_command_name(name, node.start_byte)
            if literal is not None:
                return literal
        return A.Command(
            name, tuple(elements), invocation, self.src(node), node.start_byte, tuple(redirections)
        )

    def _numeric_command_name(self, name: str, pos: int) -> A.Expr | None:
        """The grammar reads ``1..3``, ``1..$n`` or ``42`` at a statement's start as a command name."""
        if ".." in name:
            left, _, right = name.partition("..")
            lo, hi = self._range_end(left, pos), self._range_end(right, pos)
            if lo is not None and hi is not None:
                return A.BinaryOp("..", lo, hi, pos)
        value = number(name)
        return A.Constant(value, pos) if value is not None else None

    def _range_end(self, text: str, pos: int) -> A.Expr | None:
        """One end of a range read as a command name: an integer or a plain ``$variable``."""
        value = number(text)
        if isinstance(value, int):
            return A.Constant(value, pos)
        if re.fullmatch(r"\$(?:[A-Za-z_][\w]*:)?[A-Za-z_?][\w]*", text):
            name, scope = self._variable_name(text)
            return A.Variable(name, scope, pos)
        return None

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
                name = text[1:].rstrip(":")
                real = self.renames.get(name.lower())
                if real is not None:
                    text = text.replace(name, real)
                    name = real
                out.append(A.CommandParameter(name, None, text, child.start_byte))
                if text.endswith(":"):
                    colon_pending = out[-1]  # type: ignore[assignment]
                continue
            if kind == "redirection":
                redirections.append(self.redirection(child))
                continue
            if kind == "generic_token":
                glued = GLUED_REDIRECTION.match(self.src(child))
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
        value = number(text)
        if value is not None:
            return A.Constant(value, node.start_byte)
        return A.Constant(unescape(text) if "`" in text else text, node.start_byte, bareword=True)
