"""ConvertTo-Json and ConvertFrom-Json as Windows PowerShell 5.1 writes and reads them.

5.1's ConvertTo-Json serializes with JavaScriptSerializer (``<``, ``>``, ``&`` and ``'`` as
``\\u003c``...; DateTime as ``"\\/Date(ms)\\/"``; enums as numbers) and then re-indents the text:
four spaces per level, ``"key":  value`` with two spaces after the colon, and a nested object
or array indented to where its key ended. Beyond ``-Depth`` (2) an object becomes its string.
On 7.4 (Newtonsoft) the indentation is two spaces, ``"key": value``. ConvertFrom-Json gives
PSCustomObjects; on 5.1 a JSON array is written as one object (not enumerated), as there.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.protocol.secrets import PSCredential, SecureString
from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import PSCustom, ScriptBlock, to_string

from .commands import CommandContext, builtin
from .errors import PSError
from .objects import local_datetime

__all__ = ["from_json", "to_json"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text: str, legacy: bool) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or (legacy and ch in "<>&'"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _properties(value: Any) -> list[tuple[str, Any]] | None:
    """The (name, value) pairs ConvertTo-Json writes for an object; None for a scalar."""
    if isinstance(value, dict):
        return [(to_string(k), v) for k, v in value.items()]
    meta = getattr(value, "PSObject", None)
    if meta is None:
        return None
    props = list(getattr(meta, "extended_properties", [])) + list(getattr(meta, "adapted_properties", []))
    if not props:
        return None
    return [(p.name, p.get_value(value)) for p in props]


def _tree(value: Any, depth: int, legacy: bool) -> Any:
    """The value as JSON-ready Python (dict, list, str, numbers, None; ``_Raw`` for literal text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, int) else str(value.name)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return to_string(value)
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if legacy:
            aware = value if value.tzinfo else value.astimezone()
            millis = int((aware - _EPOCH).total_seconds() * 1000)
            return _Raw('"\\/Date(' + str(millis) + ')\\/"')
        return value.isoformat()
    if isinstance(value, ScriptBlock):
        return value.text
    if isinstance(value, SecureString):
        # JavaScriptSerializer sees a SecureString's one public property: never its text.
        return {"Length": value.Length} if depth >= 0 else "System.Security.SecureString"
    if isinstance(value, PSCredential):
        if depth < 0:
            return "System.Management.Automation.PSCredential"
        return {"UserName": value.username, "Password": _tree(value.password, depth - 1, legacy)}
    if isinstance(value, (list, tuple)):
        if depth < 0:
            return " ".join(to_string(v) for v in value)
        return [_tree(v, depth - 1, legacy) for v in value]
    props = _properties(value)
    if props is None:
        return to_string(value)
    if depth < 0:
        return to_string(value) if not isinstance(value, dict) else "System.Collections.Hashtable"
    return {name: _tree(v, depth - 1, legacy) for name, v in props}


class _Raw(str):
    """Text written as is (5.1's DateTime form)."""


def _scalar(value: Any, legacy: bool) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return to_string(value) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return _quote(str(value), legacy)


def _compact(value: Any, legacy: bool) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(_quote(k, legacy) + ":" + _compact(v, legacy) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v, legacy) for v in value) + "]"
    return _scalar(value, legacy)


def _pretty_51(value: Any, pad: int) -> str:
    """5.1's layout: members at ``pad + 4``; a nested value's block at the end of its key."""
    inner = " " * (pad + 4)
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            head = inner + _quote(key, True) + ":  "
            lines.append(head + _pretty_51(item, len(head)))
        return "{\r\n" + ",\r\n".join(lines) + "\r\n" + " " * pad + "}"
    if isinstance(value, list):
        lines = [inner + _pretty_51(item, pad + 4) for item in value]
        return "[\r\n" + ",\r\n".join(lines) + "\r\n" + " " * pad + "]"
    return _scalar(value, True)


