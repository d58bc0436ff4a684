"""Error recovery around tree-sitter-powershell: incomplete input, and one grammar gap.

- :func:`is_incomplete` tells an unfinished input (an open brace, parenthesis, quote or
  here-string, a trailing ``|`` or operator, a statement still waiting for its block) from a
  wrong one, as PowerShell's IncompleteParseException does, so a shell can ask for more.
- :func:`quote_barewords_before_commas` patches a gap of the grammar: PowerShell reads
  ``-ComputerName a,b`` as the array ``'a','b'`` but tree-sitter-powershell rejects it, so
  such bare words are quoted (which does not change their meaning) and the text is parsed again;
  a word after ``, `` runs on past a dash (``a, b-c`` is 'a','b-c', not a parameter ``-c``).
- :func:`lowercase_number_multipliers` patches another: the grammar knows the numeric
  multipliers (``40mb``) only in lower case, while PowerShell's are case-insensitive
  (``'x' * 40MB``); they are lowered and the text parsed again.
- :func:`break_after_param_blocks` patches a third: in a function's body the grammar takes
  ``param($x)`` only at the end of a line (``function f { param($x) "x=$x" }`` fails), so the
  space after such a block becomes a line break (the same byte count, so positions hold).

These only look at delimiters and the tokens tree-sitter found; the grammar itself is
tree-sitter's.
"""

from __future__ import annotations

import re

from tree_sitter import Node

__all__ = [
    "COMMAND_DASH",
    "break_after_param_blocks",
    "call_keyword_commands",
    "first_error",
    "is_incomplete",
    "quote_barewords_before_commas",
    "lowercase_number_multipliers",
    "unclosed",
]


_MULTIPLIER = re.compile(rb"(?i)(kb|mb|gb|tb|pb)(?![\w-])")


def lowercase_number_multipliers(root: Node, data: bytes) -> str | None:
    """Lower the multiplier right after a number the grammar cut off (``40MB`` -> ``40mb``);
    None if there is none."""
    spans: list[int] = []

    def walk(node: Node) -> None:
        if node.type in ("decimal_integer_literal", "real_literal", "integer_literal"):
            match = _MULTIPLIER.match(data, node.end_byte)
            if match is not None and match.group(1) != match.group(1).lower():
                spans.append(node.end_byte)
        for child in node.children:
            walk(child)

    walk(root)
    if not spans:
        return None
    out = bytearray(data)
    for start in set(spans):
        out[start : start + 2] = bytes(out[start : start + 2]).lower()
    return bytes(out).decode("utf-8")


def break_after_param_blocks(root: Node, data: bytes) -> str | None:
    """Put a line break after each ``param(...)`` the grammar could not place (one inside an
    ERROR node, followed on its line by a statement); None if there is none."""
    ends: list[int] = []

    def walk(node: Node, in_error: bool) -> None:
        if (
            node.type == "param_block"
            and in_error
            and data[node.end_byte : node.end_byte + 1] in (b" ", b"\t")
        ):
            ends.append(node.end_byte)
        for child in node.children:
            walk(child, in_error or node.type == "ERROR")

    walk(root, False)
    if not ends:
        return None
    out = bytearray(data)
    for end in ends:
        out[end : end + 1] = b"\n"
    return bytes(out).decode("utf-8")


def quote_barewords_before_commas(root: Node, data: bytes) -> str | None:
    """Quote every bareword of a ``a,b`` list (a grammar gap); None if there is none."""
    spans: dict[int, int] = {}

    def walk(node: Node) -> None:
        start, end = node.start_byte, node.end_byte
        if node.type == "generic_token":
            text = data[start:end]
            after = data[end:].lstrip(b" \t")
            if after.startswith(b",") or text.startswith(b",") or b"," in text:
                spans[start] = end
        elif (
            node.type == "simple_name"
            and node.parent is not None
            and node.parent.type == "ERROR"
            and data[:start].rstrip(b" \t").endswith(b",")
        ):
            # The grammar stops the name at a dash (``a, b-c``); the bare word goes on to the
            # next blank, comma or closing character, as PowerShell reads it.
            while end < len(data) and data[end : end + 1] not in _BAREWORD_ENDS:
                end += 1
            spans[start] = end
        for child in node.children:
            walk(child)

    walk(root)
    if not spans:
        return None
    out = data
    for start in sorted(spans, reverse=True):
        end = spans[start]
        pieces = out[start:end].decode("utf-8").split(",")
        quoted = ",".join(_quote_word(p) for p in pieces)
        out = out[:start] + quoted.encode("utf-8") + out[end:]
    return out.decode("utf-8")


_BAREWORD_ENDS = frozenset(bytes([c]) for c in b" \t\r\n,;|)}")


