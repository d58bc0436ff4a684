"""Runtime values of the PowerShell subset and PowerShell's conversions between them.

Python values stand for .NET ones: str, int, float, bool, None, list (object[]),
:class:`CaseInsensitiveDict` (Hashtable), :class:`PSCustom` ([pscustomobject]),
:class:`ScriptBlock`. Objects from psrpcore/pypsrp (PSObject) and plain Python objects are
reached through :func:`get_member`, case-insensitively as PowerShell's adapters do.
"""

from __future__ import annotations

import datetime as _dt
import enum
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ast import Script

__all__ = [
    "CaseInsensitiveDict",
    "InputEnumerator",
    "MultiDimArray",
    "PSCustom",
    "ScriptBlock",
    "enumerate_value",
    "get_member",
    "member_names",
    "to_bool",
    "to_number",
    "to_string",
]

_MISSING = object()


class CaseInsensitiveDict(dict[Any, Any]):
    """A dict with case-insensitive string keys that keeps the spelling first used (a Hashtable)."""

    def __init__(self, data: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None) -> None:
        super().__init__()
        self._keys: dict[Any, Any] = {}
        if data is not None:
            items = data.items() if isinstance(data, Mapping) else data
            for key, value in items:
                self[key] = value

    @staticmethod
    def _fold(key: Any) -> Any:
        return key.lower() if isinstance(key, str) else key

    def __setitem__(self, key: Any, value: Any) -> None:
        folded = self._fold(key)
        existing = self._keys.get(folded, _MISSING)
        if existing is not _MISSING:
            super().__setitem__(existing, value)
            return
        self._keys[folded] = key
        super().__setitem__(key, value)

    def __getitem__(self, key: Any) -> Any:
        real = self._keys.get(self._fold(key), _MISSING)
        if real is _MISSING:
            raise KeyError(key)
        return super().__getitem__(real)

    def __delitem__(self, key: Any) -> None:
        real = self._keys.pop(self._fold(key))
        super().__delitem__(real)

    def __contains__(self, key: object) -> bool:
        return self._fold(key) in self._keys

    def get(self, key: Any, default: Any = None) -> Any:
        real = self._keys.get(self._fold(key), _MISSING)
        return default if real is _MISSING else super().__getitem__(real)

    def pop(self, key: Any, *default: Any) -> Any:
        real = self._keys.pop(self._fold(key), _MISSING)
        if real is _MISSING:
            if default:
                return default[0]
            raise KeyError(key)
        return super().pop(real)

    def copy(self) -> CaseInsensitiveDict:
        return CaseInsensitiveDict(self.items())


class PSCustom(CaseInsensitiveDict):
    """A ``[pscustomobject]@{...}``: ordered note properties, shown as an object, not a table of keys."""

    type_names: tuple[str, ...] = ("System.Management.Automation.PSCustomObject", "System.Object")


@dataclass
class ScriptBlock:
    """A ``{ ... }`` value: its source text (what is sent to a remote host) and its parse."""

    text: str
    script: Script
    params: tuple[str, ...] = ()
    closure: Any = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return self.text


