"""Reading one HTTP answer from a server that may be hostile, and what its failures mean.

`DeadlineResponse` is the ``http.client`` response class of every connection: each read of
the socket, status line and headers included, is bounded by what is left of the answer's
deadline (`Deadline`), so a server trickling its headers one byte a second is cut off at
the deadline. `safe_to_repeat` says which WSMan requests may be sent again after a
connection failure; `too_slow` and `as_connection_error` word the failures.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from typing import Any

from psremoting.transport.errors import TransportConnectionError
from psremoting.transport.guard import ResponseRefusedError, printable

__all__ = ["Deadline", "DeadlineResponse", "as_connection_error", "safe_to_repeat", "too_slow"]


class Deadline:
    """When the answer being read must have arrived by (``time.monotonic()``), headers included."""

    __slots__ = ("at", "received")

    def __init__(self) -> None:
        self.at = float("inf")
        #: Bytes of the answer read so far (0: the server has said nothing yet).
        self.received = 0


class DeadlineReader(socket.SocketIO):
    """A socket's bytes, each read bounded by what is left of the answer's deadline: a server
    trickling its status line or headers one byte a second is cut off at the deadline, not
    once per byte's timeout (http.client reads the headers before the body loop can check).
    A ``SocketIO`` as ``socket.makefile`` makes: it holds a reference, so the socket stays open
    while the answer is read even after http.client closed the connection (``Connection: close``)."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        super().__init__(sock, "rb")
        self._socket = sock
        self._deadline = deadline

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline.at - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the answer's deadline passed")
        if remaining != float("inf"):
            self._socket.settimeout(remaining)
        count = super().readinto(buffer) or 0
        self._deadline.received += count
        return count


class DeadlineSocket:
    """What `http.client.HTTPResponse` asks of its socket (``makefile``), with the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        reader = DeadlineReader(self._sock, self._deadline)
        self._sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile counts them
        return io.BufferedReader(reader)


#: http.client's limits on an answer's header lines.
_MAX_LINE = 65536
_MAX_HEADERS = 100


def read_headers(fp: Any) -> http.client.HTTPMessage:
    """An answer's header block as ``http.client.parse_headers`` gives it, under the same
    limits, without the e-mail parser (a tenth of a request's client time on a fleet): simple
    ``Name: value`` lines become the message's headers directly; a block with anything else
    (folded lines, lines without a colon) goes to the e-mail parser, as before."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    message = http.client.HTTPMessage()
    for raw in lines[:-1] if lines[-1] in (b"\r\n", b"\n") else lines:
        text = raw.decode("iso-8859-1")
        name, colon, value = text.partition(":")
        if not colon or not name or text[:1] in " \t" or name != name.strip() or not raw.endswith(b"\n"):
            import email.parser

            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
                b"".join(lines).decode("iso-8859-1")
            )
        message[name] = value.lstrip(" \t").rstrip("\r\n")
    return message


class DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(DeadlineSocket(sock, deadline), *args, **kwargs)  # type: ignore[arg-type]

    def begin(self) -> None:
        """``HTTPResponse.begin`` with the headers read by `read_headers` (same rules)."""
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            read_headers(self.fp)  # a 100 Continue's headers: skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_headers(self.fp)
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if (
            status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
            or 100 <= status < 200
            or (self._method == "HEAD")
        ):
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


#: The WSMan actions that may be sent again after a connection failure with their answer
#: unknown: reading (Receive, Enumerate, Get), or ending in the same state however often
#: they run (Signal, Delete, Disconnect, Reconnect). Never Create, Command or Send: they may
#: have run, and outside a robust connection nothing promises the server kept their answer.
_REPEATABLE = (
    b"/Receive<",
    b"/Signal<",
    b"/Disconnect<",
    b"/Reconnect<",
    b"/Enumerate<",
    b"/Pull<",
    b"/transfer/Get<",
    b"/transfer/Delete<",
)


def safe_to_repeat(message: bytes) -> bool:
    start = message.find(b"Action")
    if start < 0:
        return False
    end = message.find(b"</", start)
    return end > 0 and any(message[start : end + 1].endswith(action) for action in _REPEATABLE)


def too_slow(limit: float, received: int, *, headers: bool = False) -> ResponseRefusedError:
    if headers:
        return ResponseRefusedError(
            f"its answer's headers were still arriving after {limit:g} s; the server or the network "
            "is too slow or is stalling",
            timed_out=True,
        )
    if received == 0:
        return ResponseRefusedError(f"no answer within {limit:g} s", timed_out=True)
    return ResponseRefusedError(
        f"its answer was still arriving after {limit:g} s ({received} bytes so far); the server or the "
        "network is too slow or is stalling",
        timed_out=True,
    )


def as_connection_error(exc: BaseException, url: str) -> TransportConnectionError:
    """A socket, TLS or HTTP-framing failure as a `TransportConnectionError`."""
    detail = printable(f"{type(exc).__name__}: {exc}", 300)
    if isinstance(exc, socket.gaierror):
        return TransportConnectionError("name", detail, url=url)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return TransportConnectionError("tls", detail, url=url)
    if isinstance(exc, TimeoutError):
        return TransportConnectionError("timeout", detail, url=url)
    if isinstance(exc, ConnectionRefusedError):
        return TransportConnectionError("refused", detail, url=url)
    if isinstance(exc, OSError) and "Tunnel connection failed" in str(exc):
        return TransportConnectionError("proxy", detail, url=url)
    return TransportConnectionError("reset", detail, url=url)
