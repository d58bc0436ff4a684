"""The .NET surface the subset emulates: casts, common methods, static members, indexing.

PowerShell scripts lean on a few .NET members (``[int]'5'``, ``'a'.ToUpper()``,
``[Math]::Round(x)``, ``$list.Count``); these are mapped onto Python here. Anything else
is an :class:`EvaluationError` that names the member, never a silent wrong answer.
"""

from __future__ import annotations

import datetime as _dt
import math
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .datetimes import datetime_method
from .flow import EvaluationError
from .values import (
    CaseInsensitiveDict,
    MultiDimArray,
    PSCustom,
    ScriptBlock,
    get_member,
    to_bool,
    to_number,
    to_string,
)

__all__ = [
    "CONSOLE_COLOR_NAMES",
    "TypeName",
    "call_method",
    "cast",
    "register_cast",
    "register_enum",
    "index_value",
    "static_member",
    "static_method",
    "type_name_of",
]


#: Conversions a host of the language adds (the emulator's .NET types), by lower-case name.
_EXTRA_CASTS: dict[str, Callable[[Any], Any]] = {}


def register_cast(names: tuple[str, ...], convert: Callable[[Any], Any]) -> None:
    """Let ``[Name]value`` (and ``[Name[]]@(...)``) build a host's own type with `convert`."""
    for name in names:
        _EXTRA_CASTS[name.lower().removeprefix("system.")] = convert


#: Enums a host of the language adds: lower-case type name -> lower-case member -> value.
_EXTRA_ENUMS: dict[str, dict[str, Any]] = {}


def register_enum(names: tuple[str, ...], members: dict[str, Any]) -> None:
    """Let ``[Name]::Member`` answer a host's own enum's `members` (by name, any case)."""
    table = {key.lower(): value for key, value in members.items()}
    for name in names:
        _EXTRA_ENUMS[name.lower().removeprefix("system.")] = table


def cast(type_name: str, value: Any) -> Any:
    name = type_name.lower().removeprefix("system.")
    extra = _EXTRA_CASTS.get(name.removesuffix("[]"))
    if extra is not None:
        if name.endswith("[]"):
            items = list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])
            return [extra(i) for i in items]
        return extra(value)
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
    "toupperinvariant": lambda s: s.upper(),
    "tolowerinvariant": lambda s: s.lower(),
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


#: System.ConsoleColor's names, in the enum's order (its values are their positions).
CONSOLE_COLOR_NAMES = (
    "Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow", "Gray",
    "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White",
)  # fmt: skip
#: [System.ConsoleColor] members, as the enum's names (PowerShell prints an enum by name).
_CONSOLE_COLORS = {name.lower(): name for name in CONSOLE_COLOR_NAMES}


class TypeName(str):
    """The value of a ``[Type]`` literal or of ``.GetType()``: its name, with the FullName and
    Name a System.Type answers."""

    __slots__ = ()

    @property
    def FullName(self) -> str:
        return str(self)

    @property
    def Name(self) -> str:
        return str(self).rsplit(".", 1)[-1]


def static_member(type_name: str, name: str) -> Any:
    lower = (type_name.lower().removeprefix("system."), name.lower())
    if lower == ("math", "pi"):
        return math.pi
    if lower == ("math", "e"):
        return math.e
    if lower == ("datetime", "now"):
        return _dt.datetime.now()
    if lower == ("environment", "newline"):
        return "\r\n"
    if lower == ("string", "empty"):
        return ""
    if lower in (("int32", "maxvalue"), ("int", "maxvalue")):
        return 2**31 - 1
    if lower[0] == "consolecolor" and lower[1] in _CONSOLE_COLORS:
        return _CONSOLE_COLORS[lower[1]]
    if lower[1] in _EXTRA_ENUMS.get(lower[0], {}):
        return _EXTRA_ENUMS[lower[0]][lower[1]]
    raise EvaluationError(
        f"The property '{name}' of [{type_name}] is not supported by this PowerShell subset."
    )


