"""A server's words made safe to print, and the answers the client refuses to read.

A WinRM server is not trusted to behave: it may send a 32 MB answer, trickle one byte a
second, or put terminal escape sequences in an error page. `http.HTTPTransport` reads each
answer under a cap (2 x MaxEnvelopeSize + `RESPONSE_SLACK`) and a deadline, raising
`ResponseRefusedError` otherwise; a server's text reaches the user only through `printable`.
"""

from __future__ import annotations

__all__ = ["RESPONSE_SLACK", "ResponseRefusedError", "printable"]


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


class ResponseRefusedError(Exception):
    """An HTTP answer the client would not read to its end: larger than the cap, or still
    arriving when the request's deadline passed (a server trickling it byte by byte)."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out
