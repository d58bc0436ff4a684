"""HTTP(S) connections to one WinRM endpoint: the only module that knows them.

`HTTPTransport` is what pypsrp's ``WSMan`` sends its envelopes through (it takes the place
of pypsrp's ``_TransportHTTP``): ``send(envelope) -> answer``. Underneath it keeps a few
keep-alive TCP connections (``http.client``; one ``sendall`` per request, ``TCP_NODELAY``),
each with the security context negotiated on it (`auth.ConnectionSecurity`), because NTLM,
Kerberos and CredSSP authenticate a connection and seal its messages with that connection's
keys. So:

- any new connection (the first, one the server dropped after its keep-alive idle time, one
  a proxy or a restart of the listener closed) is authenticated before anything sealed is
  sent on it, transparently;
- an HTTP 401 on a connection that was authenticated re-authenticates once on a new one,
  then fails with a clear error;
- requests may run at once on different connections (a Signal for Ctrl+C while a Receive
  long-polls on another);
- every answer is read under a size cap and a deadline (a server may be hostile);
- while a session is open (`robust_scope`), a network failure is retried for
  ``max_retry_connection_time`` (PowerShell's robust connections): the same envelope, same
  MessageID, goes again on fresh connections, and WinRM answers a repeated MessageID with the
  answer it kept, so that nothing is lost or repeated. Listeners hear about it
  (`NetworkEvent`) to show PowerShell's warnings and progress.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import logging
import os
import select
import socket
import ssl
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from psremoting.transport.auth import AuthSettings, ConnectionSecurity, HandshakeError, channel_bindings_for
from psremoting.transport.errors import TransportConnectionError
from psremoting.transport.guard import RESPONSE_SLACK, ResponseRefusedError
from psremoting.transport.reading import (
    Deadline,
    DeadlineResponse,
    as_connection_error,
    safe_to_repeat,
    too_slow,
)
from psremoting.transport.robust import NetworkEvent, Scope, current_scope, ride_out, robust_scope
from psremoting.transport.socks import socks_connection
from psremoting.transport.tls import TLSSettings, TLSTrust

__all__ = ["HTTPTransport", "NetworkEvent", "robust_scope", "TLSSettings"]  # from robust.py, tls.py

log = logging.getLogger(__name__)

_READ_CHUNK = 256 * 1024
_SOAP = "application/soap+xml;charset=UTF-8"
#: Idle connections kept for reuse (one long-polls, one signals, one spare).
_MAX_IDLE = 3


class _Stale(Exception):
    """A reused connection turned out closed before the server answered anything."""


class _Connection:
    """One TCP connection and the security context negotiated on it."""

    __slots__ = ("http", "security", "authenticated", "used", "deadline")

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.http = conn
        self.security: ConnectionSecurity | None = None
        self.authenticated = False
        self.used = 0
        self.deadline = Deadline()
        # Every answer on this connection is read under `deadline` (headers and body alike).
        conn.response_class = functools.partial(DeadlineResponse, deadline=self.deadline)  # type: ignore[assignment]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.http.close()

    def dropped(self) -> bool:
        """Whether the server closed this idle connection (it would read as EOF now)."""
        sock = self.http.sock
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)  # an idle keep-alive connection has nothing to read: EOF or junk


def environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment names for `scheme` and `host`, as urllib's ``getproxies``
    and ``proxy_bypass`` read it on Linux (``http_proxy`` before ``HTTP_PROXY``, an empty
    lower-case name unsets, ``no_proxy``, HTTP_PROXY ignored in a CGI request), in a few
    lookups instead of urllib's four walks over the whole environment (~0.5 ms a session,
    a fleet's to pay per host). Windows and macOS read the system's settings: urllib's."""
    if sys.platform in ("win32", "darwin"):
        if urllib.request.proxy_bypass(host):
            return None
        return urllib.request.getproxies().get(scheme)
    env = os.environ

    def named(kind: str) -> str | None:
        lower = env.get(f"{kind}_proxy")
        if lower is not None:
            return lower or None
        if kind == "http" and "REQUEST_METHOD" in env:
            return None
        return env.get(f"{kind.upper()}_PROXY") or None

    proxy = named(scheme)
    if proxy is None:
        return None
    no_proxy = named("no")
    if no_proxy and urllib.request.proxy_bypass_environment(host, {"no": no_proxy}):  # type: ignore[attr-defined]
        return None
    return proxy


