"""Robust connections: how long, how often and with what news a request is retried.

PowerShell (the WinRM client underneath it) does not give up on an open session when the
network drops: it retries the interrupted request for ``WSMAN_OPTION_MAX_RETRY_TIME``
(4 minutes), and tells the user ("The network connection to X has been interrupted.
Attempting to reconnect for up to 4 minutes...", "Attempting to reconnect to X ...", "The
network connection to X has been restored."). This module is that policy, without sockets:
`robust_scope` says, for the requests of the current thread, whether and how long to retry,
when to stop (a Ctrl+C, the command's deadline) and who listens; `ride_out` runs the
attempts (one a second) that `http.HTTPTransport` makes on fresh connections.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from psremoting.transport.errors import NetworkLostError, ReconnectCancelledError, TransportConnectionError

__all__ = ["NetworkEvent", "Scope", "robust_scope", "current_scope", "ride_out", "ATTEMPT_WARNINGS"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: When, in seconds into an outage, an "Attempting to reconnect" warning is written (the
#: attempts themselves go every second): five warnings in four minutes, as WinRM's back-off
#: shows them (PowerShell #1626 transcripts).
ATTEMPT_WARNINGS = (0.0, 15.0, 45.0, 105.0, 225.0)
#: Seconds between two attempts.
ATTEMPT_INTERVAL = 1.0


@dataclass(frozen=True)
class NetworkEvent:
    """What happened to the network under a request (for PowerShell's robust-connection
    texts). ``kind``: ``detected`` (the connection failed; retrying starts), ``attempt``
    (a reconnection attempt worth a warning), ``tick`` (a second passed), ``restored``,
    ``failed`` (the retry period ran out). ``elapsed``/``total`` are seconds."""

    kind: str
    elapsed: float
    total: float


@dataclass
class Scope:
    robust: bool
    max_retry: float
    abort: threading.Event | None
    listener: Callable[[NetworkEvent], None] | None
    deadline: float | None = None


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("psremoting_robust", default=None)


@contextlib.contextmanager
def robust_scope(
    *,
    max_retry: float,
    abort: threading.Event | None = None,
    listener: Callable[[NetworkEvent], None] | None = None,
    deadline: float | None = None,
) -> Iterator[None]:
    """Within this block (this thread), requests ride out network failures for `max_retry`
    seconds (0: fail at once), stop retrying when `abort` is set or at `deadline` (a
    ``time.monotonic()`` value: the command's own), and tell `listener`."""
    token = _scope.set(Scope(max_retry > 0, max_retry, abort, listener, deadline))
    try:
        yield
    finally:
        _scope.reset(token)


def current_scope() -> Scope | None:
    return _scope.get()


def _notify(scope: Scope, event: NetworkEvent) -> None:
    if scope.listener is not None:
        try:
            scope.listener(event)
        except Exception:  # a display problem must not break the connection
            log.exception("a network event listener failed")


def ride_out(
    scope: Scope, attempt: Callable[[float], T], first: TransportConnectionError, *, url: str = ""
) -> T:
    """Call ``attempt(seconds_left)`` every second until it returns, raising
    `NetworkLostError` once the retry period (or the deadline) is over and
    `ReconnectCancelledError` when `scope.abort` is set. A TLS or name failure ends it at once:
    waiting does not mend those."""
    started = time.monotonic()
    total = scope.max_retry
    if scope.deadline is not None:
        total = max(0.0, min(total, scope.deadline - started))
    _notify(scope, NetworkEvent("detected", 0.0, scope.max_retry))
    warned = 0
    last = first
    while True:
        elapsed = time.monotonic() - started
        if scope.abort is not None and scope.abort.is_set():
            raise ReconnectCancelledError(last.detail, url=url, seconds=elapsed)
        if elapsed >= total:
            _notify(scope, NetworkEvent("failed", elapsed, scope.max_retry))
            raise NetworkLostError(last.detail, url=url, seconds=elapsed)
        if warned < len(ATTEMPT_WARNINGS) and elapsed >= ATTEMPT_WARNINGS[warned]:
            warned += 1
            _notify(scope, NetworkEvent("attempt", elapsed, scope.max_retry))
        try:
            result = attempt(total - elapsed)
        except TransportConnectionError as exc:
            last = exc
            if exc.kind in ("tls", "name"):
                raise
            pause = min(ATTEMPT_INTERVAL, max(0.0, total - (time.monotonic() - started)))
            if scope.abort is not None:
                scope.abort.wait(pause)
            else:
                time.sleep(pause)
            _notify(scope, NetworkEvent("tick", time.monotonic() - started, scope.max_retry))
            continue
        _notify(scope, NetworkEvent("restored", time.monotonic() - started, scope.max_retry))
        return result
