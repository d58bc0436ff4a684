"""Failures below the runspace layer, worded as PowerShell words them.

`map_connection_error` turns what the transport, pypsrp's WSMan or pyspnego raised into a
`psremoting.protocol.errors` type with PowerShell's text and a hint of what to do, so that no
layer above needs to know their exception classes.
"""

from __future__ import annotations

import ssl
from xml.etree.ElementTree import ParseError

from psremoting.protocol.errors import (
    CertificateError,
    ConnectionFailedError,
    ConnectTimeoutError,
    HostNotFoundError,
    InvalidConfigurationNameError,
    InvalidOptionError,
    MalformedAnswerError,
    PSRemotingError,
    SessionBrokenError,
)
from psremoting.protocol.safexml import NotWellFormedError
from psremoting.protocol.wsman import INVALID_RESOURCE, SHELL_NOT_FOUND
from psremoting.transport.auth import HandshakeError
from psremoting.transport.auth_errors import authentication_error
from psremoting.transport.errors import TransportConnectionError, UnrelatedAnswerError
from psremoting.transport.guard import ResponseRefusedError, printable
from psremoting.transport.options import ConnectionInfo

__all__ = ["map_connection_error", "is_connection_failure"]

_KERBEROS_MODULES = frozenset({"spnego", "krb5", "gssapi"})


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        nxt = current.__cause__ or current.__context__
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        current = nxt
    return seen


def is_connection_failure(exc: BaseException) -> bool:
    """No usable answer at all (refused, reset, silent): not a WSMan or HTTP error."""
    return isinstance(exc, TransportConnectionError)


def _certificate_error(name: str, info: ConnectionInfo, chain: list[BaseException]) -> CertificateError:
    where = f"{name}:{info.port}"
    verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        problem = str(verify.verify_message or verify.reason or "it could not be verified")
        return CertificateError(
            name,
            f"The server certificate on the destination computer ({where}) has the following errors: "
            f"{problem[:1].upper() + problem[1:]}. Renew or correct the certificate on the server; only if you "
            "trust this server, connect with -SkipCACheck (--skip-ca-check, SessionOption(skip_ca_check=True)).",
        )
    detail = printable(next((str(e) for e in chain if isinstance(e, ssl.SSLError)), str(chain[0])), 200)
    if any(getattr(e, "reason", None) == "WRONG_VERSION_NUMBER" for e in chain):
        # What OpenSSL reads when a plain HTTP listener (HTTP.sys's 400 page) answers the ClientHello.
        return CertificateError(
            name,
            f"The TLS handshake with the destination computer ({where}) failed: the server answered in plain "
            f"HTTP ({detail}). Port {info.port} is an HTTP listener: drop -UseSSL (--ssl, use_ssl=True) "
            "to connect over HTTP with message encryption, or connect to WinRM's HTTPS listener (5986).",
        )
    return CertificateError(
        name,
        f"The TLS handshake with the destination computer ({where}) failed: {detail}. Check that the port is "
        "WinRM's HTTPS listener (5986), and that the server and this client have a TLS version in common.",
    )


