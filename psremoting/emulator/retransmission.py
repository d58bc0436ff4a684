"""Answers kept for requests sent again: what makes a network outage lose nothing.

WinRM keeps the answer of each recent request (MS-WSMV 3.1.4.1.39 "Robust Connection
Support": the server caches responses "allowing the client to fetch the cached response data
even if a network outage interrupts the original TCP connection"; pypsrp relies on it by
sending the byte-identical envelope, same MessageID, again). A request whose MessageID was
seen already is therefore not run twice: it gets the first one's answer, waiting for it if
that one is still being answered (a long-polling Receive), so output taken for an answer
that never arrived is not lost, and a Command is not started twice.

The answers are kept per user, the newest first, up to a byte budget.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

__all__ = ["AnswerCache"]

#: Bytes of answers kept (Receive answers are up to MaxEnvelopeSize each).
BUDGET_BYTES = 64 * 1024 * 1024
#: At most this many answers are kept, however small.
MAX_ENTRIES = 4096


class _Answer:
    __slots__ = ("done", "status", "body")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.status = 500
        self.body = b""


class AnswerCache:
    """MessageID -> answer, for the requests of one WinRM service."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self._budget = budget
        self._entries: collections.OrderedDict[tuple[str, str], _Answer] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: Requests answered from the cache (a client sent them again).
        self.replayed = 0

    def answer(
        self, username: str, message_id: str, wait: float, compute: Callable[[], tuple[int, bytes]]
    ) -> tuple[int, bytes] | None:
        """The answer to (`username`, `message_id`): computed by `compute` the first time,
        the same one after (waiting up to `wait` s for it). None: the first is still being
        answered after `wait` seconds."""
        key = (username.lower(), message_id.strip().upper())
        with self._lock:
            entry = self._entries.get(key)
            first = entry is None
            if entry is None:
                entry = _Answer()
                self._entries[key] = entry
                self._trim()
            else:
                self._entries.move_to_end(key)
        if not first:
            if not entry.done.wait(wait):
                return None
            with self._lock:
                self.replayed += 1
            return entry.status, entry.body
        try:
            entry.status, entry.body = compute()
        finally:
            entry.done.set()
            with self._lock:
                if key in self._entries:
                    self._bytes += len(entry.body)
                    self._trim()
        return entry.status, entry.body

    def _trim(self) -> None:
        while self._entries and (self._bytes > self._budget or len(self._entries) > MAX_ENTRIES):
            _key, old = self._entries.popitem(last=False)
            if old.done.is_set():
                self._bytes -= len(old.body)
