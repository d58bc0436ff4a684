"""Deserialized PowerShell output as Python objects a user can use.

The server sends CLIXML. `from_clixml` turns one serialized object into: str, int, float,
bool, None, bytes, Decimal, uuid.UUID, datetime, timedelta, list (arrays, lists, stacks,
queues), dict (hashtables and dictionaries), `PSEnumValue` (an int that prints as its name)
or `PSObject` (attribute access to properties, `type_names`, and `str()` giving the remote
ToString()). It is a single linear pass over the XML, used for every output object; a lone
primitive (``<I32>5</I32>``, most of a big output) is read from the bytes without the parser.

`annotate` adds PowerShell's remoting note properties (PSComputerName, RunspaceId,
PSShowComputerName) to output, also to primitives: an annotated str is still a str.
`from_pypsrp` converts values that pypsrp already deserialized (error records, host calls).
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from psremoting.protocol.secrets import PSCREDENTIAL_TYPE, PSCredential, SecureString

__all__ = [
    "PSObject",
    "PSEnumValue",
    "PSCredential",
    "SecureString",
    "ProgressRecord",
    "InformationRecord",
    "from_clixml",
    "from_pypsrp",
    "annotate",
    "note_properties",
    "parse_datetime",
    "parse_duration",
]


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


# --- CLIXML -> Python -----------------------------------------------------------------

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")
_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def decode_string(text: str | None) -> str:
    """Undo CLIXML's _xHHHH_ escapes (surrogate pairs included)."""
    if not text:
        return ""
    if "_x" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    try:
        return decoded.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return decoded


def parse_datetime(text: str) -> _dt.datetime | str:
    """.NET DateTime text (7 fractional digits, optional offset) -> datetime."""
    m = _DT.match(text.strip())
    if not m:
        return text
    year, month, day, hour, minute, second, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tzinfo: _dt.tzinfo | None = None
    if tz == "Z":
        tzinfo = _dt.timezone.utc
    elif tz:
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        tzinfo = _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return _dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tzinfo
        )
    except ValueError:
        return text


