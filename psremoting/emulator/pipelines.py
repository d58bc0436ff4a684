"""One running PSRP pipeline of a shell: the engine's PipelineIO, and PSRP byte helpers.

:class:`PipelineIOImpl` is what the command engine writes to (``PipelineIO`` in
``engine/io.py``): every call takes the shell's lock, goes through psrpcore's ServerPipeline
and wakes the Receives waiting on the shell's condition. Host calls that return a value block
until the client's PipelineHostResponse arrives, or the pipeline is stopped.
"""

from __future__ import annotations

import collections
import itertools
import re
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol
from xml.sax.saxutils import escape

import psrpcore

# PSRPMessage, create_message and _serialize_string are psrpcore internals (pinned to <0.4),
# used by the pre-serialized output fast path.
from psrpcore._payload import PSRPMessage, create_message
from psrpcore.types import HostMethodIdentifier, ProgressRecordType, PSInvocationState, PSRPMessageType
from psrpcore.types._serializer import _serialize_string

from psremoting.emulator.engine.wrapped import WrappedItem, wrapped_clixml


class OutputSink(Protocol):
    """What a pipeline writes into: its shell's receive queues, under the shell's condition
    (``PSRPShell`` in psrp_shell.py is the one implementation)."""

    cond: threading.Condition
    closed: bool
    state: str
    fragment_size: int
    queues: dict[Any, collections.deque[bytes]]
    queue_sizes: dict[Any, int]

    def queued_bytes(self, pipeline_id: Any) -> int: ...

    def room_for(self, pipeline_id: Any) -> tuple[int, bool]: ...

    def note_written(self) -> None: ...

    def pump(self, fragment_size: int) -> None: ...


__all__ = [
    "Collector",
    "Command",
    "PipelineIOImpl",
    "mark_running",
    "pipeline_id_of",
    "split_messages",
]

#: Above this, an output object's fragments are cut here rather than by psrpcore.
LARGE_OBJECT_BYTES = 256 * 1024
#: Output a pipeline may queue before its worker waits for the client to Receive.
MAX_QUEUED_BYTES = 16 * 1024 * 1024
#: PSRP fragment header: ObjectId, FragmentId, flags (start 1, end 2), BlobLength.
_FRAGMENT_HEADER = struct.Struct(">QQBI")


def _tolerate_upper_case_ci() -> None:
    """pypsrp names the call id ``CI`` in Set{Max,Min}Runspaces and GetAvailableRunspaces;
    psrpcore reads ``ci``. Windows accepts both, so the emulator's events read either."""

    def ci(self: Any) -> int:
        obj = self._ps_object
        try:
            return int(obj.ci)
        except AttributeError:
            return int(obj.CI)

    for cls in (
        psrpcore.SetMaxRunspacesEvent,
        psrpcore.SetMinRunspacesEvent,
        psrpcore.GetAvailableRunspacesEvent,
        psrpcore.ResetRunspaceStateEvent,
    ):
        cls.ci = property(ci)  # type: ignore[method-assign,assignment]


_tolerate_upper_case_ci()


def wire_text(text: str) -> str:
    """A ``<ToString>`` text as Windows writes it: CR as ``_x000D_`` (and ``_x`` itself
    escaped), since an XML parser turns a raw CR LF into LF. psrpcore escapes strings in
    ``<S>`` this way but writes ``<ToString>`` raw; clients read both with the same rules."""

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        if char == "_":
            return "_x005F_"
        return f"_x{ord(char):04X}_"

    # "_" only where it would start an escape sequence (MS-PSRP 2.2.5.3.2).
    return re.sub(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]", escape, text)


