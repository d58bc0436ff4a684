"""CLIXML -> Python: one linear pass over a serialized object.

`from_clixml` turns one serialized object into: str, int, float, bool, None, bytes, Decimal,
uuid.UUID, datetime, timedelta, list (arrays, lists, stacks, queues), dict (hashtables and
dictionaries), `PSEnumValue`, `PSCredential`, `SecureString` or `PSObject`. A lone primitive
(``<I32>5</I32>``, most of a big output) is read from the bytes without the parser.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from psremoting.protocol import safexml
from psremoting.protocol.errors import MalformedAnswerError
from psremoting.protocol.notes import attach_notes
from psremoting.protocol.psobject import PSEnumValue, PSObject, PSVersion
from psremoting.protocol.secrets import PSCREDENTIAL_TYPE, PSCredential, SecureString

__all__ = ["decode_string", "from_clixml", "parse_datetime", "parse_duration"]


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")
_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


#: What reading malformed data raises (a bad value, a missing part, a loop too deep): the
#: server's answer was invalid, not a bug here.
UNREADABLE_DATA: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
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
    "BA": base64.b64decode,
    "G": uuid.UUID,
    "URI": decode_string,
    "Version": PSVersion,
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
        element = safexml.fromstring(data)  # MalformedAnswerError: not XML, a DTD, too deep
    try:
        return _convert(element, _Context(decrypt))
    except MalformedAnswerError:
        raise
    except UNREADABLE_DATA as exc:
        raise MalformedAnswerError(
            f"a CLIXML object could not be read ({type(exc).__name__}: {str(exc)[:100]})"
        ) from None


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
            result = attach_notes(result, notes)
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
