"""Python values as PSRP sends them: the one conversion every argument, parameter value and
pipeline input item goes through before pypsrp serializes it.

`to_wire(value, context)` looks the value's type up in `CONVERTERS` (along its MRO, so a
subclass converts as its base) and returns what pypsrp's serializer writes the way
PowerShell does; a type with no converter is passed on unchanged (pypsrp knows str, int,
float, bool, None, bytes...). Another kind of value gets its converter with
`@converter(SomeType)`; the converter receives the value and the `WireContext`, whose
`convert` handles nested values and whose `need_session_key` runs the key exchange
(once per pool) before anything secret is serialized.

Secrets: a `SecureString` becomes an ``<SS>`` element, a `PSCredential` the CLIXML
PSCredential object (UserName, and Password as ``<SS>``), both encrypted with the session
key (MS-PSRP 2.2.5.1.24, 2.2.3.25), so a server receives them as PowerShell would send them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from psremoting.protocol.errors import PSRemotingError
from psremoting.protocol.secrets import PSCredential, SecureString

__all__ = ["CONVERTERS", "WireContext", "converter", "to_wire", "wire_items"]

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
    for value in values:
        if isinstance(value, list):
            yield [to_wire(v, context) for v in value]
        else:
            yield to_wire(value, context)


@converter(list)
def _list(value: list[Any], context: WireContext) -> Any:
    return [context.convert(v) for v in value]


@converter(dict)
def _dict(value: dict[Any, Any], context: WireContext) -> Any:
    return {k: context.convert(v) for k, v in value.items()}


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
