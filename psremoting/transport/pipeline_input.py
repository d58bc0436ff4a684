"""A pipeline's input as the transport sends it: one object a Send as it is produced, or
packed many to a Send when it is all in memory already.

PowerShell's client writes input as it comes, so the server works on an object while the next
is being made, and a source that waits for the server's results before giving more never
deadlocks. Input already in memory (a list, tuple or range) needs no such care: it is packed
into Sends that fill the server's fragment size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["LastInput", "PipelineInputSource", "estimated_size", "input_source"]

#: Bytes a PipelineInput message adds around its value (message header, <Obj> wrapping).
_MESSAGE_COST = 96


class LastInput:
    """Wraps the last object of an input source that knows it is the last (Copy-Item's hash):
    it goes in one Send with the end of the input, instead of a Send of its own before it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class PipelineInputSource:
    """The input of a pipeline, its first object already read (so that an empty input is
    known before the pipeline starts); `packable`: nothing to wait for in it."""

    def __init__(self, first: Any, rest: Iterator[Any], *, packable: bool) -> None:
        self._first: list[Any] = [first]
        self._rest = rest
        self.packable = packable

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._first:
            return self._first.pop()
        return next(self._rest)


def input_source(values: Iterable[Any], *, packable: bool = False) -> PipelineInputSource | None:
    """The input to send, or None when there is none (a pipeline without input is started
    differently: CreatePipeline says so)."""
    iterator = iter(values)
    sentinel = object()
    first = next(iterator, sentinel)
    if first is sentinel:
        return None
    return PipelineInputSource(first, iterator, packable=packable)


def estimated_size(value: Any) -> int:
    """About how many bytes `value` takes serialized (enough to pack Sends, not exact)."""
    if isinstance(value, str):
        return _MESSAGE_COST + len(value) + len(value) // 8
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _MESSAGE_COST + (len(value) + 2) // 3 * 4
    if isinstance(value, (int, float, bool)) or value is None:
        return _MESSAGE_COST
    return _MESSAGE_COST + 512