class HTTPTransport:
    """The connections of one session to one endpoint (see the module docstring).

    Drop-in for pypsrp's ``_TransportHTTP``: ``endpoint``, ``send(message, *,
    retries_on_read_timeout, timeout)``, ``close()``, ``read_timeout``,
    ``connection_timeout``.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        auth: AuthSettings,
        tls: TLSSettings | None,
        connection_timeout: float,
        read_timeout: float,
        proxy: str | None = None,
        use_env_proxy: bool = True,
        envelope_size: Callable[[], int] = lambda: 512000,
        computer_name: str = "",
        connect_retries: int = 0,
    ) -> None:
        parts = urlsplit(endpoint)
        self.endpoint = endpoint
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.use_ssl = parts.scheme == "https"
        self._target = parts.path or "/wsman"
        if parts.query:
            self._target += "?" + parts.query
        self.auth = auth
        self.tls = tls
        self.connection_timeout = connection_timeout
        self.read_timeout = read_timeout
        self.computer_name = computer_name or self.host
        self._envelope_size = envelope_size
        self._connect_retries = max(0, connect_retries)
        self._proxy = proxy if proxy is not None else (self._environment_proxy() if use_env_proxy else None)
        self._trust = (
            TLSTrust(
                tls,
                computer_name=self.computer_name,
                host=self.host,
                port=self.port,
                timeout=connection_timeout,
            )
            if self.use_ssl
            else None
        )
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        #: Counters, for tests and benchmarks: TCP connections made, handshakes done.
        self.connections_made = 0
        self.handshakes = 0
        #: Requests riding out a network failure right now (robust connections).
        self.outages = 0

    def __repr__(self) -> str:
        return f"HTTPTransport({self.endpoint!r}, auth={self.auth.method!r})"

    # -- settings --------------------------------------------------------------------------------
    def _environment_proxy(self) -> str | None:
        return environment_proxy("https" if self.use_ssl else "http", self.host)

    @property
    def _ssl_context(self) -> ssl.SSLContext | None:
        """The context new connections use (`tls.TLSTrust` decides)."""
        return self._trust.context if self._trust is not None else None

    # -- connections -------------------------------------------------------------------------------
    def _new_http(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self.host, self.port
        proxy = urlsplit(self._proxy) if self._proxy else None
        if proxy is not None and proxy.scheme.startswith("socks"):
            return socks_connection(self, proxy, timeout)
        if proxy is not None:
            host, port = proxy.hostname or "", proxy.port or (443 if proxy.scheme == "https" else 80)
        conn: http.client.HTTPConnection
        if self.use_ssl:
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._ssl_context)
            if proxy is not None:
                conn.set_tunnel(self.host, self.port)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        return conn

    def _checkout(self) -> _Connection:
        with self._lock:
            if self._closed:
                raise TransportConnectionError(
                    "closed", "the session's connections were closed", url=self.endpoint
                )
            while self._idle:
                conn = self._idle.pop()
                if conn.dropped():
                    conn.close()
                    continue
                return conn
        return _Connection(self._new_http(self.connection_timeout))

    def _checkin(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and conn.http.sock is not None and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every connection; the transport can be used again afterwards."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def shutdown(self) -> None:
        """Close for good: later requests fail at once."""
        with self._lock:
            self._closed = True
        self.close()

    # -- one request -------------------------------------------------------------------------------
    def send(
        self,
        message: bytes,
        *,
        retries_on_read_timeout: int = 0,
        timeout: float | tuple[float, float] | None = None,
    ) -> bytes:
        """POST one envelope and return the (unsealed) answer. HTTP errors raise pypsrp's
        ``WinRMTransportError`` (its WSMan reads the fault in it) or ``AuthenticationError``;
        connection failures raise `TransportConnectionError`."""
        if isinstance(timeout, tuple):
            timeout = timeout[1]
        read_timeout = float(timeout) if timeout else float(self.read_timeout)
        scope = current_scope()
        if log.isEnabledFor(logging.DEBUG):  # redaction.py keeps secrets out of these
            log.debug("Sending message: %s", message.decode("utf-8", "replace"))
        stale_retries = 0
        connect_failures = 0
        reauthenticated = False
        repeated = False
        while True:
            conn = self._checkout()
            fresh = conn.http.sock is None
            try:
                status, text_type, body = self._exchange(conn, message, read_timeout)
            except _Stale:
                conn.close()
                stale_retries += 1
                if stale_retries <= 2:
                    continue
                raise TransportConnectionError(
                    "reset", "the server closed the connection", url=self.endpoint
                ) from None
            except TransportConnectionError as exc:
                conn.close()
                if fresh and exc.kind in ("refused", "timeout") and connect_failures < self._connect_retries:
                    # SessionOption.max_connection_retries: the connection could not be made.
                    connect_failures += 1
                    time.sleep(0.5 * 2 ** (connect_failures - 1))
                    continue
                if exc.kind in ("tls", "name", "closed"):
                    raise
                if scope is None or not scope.robust:
                    if exc.kind == "reset" and not repeated and safe_to_repeat(message):
                        # Read-only or idempotent, and the server answers a repeated MessageID
                        # with the answer it kept: send it once more on a new connection.
                        repeated = True
                        continue
                    raise
                return self._ride_out(message, read_timeout, scope, exc)
            except BaseException:
                conn.close()  # cut half way (Ctrl+C): the connection's state is unknown
                raise
            if status == 401:
                conn.close()
                if not fresh and not reauthenticated and self.auth.connection_based:
                    # The server forgot this connection's logon: authenticate again, once.
                    reauthenticated = True
                    continue
                self._raise_unauthorized()
            self._checkin(conn)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("Received message (HTTP %d): %s", status, body.decode("utf-8", "replace"))
            if status != 200:
                from pypsrp.exceptions import WinRMTransportError

                raise WinRMTransportError(
                    "http", status, body.decode("utf-8", "replace") if text_type else ""
                )
            return body

    def _raise_unauthorized(self) -> None:
        from pypsrp.exceptions import AuthenticationError

        raise AuthenticationError(
            f"Failed to authenticate the user {self.auth.username} with {self.auth.method}"
        )

    def _ride_out(
        self, message: bytes, read_timeout: float, scope: Scope, first: TransportConnectionError
    ) -> bytes:
        """PowerShell's robust connection (`robust.ride_out`): the same envelope again on
        fresh connections until it is answered or the retry period is over."""

        def attempt(remaining: float) -> tuple[int, bool, bytes, _Connection]:
            conn = _Connection(self._new_http(min(self.connection_timeout, max(1.0, remaining))))
            try:
                status, is_text, body = self._exchange(conn, message, read_timeout)
            except _Stale as exc:
                conn.close()
                raise TransportConnectionError(
                    "reset", "the connection closed unanswered", url=self.endpoint
                ) from exc
            except BaseException:
                conn.close()
                raise
            return status, is_text, body, conn

        log.info("the connection to %s failed (%s); retrying", self.endpoint, first.detail)
        with self._lock:
            self.outages += 1
        try:
            status, is_text, body, conn = ride_out(scope, attempt, first, url=self.endpoint)
        finally:
            with self._lock:
                self.outages -= 1
        if status == 401:
            conn.close()
            self._raise_unauthorized()
        self._checkin(conn)
        if status != 200:
            from pypsrp.exceptions import WinRMTransportError

            raise WinRMTransportError("http", status, body.decode("utf-8", "replace") if is_text else "")
        return body

    def _exchange(self, conn: _Connection, message: bytes, read_timeout: float) -> tuple[int, bool, bytes]:
        """Send `message` on `conn` (connecting and authenticating it first when new) and read
        the answer: ``(status, is_text, body)``."""
        reused = conn.http.sock is not None
        try:
            if not reused:
                self._connect(conn)
                security = conn.security
                assert security is not None
                if security.settings.connection_based and not security.seals:
                    # HTTPS: the handshake carries the message itself.
                    return self._handshake(conn, message, read_timeout)
                if security.settings.connection_based:
                    status, is_text, body = self._handshake(conn, b"", read_timeout)
                    if status != 200:
                        return status, is_text, body
            return self._post(conn, message, read_timeout, reused=reused)
        except (OSError, http.client.HTTPException) as exc:
            # Sockets, TLS, HTTP framing; a security package's own errors (a wrong Kerberos
            # password, no ticket) and refused answers go up as they are.
            raise as_connection_error(exc, self.endpoint) from exc

    def _connect(self, conn: _Connection) -> None:
        """Connect `conn`; over TLS, until `tls.TLSTrust` accepts the certificate (it may
        ask to connect again: decided by fingerprint, or a CRL to check was fetched)."""
        bindings = None
        for _attempt in range(3):
            try:
                conn.http.connect()
            except ssl.SSLCertVerificationError as exc:
                if self._trust is None or not self._trust.retry_after(exc):
                    raise
                conn.http.close()
                conn.http = self._new_http(self.connection_timeout)
                continue
            sock = conn.http.sock
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._trust is None or not isinstance(sock, ssl.SSLSocket):
                break
            der = sock.getpeercert(True) or b""
            try:
                again = self._trust.accept(der)
            except BaseException:
                conn.close()
                raise
            if not again:
                bindings = channel_bindings_for(der)
                break
            conn.close()
            conn.http = self._new_http(self.connection_timeout)
        else:  # never connect unchecked (http.client would connect on its own at the request)
            conn.close()
            raise TransportConnectionError("tls", "the certificate could not be checked", url=self.endpoint)
        conn.security = ConnectionSecurity(self.auth, bindings)
        with self._lock:
            self.connections_made += 1

    def _headers(self, content_type: str | None, length: int, authorization: str | None) -> dict[str, str]:
        headers = {
            "User-Agent": "Python PSRP Client",
            "Accept-Encoding": "identity",
            "Content-Length": str(length),
        }
        if content_type:
            headers["Content-Type"] = content_type
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _handshake(self, conn: _Connection, message: bytes, read_timeout: float) -> tuple[int, bool, bytes]:
        """Authenticate a new connection (NTLM/Kerberos/Negotiate/CredSSP), the first leg
        carrying `message` (empty when messages are sealed: they need the finished context)."""
        security = conn.security
        assert security is not None
        with self._lock:
            self.handshakes += 1
        token: str | None = security.first_token()
        content_type = _SOAP if message else None
        for _leg in range(8):
            response = self._request(conn, message, content_type, token)
            status, is_text, body, headers = self._read(conn, response, read_timeout, unseal=False)
            challenge = headers.get("www-authenticate", "")
            if status != 401:
                security.finish(challenge)
                conn.authenticated = True
                return status, is_text, body
            try:
                token = security.step(challenge)
            except HandshakeError:
                return 401, is_text, body
            if token is None:
                return 401, is_text, body
        return 401, False, b""

    def _post(
        self, conn: _Connection, message: bytes, read_timeout: float, *, reused: bool
    ) -> tuple[int, bool, bytes]:
        security = conn.security
        assert security is not None
        if security.seals:
            content_type, payload = security.seal(message)
        else:
            content_type, payload = _SOAP, message
        try:
            response = self._request(conn, payload, content_type, security.request_authorization())
        except (ConnectionError, OSError, http.client.HTTPException) as exc:
            if reused and not isinstance(exc, TimeoutError):
                raise _Stale() from exc
            raise
        try:
            status, is_text, body, _headers = self._read(conn, response, read_timeout, unseal=True)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            if reused and getattr(exc, "_psremoting_nothing_read", False):
                raise _Stale() from exc
            raise
        return status, is_text, body

    def _request(
        self, conn: _Connection, body: bytes, content_type: str | None, authorization: str | None
    ) -> Any:
        http_conn = conn.http
        target = self._target
        if self._proxy and not self.use_ssl and not self._proxy.startswith("socks"):
            target = self.endpoint
        http_conn.request(
            "POST", target, body=body, headers=self._headers(content_type, len(body), authorization)
        )
        conn.used += 1
        return http_conn

    def _read(
        self, conn: _Connection, http_conn: Any, read_timeout: float, *, unseal: bool
    ) -> tuple[int, bool, bytes, dict[str, str]]:
        """Read one answer under a deadline and a size cap; unseal it if sealed."""
        sock = http_conn.sock
        deadline = time.monotonic() + read_timeout
        conn.deadline.at, conn.deadline.received = deadline, 0
        if sock is not None:
            sock.settimeout(read_timeout)
        try:
            response = http_conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            exc._psremoting_nothing_read = True  # type: ignore[union-attr]
            raise
        except TimeoutError as exc:
            if not conn.deadline.received:
                raise  # silence: a timeout of the connection, as before
            http_conn.close()
            raise too_slow(read_timeout, conn.deadline.received, headers=True) from exc
        headers = {k.lower(): v for k, v in response.getheaders()}
        cap = 2 * int(self._envelope_size() or 153600) + RESPONSE_SLACK
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > cap:
            http_conn.close()
            raise ResponseRefusedError(
                f"its answer is {declared} bytes, more than the {cap} bytes a WinRM answer can be "
                "(2 x MaxEnvelopeSize + 64 KiB); the server is not a WinRM service or is misbehaving",
                timed_out=False,
            )
        body = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                http_conn.close()
                raise too_slow(read_timeout, len(body))
            if sock is not None:
                sock.settimeout(remaining)
            try:
                chunk = response.read1(_READ_CHUNK)
            except TimeoutError as exc:
                http_conn.close()
                raise too_slow(read_timeout, len(body)) from exc
            if not chunk:
                break
            body += chunk
            if response.length == 0:
                break
            if len(body) > cap:
                http_conn.close()
                raise ResponseRefusedError(
                    f"its answer is more than the {cap} bytes a WinRM answer can be "
                    "(2 x MaxEnvelopeSize + 64 KiB); the server is not a WinRM service or is misbehaving",
                    timed_out=False,
                )
        will_close = response.will_close
        response.close()  # read to its end: the connection is free for the next request
        conn.deadline.at = float("inf")
        if will_close:
            http_conn.close()
        elif sock is not None:
            sock.settimeout(None)
        content_type = headers.get("content-type", "")
        data = bytes(body)
        if unseal and content_type.lower().startswith(("multipart/encrypted", "multipart/x-multi-encrypted")):
            security = conn.security
            if security is None or not security.seals:
                raise ResponseRefusedError(
                    "it sent a sealed answer to a request that was not sealed", timed_out=False
                )
            data = security.unseal(content_type, data)
            return response.status, True, data, headers
        is_text = bool(data) and not content_type.lower().startswith("multipart/")
        return response.status, is_text, data, headers
