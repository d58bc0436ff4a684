"""Starting a pipeline on the server: CreatePipeline, then Sends for its input.

As pypsrp's ``PowerShell.begin_invoke``, except for the host data: while the client's host is
what the pool was opened with, the pipeline asks for the pool's host (``_useRunspaceHost``,
MS-PSRP 2.2.3.14) instead of sending it again.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from psremoting.runspace.pool import host_data_key

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.pool import RunspacePoolConnection


def begin_invoke(
    ps: Any, pool: RunspacePoolConnection, input: Iterator[Any] | None, *, add_to_history: bool
) -> None:
    """Start `ps` on the server (WSMan Command, then Sends for more fragments and input), as
    pypsrp's ``PowerShell.begin_invoke`` does, except for the host: when the client's host
    data is what the pool was opened with, the pipeline asks for the pool's host
    (``_useRunspaceHost``) instead of sending the whole host data again. That is the same
    host on the server, and it spares a server about 8 ms of deserializing, and the client
    2 ms of serializing, on every command."""
    from pypsrp.complex_objects import ApartmentState, HostInfo, RemoteStreamOptions
    from pypsrp.complex_objects import Pipeline as PipelineObject
    from pypsrp.messages import CreatePipeline

    rpool = ps.runspace_pool
    if getattr(getattr(rpool.host, "ui_target", None), "interactive", True) is False:
        # Nobody can answer a prompt: the server gets no host UI and fails prompts itself,
        # with PowerShell's error, as it does for any client without one.
        host_info: Any = _no_ui_host_info_class()()
    elif pool.host_key_at_open is not None and host_data_key(rpool.host) == pool.host_key_at_open:
        host_info = _runspace_host_info_class()(host=rpool.host)
    else:
        host_info = HostInfo(host=rpool.host)
    create_pipeline = CreatePipeline(
        input is None,
        ApartmentState(value=rpool.apartment_state),
        RemoteStreamOptions(value=RemoteStreamOptions.ADD_INVOCATION_INFO),
        add_to_history,
        host_info,
        PipelineObject(
            is_nested=ps.is_nested, cmds=ps.commands, history=ps.history_string, redirect_err_to_out=False
        ),
        ps.is_nested,
    )
    ps._invoke(create_pipeline)
    if input is None:
        return
    send_input(rpool, ps, input)


def send_input(rpool: Any, ps: Any, input: Iterator[Any]) -> None:
    """Send the pipeline's input, read from `input` one object at a time, as it is produced.

    Each object is sent as soon as it is read, as PowerShell's client writes input: the
    server can work on it while the next is being made, and a source that waits for the
    server's results before giving more never deadlocks. Input that is all in memory already
    (a list, tuple or range) is packed into Sends that fill the server's fragment size
    instead, many small objects a Send. Only about one Send's worth is held at a time.
    """
    from pypsrp.messages import EndOfPipelineInput, PipelineInput

    fragmenter = rpool._fragmenter
    budget = max(1024, int(fragmenter.max_size))
    packable = bool(getattr(input, "packable", False))
    batch: list[Any] = []
    size = 0

    def flush(messages: list[Any]) -> None:
        for fragment in fragmenter.fragment_multiple(messages, rpool.id, ps.id):
            rpool.shell.send("stdin", fragment, command_id=ps._command_id)

    for value in input:
        if isinstance(value, LastInput):  # the source knows it is the last: one Send spared
            batch.append(value.value)
            break
        cost = _estimated_size(value)
        if batch and (not packable or size + cost > budget):
            flush([PipelineInput(data=d) for d in batch])
            batch, size = [], 0
        batch.append(value)
        size += cost
        if not packable:
            flush([PipelineInput(data=value)])
            batch, size = [], 0
    flush([PipelineInput(data=d) for d in batch] + [EndOfPipelineInput()])


class LastInput:
    """Wraps the last object of an input source that knows it is the last (Copy-Item's hash):
    it goes in one Send with the end of the input, instead of a Send of its own before it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


#: Bytes a PipelineInput message adds around its value (message header, <Obj> wrapping).
_MESSAGE_COST = 96


def _estimated_size(value: Any) -> int:
    """About how many bytes `value` takes serialized (enough to pack Sends, not exact)."""
    if isinstance(value, str):
        return _MESSAGE_COST + len(value) + len(value) // 8
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _MESSAGE_COST + (len(value) + 2) // 3 * 4
    if isinstance(value, (int, float, bool)) or value is None:
        return _MESSAGE_COST
    return _MESSAGE_COST + 512


@functools.cache
def _runspace_host_info_class() -> Any:
    from pypsrp.complex_objects import HostInfo

    class RunspaceHostInfo(HostInfo):
        """HostInfo saying "use the runspace pool's host" (MS-PSRP 2.2.3.14): a host is
        there, and it is the one the pool was opened with."""

        _is_host_null = False
        _is_host_ui_null = False
        _is_host_raw_ui_null = False
        _use_runspace_host = True
        _host_data = None

    return RunspaceHostInfo


@functools.cache
def _no_ui_host_info_class() -> Any:
    from pypsrp.complex_objects import HostInfo

    class NoUIHostInfo(HostInfo):
        """HostInfo of a pipeline without a host UI (MS-PSRP 2.2.3.14): the server gives
        the pipeline a host whose UI is null, so prompts fail there."""

        _is_host_null = True
        _is_host_ui_null = True
        _is_host_raw_ui_null = True
        _use_runspace_host = False
        _host_data = None

    return NoUIHostInfo


def input_generator(values: Iterable[Any]) -> Iterator[Any] | None:
    """pypsrp wants an iterator (and fails on an empty one): None when there is no input.
    The iterator says whether the input is all in memory already (`packable`)."""
    iterator = iter(values)
    sentinel = object()
    first = next(iterator, sentinel)
    if first is sentinel:
        return None
    return _Input(first, iterator, packable=isinstance(values, (list, tuple, range)))


class _Input:
    """The input, its first object already read; `packable`: nothing to wait for in it."""

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