def _quote_word(word: str) -> str:
    stripped = word.strip()
    if not stripped:
        return word
    lead = word[: len(word) - len(word.lstrip())]
    if "$" in stripped:
        return lead + '"' + stripped.replace("`", "``").replace('"', '`"') + '"'
    return lead + "'" + stripped.replace("'", "''") + "'"


def first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        for child in node.children:
            inner = first_error(child)
            if inner is not None and inner.is_missing:
                return inner
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = first_error(child)
            if found is not None:
                return found
    return None


_TRAILING_CONTINUATION = re.compile(
    r"(\||`|=|,|\+|-|\*|/|%|&&|\|\||-(and|or|xor|eq|ne|gt|ge|lt|le|like|match|f|join|split|replace|in|contains))\s*$",
    re.IGNORECASE,
)


_AWAITING_BLOCK = re.compile(
    r"(^|[;\n{}])\s*((if|elseif|while|foreach|for|switch)\s*\(.*\)|else|try|finally|do|function\s+[\w-]+)\s*$",
    re.IGNORECASE | re.DOTALL,
)
COMMAND_DASH = re.compile(r"(^|[;|\n])\s*[A-Za-z][\w-]*(\s+[^;|\n]*)?\s-$")


def is_incomplete(text: str) -> bool:
    """True when more input could complete ``text``: an open delimiter, a trailing operator,
    or a statement still waiting for its block (``if (...)``, ``function f``)."""
    if unclosed(text) is not None:
        return True
    stripped = _strip_comment_tail(text).rstrip()
    if stripped.endswith("`"):
        return True
    if _AWAITING_BLOCK.search(stripped):
        return True
    return bool(_TRAILING_CONTINUATION.search(stripped)) and not stripped.endswith(("++", "--"))


def _strip_comment_tail(text: str) -> str:
    lines = text.rstrip().split("\n")
    last = lines[-1]
    if last.lstrip().startswith("#"):
        lines = lines[:-1]
    return "\n".join(lines)


def unclosed(text: str) -> str | None:
    """The innermost delimiter (bracket, quote or here-string) still open at the end of ``text``.

    A balance check of delimiters only, used to tell an incomplete input from a wrong one;
    the grammar itself is tree-sitter's.
    """
    stack: list[str] = []
    i, n = 0, len(text)
    closers = {")": ("(", "@(", "$("), "}": ("{", "@{", "${"), "]": ("[",)}
    while i < n:
        c = text[i]
        top = stack[-1] if stack else None
        if top == "'":
            if c == "'":
                if i + 1 < n and text[i + 1] == "'":
                    i += 2
                    continue
                stack.pop()
            i += 1
            continue
        if top in ("@'", '@"'):
            quote = top[1]
            if c == "\n" and text[i + 1 : i + 3] == quote + "@":
                stack.pop()
                i += 3
                continue
            i += 1
            continue
        if top == '"':
            if c == "`":
                i += 2
                continue
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 2
                    continue
                stack.pop()
            elif c == "$" and i + 1 < n and text[i + 1] == "(":
                stack.append("$(")
                i += 2
                continue
            i += 1
            continue
        if top == "<#":
            if text.startswith("#>", i):
                stack.pop()
                i += 2
                continue
            i += 1
            continue
        if c == "`":
            i += 2
            continue
        if c == "#":
            if i > 0 and text[i - 1] == "<":
                i += 1
                continue
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith("<#", i):
            stack.append("<#")
            i += 2
            continue
        if text.startswith(("@'", '@"'), i) and text[i + 2 : i + 3] in ("\n", "\r", ""):
            stack.append(text[i : i + 2])
            i += 2
            continue
        if text.startswith(("@(", "$(", "@{", "${"), i):
            stack.append(text[i : i + 2])
            i += 2
            continue
        if c in "({[\"'":
            stack.append(c)
        elif c in closers:
            if stack and stack[-1] in closers[c]:
                stack.pop()
            else:
                return None  # a stray closer is an error, not an incomplete input
        i += 1
    return stack[-1] if stack else None


_KEYWORD_COMMAND = re.compile(
    r"(?P<lead>(^|[;\n{(|])[ \t]*)(?P<name>(foreach|data|do|param|class|enum)-[A-Za-z][\w-]*)(?=[\s;|)}]|$)",
    re.IGNORECASE,
)


def call_keyword_commands(source: str) -> str | None:
    """``ForEach-Object`` at a statement's start: the grammar takes ``foreach`` for the keyword.

    Rewritten as ``& 'ForEach-Object'`` (the same command); None when there is none.
    """
    patched, count = _KEYWORD_COMMAND.subn(lambda m: f"{m.group('lead')}& '{m.group('name')}'", source)
    return patched if count else None