class PipelineIOImpl:
    """The engine's view of one running pipeline (the ``PipelineIO`` protocol)."""

    def __init__(self, shell: OutputSink, command: Command, has_host: bool) -> None:
        self._shell = shell
        self._command = command
        self.has_host = has_host
        self.host_data: Any = None  # the client's HostDefaultData ($host.UI.RawUI's values)
        self.stopping = threading.Event()

    # Everything goes through psrpcore under the shell lock.
    def _emit(self, fn: Callable[[psrpcore.ServerPipeline], None]) -> None:
        shell = self._shell
        with shell.cond:
            self._wait_for_room()
            pipeline = self._command.pipeline
            if self.stopping.is_set() or pipeline.state != PSInvocationState.Running:
                raise pipeline_stopped()
            fn(pipeline)
            shell.note_written()

    def _wait_for_room(self) -> None:
        """Backpressure: wait while the pipeline's unreceived output is over its budget
        (`MAX_QUEUED_BYTES`; while the shell is disconnected in Block mode, the smaller
        disconnected budget, and then for as long as the shell stays disconnected)."""
        shell = self._shell
        deadline = time.monotonic() + 600
        pipeline_id = self._command.pipeline_id
        while not self.stopping.is_set() and not shell.closed:
            limit, blocking = shell.room_for(pipeline_id)
            if shell.queued_bytes(pipeline_id) <= limit:
                return
            if not blocking and time.monotonic() >= deadline:
                return
            shell.cond.wait(1.0)

    def write_output(self, obj: Any) -> None:
        if isinstance(obj, WrappedItem):
            self._emit(lambda p: queue_serialized(p, wrapped_clixml(obj, p.runspace_pool._cipher)))
            return
        clixml = fast_clixml(obj)
        if clixml is None:
            self._emit(lambda p: p.write_output(obj))
        elif len(clixml) > LARGE_OBJECT_BYTES:
            # psrpcore cuts a message into fragments by copying its rest each time (quadratic
            # on 40 MB); cut it here, in linear time.
            self.write_serialized_output(clixml)
        else:
            self._emit(lambda p: queue_serialized(p, clixml))

    def write_serialized_output(self, clixml: bytes | Iterable[bytes]) -> None:
        """Benchmark knob: send output that is already CLIXML, one object per ``bytes``.

        Takes one object's CLIXML (``b"<I32>1</I32>"``) or an iterable of them and queues
        each as a PIPELINE_OUTPUT message, cut into fragments here, straight into the shell's
        receive queue: no serializer, no command engine, and none of psrpcore's per-message
        work (about 13 us a message), so that a benchmark of the client is not bounded by the
        emulator. Large objects are cut in linear time (psrpcore re-copies the rest of a
        message for every fragment: quadratic on a 40 MB object). Output psrpcore already
        holds goes first; the backpressure of ``MAX_QUEUED_BYTES`` holds. Nothing checks the
        XML: it is for benchmarks and the tests of the client's fast paths.
        """
        items: Iterable[bytes] = [clixml] if isinstance(clixml, (bytes, bytearray)) else clixml
        pipeline = self._command.pipeline
        pool = pipeline.runspace_pool
        header = create_message(
            False, PSRPMessageType.PipelineOutput, b"", pool.runspace_pool_id, pipeline.pipeline_id
        )
        iterator = iter(items)
        while True:
            batch = list(itertools.islice(iterator, 256))
            if not batch:
                return
            self._emit(lambda p, batch=batch: self._queue_fragments(p, header, batch))  # type: ignore[misc]
            # Let the thread answering a Receive take the shell lock: without this pause the
            # writer re-takes it at once, and Receives wait until the queue is full.
            time.sleep(0)

    def _queue_fragments(self, pipeline: psrpcore.ServerPipeline, header: bytes, batch: list[bytes]) -> None:
        """Fragments of ``header + clixml`` for each of `batch`, packed into chunks of at most
        the shell's fragment size (as psrpcore's payloads are), appended to the pipeline's
        receive queue. Called under the shell lock."""
        shell = self._shell
        pool = pipeline.runspace_pool
        size = shell.fragment_size
        shell.pump(size)  # what psrpcore holds was written first
        target = pipeline.pipeline_id
        queue = shell.queues[target]
        pack = _FRAGMENT_HEADER.pack
        chunk = bytearray()
        queued = 0
        for data in batch:
            message = header + bytes(data)
            object_id = pool._fragment_counter
            if 21 + len(message) <= size:
                if len(chunk) + 21 + len(message) > size:
                    queue.append(bytes(chunk))
                    queued += len(chunk)
                    chunk = bytearray()
                chunk += pack(object_id, 0, 3, len(message))
                chunk += message
                continue
            if chunk:
                queue.append(bytes(chunk))
                queued += len(chunk)
                chunk = bytearray()
            view = memoryview(message)
            room = size - 21
            for fragment_id, start in enumerate(range(0, len(message), room)):
                piece = view[start : start + room]
                flags = (1 if fragment_id == 0 else 0) | (2 if start + room >= len(message) else 0)
                fragment = pack(object_id, fragment_id, flags, len(piece)) + piece
                queue.append(fragment)
                queued += len(fragment)
        if chunk:
            queue.append(bytes(chunk))
            queued += len(chunk)
        shell.queue_sizes[target] += queued

    def write_error(self, error_record: Any) -> None:
        meta = getattr(error_record, "PSObject", None)
        if meta is not None and "\r" in (meta.to_string or ""):
            meta.to_string = wire_text(meta.to_string)

        def send(p: psrpcore.ServerPipeline) -> None:
            p.prepare_message(error_record, message_type=psrpcore.types.PSRPMessageType.ErrorRecord)

        self._emit(send)

    def _informational(self, record_type: type, message_type: Any, message: str) -> None:
        # Windows writes the message as the record's <ToString> too (pypsrp's str(record)).
        def send(p: psrpcore.ServerPipeline) -> None:
            value = record_type(Message=message, InvocationInfo=None, PipelineIterationInfo=None)
            value.serialize_extended_info = False
            value.PSObject.to_string = wire_text(message)
            p.prepare_message(value, message_type=message_type)

        self._emit(send)

    def write_warning(self, message: str) -> None:
        types = psrpcore.types
        self._informational(types.WarningRecord, types.PSRPMessageType.WarningRecord, str(message))

    def write_verbose(self, message: str) -> None:
        types = psrpcore.types
        self._informational(types.VerboseRecord, types.PSRPMessageType.VerboseRecord, str(message))

    def write_debug(self, message: str) -> None:
        types = psrpcore.types
        self._informational(types.DebugRecord, types.PSRPMessageType.DebugRecord, str(message))

    def write_information(self, data: Any, source: str) -> None:
        # Write-Host's records carry the PSHOST tag, as on Windows (the client shows those)
        tags = ["PSHOST"] if source == "Write-Host" else None
        self._emit(lambda p: p.write_information(data, source, tags=tags))

    def write_progress(
        self,
        activity: str,
        status: str,
        percent_complete: int,
        activity_id: int,
        record_type: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        rtype = record_type if isinstance(record_type, ProgressRecordType) else ProgressRecordType.Processing
        self._emit(
            lambda p: p.write_progress(
                activity,
                int(activity_id),
                status,
                current_operation=kwargs.get("current_operation"),
                parent_activity_id=int(kwargs.get("parent_activity_id", -1)),
                percent_complete=int(percent_complete),
                record_type=rtype,
                seconds_remaining=int(kwargs.get("seconds_remaining", -1)),
            )
        )

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        shell = self._shell
        command = self._command
        with shell.cond:
            # A host call needs a connected client (psrpcore refuses it on a disconnected pool):
            # the pipeline waits until one connects, as its output does in Block mode.
            while shell.state == "Disconnected" and not self.stopping.is_set() and not shell.closed:
                shell.cond.wait(1.0)
            if self.stopping.is_set() or command.pipeline.state != PSInvocationState.Running:
                raise pipeline_stopped()
            ci = command.pipeline.host_call(method, list(args))
            shell.note_written()
            shell.cond.notify_all()
            if method.is_void():
                return None
            command.awaiting_host = True
            try:
                while ci not in command.host_responses:
                    if self.stopping.is_set() or shell.closed:
                        raise pipeline_stopped()
                    shell.cond.wait(1.0)
            finally:
                command.awaiting_host = False
            result, error = command.host_responses.pop(ci)
        if error is not None:
            from psremoting.emulator.engine.errors import PSError

            raise PSError(error)
        return result

    def input(self) -> Iterator[Any]:
        shell = self._shell
        command = self._command
        while True:
            with shell.cond:
                while not command.input_items and not command.input_ended:
                    if self.stopping.is_set() or shell.closed:
                        raise pipeline_stopped()
                    shell.cond.wait(1.0)
                if command.input_items:
                    item = command.input_items.popleft()
                else:
                    return
            yield item


class Command:
    """One WSMan command of a PSRP shell: a ServerPipeline and its worker."""

    def __init__(self, command_id: str, pipeline: psrpcore.ServerPipeline) -> None:
        self.command_id = command_id.upper()
        self.pipeline = pipeline
        self.pipeline_id = pipeline.pipeline_id
        self.finished = False
        self.input_items: collections.deque[Any] = collections.deque()
        self.input_ended = False
        self.host_responses: dict[int, tuple[Any, Any]] = {}
        self.io: PipelineIOImpl | None = None
        self.thread: threading.Thread | None = None
        self.exit_code = 0
        #: True while the pipeline waits for the answer of a host call (a Receive need not linger).
        self.awaiting_host = False


RUNSPACEPOOL_STATE = 0x00021005


def pipeline_stopped() -> Exception:
    """The engine's PipelineStopped, imported when first needed: importing the emulator does
    not load the command engine (pytest loads the plugin, and so this package, at start)."""
    from psremoting.emulator.engine.io import PipelineStopped

    return PipelineStopped()


def fast_clixml(obj: Any) -> bytes | None:
    """CLIXML of a plain ``str``/``int``/``bool``, byte for byte what psrpcore would write,
    without its object model (10x cheaper: big outputs are mostly such values)."""
    kind = type(obj)
    if kind is str:
        if not obj:
            return b"<S />"
        return b"<S>" + escape(_serialize_string(obj)).encode("utf-8") + b"</S>"
    if kind is bool:
        return b"<B>true</B>" if obj else b"<B>false</B>"
    if kind is int:
        if -(2**31) <= obj < 2**31:
            return b"<I32>%d</I32>" % obj
        if -(2**63) <= obj < 2**63:
            return b"<I64>%d</I64>" % obj
    return None


def queue_serialized(pipeline: psrpcore.ServerPipeline, clixml: bytes) -> None:
    """Queue already-serialized pipeline output, as ``ServerPipeline.write_output`` would."""
    pool = pipeline.runspace_pool
    message_type = PSRPMessageType.PipelineOutput
    data = create_message(False, message_type, clixml, pool.runspace_pool_id, pipeline.pipeline_id)
    message = PSRPMessage(
        message_type,
        bytearray(data),
        pool.runspace_pool_id,
        pipeline.pipeline_id,
        pool._fragment_counter,
        psrpcore.StreamType.default,
    )
    pool._send_buffer.append(message)


def mark_running(pipeline: psrpcore.ServerPipeline) -> None:
    """Running, without the PipelineState(Running) message psrpcore's ``start()`` queues:
    Windows never sends one (the recordings go straight from output to the final state)."""
    pipeline._change_state(PSInvocationState.Running, emit=False)


def pipeline_id_of(data: bytes) -> uuid.UUID | None:
    """The PID of the first PSRP message in ``data`` (fragment header, then MS-PSRP 2.2.1)."""
    if len(data) < 61 or not data[16] & 0x1:
        return None
    try:
        pid = uuid.UUID(bytes_le=bytes(data[45:61]))
    except ValueError:
        return None
    return pid if pid.int else None


def split_messages(data: bytes) -> list[tuple[int, bytes]]:
    """Cut a run of PSRP fragments into whole messages: ``(message type, their fragments)``."""
    messages: list[tuple[int, bytes]] = []
    start = 0
    offset = 0
    msg_type = 0
    while offset + 21 <= len(data):
        flags = data[offset + 16]
        length = int.from_bytes(data[offset + 17 : offset + 21], "big")
        if flags & 0x1:
            msg_type = int.from_bytes(data[offset + 25 : offset + 29], "little")
        offset += 21 + length
        if flags & 0x2:
            messages.append((msg_type, data[start:offset]))
            start = offset
    if start < len(data):
        messages.append((msg_type, data[start:]))
    return messages


class Collector:
    """A PipelineIO that keeps the output objects and drops everything else."""

    has_host = False

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.output: list[Any] = []

    def write_output(self, obj: Any) -> None:
        self.output.append(obj)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("write_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)

    def host_call(self, method: Any, args: list[Any]) -> Any:
        return None

    def input(self) -> Iterator[Any]:
        return iter(())
