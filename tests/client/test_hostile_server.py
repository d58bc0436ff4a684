"""A hostile or broken server: whatever it answers, the client ends with a clear
PSRemotingError in bounded time, never a hang, a crash or a fetched external entity.

A tiny HTTP server on loopback answers every request with the body a test sets (garbage,
a billion-laughs DTD, an external entity, deep nesting, a large document, nothing), or
forwards it to a real emulator until the test turns hostile mid-session.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import PSRemotingError
from psremoting.transport.options import EndpointOverride, SessionOption, set_endpoint_override

from .conftest import credentials

SOAP = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
DEADLINE = 30.0  # seconds: every answer below must have ended in an error well before this


def _billion_laughs() -> bytes:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    return (
        b'<?xml version="1.0"?><!DOCTYPE lolz ['
        + entities
        + b"]>"
        + SOAP
        + b"<s:Body>&lol9;</s:Body></s:Envelope>"
    )


HOSTILE_BODIES: dict[str, bytes] = {
    "not XML": b"this is not xml at all \x00\xff\x1b[2J",
    "billion laughs": _billion_laughs(),
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + SOAP
    + b"<s:Body>&e;</s:Body></s:Envelope>",
    "deep nesting": b"<a>" * 100_000 + b"</a>" * 100_000,
    "large document": SOAP + b"<s:Body>" + b"<x>y</x>" * 500_000 + b"</s:Body></s:Envelope>",
    "empty": b"",
    "truncated": SOAP + b"<s:Header><a:Action xmlns:a='x'>",
    "an envelope answering nothing": SOAP + b"<s:Header/><s:Body><nothing/></s:Body></s:Envelope>",
}


class HostileServer:
    """Answers every POST with ``status``/``body``, or forwards it to ``upstream`` when set."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.upstream: str | None = None
        self.requests = 0
        #: When set, answer with headers and then one byte per ``trickle`` seconds, never finishing.
        self.trickle: float | None = None
        #: When set, send the status line and headers themselves one byte per ``trickle_headers`` s.
        self.trickle_headers: float | None = None
        #: When False, send no Content-Length: the body ends when the server closes the connection.
        self.declare_length = True
        self.stopped = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                owner.requests += 1
                if owner.trickle_headers is not None:
                    head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 10_000 + b"\r\n\r\n"
                    for byte in head:
                        if owner.stopped.wait(owner.trickle_headers):
                            return
                        with contextlib.suppress(OSError):
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    return
                if owner.trickle is not None:
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    while not owner.stopped.wait(owner.trickle):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    return
                if owner.upstream is not None:
                    status, headers, body = owner.forward(self.path, dict(self.headers), data)
                else:
                    status, headers, body = (
                        owner.status,
                        {"Content-Type": "application/soap+xml;charset=UTF-8"},
                        owner.body,
                    )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if owner.declare_length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                with contextlib.suppress(OSError):  # the client hung up on a body it refused to read
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client hanging up on a refused answer is the expected outcome here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/wsman"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="hostile-server", daemon=True)

    def forward(self, path: str, headers: dict[str, str], data: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.upstream is not None
        target = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=DEADLINE)
        try:
            keep = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type")}
            conn.request("POST", target.path, body=data, headers=keep)
            response = conn.getresponse()
            body = response.read()
            kept = {
                k: v for k, v in response.getheaders() if k.lower() in ("content-type", "www-authenticate")
            }
            return response.status, kept, body
        finally:
            conn.close()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        set_endpoint_override(
            lambda name: EndpointOverride(server.url, "user", "Hostile-Passw0rd", "basic", None)
        )
        yield server


@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("kind", list(HOSTILE_BODIES))
def test_opening_against_a_hostile_answer_fails_clearly(
    hostile: HostileServer, kind: str, status: int
) -> None:
    hostile.status, hostile.body = status, HOSTILE_BODIES[kind]
    started = time.monotonic()
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    assert time.monotonic() - started < DEADLINE
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "root:" not in message  # the external entity was not fetched
    assert "Hostile-Passw0rd" not in message
    assert not any(ord(ch) < 0x20 and ch not in "\n\t" for ch in message), message  # no ESC, no NUL
    assert "ParseError" not in message and "syntax error: line 1, column 0." not in message
    assert psremoting.get_pssession() == []


@pytest.mark.parametrize("kind", ["not XML", "billion laughs", "external entity", "empty", "truncated"])
def test_an_answer_that_is_not_xml_is_named_as_such(hostile: HostileServer, kind: str) -> None:
    hostile.status, hostile.body = 200, HOSTILE_BODIES[kind]
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "The server's answer is not valid WS-Management XML (" in message, message
    assert hostile.url in message  # says which endpoint to check


def test_an_envelope_for_another_request_is_named_as_such(hostile: HostileServer) -> None:
    hostile.status, hostile.body = 200, HOSTILE_BODIES["an envelope answering nothing"]
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    assert "is not an answer to the request that was sent" in str(info.value), str(info.value)


