"""PowerShell's binary and unary operators over the subset's values.

Comparisons are case-insensitive unless written ``-c...``; a list on the left of a
comparison filters the list, as in PowerShell; ``+`` concatenates strings, lists and
hashtables; ``-f`` formats with .NET-style ``{0}`` placeholders.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import re
from typing import Any

from .typenames import convert_as, is_type
from .values import CaseInsensitiveDict, to_bool, to_number, to_string

__all__ = ["OperatorError", "binary", "unary"]


class OperatorError(Exception):
    """An operator applied to values it does not support; the message is PowerShell's."""


def _norm(value: Any, case: bool) -> Any:
    if isinstance(value, str) and not case:
        return value.lower()
    return value


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Convert ``right`` to ``left``'s kind as PowerShell compares (left operand decides)."""
    if isinstance(left, bool):
        return left, to_bool(right)
    if isinstance(left, (int, float)) and not isinstance(right, (int, float)):
        try:
            return left, to_number(right)
        except (ValueError, TypeError):
            return to_string(left), to_string(right)
    if isinstance(left, str) and not isinstance(right, str):
        return left, to_string(right)
    return left, right


def _compare(op: str, left: Any, right: Any) -> bool:
    case = op.startswith("-c")
    base = "-" + op[2:] if op[:2] in ("-c", "-i") and op not in ("-contains",) else op
    if op in ("-contains", "-notcontains", "-in", "-notin"):
        base = op
    if base in ("-contains", "-notcontains", "-ccontains", "-cnotcontains"):
        items = left if isinstance(left, (list, tuple)) else [left]
        found = any(_compare("-ceq" if case else "-eq", item, right) for item in items)
        return found if "not" not in base else not found
    if base in ("-in", "-notin"):
        return _compare("-notcontains" if base == "-notin" else "-contains", right, left)
    if base in ("-like", "-notlike"):
        text, pattern = to_string(left), to_string(right)
        if not case:
            text, pattern = text.lower(), pattern.lower()
        matched = fnmatch.fnmatchcase(
            text, pattern.replace("[", "[[]") if "[" in pattern and "]" not in pattern else pattern
        )
        return matched if base == "-like" else not matched
    if base in ("-match", "-notmatch"):
        found = re.search(to_string(right), to_string(left), 0 if case else re.IGNORECASE) is not None
        return found if base == "-match" else not found
    if left is None or right is None:
        if base == "-eq":
            return left is None and right is None
        if base == "-ne":
            return not (left is None and right is None)
        left = "" if left is None else left
        right = "" if right is None else right
    a, b = _coerce_pair(left, right)
    a, b = _norm(a, case), _norm(b, case)
    try:
        if base == "-eq":
            return bool(a == b)
        if base == "-ne":
            return bool(a != b)
        if base == "-gt":
            return bool(a > b)
        if base == "-ge":
            return bool(a >= b)
        if base == "-lt":
            return bool(a < b)
        if base == "-le":
            return bool(a <= b)
    except TypeError as exc:
        raise OperatorError(f'Cannot compare "{to_string(left)}" to "{to_string(right)}".') from exc
    raise OperatorError(f"The operator '{op}' is not supported.")


_COMPARISONS = {
    f"-{p}{name}"
    for p in ("", "c", "i")
    for name in (
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "like",
        "notlike",
        "match",
        "notmatch",
        "contains",
        "notcontains",
    )
} | {"-in", "-notin", "-cin", "-cnotin"}