def to_bool(value: Any) -> bool:
    """PowerShell's truthiness: empty strings/collections, 0, $null and $false are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            return False
        if len(value) == 1:
            return to_bool(value[0])
        return True
    return True


def to_string(value: Any) -> str:
    """PowerShell's string conversion (as in "$x"): lists joined by spaces, True/False, '' for $null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return str(value.name)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return " ".join(to_string(v) for v in value)
    if isinstance(value, ScriptBlock):
        return value.text
    if isinstance(value, PSCustom):
        return "@{" + "; ".join(f"{k}={to_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, _dt.datetime):  # invariant culture, as "$date" is on every host
        return value.strftime("%m/%d/%Y %H:%M:%S")
    return str(value)


def to_number(value: Any) -> int | float:
    """Convert to a number as PowerShell's arithmetic does; ValueError if it cannot."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return float(text)
    raise ValueError(f'Cannot convert value "{to_string(value)}" to a number.')


class InputEnumerator:
    """``$input``: the pipeline input as an enumerator, read as it arrives (once).

    PowerShell gives a script's end block its input this way when the input comes from
    outside the pipeline (a remote client's input): ``$input | ...`` starts at once and
    takes each object when it arrives, instead of waiting for all of them.
    """

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = iter(items)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return next(self._items)

    def __repr__(self) -> str:
        return "System.Collections.ArrayList+ArrayListEnumeratorSimple"


class MultiDimArray:
    """A .NET array of more than one dimension (``New-Object 'T[,]' -ArgumentList 2,2``):
    `lengths` per dimension, the elements row-major in `items`; ``$a[1,0]`` reads and writes
    one element, and a pipeline enumerates every element, as .NET's ``Array`` does."""

    def __init__(
        self, element_type: str, lengths: list[int], default: Callable[[], Any] | None = None
    ) -> None:
        self.element_type = element_type
        self.lengths = list(lengths)
        count = 1
        for n in self.lengths:
            count *= n
        self.items: list[Any] = [default() if default is not None else None for _ in range(count)]

    def _offset(self, index: Any) -> int:
        indices = list(index) if isinstance(index, (list, tuple)) else [index]
        if len(indices) != len(self.lengths):
            raise IndexError(index)
        offset = 0
        for i, n in zip(indices, self.lengths, strict=True):
            i = int(to_number(i))
            if not 0 <= i < n:
                raise IndexError(index)
            offset = offset * n + i
        return offset

    def __getitem__(self, index: Any) -> Any:
        return self.items[self._offset(index)]

    def __setitem__(self, index: Any, value: Any) -> None:
        self.items[self._offset(index)] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def Length(self) -> int:
        return len(self.items)

    @property
    def Rank(self) -> int:
        return len(self.lengths)

    def GetLength(self, dimension: Any) -> int:
        return self.lengths[int(to_number(dimension))]

    def __str__(self) -> str:
        return f"{self.element_type}[{',' * (len(self.lengths) - 1)}]"


def enumerate_value(value: Any) -> Iterator[Any]:
    """What a pipeline does with a value: lists (and ``$input``) are unrolled, everything else
    is one object."""
    if isinstance(value, (list, tuple, InputEnumerator, MultiDimArray)):
        yield from value
    elif value is not None:
        yield value


def _psobject_properties(obj: Any) -> list[Any]:
    try:
        ps = object.__getattribute__(obj, "PSObject")
    except AttributeError:
        return []
    return list(getattr(ps, "extended_properties", [])) + list(getattr(ps, "adapted_properties", []))


def member_names(obj: Any) -> list[str]:
    """The property names PowerShell would show for ``obj`` (for Format-List and completion)."""
    if isinstance(obj, dict):
        return [str(k) for k in obj]
    listed = getattr(obj, "ps_properties", None)
    if callable(listed) and not isinstance(obj, type):
        return [str(name) for name, _ in listed()]  # the object lists its own (secrets keep theirs hidden)
    props = _psobject_properties(obj)
    if props:
        return [p.name for p in props]
    return [n for n in getattr(obj, "__dict__", {}) if not n.startswith("_")]


def _whole(span: _dt.timedelta, unit: float, modulo: int) -> int:
    """A TimeSpan component (Hours, Minutes...): truncated toward zero, as .NET's."""
    total = span.total_seconds() / unit
    return int(total) % modulo if total >= 0 else -(int(-total) % modulo)


#: System.TimeSpan's properties, by lower-case name.
_TIMESPAN_MEMBERS: dict[str, Callable[[_dt.timedelta], float]] = {
    "days": lambda s: int(s.total_seconds() / 86400),
    "hours": lambda s: _whole(s, 3600, 24),
    "minutes": lambda s: _whole(s, 60, 60),
    "seconds": lambda s: _whole(s, 1, 60),
    "milliseconds": lambda s: _whole(s, 0.001, 1000),
    "ticks": lambda s: (s.days * 86400 + s.seconds) * 10_000_000 + s.microseconds * 10,
    "totaldays": lambda s: s.total_seconds() / 86400,
    "totalhours": lambda s: s.total_seconds() / 3600,
    "totalminutes": lambda s: s.total_seconds() / 60,
    "totalseconds": lambda s: s.total_seconds(),
    "totalmilliseconds": lambda s: s.total_seconds() * 1000,
}


def get_member(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """``obj.name`` as PowerShell resolves it: case-insensitive, over dicts, PSObjects and Python objects.

    Lists enumerate the member over their items (member enumeration), except the list's own
    ``Count``/``Length``. Returns ``default`` (or None) when the member does not exist, as
    PowerShell returns $null in non-strict mode.
    """
    lower = name.lower()
    if obj is None:
        return 0 if lower in ("count", "length") else (None if default is _MISSING else default)
    if isinstance(obj, (list, tuple)):
        if lower in ("count", "length"):
            return len(obj)
        values = [get_member(item, name, None) for item in obj]
        values = [v for v in values if v is not None]
        return values[0] if len(values) == 1 else values
    if isinstance(obj, str) and lower == "length":
        return len(obj)
    if isinstance(obj, _dt.timedelta) and lower in _TIMESPAN_MEMBERS:
        return _TIMESPAN_MEMBERS[lower](obj)
    if isinstance(obj, uuid.UUID) and lower == "guid":
        return str(obj)  # System.Guid's Guid property (types.ps1xml): its text
    if isinstance(obj, dict):
        if isinstance(obj, CaseInsensitiveDict):
            if name in obj:
                return obj[name]
        else:
            for key, value in obj.items():
                if isinstance(key, str) and key.lower() == lower:
                    return value
        if lower in ("count",):
            return len(obj)
        if lower == "keys":
            return list(obj.keys())
        if lower == "values":
            return list(obj.values())
        return None if default is _MISSING else default
    for prop in _psobject_properties(obj):
        if prop.name.lower() == lower:
            return prop.get_value(obj)
    if obj is not None:
        try:
            return getattr(obj, name)
        except AttributeError:
            pass
        except Exception:
            return None if default is _MISSING else default
        for attr in dir(obj):
            if attr.lower() == lower and not attr.startswith("__"):
                try:
                    return getattr(obj, attr)
                except Exception:
                    break
    if lower in ("count", "length") and obj is not None:
        return 1
    return None if default is _MISSING else default
