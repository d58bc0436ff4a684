"""Which .NET types a value is: ``$x.PSObject.TypeNames``, ``-is``, ``-isnot`` and ``-as``.

A value's type names run from its own type to System.Object, as PowerShell's adapter lists
them (``5`` is System.Int32, System.ValueType, System.Object). Objects that arrive with
their own names (rehydrated from CLIXML, or built by the emulator with Windows' names) keep
those: a deserialized file is ``Deserialized.System.IO.FileInfo``, which is why
``-is [System.IO.FileInfo]`` is False for it, on Windows as here.
"""

from __future__ import annotations

from typing import Any

from .dotnet import cast, type_name_of
from .flow import EvaluationError
from .values import PSCustom, get_member, member_names

__all__ = ["PSObjectView", "convert_as", "is_type", "type_names_of"]

#: PowerShell's type accelerators that scripts write with ``-is``, by lower-case name.
_ACCELERATORS = {
    "int": "System.Int32",
    "long": "System.Int64",
    "byte": "System.Byte",
    "double": "System.Double",
    "float": "System.Single",
    "decimal": "System.Decimal",
    "bool": "System.Boolean",
    "char": "System.Char",
    "string": "System.String",
    "datetime": "System.DateTime",
    "timespan": "System.TimeSpan",
    "guid": "System.Guid",
    "hashtable": "System.Collections.Hashtable",
    "array": "System.Array",
    "scriptblock": "System.Management.Automation.ScriptBlock",
    "pscustomobject": "System.Management.Automation.PSCustomObject",
    "pscredential": "System.Management.Automation.PSCredential",
    "securestring": "System.Security.SecureString",
    "valuetype": "System.ValueType",
    "object": "System.Object",
}

_VALUE_TYPES = frozenset(
    f"System.{name}"
    for name in ("Int32", "Int64", "Byte", "Double", "Single", "Decimal", "Boolean", "Char", "DateTime",
                 "TimeSpan", "Guid")
)  # fmt: skip


def type_names_of(obj: Any) -> list[str]:
    """``$obj.PSObject.TypeNames``: the value's type, then its base types, down to System.Object."""
    if obj is None:
        return []
    own = getattr(getattr(obj, "PSObject", None), "type_names", None)
    first = type_name_of(obj)
    if own and str(own[0]) == first:
        return [str(name) for name in own]
    if first in _VALUE_TYPES:
        return [first, "System.ValueType", "System.Object"]
    if first.endswith("[]"):
        return [first, "System.Array", "System.Object"]
    return [first, "System.Object"]


def _full_name(type_name: str) -> str:
    name = type_name.strip()
    return _ACCELERATORS.get(name.lower(), name)


def is_type(obj: Any, type_name: str) -> bool:
    """``obj -is [type_name]``: $null is no type; every other value is a System.Object."""
    if obj is None:
        return False
    wanted = _full_name(type_name).lower()
    names = {name.lower() for name in type_names_of(obj)}
    if wanted in ("psobject", "system.management.automation.psobject"):
        return getattr(obj, "PSObject", None) is not None
    return wanted in names or f"system.{wanted}" in names


def convert_as(obj: Any, type_name: str) -> Any:
    """``obj -as [type_name]``: the conversion a cast would make, or $null where it fails."""
    try:
        return cast(type_name, obj)
    except (EvaluationError, ValueError, TypeError, ArithmeticError):
        return None


class PSObjectView:
    """What ``$x.PSObject`` answers: the value's type names, its properties and the object it wraps."""

    def __init__(self, obj: Any) -> None:
        self.BaseObject = obj
        self.TypeNames = type_names_of(obj)

    @property
    def Properties(self) -> list[PSCustom]:
        """One PSPropertyInfo-shaped entry per property PowerShell would show for the object."""
        obj = self.BaseObject
        if isinstance(obj, dict):  # a Hashtable's own properties, not its keys
            pairs = [("IsReadOnly", False), ("IsFixedSize", False), ("IsSynchronized", False),
                     ("Keys", list(obj)), ("Values", list(obj.values())), ("SyncRoot", obj), ("Count", len(obj))]  # fmt: skip
        elif isinstance(obj, (str, int, float)):
            pairs = [("Length", len(obj))] if isinstance(obj, str) else []
        else:
            pairs = [(name, get_member(obj, name)) for name in member_names(obj)]
        entries = []
        for name, value in pairs:
            entries.append(
                PSCustom([("Name", name), ("MemberType", "Property"), ("Value", value),
                          ("TypeNameOfValue", type_name_of(value))])
            )  # fmt: skip
        return entries

    def __repr__(self) -> str:
        return f"PSObjectView({self.TypeNames[:1]})"