def parse_duration(text: str) -> _dt.timedelta | str:
    """xs:duration text (``PT1.5S``, ``P1DT2H``) -> timedelta."""
    m = _DURATION.match(text.strip())
    if not m:
        return text
    neg, days, hours, minutes, seconds = m.groups()
    delta = _dt.timedelta(
        days=float(days or 0),
        hours=float(hours or 0),
        minutes=float(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -delta if neg else delta


def _decimal(text: str) -> Decimal | str:
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


_PRIMITIVES: dict[str, Callable[[str], Any]] = {
    "S": decode_string,
    "C": lambda t: chr(int(t)),
    "B": lambda t: t.strip().lower() == "true",
    "DT": parse_datetime,
    "TS": parse_duration,
    "By": int,
    "SB": int,
    "U16": int,
    "I16": int,
    "U32": int,
    "I32": int,
    "U64": int,
    "I64": int,
    "Sg": float,
    "Db": float,
    "D": _decimal,
    "BA": lambda t: __import__("base64").b64decode(t),
    "G": uuid.UUID,
    "URI": decode_string,
    "Version": str,
    "XD": decode_string,
    "SBK": decode_string,
}
_CONTAINERS = ("LST", "IE", "STK", "QUE")
_MISSING: Any = object()


class _Context:
    __slots__ = ("refs", "types", "decrypt")

    def __init__(self, decrypt: Callable[[str], str] | None) -> None:
        self.refs: dict[str, Any] = {}
        self.types: dict[str, list[str]] = {}
        self.decrypt = decrypt


def from_clixml(data: str | bytes | ET.Element, *, decrypt: Callable[[str], str] | None = None) -> Any:
    """Convert one CLIXML-serialized object (an element, or its XML text) to Python.

    `decrypt` turns the base64 text of a SecureString into its value (after the session's
    key exchange); without it a SecureString becomes a `SecureString` placeholder.
    """
    if isinstance(data, ET.Element):
        element = data
    else:
        if isinstance(data, bytes):
            value = _fast_primitive(data)
            if value is not _MISSING:
                return value
        element = ET.fromstring(data)
    return _convert(element, _Context(decrypt))


_TEXT_TAGS = frozenset({"S", "URI", "XD", "SBK"})


def _primitive(prim: Callable[[str], Any], tag: str, text: str) -> Any:
    if tag in _TEXT_TAGS:
        return prim(text)
    try:
        return prim(text)
    except (ValueError, TypeError):
        return text


#: The whole CLIXML of an empty string and of $null, as PowerShell and psrpcore write them.
_EMPTY = {b"<S />": "", b"<S/>": "", b"<Nil />": None, b"<Nil/>": None}


def _fast_primitive(data: bytes) -> Any:
    """The value of a lone primitive (``<I32>5</I32>``, ``<S>text</S>``) read straight from
    the bytes, or `_MISSING` when the XML is anything else (then the parser reads it).

    Most big outputs are such values; parsing each with ElementTree costs more than all the
    rest of the receive path. Text with an entity (``&``) or a CR goes to the parser, which
    does XML's unescaping and line-end normalization; so does malformed XML, which then
    raises as it would without this shortcut.
    """
    end = data.find(b">")
    if end < 2 or data[0] != 0x3C:  # "<"
        return _MISSING
    if data[end - 1] == 0x2F:  # "/>": <S /> or <Nil />
        return _EMPTY.get(data, _MISSING) if len(data) == end + 1 else _MISSING
    tag = data[1:end]
    close_at = len(data) - len(tag) - 3
    if (
        close_at <= end
        or data[close_at : close_at + 2] != b"</"
        or data[close_at + 2 : -1] != tag
        or data[-1] != 0x3E
    ):
        return _MISSING
    try:
        name = tag.decode("ascii")
    except UnicodeDecodeError:
        return _MISSING
    prim = _PRIMITIVES.get(name)
    if prim is None:
        return _MISSING
    inner = data[end + 1 : close_at]
    if b"<" in inner or b"&" in inner or b"\r" in inner:
        return _MISSING
    try:
        text = inner.decode("utf-8")
    except UnicodeDecodeError:
        return _MISSING
    return _primitive(prim, name, text)


def _convert(el: ET.Element, ctx: _Context) -> Any:
    tag = el.tag
    prim = _PRIMITIVES.get(tag)
    if prim is not None:
        return _primitive(prim, tag, el.text or "")
    if tag == "Obj":
        return _convert_obj(el, ctx)
    if tag == "Ref":
        return ctx.refs.get(el.get("RefId", ""))
    if tag == "Nil":
        return None
    if tag == "SS":
        value: str | None = None
        if ctx.decrypt is not None:
            try:
                value = ctx.decrypt(el.text or "")
            except Exception:
                value = None
        return SecureString(value, encrypted=el.text or "")
    if tag in _CONTAINERS:
        return [_convert(child, ctx) for child in el]
    if tag == "DCT":
        return _convert_dict(el, ctx)
    return el.text


def _convert_dict(el: ET.Element, ctx: _Context) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for entry in el:
        key: Any = None
        value: Any = None
        for part in entry:
            if part.get("N") == "Key":
                key = _convert(part, ctx)
            elif part.get("N") == "Value":
                value = _convert(part, ctx)
        try:
            result[key] = value
        except TypeError:  # an unhashable key (a PSObject key is hashable; lists are not)
            result[repr(key)] = value
    return result


def _convert_obj(el: ET.Element, ctx: _Context) -> Any:
    ref_id = el.get("RefId")
    type_names: list[str] = []
    to_string: str | None = None
    value: Any = _MISSING
    props: dict[str, Any] = {}
    obj: PSObject | None = None
    for child in el:
        tag = child.tag
        if tag == "TN":
            type_names = [t.text or "" for t in child]
            ctx.types[child.get("RefId", "")] = type_names
        elif tag == "TNRef":
            type_names = ctx.types.get(child.get("RefId", ""), [])
        elif tag == "ToString":
            to_string = decode_string(child.text)
        elif tag == "Props" or tag == "MS":
            if obj is None and value is _MISSING:
                obj = PSObject(type_names, None, to_string)
                if ref_id is not None:
                    ctx.refs[ref_id] = obj
            for prop in child:
                props[prop.get("N") or ""] = _convert(prop, ctx)
        elif tag in _CONTAINERS:
            value = [_convert(c, ctx) for c in child]
        elif tag == "DCT":
            value = _convert_dict(child, ctx)
        else:
            value = _convert(child, ctx)

    if value is not _MISSING:
        if "System.Enum" in type_names and isinstance(value, int):
            result: Any = PSEnumValue(value, to_string or str(value), type_names)
        else:
            result = value
        notes = {k: v for k, v in props.items()} if props and not isinstance(value, (list, dict)) else {}
        if notes:
            result = _attach(result, notes)
        if ref_id is not None:
            ctx.refs[ref_id] = result
        return result

    if type_names and type_names[0].removeprefix("Deserialized.") == PSCREDENTIAL_TYPE:
        credential = _credential(props)
        if credential is not None:
            if ref_id is not None:
                ctx.refs[ref_id] = credential
            return credential
    if obj is None:
        obj = PSObject(type_names, None, to_string)
    else:
        object.__setattr__(obj, "_type_names", type_names)
        object.__setattr__(obj, "_to_string", to_string)
    for key, val in props.items():
        obj.set_property(key, val)
    if ref_id is not None:
        ctx.refs[ref_id] = obj
    return obj


def _credential(props: dict[str, Any]) -> PSCredential | None:
    """A PSCredential from its UserName and Password (a SecureString), as PowerShell
    rehydrates one; None when the properties are not those."""
    lowered = {k.lower(): v for k, v in props.items()}
    user, password = lowered.get("username"), lowered.get("password")
    if isinstance(user, str) and user and isinstance(password, SecureString):
        return PSCredential(user, password)
    return None


# --- note properties on primitives ----------------------------------------------------


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


_NOTE_CLASSES: dict[type, type] = {}


def _note_class(base: type) -> type:
    cls = _NOTE_CLASSES.get(base)
    if cls is None:
        cls = type(base.__name__, (base, _Notes), {"__module__": base.__module__})
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


def _attach(value: Any, notes: dict[str, Any]) -> Any:
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
    return _attach(value, notes)


# --- values pypsrp already deserialized --------------------------------------------------


def from_pypsrp(value: Any, _depth: int = 0) -> Any:
    """Convert a value deserialized by pypsrp (GenericComplexObject, its enums and records)
    into the same Python shapes `from_clixml` gives."""
    if _depth > 50:
        return value
    if value is None or isinstance(value, (str, int, float, bytes, uuid.UUID, Decimal)):
        return value
    if isinstance(value, list):
        return [from_pypsrp(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {from_pypsrp(k, _depth + 1): from_pypsrp(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, ET.Element):
        try:
            return from_clixml(value)
        except Exception:
            return ET.tostring(value, encoding="unicode")
    cls_name = type(value).__name__
    if cls_name == "GenericComplexObject":
        props: dict[str, Any] = {}
        for key, val in list(value.adapted_properties.items()) + list(value.extended_properties.items()):
            props[key] = from_pypsrp(val, _depth + 1)
        if value.property_sets and not props:
            inner = value.property_sets[0] if len(value.property_sets) == 1 else value.property_sets
            return from_pypsrp(inner, _depth + 1)
        return PSObject(list(value.types), props, value.to_string)
    if hasattr(value, "_string_map") and hasattr(value, "value"):  # a pypsrp Enum
        try:
            return PSEnumValue(int(value.value or 0), str(value), list(getattr(value, "_types", [])))
        except (KeyError, TypeError, ValueError):
            return value.value
    if hasattr(value, "_types"):
        props = {k: from_pypsrp(v, _depth + 1) for k, v in vars(value).items() if not k.startswith("_")}
        return PSObject(list(value._types), props, getattr(value, "_to_string", None))
    return value


def progress_from(value: Any) -> ProgressRecord:
    """A ProgressRecord from a pypsrp ProgressRecord message or a deserialized PSObject."""
    if isinstance(value, PSObject):
        rtype = value.get("Type")
        return ProgressRecord(
            activity=str(value.get("Activity") or ""),
            status_description=str(value.get("StatusDescription") or ""),
            activity_id=_int_or(value.get("ActivityId"), 0),
            parent_activity_id=_int_or(value.get("ParentActivityId"), -1),
            percent_complete=_int_or(value.get("PercentComplete"), -1),
            seconds_remaining=_int_or(value.get("SecondsRemaining"), -1),
            current_operation=value.get("CurrentOperation"),
            record_type="Completed" if str(rtype) in ("Completed", "1") else "Processing",
        )
    ptype = getattr(value, "progress_type", None)
    type_value = getattr(ptype, "value", ptype)
    return ProgressRecord(
        activity=str(getattr(value, "activity", "") or ""),
        status_description=str(getattr(value, "description", "") or ""),
        activity_id=int(getattr(value, "activity_id", 0) or 0),
        parent_activity_id=_int_or(getattr(value, "parent_activity_id", -1), -1),
        percent_complete=_int_or(getattr(value, "percent_complete", -1), -1),
        seconds_remaining=_int_or(getattr(value, "seconds_remaining", -1), -1),
        current_operation=getattr(value, "current_operation", None),
        record_type="Completed" if type_value == 1 else "Processing",
    )


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
