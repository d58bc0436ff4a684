"""Sends made cheaper for a fleet and for big inputs (used by `transport.shell.ShellChannel`).

- `CreationXml`: the two creation messages of a runspace pool (SessionCapability,
  InitRunspacePool) carry no identifier in their XML (the pool id is in the message header),
  so the XML serialized for one session is reused by the next one opened with the same
  settings: a fleet opens thousands of sessions with one set of options.
- `SendAhead`: input that comes as it is produced (a file being uploaded) is sent from a
  thread of its own, one Send ahead: the next object is read, serialized and fragmented while
  the server takes the last, in order.
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

__all__ = ["CreationXml", "SendAhead"]


class CreationXml:
    """pypsrp's serializer for the two creation messages of a pool, remembering their XML
    for the next pool opened with the same settings (a fleet opens thousands)."""

    _cache: dict[tuple[Any, ...], bytes] = {}
    _lock = threading.Lock()

    def __init__(self, inner: Any, key: tuple[Any, ...]) -> None:
        self.inner = inner
        self.key = key

    def serialize(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        key = (*self.key, type(value).__name__)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            element = self.inner.serialize(value, *args, **kwargs)
            cached = element if isinstance(element, bytes) else ET.tostring(element, encoding="utf-8")
            with self._lock:
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[key] = cached
        return cached


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
