"""Python values as PSRP sends them: the one conversion every argument, parameter value and
pipeline input item goes through before pypsrp serializes it.

`to_wire(value, context)` looks the value's type up in `CONVERTERS` (along its MRO, so a
subclass converts as its base) and returns what pypsrp's serializer writes the way
PowerShell does; a type with no converter is passed on unchanged (pypsrp knows str, int,
float, bool, None, bytes...). Another kind of value gets its converter with
`@converter(SomeType)`; the converter receives the value and the `WireContext`, whose
`convert` handles nested values and whose `need_session_key` runs the key exchange
(once per pool) before anything secret is serialized.

The types PowerShell has a CLIXML form for (MS-PSRP 2.2.5): str, bool, int (Int32, or
Int64 past its range), float (Double), Decimal, bytes/bytearray (System.Byte[]), UUID (Guid),
datetime/date (DateTime), timedelta (TimeSpan), IntEnum (its integer), None, list/tuple/set/
frozenset (System.Object[]), dict (Hashtable), a `PSObject` that came back (sent as the
deserialized object it is). `check_sendable` refuses anything else with a TypeError naming
the argument and its type, before anything is sent.

Secrets: a `SecureString` becomes an ``<SS>`` element, a `PSCredential` the CLIXML
PSCredential object (UserName, and Password as ``<SS>``), both encrypted with the session
key (MS-PSRP 2.2.5.1.24, 2.2.3.25), so a server receives them as PowerShell would send them.
"""

from __future__ import annotations

import datetime as _dt
import enum
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from psremoting.protocol.errors import PSRemotingError
from psremoting.protocol.secrets import PSCredential, SecureString

__all__ = [
    "CONVERTERS",
    "WireContext",
    "check_sendable",
    "check_values",
    "converter",
    "to_wire",
    "wire_items",
]

Converter = Callable[[Any, "WireContext"], Any]
CONVERTERS: dict[type, Converter] = {}
_F = TypeVar("_F", bound=Converter)


class WireContext:
    """What a converter may use: `convert` (for nested values) and `need_session_key`."""

    def __init__(self, exchange_keys: Callable[[], None]) -> None:
        self._exchange_keys = exchange_keys
        self._keys_ready = False

    def need_session_key(self) -> None:
        """Run the session key exchange before a secret is serialized (once)."""
        if not self._keys_ready:
            self._exchange_keys()
            self._keys_ready = True

    def convert(self, value: Any) -> Any:
        return to_wire(value, self)


def converter(*types: type) -> Callable[[_F], _F]:
    """Register the decorated function as the converter of `types`."""

    def register(function: _F) -> _F:
        for kind in types:
            CONVERTERS[kind] = function
        return function

    return register


def to_wire(value: Any, context: WireContext) -> Any:
    """`value` as pypsrp should serialize it (unchanged when no converter applies)."""
    kind = type(value)
    function = CONVERTERS.get(kind)
    if function is None:
        for base in kind.__mro__[1:]:
            function = CONVERTERS.get(base)
            if function is not None:
                break
    return value if function is None else function(value, context)


def wire_items(values: Iterable[Any], context: WireContext) -> Iterator[Any]:
    """Pipeline input converted item by item, as it is sent (a list is a batch of items)."""
    for value in values:  # a list or tuple of input was checked before anything was sent
        if isinstance(value, list):
            yield [to_wire(v, context) for v in value]
        else:
            yield to_wire(value, context)


#: Types pypsrp already writes as PowerShell does (exactly these types, not subclasses).
_AS_IS: tuple[type, ...] = (str, bool, type(None))


def _sendable(value: Any, seen: frozenset[int]) -> str | None:
    """None when `value` can be sent, else the type name that cannot."""
    kind = type(value)
    if kind in _AS_IS or isinstance(value, ET.Element):
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        if id(value) in seen:
            return f"{kind.__name__} (it contains itself)"
        inner = seen | {id(value)}
        return next((bad for v in value if (bad := _sendable(v, inner)) is not None), None)
    if isinstance(value, dict):
        if id(value) in seen:
            return f"{kind.__name__} (it contains itself)"
        inner = seen | {id(value)}
        for key, item in value.items():
            bad = _sendable(key, inner) or _sendable(item, inner)
            if bad is not None:
                return bad
        return None
    if isinstance(value, enum.Enum) and not isinstance(value, (int, str)):
        return f"{kind.__module__}.{kind.__qualname__} (an Enum without an integer value)"
    if any(base in CONVERTERS for base in kind.__mro__):
        return None
    try:
        from pypsrp.complex_objects import ComplexObject
        from pypsrp.serializer import TaggedValue

        if isinstance(value, (ComplexObject, TaggedValue)):
            return None
    except ImportError:  # pragma: no cover
        pass
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__


def check_sendable(value: Any, what: str) -> None:
    """Raise TypeError when `value` (the argument called `what`) has no CLIXML form."""
    bad = _sendable(value, frozenset())
    if bad is not None:
        raise TypeError(
            f"{what} is of type {bad}, which PowerShell remoting cannot send; use str, int, float, "
            "bool, None, Decimal, bytes, datetime, date, timedelta, UUID, an IntEnum, a list, tuple "
            "or set (an array), a dict (a Hashtable), a PSCredential or a SecureString"
        )


