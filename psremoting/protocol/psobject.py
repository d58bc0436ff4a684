"""The Python shapes of deserialized PowerShell output: `PSObject` (properties by attribute
or item, case-insensitively; `type_names`; ``str()`` the remote ToString()), `PSEnumValue`
(an int that prints as its name), and the stream records `ProgressRecord` and
`InformationRecord`. No XML here: `psremoting.protocol.clixml` builds these from CLIXML.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["InformationRecord", "PSEnumValue", "PSObject", "PSVersion", "ProgressRecord"]


class PSObject:
    """A deserialized PowerShell object.

    Properties are read as attributes or items, case-insensitively as in PowerShell
    (``obj.Name``, ``obj.name``, ``obj["Name"]``); `properties` gives them all in order;
    `type_names` the .NET type names as the server sent them (most derived first);
    ``str(obj)`` the remote ToString().
    """

    __slots__ = ("_type_names", "_props", "_lower", "_to_string")
    _type_names: list[str]
    _props: dict[str, Any]
    _lower: dict[str, str]
    _to_string: str | None

    def __init__(
        self,
        type_names: list[str] | None = None,
        properties: dict[str, Any] | None = None,
        to_string: str | None = None,
    ) -> None:
        object.__setattr__(self, "_type_names", list(type_names or []))
        object.__setattr__(self, "_props", {})
        object.__setattr__(self, "_lower", {})
        object.__setattr__(self, "_to_string", to_string)
        for key, value in (properties or {}).items():
            self.set_property(key, value)

    @property
    def type_names(self) -> list[str]:
        return self._type_names

    @property
    def properties(self) -> dict[str, Any]:
        """All properties (adapted, then extended/note), in the order the server sent them."""
        return dict(self._props)

    def set_property(self, name: str, value: Any) -> None:
        """Add or replace a (note) property."""
        existing = self._lower.get(name.lower())
        if existing is not None and existing != name:
            del self._props[existing]
        self._props[name] = value
        self._lower[name.lower()] = name

    def remove_property(self, name: str) -> None:
        """Remove a property (case-insensitively); nothing when it has none."""
        key = self._lower.pop(name.lower(), None)
        if key is not None:
            del self._props[key]

    def has_property(self, name: str) -> bool:
        return name.lower() in self._lower

    def get(self, name: str, default: Any = None) -> Any:
        key = self._lower.get(name.lower())
        return self._props[key] if key is not None else default

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        key = self._lower.get(name.lower())
        if key is None:
            kind = self._type_names[0] if self._type_names else "PSObject"
            raise AttributeError(f"{kind} object has no property {name!r}")
        return self._props[key]

    def __setattr__(self, name: str, value: Any) -> None:
        self.set_property(name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its type names, properties and ToString() (to a worker process and back)."""
        return PSObject, (self._type_names, self._props, self._to_string)

    def __getitem__(self, name: str) -> Any:
        key = self._lower.get(name.lower())
        if key is None:
            raise KeyError(name)
        return self._props[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._props)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._props))

    def __str__(self) -> str:
        if self._to_string is not None:
            return self._to_string
        return self._type_names[0] if self._type_names else ""

    def __repr__(self) -> str:
        kind = self._type_names[0] if self._type_names else "PSObject"
        shown = ", ".join(f"{k}={_short_repr(v)}" for k, v in list(self._props.items())[:8])
        more = ", ..." if len(self._props) > 8 else ""
        return f"<PSObject {kind} {{{shown}{more}}}>"

    def to_dict(self) -> dict[str, Any]:
        """The properties as a plain dict (nested PSObjects converted too; a reference back
        to an object being converted becomes its ToString text)."""
        return _plain_dict(self, set())


def _plain_dict(obj: PSObject, seen: set[int]) -> dict[str, Any]:
    seen = seen | {id(obj)}
    return {k: _plain(v, seen) for k, v in obj._props.items()}


def _plain(value: Any, seen: set[int]) -> Any:
    if isinstance(value, PSObject):
        return str(value) if id(value) in seen else _plain_dict(value, seen)
    if isinstance(value, list):
        return [_plain(v, seen) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, seen) for k, v in value.items()}
    return value


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class PSEnumValue(int):
    """A .NET enum value: compares as its integer, prints as its name (``Red``)."""

    type_names: list[str]
    name: str

    def __new__(cls, value: int, name: str, type_names: list[str]) -> PSEnumValue:
        obj = super().__new__(cls, value)
        obj.name = name
        obj.type_names = type_names
        return obj

    def __str__(self) -> str:
        return self.name

    def __getnewargs__(self) -> tuple[int, str, list[str]]:  # type: ignore[override]
        return int(self), self.name, self.type_names

    def __repr__(self) -> str:
        kind = self.type_names[0] if self.type_names else "Enum"
        return f"<{kind}.{self.name}: {int(self)}>"


@dataclass
class ProgressRecord:
    """A progress record (Write-Progress): what a progress bar shows."""

    activity: str
    status_description: str = ""
    activity_id: int = 0
    parent_activity_id: int = -1
    percent_complete: int = -1
    seconds_remaining: int = -1
    current_operation: str | None = None
    record_type: str = "Processing"

    @property
    def completed(self) -> bool:
        return self.record_type == "Completed"


@dataclass
class InformationRecord:
    """A record of the information stream (Write-Information, Write-Host)."""

    message_data: Any
    source: str | None = None
    tags: list[str] = field(default_factory=list)
    time_generated: _dt.datetime | None = None
    computer: str | None = None
    user: str | None = None

    def __str__(self) -> str:
        return "" if self.message_data is None else str(self.message_data)


class PSVersion(str):
    """A System.Version: a str (``5.1.17763.1``, its ToString()) with Major, Minor, Build and
    Revision (-1 when absent), as PowerShell shows one in a table."""

    type_names: list[str] = ["System.Version", "System.Object"]

    def _part(self, index: int) -> int:
        parts = self.split(".")
        try:
            return int(parts[index]) if index < len(parts) else -1
        except ValueError:
            return -1

    @property
    def major(self) -> int:
        return self._part(0)

    @property
    def minor(self) -> int:
        return self._part(1)

    @property
    def build(self) -> int:
        return self._part(2)

    @property
    def revision(self) -> int:
        return self._part(3)

    def __getattr__(self, name: str) -> Any:
        part = ("major", "minor", "build", "revision").index(name.lower()) if name.lower() in (
            "major", "minor", "build", "revision") else None  # fmt: skip
        if part is not None:
            return self._part(part)
        parent = getattr(super(), "__getattr__", None)  # the note properties of an annotated one
        if parent is None:
            raise AttributeError(name)
        return parent(name)

    def ps_properties(self) -> list[tuple[str, int]]:
        return [
            ("Major", self.major),
            ("Minor", self.minor),
            ("Build", self.build),
            ("Revision", self.revision),
        ]