def test_an_error_page_cannot_drive_the_terminal(hostile: HostileServer) -> None:
    hostile.status, hostile.body = 500, b"oops \x1b[2J\x1b]0;pwned\x07\x00 \xc2\x9b31m done"
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    message = str(info.value)
    assert "HTTP 500" in message, message
    assert "\x1b" not in message and "\x07" not in message and "\x00" not in message and "\x9b" not in message
    assert "\\x1b[2J" in message and "done" in message  # shown, defanged, not dropped


def test_a_server_turning_hostile_mid_session_fails_the_command_clearly(
    hostile: HostileServer, emulator: Emulator
) -> None:
    user, password = credentials(emulator)
    hostile.upstream = emulator.url
    set_endpoint_override(lambda name: EndpointOverride(hostile.url, user, password, "basic", None))
    session = psremoting.new_pssession("Server01")
    try:
        assert [str(x) for x in psremoting.invoke_command("'still fine'", session=session)] == ["still fine"]
        hostile.upstream = None
        hostile.status, hostile.body = 200, HOSTILE_BODIES["billion laughs"]
        started = time.monotonic()
        result = psremoting.invoke_command("'never answered'", session=session)
        assert time.monotonic() - started < DEADLINE
        assert list(result) == []
        [error] = result.errors
        assert "is Broken" in error.message and "Server01" in error.message
        assert password not in error.message
        assert session.state == "Broken"
    finally:
        hostile.upstream = emulator.url
        psremoting.remove_pssession(session)


def test_a_trickling_answer_ends_within_the_open_timeout(hostile: HostileServer) -> None:
    hostile.trickle = 0.2
    timer = threading.Timer(6.0, hostile.stopped.set)  # bounds the test either way
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(PSRemotingError) as info:
            psremoting.new_pssession(
                "Server01", session_option=SessionOption(open_timeout=2, operation_timeout=1)
            )
    finally:
        timer.cancel()
        hostile.stopped.set()
    assert time.monotonic() - started < 5.0
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "still arriving after 2 s" in message, message


def test_headers_trickling_one_byte_at_a_time_end_within_the_open_timeout(hostile: HostileServer) -> None:
    """The deadline covers the status line and headers too: a server sending them one byte per
    0.2 s (each byte well inside any per-read timeout) is cut off at open_timeout."""
    hostile.trickle_headers = 0.2
    timer = threading.Timer(10.0, hostile.stopped.set)  # bounds the test either way
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(PSRemotingError) as info:
            psremoting.new_pssession(
                "Server01", session_option=SessionOption(open_timeout=2, operation_timeout=1)
            )
    finally:
        timer.cancel()
        hostile.stopped.set()
    assert time.monotonic() - started < 5.0
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "headers were still arriving after 2 s" in message, message


def test_headers_trickling_under_invoke_timeout_end_within_it(hostile: HostileServer) -> None:
    """The issue's case: invoke(timeout=...) with a short operation_timeout against a server
    trickling its headers ends by the deadline, not never."""
    hostile.trickle_headers = 0.2
    timer = threading.Timer(15.0, hostile.stopped.set)
    timer.start()
    started = time.monotonic()
    try:
        result = psremoting.invoke_command(
            "'x'", computer_name="Server01", timeout=20, session_option=SessionOption(operation_timeout=5)
        )
    finally:
        timer.cancel()
        hostile.stopped.set()
    assert time.monotonic() - started < 14.0
    assert list(result) == []
    [error] = result.errors
    assert "Server01" in error.message and "headers were still arriving" in error.message, error.message


HUGE = SOAP + b"<s:Body>" + b"x" * (32 * 1024 * 1024) + b"</s:Body></s:Envelope>"


@pytest.mark.parametrize("declared", [True, False], ids=["with Content-Length", "without Content-Length"])
def test_a_huge_answer_is_refused_without_reading_it(hostile: HostileServer, declared: bool) -> None:
    """Windows never answers more than MaxEnvelopeSize (150 KiB by default): a 32 MB answer
    is refused, before reading it when its size is declared, else once the cap is passed."""
    hostile.status, hostile.body, hostile.declare_length = 200, HUGE, declared
    started = time.monotonic()
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    assert time.monotonic() - started < 5.0
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "refused the server's answer" in message and "MaxEnvelopeSize" in message, message
    if declared:
        assert str(len(HUGE)) in message  # the declared size, refused before reading


def test_an_answer_just_under_the_cap_is_still_read(hostile: HostileServer) -> None:
    """The cap refuses only what no WinRM server sends: a 300 KiB answer (twice the default
    MaxEnvelopeSize) is read, and fails only as the garbage it is."""
    hostile.status, hostile.body, hostile.declare_length = 200, b"x" * (300 * 1024), False
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    assert "is not valid WS-Management XML" in str(info.value), str(info.value)
