"""Authentication and message encryption for one TCP connection (no sockets here).

WinRM's NTLM, Kerberos, Negotiate and CredSSP authenticate a *connection*, not a request:
the server (HTTP.sys) binds the security context, and with it the keys that seal every
message over plain HTTP, to the TCP connection it was negotiated on. A `ConnectionSecurity`
is therefore made for each new connection by `http.py`, steps the handshake tokens it is
given, and seals and unseals that connection's messages. Basic and certificate
authentication carry their credentials on every request instead.

pyspnego does the cryptography (its client contexts, ``wrap_winrm``/``unwrap_winrm``);
pypsrp's ``WinRMEncryption`` lays out the ``multipart/encrypted`` body Windows expects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["AuthSettings", "ConnectionSecurity", "channel_bindings_for", "HandshakeError"]

_TOKEN = re.compile(r"(Negotiate|Kerberos|NTLM|CredSSP)\s*([^,\s]*)", re.IGNORECASE)
_NEGOTIATE_FAMILY = ("negotiate", "ntlm", "kerberos", "credssp")
CERTIFICATE_AUTHORIZATION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"


class HandshakeError(Exception):
    """The server's answers did not complete the authentication (wrong credentials, an
    unsupported scheme, a token the context rejects)."""


@dataclass(frozen=True)
class AuthSettings:
    """What the connections of one session authenticate with (from `ConnectionInfo`)."""

    method: str  # negotiate, ntlm, kerberos, credssp, basic, certificate
    username: str | None
    password: str | None
    #: host name for the SPN (host/<name>)
    spn_host: str
    #: seal every message (NTLM/Kerberos/CredSSP over plain HTTP)
    encrypt: bool
    delegate: bool = False
    #: the service part of the SPN (``<service>/<spn_host>``)
    spn_service: str = "host"

    def __repr__(self) -> str:
        return (
            f"AuthSettings(method={self.method!r}, username={self.username!r}, password=<hidden>, "
            f"spn_host={self.spn_host!r}, encrypt={self.encrypt})"
        )

    @property
    def connection_based(self) -> bool:
        """Whether the server authenticates the connection (a handshake per TCP connection)."""
        return self.method in _NEGOTIATE_FAMILY


def channel_bindings_for(certificate_der: bytes | None) -> bytes | None:
    """The ``tls-server-end-point`` channel binding data (RFC 5929) of the server's TLS
    certificate: its hash with the certificate's own signature hash, SHA-256 instead of
    MD5/SHA-1 (as pypsrp and Windows compute it)."""
    if not certificate_der:
        return None
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(certificate_der)
    try:
        algorithm: Any = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return b"tls-server-end-point:" + digest.finalize()


class ConnectionSecurity:
    """The security state of one TCP connection (see the module docstring)."""

    def __init__(self, settings: AuthSettings, channel_bindings: bytes | None) -> None:
        self.settings = settings
        self._bindings = channel_bindings
        self._context: Any = None
        self._encryption: Any = None
        self._scheme = "CredSSP" if settings.method == "credssp" else "Negotiate"
        self.complete = not settings.connection_based

    # -- the handshake -----------------------------------------------------------------------
    def first_token(self) -> str:
        """The Authorization header that opens the handshake on a new connection."""
        import spnego
        import spnego.channel_bindings

        settings = self.settings
        cbt = (
            spnego.channel_bindings.GssChannelBindings(application_data=self._bindings)
            if self._bindings
            else None
        )
        context_req = spnego.ContextReq.default
        if settings.delegate:
            context_req |= spnego.ContextReq.delegate
        options = spnego.NegotiateOptions.wrapping_winrm if settings.encrypt else spnego.NegotiateOptions.none
        user: Any = settings.username
        password = settings.password
        if settings.method == "ntlm" and settings.username and password:
            user, password = _ntlm_hash(settings.username, password), None
        self._context = spnego.client(
            user,
            password,
            hostname=settings.spn_host,
            service=settings.spn_service,
            channel_bindings=cbt,
            context_req=context_req,
            protocol=settings.method,
            options=options,
        )
        token = self._context.step()
        if token is None:
            raise HandshakeError("the security package produced no token to start with")
        return self._header(token)

    def step(self, www_authenticate: str) -> str | None:
        """Feed the server's ``WWW-Authenticate`` answer; returns the next Authorization
        header, or None once the context is complete (or the server sent no token)."""
        if self._context is None:
            raise HandshakeError("the handshake was not started")
        match = _TOKEN.search(www_authenticate or "")
        if match is None or not match.group(2):
            if self._context.complete:
                self.complete = True
                return None
            raise HandshakeError("the server answered the handshake without a token")
        token = base64.b64decode(match.group(2))
        out = self._context.step(token)
        if self._context.complete:
            self.complete = True
            return None if not out else self._header(out)
        if not out:
            raise HandshakeError("the security package stopped half way through the handshake")
        return self._header(out)

    def finish(self, www_authenticate: str | None) -> None:
        """The server accepted the connection; a final token (Kerberos mutual authentication)
        may ride on that answer."""
        if self._context is not None and not self._context.complete and www_authenticate:
            self.step(www_authenticate)
        if self._context is not None:
            self.complete = bool(self._context.complete) or self.complete

    def _header(self, token: bytes) -> str:
        return f"{self._scheme} {base64.b64encode(token).decode('ascii')}"

    # -- per request -------------------------------------------------------------------------
    def request_authorization(self) -> str | None:
        """The Authorization header every request carries (Basic, certificate), else None."""
        method = self.settings.method
        if method == "basic":
            raw = f"{self.settings.username or ''}:{self.settings.password or ''}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        if method == "certificate":
            return CERTIFICATE_AUTHORIZATION
        return None

    @property
    def seals(self) -> bool:
        return self.settings.encrypt and self.settings.connection_based

    def _encryptor(self) -> Any:
        if self._encryption is None:
            from pypsrp.encryption import WinRMEncryption

            if self.settings.method == "credssp":
                protocol = WinRMEncryption.CREDSSP
            elif self.settings.method == "kerberos" and self._scheme.lower() == "kerberos":
                protocol = WinRMEncryption.KERBEROS
            else:
                protocol = WinRMEncryption.SPNEGO
            self._encryption = WinRMEncryption(self._context, protocol)
        return self._encryption

    def seal(self, message: bytes) -> tuple[str, bytes]:
        """``(Content-Type, body)`` of `message` sealed with this connection's context."""
        encryption = self._encryptor()
        content_type, payload = encryption.wrap_message(message)
        return f'{content_type};protocol="{encryption.protocol}";boundary="Encrypted Boundary"', payload

    def unseal(self, content_type: str, payload: bytes) -> bytes:
        match = re.search(r'boundary=["\']?([^"\';]+)', content_type)
        boundary = match.group(1) if match else "Encrypted Boundary"
        return bytes(self._encryptor().unwrap_message(payload, boundary))


#: NT hashes of the passwords NTLM used in this process, keyed by the user and an HMAC of the
#: password under a key of this process (no password is a key). pyspnego derives the LM and NT
#: hashes of a password on every new context, the DES of the LM hash (unused by NTLMv2) being
#: about a millisecond: a fleet authenticates thousands of connections with one credential.
_HASH_KEY = os.urandom(32)
_NT_HASHES: dict[tuple[str, bytes], str] = {}
_NT_LOCK = threading.Lock()


def _ntlm_hash(username: str, password: str) -> Any:
    """pyspnego's NTLMHash credential for `username` and `password` (NT hash only)."""
    import spnego
    from spnego._ntlm_raw.crypto import ntowfv1

    key = (username, hmac.new(_HASH_KEY, password.encode("utf-8"), hashlib.sha256).digest())
    with _NT_LOCK:
        nt_hash = _NT_HASHES.get(key)
    if nt_hash is None:
        nt_hash = base64.b16encode(ntowfv1(password)).decode("ascii")
        with _NT_LOCK:
            if len(_NT_HASHES) > 32:
                _NT_HASHES.clear()
            _NT_HASHES[key] = nt_hash
    return spnego.NTLMHash(username=username, nt_hash=nt_hash)
