"""The HTTP(S) listener of the emulator: sockets, threads, keep-alive, TLS.

One thread per TCP connection, as WinRM's HTTP.sys front end behaves for a client: requests
on a connection are answered in order, over HTTP/1.1 keep-alive (closed after
``keepalive_timeout`` idle seconds, as HTTP.sys does after 2 minutes), and the authentication
state (NTLM/Negotiate and its message encryption) belongs to the connection. HTTP/1.1 is
parsed by h11 (sans-I/O) rather than ``http.server``, so that the status line, headers and
body leave in one ``sendall`` on a ``TCP_NODELAY`` socket: without both, every request stalls
~40 ms on Nagle's algorithm meeting the client's delayed ACK.

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

import h11

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
    """What to send back; ``close`` ends the connection after it, ``drop`` sends nothing at all."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] | None = None
    close: bool = False
    drop: bool = False


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


class _BadRequest(Exception):
    pass


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

    def reset_connections(self) -> None:
        """Reset (TCP RST) every open connection, as a network outage does; keep listening."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _reset(conn)

    def _accept_loop(self) -> None:
        self._sock.settimeout(0.5)
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
            http = _Connection(conn)
            while not self._stopping.is_set():
                try:
                    request = http.read_request(client_ip)
                except _BadRequest as exc:
                    _send_bad_request(conn, str(exc))
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
                    return
                if request.headers.get("connection", "").lower() == "close":
                    response.close = True
                try:
                    http.send(response)
                except (OSError, h11.LocalProtocolError):
                    return
                if response.close or http.must_close:
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


def _head(response: HTTPResponse) -> list[tuple[str, str]]:
    headers = [("Server", "Microsoft-HTTPAPI/2.0"), ("Date", email.utils.formatdate(usegmt=True))]
    has_type = False
    for name, value in response.headers or []:
        headers.append((name, value))
        has_type = has_type or name.lower() == "content-type"
    if response.body and not has_type:
        headers.append(("Content-Type", "application/soap+xml;charset=UTF-8"))
    headers.append(("Content-Length", str(len(response.body))))
    if response.close:
        headers.append(("Connection", "close"))
    return headers


def _send_bad_request(conn: socket.socket, text: str) -> None:
    """400 for what h11 could not parse (its state is broken then, so it is written here)."""
    response = HTTPResponse(400, text.encode(), [("Content-Type", "text/plain; charset=utf-8")], close=True)
    head = "".join(f"{name}: {value}\r\n" for name, value in _head(response))
    with contextlib.suppress(OSError):
        conn.sendall(f"HTTP/1.1 400 Bad Request\r\n{head}\r\n".encode("latin-1") + response.body)


class _Connection:
    """One keep-alive HTTP/1.1 connection, parsed by h11 (sans-I/O): requests read whole,
    each answer's status line, headers and body written in one ``sendall``."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)

    def _fill(self) -> None:
        if _QUICKACK is not None:
            # Acknowledge at once: a client that writes headers and body in two sends (urllib3)
            # would otherwise wait for our delayed ACK (Nagle) on every request.
            with contextlib.suppress(OSError):
                self._conn.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._h11.receive_data(self._conn.recv(262144))

    def read_request(self, client_ip: str) -> HTTPRequest | None:
        """The next request, or None when the client closed the connection between requests."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        started: h11.Request | None = None
        body = bytearray()
        try:
            while True:
                event = self._h11.next_event()
                if event is h11.NEED_DATA:
                    self._fill()
                elif isinstance(event, h11.Request):
                    started = event
                    length = _declared_length(event)
                    if length is not None and length > MAX_BODY_BYTES:
                        raise _BadRequest("request body too large")
                elif isinstance(event, h11.Data):
                    body += event.data
                    if len(body) > MAX_BODY_BYTES:
                        raise _BadRequest("request body too large")
                elif isinstance(event, h11.EndOfMessage):
                    assert started is not None
                    headers: dict[str, str] = {}
                    for raw_name, raw_value in started.headers:
                        key, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                        headers[key] = f"{headers[key]}, {value}" if key in headers else value
                    return HTTPRequest(
                        started.method.decode("latin-1").upper(),
                        started.target.decode("latin-1"),
                        headers,
                        bytes(body),
                        client_ip,
                    )
                elif isinstance(event, h11.ConnectionClosed):
                    if started is not None:
                        raise _BadRequest("connection closed inside the request")
                    return None
                elif event is h11.PAUSED:  # pragma: no cover - only after a response
                    return None
        except h11.RemoteProtocolError as exc:
            raise _BadRequest(str(exc) or "malformed request") from exc

    def send(self, response: HTTPResponse) -> None:
        """Status line, headers and body in one ``sendall`` (with TCP_NODELAY: no Nagle stall)."""
        h = self._h11
        data = (
            h.send(
                h11.Response(
                    status_code=response.status,
                    headers=_head(response),
                    reason=_REASONS.get(response.status, "").encode("latin-1"),
                )
            )
            or b""
        )
        if response.body:
            data += h.send(h11.Data(data=response.body)) or b""
        data += h.send(h11.EndOfMessage()) or b""
        self._conn.sendall(data)

    @property
    def must_close(self) -> bool:
        return self._h11.our_state is h11.MUST_CLOSE


def _declared_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
