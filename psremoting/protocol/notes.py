"""PowerShell's note properties on output: `annotate` adds Invoke-Command's PSComputerName,
RunspaceId and PSShowComputerName, also to primitives (an annotated str is still a str);
`note_properties` reads them back.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from psremoting.protocol.psobject import PSEnumValue, PSObject

__all__ = ["annotate", "attach_notes", "note_properties"]


class _Notes:
    """Mixin giving a primitive PowerShell-style note properties, read as attributes."""

    _ps_notes: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_ps_notes":
            raise AttributeError(name)
        notes = self.__dict__.get("_ps_notes", {})
        for key, value in notes.items():
            if key.lower() == name.lower():
                return value
        raise AttributeError(f"{type(self).__mro__[2].__name__} object has no property {name!r}")

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """Pickled as its plain value and its notes (to a worker process and back)."""
        base = type(self).__mro__[1]
        return _unpickle_noted, (base, _rebuild(base, self), dict(self.__dict__.get("_ps_notes", {})))


def _unpickle_noted(base: type, value: Any, notes: dict[str, Any]) -> Any:
    return attach_notes(value, notes)


_NOTE_CLASSES: dict[type, type] = {}


def _note_class(base: type) -> type:
    cls = _NOTE_CLASSES.get(base)
    if cls is None:
        namespace = {"__module__": base.__module__, "__reduce_ex__": _Notes.__reduce_ex__}
        cls = type(base.__name__, (base, _Notes), namespace)
        _NOTE_CLASSES[base] = cls
    return cls


def _rebuild(cls: Any, value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return cls.combine(value.date(), value.timetz())
    if isinstance(value, _dt.timedelta):
        return cls(days=value.days, seconds=value.seconds, microseconds=value.microseconds)
    if isinstance(value, uuid.UUID):
        return cls(int=value.int)
    if isinstance(value, PSEnumValue):
        return cls(int(value), value.name, value.type_names)
    return cls(value)


def attach_notes(value: Any, notes: dict[str, Any]) -> Any:
    """Return `value` carrying `notes` (merged with any it has). bool and None cannot carry
    them and are returned unchanged."""
    if isinstance(value, PSObject):
        for k, v in notes.items():
            value.set_property(k, v)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, _Notes):
        value._ps_notes.update(notes)
        return value
    try:
        new = _rebuild(_note_class(type(value)), value)
    except TypeError:
        return value
    object.__setattr__(new, "_ps_notes", dict(notes))
    return new


def note_properties(value: Any) -> dict[str, Any]:
    """The note properties a value carries (a PSObject's properties, or a primitive's notes)."""
    if isinstance(value, PSObject):
        return value.properties
    if isinstance(value, _Notes):
        return dict(value._ps_notes)
    return {}


def annotate(value: Any, computer_name: str, runspace_id: uuid.UUID, show_computer_name: bool = True) -> Any:
    """Add Invoke-Command's PSComputerName, RunspaceId and PSShowComputerName to an output
    object, as PowerShell does: the first two replace what the server set, the last is
    only added when absent."""
    existing = note_properties(value)
    notes: dict[str, Any] = {"PSComputerName": computer_name, "RunspaceId": runspace_id}
    if not any(k.lower() == "psshowcomputername" for k in existing):
        notes["PSShowComputerName"] = show_computer_name
    return attach_notes(value, notes)