def _pretty_7(value: Any, pad: int) -> str:
    inner = " " * (pad + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [inner + _quote(k, False) + ": " + _pretty_7(v, pad + 2) for k, v in value.items()]
        return "{\r\n" + ",\r\n".join(lines) + "\r\n" + " " * pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = [inner + _pretty_7(v, pad + 2) for v in value]
        return "[\r\n" + ",\r\n".join(lines) + "\r\n" + " " * pad + "]"
    return _scalar(value, False)


def to_json(value: Any, depth: int = 2, compress: bool = False, version: str = "5.1") -> str:
    """``value | ConvertTo-Json -Depth depth [-Compress]`` as the given PowerShell writes it."""
    legacy = version == "5.1"
    tree = _tree(value, depth, legacy)
    if compress:
        return _compact(tree, legacy)
    return _pretty_51(tree, 0) if legacy else _pretty_7(tree, 0)


def _convert(value: Any, legacy: bool) -> Any:
    if isinstance(value, dict):
        return PSCustom((k, _convert(v, legacy)) for k, v in value.items())
    if isinstance(value, list):
        return [_convert(v, legacy) for v in value]
    if isinstance(value, str) and legacy and value.startswith("/Date(") and value.endswith(")/"):
        try:
            millis = int(value[6:-2].split("+")[0].split("-")[0] if value[6] != "-" else value[6:-2])
        except ValueError:
            return value
        return local_datetime((_EPOCH + dt.timedelta(milliseconds=millis)).astimezone().replace(tzinfo=None))
    if isinstance(value, str) and not legacy:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_datetime(parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed)
    return value


def from_json(text: str, version: str = "5.1") -> Any:
    """Parse JSON text as ConvertFrom-Json does (objects as PSCustomObjects); ValueError if invalid."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc
    return _convert(parsed, version == "5.1")


@builtin(
    CommandSignature(
        "ConvertTo-Json",
        (
            Parameter("InputObject", "object", position=0, mandatory=True, value_from_pipeline=True),
            Parameter("Depth", "int"),
            Parameter("Compress", "switch"),
        ),
    )
)
def _convert_to_json(ctx: CommandContext) -> Iterable[Any]:
    items = (
        ctx.input
        if ctx.input
        else ([ctx.get("InputObject")] if ctx.bound and "InputObject" in ctx.bound else [])
    )
    if not items:
        return []
    depth = int(ctx.get("Depth") if ctx.get("Depth") is not None else 2)
    if depth > 100:
        raise PSError(
            ctx.error(
                "Cannot validate argument on parameter 'Depth'. The 101 argument is greater than the maximum "
                "allowed range of 100. Supply an argument that is less than or equal to 100 and then try the "
                "command again.",
                "System.Management.Automation.ParameterBindingValidationException",
                ErrorCategory.InvalidData,
                "ParameterArgumentValidationError",
            ),
            terminating=True,
        )
    value = items[0] if len(items) == 1 else list(items)
    return [to_json(value, depth, ctx.switch("Compress"), ctx.engine.version)]


@builtin(
    CommandSignature(
        "ConvertFrom-Json",
        (Parameter("InputObject", "string", position=0, mandatory=True, value_from_pipeline=True),),
    )
)
def _convert_from_json(ctx: CommandContext) -> Iterable[Any]:
    items = ctx.input if ctx.input else [ctx.get("InputObject")]
    text = "\n".join(to_string(i) for i in items)
    try:
        value = from_json(text, ctx.engine.version)
    except ValueError:
        primitive = text.strip().split()[0] if text.strip() else text
        raise PSError(
            ctx.error(
                f"Invalid JSON primitive: {primitive}."
                if ctx.engine.version == "5.1"
                else f"Conversion from JSON failed with error: Unexpected character encountered while parsing "
                f"value: {primitive[:1]}. Path '', line 1, position 0.",
                "System.ArgumentException",
                ErrorCategory.NotSpecified,
                "System.ArgumentException",
            ),
            terminating=True,
        ) from None
    if isinstance(value, list) and ctx.engine.version != "5.1":
        return value
    return [value]