def static_method(type_name: str, name: str, args: list[Any]) -> Any:
    key = (type_name.lower().removeprefix("system."), name.lower())
    if key == ("math", "round"):
        return round(to_number(args[0]), int(to_number(args[1])) if len(args) > 1 else 0)
    if key in (("guid", "newguid"), ("guid", "parse")):
        return uuid.uuid4() if key[1] == "newguid" else uuid.UUID(to_string(args[0]))
    if key == ("math", "max"):
        return max(to_number(a) for a in args)
    if key == ("math", "min"):
        return min(to_number(a) for a in args)
    if key[0] in ("runtime.interopservices.marshal", "marshal"):
        # A SecureString's "BSTR" is the SecureString itself; PtrToString* reads its text.
        if key[1] == "securestringtobstr":
            return args[0]
        if key[1] in ("ptrtostringauto", "ptrtostringbstr", "ptrtostringuni"):
            getter = getattr(args[0], "get_value", None)
            return getter() if callable(getter) else to_string(args[0])
        if key[1] == "zerofreebstr":
            return None
    if key == ("string", "isnullorempty"):
        return not args or args[0] is None or to_string(args[0]) == ""
    if key == ("string", "join"):
        items = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
        return to_string(args[0]).join(to_string(i) for i in items)
    raise EvaluationError(
        f"[{type_name}]::{name}() is not supported by this PowerShell subset.", 0, "MethodNotFound"
    )


def call_method(
    obj: Any, name: str, args: list[Any], invoke: Callable[[ScriptBlock, list[Any]], Any] | None = None
) -> Any:
    """``obj.Name(args)``: common .NET methods on strings and collections, else the Python method."""
    lower = name.lower()
    if lower == "tostring" and not args and not isinstance(obj, _dt.datetime):  # a date: its culture's "G"
        return to_string(obj)
    if lower == "gettype" and not args:
        return TypeName(type_name_of(obj))
    if isinstance(obj, str) and lower in _STRING_METHODS:
        return _STRING_METHODS[lower](obj, *args)
    if isinstance(obj, _dt.datetime) and datetime_method(lower) is not None:
        return datetime_method(lower)(obj, *args)  # type: ignore[misc]
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
    if isinstance(obj, ScriptBlock) and lower in ("invoke", "invokereturnasis") and invoke is not None:
        return invoke(obj, args)
    target = None
    for attr in dir(obj):
        if attr.lower() == lower and not attr.startswith("__"):
            target = getattr(obj, attr)
            break
    if target is None or not callable(target):
        raise EvaluationError(
            f"Method invocation failed because [{type_name_of(obj)}] does not contain a method named '{name}'.",
            0,
            "MethodNotFound",
        )
    return target(*args)


def index_value(obj: Any, index: Any) -> Any:
    """``obj[index]``: lists (negative and list indexes), strings, dicts and PSObjects."""
    if isinstance(obj, MultiDimArray):
        try:
            return obj[index]
        except IndexError as exc:
            raise EvaluationError("Index was outside the bounds of the array.", 0, "IndexOutOfRange") from exc
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


def type_name_of(obj: Any) -> str:
    """The .NET type's FullName of a value, as ``$x.GetType().FullName`` answers on Windows."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "System.Boolean"
    if isinstance(obj, MultiDimArray):
        return str(obj)
    if isinstance(obj, (list, tuple)):
        return "System.Object[]"  # an array arrives as an array (rehydrated), as on Windows
    wire_names = getattr(getattr(obj, "PSObject", None), "type_names", None)
    if wire_names and isinstance(
        obj, (int, float, str, bytes, _dt.date, _dt.timedelta, uuid.UUID, Decimal, dict)
    ):
        return str(wire_names[0])  # a primitive as it was received: System.Int64, System.Byte[]...
    if isinstance(obj, int):
        return "System.Int32" if -(2**31) <= obj < 2**31 else "System.Int64"
    if isinstance(obj, (bytes, bytearray)):
        return "System.Byte[]"
    if isinstance(obj, _dt.datetime):
        return "System.DateTime"
    if isinstance(obj, _dt.timedelta):
        return "System.TimeSpan"
    if isinstance(obj, uuid.UUID):
        return "System.Guid"
    if isinstance(obj, Decimal):
        return "System.Decimal"
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
    return _KNOWN_CLASSES.get(type(obj).__name__, type(obj).__name__)


#: The .NET types of the values the hosts of pslang hand it (found by class name: pslang
#: knows neither the protocol layer nor the emulator).
_KNOWN_CLASSES = {
    "SecureString": "System.Security.SecureString",
    "PSCredential": "System.Management.Automation.PSCredential",
    "NetworkCredential": "System.Net.NetworkCredential",
}