def format_string(fmt: str, args: list[Any]) -> str:
    """.NET composite formatting for ``-f``: ``{0}``, ``{1,5}``, ``{0:N2}``, ``{{`` escapes."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        index = int(m.group(1))
        value = args[index] if index < len(args) else None
        spec = m.group(3) or ""
        text = to_string(value)
        if spec and isinstance(value, (int, float)):
            kind, digits = spec[0].upper(), spec[1:]
            if kind == "N":
                text = f"{value:,.{int(digits or 2)}f}"
            elif kind == "F":
                text = f"{value:.{int(digits or 2)}f}"
            elif kind == "D":
                text = f"{int(value):0{int(digits or 1)}d}"
            elif kind == "X":
                text = f"{int(value):0{int(digits or 1)}X}"
            elif kind == "P":
                text = f"{value * 100:.{int(digits or 2)}f} %"
        width = m.group(2)
        if width:
            w = int(width)
            text = text.rjust(w) if w > 0 else text.ljust(-w)
        return text

    return re.sub(r"\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}", repl, fmt)


def binary(op: str, left: Any, right: Any) -> Any:
    """Apply binary operator ``op`` (lower-case, as written) to two evaluated operands."""
    if op in ("-and", "-or", "-xor"):
        a, b = to_bool(left), to_bool(right)
        return (a and b) if op == "-and" else (a or b) if op == "-or" else (a != b)
    if op in _COMPARISONS:
        if isinstance(left, (list, tuple)) and not op.endswith(("contains",)):
            return [item for item in left if _compare(op, item, right)]
        return _compare(op, left, right)
    if op == "+":
        return _add(left, right)
    if op == "-" and isinstance(left, _dt.datetime) and isinstance(right, (_dt.datetime, _dt.timedelta)):
        return left - right  # a TimeSpan between two dates, or a date earlier by a TimeSpan
    if op in ("-", "*", "/", "%"):
        if op == "*" and isinstance(left, str):
            return left * int(to_number(right))
        if op == "*" and isinstance(left, (list, tuple)):
            return list(left) * int(to_number(right))
        x, y = to_number(left), to_number(right)
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if y == 0:
            raise OperatorError("Attempted to divide by zero.")
        if op == "%":
            return x % y
        result = x / y
        return int(result) if isinstance(x, int) and isinstance(y, int) and result.is_integer() else result
    if op == "..":
        lo, hi = int(to_number(left)), int(to_number(right))
        step = 1 if hi >= lo else -1
        return list(range(lo, hi + step, step))
    if op in ("-join",):
        items = left if isinstance(left, (list, tuple)) else [left]
        return to_string(right).join(to_string(i) for i in items)
    if op in ("-split", "-csplit", "-isplit"):
        flags = 0 if op == "-csplit" else re.IGNORECASE
        return re.split(to_string(right), to_string(left), flags=flags)
    if op in ("-replace", "-creplace", "-ireplace"):
        pattern, replacement = (list(right) + [""])[:2] if isinstance(right, (list, tuple)) else (right, "")
        repl = re.sub(r"\$(\d+)", r"\\\1", to_string(replacement))
        flags = 0 if op == "-creplace" else re.IGNORECASE
        return re.sub(to_string(pattern), repl, to_string(left), flags=flags)
    if op == "-f":
        args = list(right) if isinstance(right, (list, tuple)) else [right]
        return format_string(to_string(left), args)
    if op in ("-is", "-isnot"):
        return is_type(left, to_string(right)) == (op == "-is")
    if op == "-as":
        return convert_as(left, to_string(right))
    if op in ("-band", "-bor", "-bxor"):
        m, n = int(to_number(left)), int(to_number(right))
        return m & n if op == "-band" else m | n if op == "-bor" else m ^ n
    raise OperatorError(f"The operator '{op}' is not supported by this PowerShell subset.")


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, (_dt.datetime, _dt.timedelta)) and isinstance(right, _dt.timedelta):
        return left + right
    if isinstance(left, str):
        return left + to_string(right)
    if isinstance(left, (list, tuple)):
        return list(left) + (list(right) if isinstance(right, (list, tuple)) else [right])
    if isinstance(left, dict):
        if not isinstance(right, dict):
            raise OperatorError("A hash table can only be added to another hash table.")
        merged = CaseInsensitiveDict(left.items())
        for key, value in right.items():
            if key in merged:
                raise OperatorError(
                    f"Item has already been added. Key in dictionary: '{key}'  Key being added: '{key}'"
                )
            merged[key] = value
        return merged
    if left is None:
        return right
    return to_number(left) + to_number(right)


def unary(op: str, operand: Any) -> Any:
    """Apply a unary operator (``!``, ``-not``, ``-``, ``+``, ``,``, ``-join``, ``-split``)."""
    if op in ("!", "-not"):
        return not to_bool(operand)
    if op == "-":
        return -to_number(operand)
    if op == "+":
        return to_number(operand)
    if op == ",":
        return [operand]
    if op == "-join":
        items = operand if isinstance(operand, (list, tuple)) else [operand]
        return "".join(to_string(i) for i in items)
    if op == "-split":
        return to_string(operand).split()
    if op == "-bnot":
        return ~int(to_number(operand))
    raise OperatorError(f"The unary operator '{op}' is not supported by this PowerShell subset.")
