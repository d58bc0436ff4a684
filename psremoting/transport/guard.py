"""Reading a server's answers defensively: a size cap and a deadline on every body, and a
server's words made safe to print.

A WinRM server is not trusted to behave: it may send a 32 MB answer, trickle one byte a
second, or put terminal escape sequences in an error page. The client reads each answer
under a cap and a deadline (`response_guard`) and shows a server's text only through
`printable`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

__all__ = ["RESPONSE_SLACK", "ResponseRefusedError", "printable", "response_guard"]


def printable(text: str, limit: int | None = None) -> str:
    """`text` with every control character (C0, DEL, C1; ESC included) shown as ``\\xNN``,
    cut to `limit` characters: a server's words can reach the user's terminal, and must not
    drive it (clear the screen, retitle the window, hide text)."""
    out = "".join(
        ch if ch in "\n\t" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) else f"\\x{ord(ch):02x}"
        for ch in (text if limit is None else text[: limit * 4])
    )
    return out if limit is None else out[:limit]


#: Room above 2 x MaxEnvelopeSize for an answer's HTTP framing and encryption (Windows never
#: sends more than MaxEnvelopeSize).
RESPONSE_SLACK = 64 * 1024
_READ_CHUNK = 64 * 1024


class ResponseRefusedError(Exception):
    """An HTTP answer the client would not read to its end: larger than the cap, or still
    arriving when the request's deadline passed (a server trickling it byte by byte)."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


def _too_slow(limit: float, received: int) -> ResponseRefusedError:
    return ResponseRefusedError(
        f"its answer was still arriving after {limit:g} s ({received} bytes so far); the server or the "
        "network is too slow or is stalling",
        timed_out=True,
    )


def _timeout_parts(timeout: Any) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


def response_guard(wsman: Any) -> Any:
    """A requests response hook reading each answer's body under a size cap and a deadline.

    requests reads a body whole, and its read timeout is per recv(): a server can send a
    32 MB answer, or one byte every second forever, and the client waits. The hook runs once
    the headers are in, before requests reads the body (and after the authentication hooks):
    it refuses a Content-Length above the cap at once, else reads the body in pieces, failing
    once it passes the cap or takes longer than the read timeout, and hands requests what it
    read. The cap is 2 x the connection's MaxEnvelopeSize + `RESPONSE_SLACK`.
    """
    from urllib3.exceptions import ReadTimeoutError

    def guard(response: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream") or getattr(response, "_content", False) is not False:
            return response
        cap = 2 * int(getattr(wsman, "max_envelope_size", 0) or 153600) + RESPONSE_SLACK
        _, read = _timeout_parts(kwargs.get("timeout"))
        limit = float(read or wsman.transport.read_timeout or 30)
        try:
            declared = int(response.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > cap:
            response.close()
            raise ResponseRefusedError(
                f"its answer is {declared} bytes, more than the {cap} bytes a WinRM answer can be "
                "(2 x MaxEnvelopeSize + 64 KiB); the server is not a WinRM service or is misbehaving",
                timed_out=False,
            )
        raw = response.raw
        sock = getattr(getattr(raw, "_connection", None), "sock", None)
        saved = sock.gettimeout() if sock is not None else None
        deadline = time.monotonic() + limit
        body = bytearray()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _too_slow(limit, len(body))
                if sock is not None:
                    sock.settimeout(remaining)
                try:
                    chunk = raw.read1(_READ_CHUNK)
                except (ReadTimeoutError, TimeoutError) as exc:
                    # The socket timeout was the time left: the deadline has passed.
                    raise _too_slow(limit, len(body)) from exc
                if not chunk:
                    break
                body += chunk
                if len(body) > cap:
                    raise ResponseRefusedError(
                        f"its answer is more than the {cap} bytes a WinRM answer can be "
                        "(2 x MaxEnvelopeSize + 64 KiB); the server is not a WinRM service or is misbehaving",
                        timed_out=False,
                    )
        except BaseException:
            response.close()  # the connection holds an unread rest: never reuse it
            raise
        finally:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.settimeout(saved)
        response._content = bytes(body)
        response._content_consumed = True
        return response

    return guard