def check_values(arguments: Iterable[Any], using: Any = None, input_object: Any = None) -> None:
    """`check_sendable` for Invoke-Command's values: each of `argument_list`, of the `using`
    mapping, and of `input_object` when it is a list or tuple (a stream is checked as it goes)."""
    for index, value in enumerate(arguments):
        check_sendable(value, f"argument_list[{index}]")
    for name, value in dict(using or {}).items():
        check_sendable(value, f"using[{name!r}]")
    if isinstance(input_object, (list, tuple)):
        for index, value in enumerate(input_object):
            check_sendable(value, f"input_object[{index}]")


def _tagged(tag: str, value: Any) -> Any:
    from pypsrp.serializer import TaggedValue

    return TaggedValue(tag, value)


@converter(list, tuple, set, frozenset)
def _list(value: Iterable[Any], context: WireContext) -> Any:
    return [context.convert(v) for v in value]


@converter(dict)
def _dict(value: dict[Any, Any], context: WireContext) -> Any:
    return {context.convert(k): context.convert(v) for k, v in value.items()}


_INT32 = range(-(2**31), 2**31)
_INT64 = range(-(2**63), 2**63)


@converter(int)
def _int(value: int, context: WireContext) -> Any:
    number = int(value)  # an IntEnum goes as its value, as PowerShell sends an enum
    if number in _INT32:
        return _tagged("I32", number)
    if number in _INT64:
        return _tagged("I64", number)
    if number in range(0, 2**64):
        return _tagged("U64", number)
    return _tagged("D", Decimal(number))


@converter(bool)
def _bool(value: bool, context: WireContext) -> Any:
    return _tagged("B", value)


@converter(float)
def _float(value: float, context: WireContext) -> Any:
    text = repr(float(value)).replace("inf", "INF").replace("nan", "NaN")
    return _element("Db", "-INF" if text == "-INF" else text)


@converter(Decimal)
def _decimal(value: Decimal, context: WireContext) -> Any:
    return _tagged("D", format(value, "f"))


@converter(bytes, bytearray, memoryview)
def _bytes(value: Any, context: WireContext) -> Any:
    return _tagged("BA", bytes(value))


@converter(uuid.UUID)
def _guid(value: uuid.UUID, context: WireContext) -> Any:
    return _tagged("G", str(value))


def _element(tag: str, text: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    return element


def datetime_text(value: _dt.datetime) -> str:
    """.NET's round-trip form (``2026-12-03T05:43:15.1234567+01:00``; no offset when naive)."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond * 10:07d}"
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text


def duration_text(value: _dt.timedelta) -> str:
    """xs:duration as PowerShell writes a TimeSpan (``P1DT2H3M4.5S``, ``-PT1S``)."""
    sign = "-" if value < _dt.timedelta(0) else ""
    total = abs(value)
    days, seconds = total.days, total.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}P" + (f"{days}D" if days else "") + "T"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    fraction = f".{total.microseconds:06d}".rstrip("0") if total.microseconds else ""
    text += f"{secs}{fraction}S"
    return text


@converter(_dt.datetime)
def _datetime(value: _dt.datetime, context: WireContext) -> Any:
    return _element("DT", datetime_text(value))


@converter(_dt.date)
def _date(value: _dt.date, context: WireContext) -> Any:
    if isinstance(value, _dt.datetime):
        return _datetime(value, context)
    return _element("DT", datetime_text(_dt.datetime(value.year, value.month, value.day)))


@converter(_dt.timedelta)
def _timespan(value: _dt.timedelta, context: WireContext) -> Any:
    return _element("TS", duration_text(value))


@converter(enum.Enum)
def _enum(value: enum.Enum, context: WireContext) -> Any:
    if isinstance(value, int):
        return _int(int(value), context)
    if isinstance(value, str):
        return str(value.value)
    raise TypeError(f"the enum {type(value).__qualname__} has no integer value to send")


def _plain(secret: SecureString) -> str:
    text = secret.get_value()
    if text is None:
        raise PSRemotingError(
            "A SecureString that could not be decrypted here (it came from another session) "
            "cannot be sent; create it again from its text."
        )
    return text


@converter(SecureString)
def _secure_string(value: SecureString, context: WireContext) -> Any:
    from pypsrp.serializer import TaggedValue

    context.need_session_key()
    return TaggedValue("SS", _plain(value))


@converter(PSCredential)
def _credential(value: PSCredential, context: WireContext) -> Any:
    from pypsrp.complex_objects import PSCredential as WireCredential

    context.need_session_key()
    return WireCredential(username=value.username, password=_plain(value.password))


@converter(str)
def _string(value: str, context: WireContext) -> Any:
    return str(value)  # a str that came back with note properties goes as the string it is


def _psobject_converter() -> None:
    from psremoting.protocol.psobject import PSObject

    @converter(PSObject)
    def _psobject(value: PSObject, context: WireContext) -> Any:
        """An object that came back goes as the deserialized object it is (its type names,
        with the ``Deserialized.`` prefix, its properties and its ToString())."""
        from pypsrp.complex_objects import GenericComplexObject

        obj = GenericComplexObject()
        obj.types = list(value.type_names)
        obj.to_string = str(value)
        obj.extended_properties = {k: context.convert(v) for k, v in value.properties.items()}
        return obj


_psobject_converter()
