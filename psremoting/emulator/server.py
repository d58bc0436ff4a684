"""The HTTP(S) listener of the emulator: sockets, threads, keep-alive, TLS.

One thread per TCP connection, as WinRM's HTTP.sys front end behaves for a client: requests
on a connection are answered in order, over HTTP/1.1 keep-alive, and the authentication
state (NTLM/Negotiate and its message encryption) belongs to the connection. A small
hand-written HTTP/1.1 reader is used instead of ``http.server`` so that the status line,
headers and body leave in one ``sendall`` on a ``TCP_NODELAY`` socket: without both, every
request stalls ~40 ms on Nagle's algorithm meeting the client's delayed ACK. (h11 keeps
that possible, and was tried: at ~96 us of pure-Python parsing and framing per request it
added ~0.5 ms, 7%, to every command of bench/bench_latency.py, for every client.)

Nothing a client sends can stop the listener: bad HTTP gets a 400 and the connection is
closed, any failure inside a request is logged and answered with a 500.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

__all__ = ["HTTPRequest", "Listener", "RequestHandler"]

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
KEEPALIVE_IDLE_SECONDS = 120.0
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}


@dataclass
class HTTPRequest:
    """One HTTP request as read from the socket."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_ip: str


@dataclass
class HTTPResponse:
    """What to send back; ``close`` ends the connection after it, ``drop`` sends nothing at all
    (``reset``: with a TCP reset); ``cut`` (fault injection): ``"during"`` sends half of the
    answer and resets the connection, ``"after"`` sends it whole and then resets it."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] | None = None
    close: bool = False
    drop: bool = False
    reset: bool = False
    cut: str | None = None


class RequestHandler:
    """The per-connection application behind a listener (see ``Emulator``).

    ``new_connection(peer_certificate_der)`` returns an object whose ``handle(request)``
    answers each request of that connection in turn.
    """

    def new_connection(
        self, certificate_der: bytes | None, client_certificate_der: bytes | None = None
    ) -> Callable[[HTTPRequest], HTTPResponse]:
        raise NotImplementedError

    def network_is_cut(self) -> bool:
        """While True, connections are reset unanswered (the emulator's network-cut knob)."""
        return False


def _could_be_a_method(start: bytearray) -> bool:
    """Whether what arrived so far can begin a request line: HTTP.sys answers at once when the
    first bytes are no method token (a TLS ClientHello sent to the HTTP port starts 0x16)."""
    verb = bytes(start[:64]).lstrip(b"\r\n").split(b" ", 1)[0]
    return all(c in _TOKEN_CHARS for c in verb)


_TOKEN_CHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class _BadRequest(Exception):
    def response(self) -> HTTPResponse:
        return HTTPResponse(
            400, str(self).encode(), [("Content-Type", "text/plain; charset=utf-8")], close=True
        )


class _InvalidVerb(_BadRequest):
    """HTTP.sys's answer to bytes that are no HTTP request (its error page, as Windows sends it)."""

    def response(self) -> HTTPResponse:
        page = (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
            "<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n"
            '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
            "<BODY><h2>Bad Request - Invalid Verb</h2>\r\n"
            "<hr><p>HTTP Error 400. The request verb is invalid.</p>\r\n"
            "</BODY></HTML>\r\n"
        )
        return HTTPResponse(
            400, page.encode("ascii"), [("Content-Type", "text/html; charset=us-ascii")], close=True
        )


class Listener:
    """A listening socket on ``host:port`` with a thread per accepted connection."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: RequestHandler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        certificate_der: bytes | None = None,
        name: str = "emulator",
        keepalive_timeout: float = KEEPALIVE_IDLE_SECONDS,
    ) -> None:
        self._handler = handler
        #: Seconds an idle keep-alive connection (no request in progress) is kept open, as
        #: HTTP.sys's IdleConnectionTimeout (2 minutes); then it is closed.
        self.keepalive_timeout = keepalive_timeout
        self._ssl_context = ssl_context
        self._certificate_der = certificate_der
        self._name = name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(1024)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"{self._name}-accept-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and every open connection; wait for the accept thread."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _hard_close(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def open_connections(self) -> int:
        """Connections open now (being served or idle in keep-alive)."""
        with self._lock:
            return len(self._connections)

    def reset_connections(self) -> None:
        """Reset (TCP RST) every open connection, as a network outage does; keep listening."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _reset(conn)

    def _accept_loop(self) -> None:
        try:
            self._sock.settimeout(0.5)
        except OSError:  # stopped before this thread ran
            return
        while not self._stopping.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.05)
                continue
            if self._handler.network_is_cut():
                _reset(conn)
                continue
            conn.settimeout(None)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(
                target=self._serve_connection,
                args=(conn, addr[0]),
                name=f"{self._name}-conn-{addr[1]}",
                daemon=True,
            ).start()

    def _serve_connection(self, raw: socket.socket, client_ip: str) -> None:
        conn: socket.socket = raw
        with self._lock:
            self._connections.add(raw)
        try:
            if self._ssl_context is not None:
                raw.settimeout(30)
                try:
                    conn = self._ssl_context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    log.debug("TLS handshake with %s failed: %s", client_ip, exc)
                    return
                with self._lock:
                    self._connections.discard(raw)
                    self._connections.add(conn)
            conn.settimeout(self.keepalive_timeout)
            client_der = conn.getpeercert(binary_form=True) if isinstance(conn, ssl.SSLSocket) else None
            answer = self._handler.new_connection(self._certificate_der, client_der)
            reader = _Reader(conn)
            while not self._stopping.is_set():
                try:
                    request = reader.read_request(client_ip)
                except _BadRequest as exc:
                    with contextlib.suppress(OSError):
                        _send(conn, exc.response())
                    return
                except (OSError, ValueError):
                    return
                if request is None:
                    return
                if self._handler.network_is_cut():
                    _reset(conn)
                    return
                try:
                    response = answer(request)
                except Exception:
                    log.exception("the emulator failed to answer a request")
                    response = HTTPResponse(500, close=True)
                if response.drop:
                    if response.reset:
                        _reset(conn)
                    return
                if request.headers.get("connection", "").lower() == "close":
                    response.close = True
                try:
                    _send(conn, response)
                except OSError:
                    return
                if response.cut is not None:
                    _reset(conn)
                    return
                if response.close:
                    return
        finally:
            with self._lock:
                self._connections.discard(raw)
                self._connections.discard(conn)
            _hard_close(conn)