def map_connection_error(
    exc: BaseException, info: ConnectionInfo, *, opening: bool = True
) -> PSRemotingError:
    """Turn a transport / pypsrp / spnego failure into a psremoting error with PowerShell's
    wording and a hint of what to do."""
    from pypsrp.exceptions import (
        AuthenticationError,
        InvalidPSRPOperation,
        WinRMError,
        WinRMTransportError,
        WSManFaultError,
    )

    name = info.computer_name
    if isinstance(exc, NotWellFormedError):
        return ConnectionFailedError(
            name,
            f"The server's answer is not valid WS-Management XML ({printable(exc.detail, 200)}). Check that "
            f"{info.url} is a WinRM endpoint, and that no proxy or load balancer in between rewrites its answers.",
        )
    if isinstance(exc, UnrelatedAnswerError):
        return ConnectionFailedError(
            name,
            f"The server's answer is not an answer to the request that was sent ({printable(exc.detail, 200)}). "
            f"Check that {info.url} is a WinRM endpoint, and that no proxy or load balancer in between "
            "rewrites its answers.",
        )
    if isinstance(exc, MalformedAnswerError):
        return ConnectionFailedError(
            name,
            f"The server's answer was invalid: {printable(exc.detail, 300)}. Check that {info.url} is a WinRM "
            "endpoint, and that no proxy or load balancer in between rewrites or cuts its answers.",
        )
    if isinstance(exc, PSRemotingError):
        return exc
    if isinstance(exc, ResponseRefusedError):
        if exc.timed_out:
            return ConnectTimeoutError(
                name,
                f"The WinRM client cannot complete the operation within the time specified: {exc.reason}. "
                "Check the network to the server, or raise SessionOption(operation_timeout=...) for a slow link.",
            )
        return ConnectionFailedError(
            name,
            f"The WinRM client refused the server's answer: {exc.reason}. Check that {info.url} is a WinRM "
            "endpoint.",
        )
    if (
        isinstance(exc, (AuthenticationError, HandshakeError))
        or type(exc).__module__.split(".")[0] in _KERBEROS_MODULES
    ):
        return authentication_error(exc, info)
    chain = _chain(exc)
    if isinstance(exc, TransportConnectionError):
        if exc.kind == "tls" or any(isinstance(e, ssl.SSLError) for e in chain):
            return _certificate_error(name, info, chain)
        if exc.kind == "timeout":
            return ConnectTimeoutError(
                name,
                "The WinRM client cannot complete the operation within the time specified. Check if the machine "
                "name is valid and is reachable over the network and firewall exception for Windows Remote "
                "Management service is enabled.",
            )
        if exc.kind == "name":
            return HostNotFoundError(
                name,
                f"WinRM cannot process the request because the computer {name} could not be found: the name "
                "does not resolve. Verify that the computer exists on the network and that the name provided "
                "is spelled correctly.",
            )
        if exc.kind == "proxy":
            return ConnectionFailedError(
                name, f"The proxy refused the connection to {info.url}: {exc.detail}"
            )
        return ConnectionFailedError(
            name,
            "WinRM cannot complete the operation. Verify that the specified computer name is valid, that the "
            "computer is accessible over the network, and that a firewall exception for the WinRM service is "
            f"enabled and allows access from this computer. (No WinRM answer at {info.url}.)",
        )
    if isinstance(exc, TimeoutError):
        return ConnectTimeoutError(
            name,
            "The WinRM client cannot complete the operation within the time specified. Check if the machine "
            "name is valid and is reachable over the network and firewall exception for Windows Remote "
            "Management service is enabled.",
        )
    if isinstance(exc, WSManFaultError):
        reason = printable(str(exc.reason or exc.message or exc), 1000)
        code = exc.code or 0
        if opening and (code in INVALID_RESOURCE or "session configuration" in reason.lower()):
            return InvalidConfigurationNameError(name, info.configuration_name)
        if code in SHELL_NOT_FOUND:
            return SessionBrokenError(
                f"The session to {name} is Broken: the server no longer has its shell ({reason.strip()})",
                computer_name=name,
                reason=reason,
            )
        return ConnectionFailedError(name, reason, error_code=str(code) if code else "CannotConnect")
    if isinstance(exc, WinRMTransportError):
        text = printable((exc.response_text or "").strip(), 200)
        return ConnectionFailedError(
            name, f"The WinRM service answered with HTTP {exc.code}{': ' + text if text else ''}."
        )
    if isinstance(exc, InvalidPSRPOperation):
        return ConnectionFailedError(name, f"The server refused the session: {exc}")
    if isinstance(exc, ParseError) or (
        isinstance(exc, WinRMError) and "related id does not match" in str(exc).lower()
    ):
        what = (
            "is not an answer to the request that was sent"
            if isinstance(exc, WinRMError)
            else "is not valid WS-Management XML"
        )
        return ConnectionFailedError(
            name,
            f"The server's answer {what} ({printable(str(exc), 200)}). Check that {info.url} is a WinRM "
            "endpoint, and that no proxy or load balancer in between rewrites its answers.",
        )
    if isinstance(exc, ValueError):
        return InvalidOptionError(printable(str(exc), 500))
    return ConnectionFailedError(name, f"{type(exc).__name__}: {printable(str(exc), 500)}")
