"""The small messages every session and command receives, read without pypsrp's serializer.

A short-script host receives four messages besides its output: SessionCapability,
ApplicationPrivateData and RunspacePoolState when the pool opens, PipelineState when the
command ends. pypsrp's serializer reads each through ElementTree and its generic object
walk, about 1.2 ms of client CPU a host in all (a fleet's largest cost after the handshake
and the envelopes). `QuickMessages` wraps the pool's serializer:

- a message of flat members only (``<Version>``/``<I32>`` in ``<MS>``, no error record, no
  time zone) is read with one regular expression into the object pypsrp would have made;
- ApplicationPrivateData is kept as text and read by pypsrp when first asked for (the
  client never asks: it is only there to be handed on);
- anything else goes to pypsrp's serializer as before.

tests/client/test_perf_paths.py compares the objects with pypsrp's, shape by shape.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["QuickMessages"]

_FLAT = re.compile(
    r'<Obj RefId="\d+"><MS>(?:<Version N="\w+">\d+(?:\.\d+)*</Version>|<I32 N="\w+">-?\d+</I32>)+</MS></Obj>'
)
_MEMBER = re.compile(r'<(Version|I32) N="(\w+)">(-?[0-9.]+)</')

#: The flat messages: pypsrp's class name -> {member name in the XML: (attribute, its tag)}.
_SHAPES: dict[str, dict[str, tuple[str, str]]] = {
    "SessionCapability": {
        "protocolversion": ("protocol_version", "Version"),
        "PSVersion": ("ps_version", "Version"),
        "SerializationVersion": ("serialization_version", "Version"),
    },
    "RunspacePoolStateMessage": {"RunspaceState": ("state", "I32")},
    "PipelineState": {"PipelineState": ("state", "I32")},
}


@functools.cache
def _lazy_private_data_class() -> type:
    from pypsrp.messages import ApplicationPrivateData

    class LazyApplicationPrivateData(ApplicationPrivateData):
        """ApplicationPrivateData whose `data` is read from its XML when first asked for."""

        def __init__(self, text: str, reader: Any) -> None:
            self._text: str | None = text
            self._reader = reader
            self._data: Any = None
            super().__init__()  # type: ignore[no-untyped-call]

        @property
        def data(self) -> Any:
            if self._text is not None:
                from pypsrp.complex_objects import ObjectMeta
                from pypsrp.messages import ApplicationPrivateData as Eager

                text, self._text = self._text, None
                self._data = self._reader.deserialize(text, ObjectMeta("Obj", object=Eager)).data
            return self._data

        @data.setter
        def data(self, value: Any) -> None:
            if value is not None:
                self._text = None
            self._data = value

    return LazyApplicationPrivateData


class QuickMessages:
    """pypsrp's serializer, with the small messages above read on a fast path."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def deserialize(self, element: Any, metadata: Any = None, clear: bool = True) -> Any:
        kind = getattr(getattr(metadata, "object", None), "__name__", None)
        if isinstance(element, str) and kind is not None:
            if kind == "ApplicationPrivateData":
                return _lazy_private_data_class()(element, self.inner)
            shape = _SHAPES.get(kind)
            if shape is not None and _FLAT.fullmatch(element):
                quick = _flat_message(metadata.object, shape, element)
                if quick is not None:
                    return quick
        return self.inner.deserialize(element, metadata, clear)


def _flat_message(cls: type, shape: dict[str, tuple[str, str]], text: str) -> Any:
    values: dict[str, Any] = {}
    for tag, name, value in _MEMBER.findall(text):
        wanted = shape.get(name)
        if wanted is None or wanted[1] != tag or wanted[0] in values:
            return None  # a member pypsrp's class does not expect, or twice: its reader decides
        values[wanted[0]] = int(value) if tag == "I32" else value
    if len(values) != len(shape):
        return None
    return cls(**values)