def _hard_close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees ECONNRESET, as on a network cut."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        conn.close()


def _send(conn: socket.socket, response: HTTPResponse) -> None:
    reason = _REASONS.get(response.status, "")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        "Server: Microsoft-HTTPAPI/2.0",
        f"Date: {email.utils.formatdate(usegmt=True)}",
    ]
    has_type = False
    for name, value in response.headers or []:
        lines.append(f"{name}: {value}")
        has_type = has_type or name.lower() == "content-type"
    if response.body and not has_type:
        lines.append("Content-Type: application/soap+xml;charset=UTF-8")
    lines.append(f"Content-Length: {len(response.body)}")
    if response.close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if response.cut == "during":  # the server dies half way through its answer
        conn.sendall(head + response.body[: max(1, len(response.body) // 2)])
        return
    conn.sendall(head + response.body)


class _Reader:
    """Reads HTTP/1.1 requests from a socket, keeping what was read past the current one."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buf = bytearray()

    def _fill(self) -> bool:
        if _QUICKACK is not None:
            # Acknowledge at once: a client that writes headers and body in two sends (urllib3)
            # would otherwise wait for our delayed ACK (Nagle) on every request.
            with contextlib.suppress(OSError):
                self._conn.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        chunk = self._conn.recv(262144)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def read_request(self, client_ip: str) -> HTTPRequest | None:
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise _BadRequest("request headers too large")
            if not _could_be_a_method(self._buf):
                raise _InvalidVerb()
            if not self._fill():
                if self._buf.strip():
                    raise _BadRequest("connection closed inside the request headers")
                return None
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        lines = head.split("\r\n")
        while lines and not lines[0]:
            lines.pop(0)
        if not lines:
            raise _BadRequest("empty request")
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest("malformed request line")
        method, path, _version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise _BadRequest("malformed header line")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if length < 0 or length > MAX_BODY_BYTES:
                raise _BadRequest("request body too large")
            while len(self._buf) < length:
                if not self._fill():
                    raise _BadRequest("connection closed inside the request body")
            body = bytes(self._buf[:length])
            del self._buf[:length]
        return HTTPRequest(method.upper(), path, headers, body, client_ip)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            while b"\r\n" not in self._buf:
                if len(self._buf) > MAX_HEADER_BYTES or not self._fill():
                    raise _BadRequest("bad chunked encoding")
            line_end = self._buf.find(b"\r\n")
            size_text = bytes(self._buf[:line_end]).split(b";")[0].strip()
            del self._buf[: line_end + 2]
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while b"\r\n" not in self._buf:
                    if not self._fill():
                        raise _BadRequest("bad chunked trailer")
                del self._buf[: self._buf.find(b"\r\n") + 2]
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise _BadRequest("request body too large")
            while len(self._buf) < size + 2:
                if not self._fill():
                    raise _BadRequest("connection closed inside a chunk")
            body += self._buf[:size]
            del self._buf[: size + 2]
