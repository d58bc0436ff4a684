"""Sends made cheaper for a fleet and for big inputs (used by `transport.shell.ShellChannel`).

- `CreationXml`: the two creation messages of a runspace pool (SessionCapability,
  InitRunspacePool) carry no identifier in their XML (the pool id is in the message header),
  so the XML serialized for one session is reused by the next one opened with the same
  settings: a fleet opens thousands of sessions with one set of options.
- `pipeline_key`: a CreatePipeline's XML carries no identifier either (the pipeline id is in
  the message header), and a fleet sends the same command to every host: the XML serialized
  for one host is reused for the next when the command is made of plain values only (text,
  numbers, booleans, None, lists and dicts of them) and the pipeline sends no host data.
- `input_messages`: an upload's chunk (a byte array) is written straight to its ``<BA>``
  with SIMD base64, not through pypsrp's serializer (an element around the base64 text,
  written out and copied again: most of an upload's client CPU before this).
- `SendAhead`: input that comes as it is produced (a file being uploaded) is sent from a
  thread of its own, one Send ahead: the next object is read, serialized and fragmented while
  the server takes the last, in order.
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pybase64

from psremoting.protocol.fragments import END_OF_PIPELINE_INPUT, PIPELINE_INPUT, pack_message

__all__ = ["CreationXml", "SendAhead", "input_messages", "pipeline_key"]

_PLAIN = (str, int, float, bool, type(None), bytes)
#: A pypsrp object's members that are its schema (the same for every instance of a class).
_SCHEMA = ("_extended_properties", "_adapted_properties", "_property_sets", "_types")


class _NotPlain(Exception):
    """A value whose XML is not decided by what the key can hold (a SecureString, a host)."""


def _freeze(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise _NotPlain()
    kind = type(value)
    if kind in _PLAIN:
        return (kind.__name__, value)  # True and 1 are different values on the wire
    if kind in (list, tuple):
        return (kind.__name__, tuple(_freeze(v, depth + 1) for v in value))
    if kind is dict:
        return ("dict", tuple((_freeze(k, depth + 1), _freeze(v, depth + 1)) for k, v in value.items()))
    module = getattr(kind, "__module__", "")
    if module not in ("pypsrp.complex_objects", "pypsrp.messages"):
        raise _NotPlain()
    members = vars(value)
    return (
        kind.__qualname__,
        tuple((k, _freeze(v, depth + 1)) for k, v in members.items() if k not in _SCHEMA),
    )


def pipeline_key(create: Any, host_info_kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The cache key of a CreatePipeline message (pypsrp's), or None when its XML depends on
    more than plain values: host data sent in full, or an argument that is an object."""
    host_info = getattr(create, "host_info", None)
    if type(host_info) not in host_info_kinds:
        return None
    saved = create.host_info
    try:
        create.host_info = None  # one of the data-less kinds: its class says it all
        return ("CreatePipeline", type(saved).__qualname__, _freeze(create))
    except _NotPlain:
        return None
    finally:
        create.host_info = saved


class CreationXml:
    """The serializer of a pool's fragmenter (pypsrp's, wrapped): the messages announced
    with `expect` are serialized once per process and key, their XML remembered for the next
    session (a fleet opens thousands with one set of options and sends them one command);
    every other value goes to pypsrp's serializer as before. Safe to share between threads:
    only the very objects announced are looked up."""

    _cache: dict[tuple[Any, ...], bytes] = {}
    _lock = threading.Lock()

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._keys: dict[int, tuple[Any, ...]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def expect(self, values: dict[int, tuple[Any, ...]]) -> Any:
        """Within the block, the objects whose ids are keys of `values` are serialized
        through the cache under the key given."""
        with self._lock:
            self._keys.update(values)
        try:
            yield
        finally:
            with self._lock:
                for ident in values:
                    self._keys.pop(ident, None)

    def serialize(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        key = self._keys.get(id(value))
        if key is None:
            return self.inner.serialize(value, *args, **kwargs)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            element = self.inner.serialize(value, *args, **kwargs)
            cached = element if isinstance(element, bytes) else ET.tostring(element, encoding="utf-8")
            with self._lock:
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = cached
        return cached


def input_messages(
    values: list[Any], pool_id: str, pipeline_id: str, serializer: Any, *, end: bool
) -> list[bytes]:
    """The PipelineInput messages of `values` (wire values: pypsrp's), then
    EndOfPipelineInput when `end`: the bytes pypsrp's ``Message.pack`` makes of them."""
    from pypsrp.messages import Destination, Message, PipelineInput
    from pypsrp.serializer import TaggedValue

    rpid, pid = uuid.UUID(pool_id), uuid.UUID(pipeline_id)
    messages = []
    for value in values:
        if type(value) is TaggedValue and value.tag == "BA" and type(value.value) is bytes and value.value:
            xml = b"".join((b"<BA>", pybase64.b64encode(value.value), b"</BA>"))
            messages.append(pack_message(PIPELINE_INPUT, rpid, pid, xml))
        else:
            message = Message(Destination.SERVER, pool_id, pipeline_id, PipelineInput(data=value), serializer)
            messages.append(message.pack())
    if end:
        messages.append(pack_message(END_OF_PIPELINE_INPUT, rpid, pid, b""))
    return messages


class SendAhead:
    """Sends fragments in order from a thread of its own, at most one waiting behind the
    one in flight, so that the caller makes the next while the server takes the last. The
    thread runs in the caller's context (its robust-connection scope); its failure is raised
    to the caller at the next `put` or at `finish`."""

    _DONE = object()

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._slots: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._work,), name="psremoting-send", daemon=True
        )
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._slots.get()
            if item is self._DONE or self._stopped.is_set():
                return
            try:
                self._send(item)
            except BaseException as exc:
                self._error = exc
                self._stopped.set()
                return

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def put(self, fragment: bytes) -> None:
        while True:
            self._raise()
            if self._stopped.is_set():
                raise RuntimeError("the input's sender stopped")
            try:
                self._slots.put(fragment, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Wait until every fragment was sent; raise the sender's failure, if any."""
        while self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._slots.put(self._DONE, timeout=0.2)
                break
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """After `finish`, or when the input failed (Ctrl+C in its generator): what was
        handed over is still sent (each object read is sent, as without the thread), then
        the thread ends; a failure of those Sends gives way to the input's own."""
        while self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._slots.put(self._DONE, timeout=0.2)
                break
        self._thread.join()
        self._error = None
