"""How a value reads in a table cell, a list line or on its own, as PowerShell (en-US) prints it.

`prop` reads a property of any object the client holds (a deserialized `PSObject`, a dict, a
client object such as a PSSession, whose snake_case attributes answer their PowerShell names);
`cell_text` is the text Format-Table and Format-List write for a value: dates in the short
form, collections as ``{a, b, c, d...}`` cut at $FormatEnumerationLimit (4), enums by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import uuid
from decimal import Decimal
from typing import Any

from psremoting.protocol.psobject import PSEnumValue, PSObject

__all__ = [
    "ENUMERATION_LIMIT",
    "REMOTING_NOTES",
    "is_numeric",
    "long_datetime",
    "properties_of",
    "prop",
    "scalar_text",
    "cell_text",
    "short_datetime",
    "type_names_of",
]

#: $FormatEnumerationLimit: how many items of a collection a cell shows before "...".
ENUMERATION_LIMIT = 4
#: The note properties Invoke-Command adds; PSShowComputerName is never shown.
REMOTING_NOTES = ("PSComputerName", "RunspaceId", "PSShowComputerName")

_SPECIAL = {"ca": "CA", "cn": "CN", "id": "Id", "ui": "UI", "ssl": "SSL"}


def _pascal(name: str) -> str:
    return "".join(_SPECIAL.get(p, p[:1].upper() + p[1:]) for p in name.split("_"))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def type_names_of(value: Any) -> list[str]:
    """The .NET type names of a value, most derived first (``Deserialized.`` kept)."""
    names = getattr(value, "type_names", None)
    if isinstance(names, (list, tuple)) and names:
        return [str(n) for n in names]
    if isinstance(value, bool):
        return ["System.Boolean"]
    if isinstance(value, dict):
        return ["System.Collections.Hashtable"]
    if isinstance(value, dt.datetime):
        return ["System.DateTime"]
    if isinstance(value, dt.timedelta):
        return ["System.TimeSpan"]
    if isinstance(value, uuid.UUID):
        return ["System.Guid"]
    kind = type(value).__name__
    if kind in ("PSSession", "RemoteSession"):  # the client's own: shown as PowerShell 7 shows one
        return ["psremoting.PSSession", "System.Management.Automation.Runspaces.PSSession"]
    return []


#: A PSSession's properties as Format-List shows them (Windows PowerShell 5.1's order).
_SESSION_PROPERTIES = (
    "State", "IdleTimeout", "OutputBufferingMode", "DisconnectedOn", "ExpiresOn", "ComputerType",
    "ComputerName", "ContainerId", "VMName", "VMId", "ConfigurationName", "InstanceId", "Id", "Name",
    "Availability", "ApplicationPrivateData", "Runspace",
)  # fmt: skip


def properties_of(value: Any) -> list[tuple[str, Any]]:
    """The (name, value) pairs Format-List * shows, in order (PSShowComputerName hidden)."""
    if type_names_of(value)[:1] == ["psremoting.PSSession"]:
        return [(name, prop(value, name)) for name in _SESSION_PROPERTIES]
    listed = getattr(value, "ps_properties", None)
    if callable(listed) and not isinstance(value, type):
        return list(listed())
    if isinstance(value, PSObject):
        shown = value.properties
        hidden = ("PSShowComputerName",) if shown.get("PSShowComputerName", True) else REMOTING_NOTES
        return [(k, v) for k, v in shown.items() if k not in hidden]
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(_pascal(f.name), getattr(value, f.name)) for f in dataclasses.fields(value)]
    notes = getattr(value, "_ps_notes", None)
    if isinstance(notes, dict):
        return [(k, v) for k, v in notes.items() if k != "PSShowComputerName"]
    return []


def prop(value: Any, name: str, default: Any = None) -> Any:
    """Property `name` of `value`, case-insensitively; `default` when it has none."""
    if isinstance(value, PSObject):
        return value.get(name, default)
    if isinstance(value, dict):
        for key, val in value.items():
            if str(key).lower() == name.lower():
                return val
        return default
    listed = getattr(value, "ps_properties", None)
    if callable(listed):
        for key, val in listed():
            if key.lower() == name.lower():
                return val
    if name.lower() == "runspace" and type_names_of(value)[:1] == ["psremoting.PSSession"]:
        return "System.Management.Automation.RemoteRunspace"  # what the object prints as
    for attribute in (_snake(name), name):
        try:
            return getattr(value, attribute)
        except AttributeError:
            continue
    return default


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, (bool, PSEnumValue, enum.Enum))


def long_datetime(value: dt.datetime) -> str:
    """DateTime's default display (en-US): ``Tuesday, November 24, 2026 11:58:53 PM``."""
    return f"{value:%A, %B} {value.day}, {value.year} {_time(value, True)}"


def short_datetime(value: dt.datetime) -> str:
    """A DateTime in a cell (en-US ToString()): ``11/24/2026 11:58:53 PM``."""
    return f"{value.month}/{value.day}/{value.year} {_time(value, True)}"


def _time(value: dt.datetime, seconds: bool) -> str:
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return f"{hour}:{value:%M:%S} {half}" if seconds else f"{hour}:{value:%M} {half}"


def timespan_text(value: dt.timedelta) -> str:
    """TimeSpan.ToString(): ``[-][d.]hh:mm:ss[.fffffff]``."""
    total = abs(value)
    days, rest = total.days, total.seconds
    text = f"{rest // 3600:02}:{rest % 3600 // 60:02}:{rest % 60:02}"
    if days:
        text = f"{days}.{text}"
    if total.microseconds:
        text += f".{total.microseconds * 10:07}"
    return ("-" if value < dt.timedelta(0) else "") + text


def scalar_text(value: Any) -> str:
    """A value as PowerShell prints it on its own line (ToString(), booleans True/False)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return str(value.value) if isinstance(value.value, str) else value.name
    if isinstance(value, dt.datetime):
        return long_datetime(value)
    if isinstance(value, dt.timedelta):
        return timespan_text(value)
    if isinstance(value, float):
        return _double(value)
    return str(value)


def _double(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text.replace("e+", "E+").replace("e-", "E-")


def cell_text(value: Any, limit: int = ENUMERATION_LIMIT) -> str:
    """A value in a table cell or a list line: dates short, collections as ``{a, b}``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "System.Collections.Hashtable"  # its ToString(), as a cell shows a nested one
    if isinstance(value, (list, tuple, set, frozenset, bytes, bytearray)):
        shown = [cell_text(v, limit) for v in list(value)[:limit]]
        more = "..." if len(value) > limit else ""
        return "{" + ", ".join(shown) + more + "}"
    if isinstance(value, dt.datetime):
        return short_datetime(value)
    if isinstance(value, PSObject) and str(value) == "" and not value.type_names:
        return ""
    return scalar_text(value)
