"""What can go wrong below WSMan, as the transport reports it.

The runspace layer sees these, never an exception of requests, urllib3 or pyspnego: the
transport turns socket, TLS and name-resolution failures into `TransportConnectionError`
(with what kind of failure it was), and a network outage that outlasted the robust-connection
retry period into `NetworkLostError`. WSMan faults stay pypsrp's ``WSManFaultError`` and HTTP
errors pypsrp's ``WinRMTransportError`` / ``AuthenticationError``, as pypsrp's own WSMan
expects from a transport.
"""

from __future__ import annotations

from psremoting.protocol.errors import MalformedAnswerError

__all__ = ["InvalidAnswerError", "TransportConnectionError", "NetworkLostError", "ReconnectCancelledError"]


class TransportConnectionError(Exception):
    """No usable HTTP answer: the connection could not be made, was reset, or stayed silent.

    ``kind`` says which: ``"refused"``, ``"reset"``, ``"timeout"`` (connect or read),
    ``"name"`` (the host name does not resolve), ``"tls"`` (the TLS handshake or the
    certificate failed), ``"proxy"``. ``detail`` is the underlying error, printable.
    """

    def __init__(self, kind: str, detail: str, *, url: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.url = url

    @property
    def timed_out(self) -> bool:
        return self.kind == "timeout"


class NetworkLostError(TransportConnectionError):
    """The network stayed down for the whole robust-connection retry period (PowerShell's
    "Network connectivity to X has been lost"). ``message_id`` names the request that was
    never answered: sending it again later returns its answer (the server keeps it), so that
    nothing is lost."""

    def __init__(self, detail: str, *, url: str = "", seconds: float = 0.0) -> None:
        super().__init__("lost", detail, url=url)
        self.seconds = seconds


class ReconnectCancelledError(NetworkLostError):
    """Ctrl+C (a stop) while the transport was retrying after a network failure."""


class InvalidAnswerError(MalformedAnswerError):
    """An answer that arrived whole but is not what a WinRM server sends: a stream that is not
    base64, an exit code that is not a number. ``detail`` says what."""


class UnrelatedAnswerError(InvalidAnswerError):
    """An envelope whose RelatesTo is not the MessageID of the request sent (a proxy or cache
    in between answering with another request's answer)."""
