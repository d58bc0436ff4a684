"""Authentication for the endpoint emulator (the sealing layout itself is in ``encryption.py``).

The emulator is a test double of a Windows WinRM listener, so this module answers the way
Windows does:

* ``Basic``: the ``Authorization: Basic`` header on every request. Refused over plain HTTP
  unless the listener allows unencrypted traffic (Windows' ``AllowUnencrypted=false``).
* ``Negotiate`` (SPNEGO, or a raw NTLM token sent under the ``Negotiate`` scheme, as pypsrp
  does with ``auth="ntlm"``): a multi-leg exchange on one keep-alive TCP connection, done by
  pyspnego's *acceptor*. Once the connection is authenticated, over HTTP every SOAP body travels
  as ``multipart/encrypted`` (``application/HTTP-SPNEGO-session-encrypted``), sealed with the
  security context; over HTTPS the body is plain and TLS protects it, and the channel bindings
  (``tls-server-end-point``, RFC 5929) tie the authentication to the server certificate.
* ``CredSSP``: the client's TLS-in-HTTP exchange (MS-CSSP) under the ``CredSSP`` scheme, done
  by pyspnego's CredSSP acceptor (its inner NTLM/SPNEGO logon resolves users as below). Its
  last leg delivers the user's password to the server: the *delegated credential* with which
  the session's second hop (``Invoke-Command -ComputerName`` on the server) logs on
  (:attr:`ConnectionAuth.delegated`, handed to the engine through :func:`delegation_scope`).
  Over HTTP the messages are sealed with the CredSSP TLS channel
  (``application/HTTP-CredSSP-session-encrypted``, in 16 KiB parts as Windows splits them).
* ``Kerberos`` (raw, or inside SPNEGO): accepted through the same acceptor when the Python
  Kerberos bindings are installed and the process has a service keytab (``KRB5_KTNAME``), as
  for any GSSAPI service; :mod:`psremoting.emulator.kerberos` makes a test realm for that.

The server creates one :class:`AuthPolicy` per listener and one :class:`ConnectionAuth` per
TCP connection: :meth:`ConnectionAuth.accept` turns a request's headers and body into an
:class:`AuthOutcome` (status, headers and the plaintext SOAP), and :meth:`ConnectionAuth.wrap`
seals the response the same way the request was sealed.

Passwords never leave memory: pyspnego's NTLM acceptor normally reads users from a file named by
the ``NTLM_USER_FILE`` environment variable; this module instead hands it the users of the
listener that is stepping the context, through a context variable read by two small hooks
installed once in ``spnego._ntlm`` (see :func:`user_scope`): thread-safe, no environment
variable, no file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import logging
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import spnego
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import ErrorCode, SpnegoError

from psremoting.emulator.encryption import (
    BOUNDARY,
    SPNEGO_PROTOCOL,
    mime_parameter,
    seal_message,
    unseal_message,
)

log = logging.getLogger(__name__)

__all__ = ["AuthOutcome", "AuthPolicy", "ConnectionAuth", "SOAP_CONTENT_TYPE", "certificate_channel_bindings"]

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
_KNOWN_METHODS = ("basic", "ntlm", "negotiate", "kerberos", "certificate", "credssp")
CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
#: Windows seals CredSSP messages in parts of at most 16 KiB (``multipart/x-multi-encrypted``).
_CREDSSP_CHUNK = 16384
#: STATUS_ACCOUNT_LOCKED_OUT, STATUS_ACCOUNT_DISABLED: what Windows answers a CredSSP logon with.
_ACCOUNT_STATUS = {"locked": 0xC0000234, "disabled": 0xC0000072}
#: The Authorization header of WinRM certificate authentication (the TLS client certificate
#: is the credential): WS-Management's mutual-authentication security profile.
CERTIFICATE_AUTHORIZATION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
_MAX_AUTH_HEADER = 64 * 1024


PasswordLookup = Callable[[str], "str | None"]
_current_lookup: contextvars.ContextVar[PasswordLookup | None] = contextvars.ContextVar(
    "psremoting_emulator_ntlm_users", default=None
)
_hooks_lock = threading.Lock()
_hooks_installed = False
_STORE_SENTINEL = "<psremoting emulator users>"


def bare_user_name(username: str) -> str:
    """The user part of ``user``, ``.\\user``, ``COMPUTER\\user`` or ``user@domain``."""
    name = username.rpartition("\\")[2]
    return name.partition("@")[0] if "@" in name else name


def _install_ntlm_hooks() -> None:
    """Let pyspnego's NTLM acceptor find users through :data:`_current_lookup`.

    pyspnego (0.11/0.12) looks users up with two module functions of ``spnego._ntlm``:
    ``_get_credential_file()`` (is there a store?) and ``_get_credential(store, domain, user)``
    (the LM and NT hashes). The hooks answer from the lookup of the listener that is stepping
    the context in this thread, and defer to the originals everywhere else, so other users of
    pyspnego in the process are not affected. Installed once, under a lock.
    """
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        from spnego import _ntlm
        from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1

        if not (
            callable(getattr(_ntlm, "_get_credential_file", None))
            and callable(getattr(_ntlm, "_get_credential", None))
        ):
            raise RuntimeError(
                "this pyspnego version looks up NTLM users differently; the emulator's NTLM acceptor "
                "supports pyspnego 0.11 and 0.12 (pip install 'pyspnego>=0.11,<0.13')"
            )

        original_file = _ntlm._get_credential_file
        original_credential = _ntlm._get_credential

        def get_credential_file() -> str | None:
            if _current_lookup.get() is not None:
                return _STORE_SENTINEL
            return original_file()

        def get_credential(
            store: str | None, domain: str | None = None, username: str | None = None
        ) -> tuple[str | None, str | None, bytes, bytes]:
            lookup = _current_lookup.get()
            if store != _STORE_SENTINEL or lookup is None:
                return original_credential(store, domain, username)
            password = lookup(username or "")
            if password is None:
                raise SpnegoError(ErrorCode.failure, context_msg="the user is not known to this emulator")
            return domain or None, username, lmowfv1(password), ntowfv1(password)

        _ntlm._get_credential_file = get_credential_file
        _ntlm._get_credential = get_credential
        _hooks_installed = True


@dataclass(frozen=True)
class DelegatedCredential:
    """What a client delegated to the server: a password (CredSSP) or a forwarded Kerberos
    ticket (``ticket`` is the GSSAPI credential; ``password`` is then None)."""

    username: str
    password: str | None = field(default=None, repr=False)
    via: str = "CredSSP"
    ticket: Any = field(default=None, repr=False, compare=False)

    def kerberos_logon(self, computer: str) -> bool:
        """With a forwarded ticket: whether the KDC gives it a ticket for `computer` (the
        second hop's logon, done for real against the realm)."""
        if self.ticket is None:
            return False
        from psremoting.emulator.kerberos import service_ticket

        return service_ticket(self.ticket, computer)


_current_delegation: contextvars.ContextVar[DelegatedCredential | None] = contextvars.ContextVar(
    "psremoting_emulator_delegation", default=None
)


@contextlib.contextmanager
def delegation_scope(credential: DelegatedCredential | None) -> Iterator[None]:
    """While a request is answered: the credential its connection delegated (or None), which a
    shell created by the request keeps for its second hop (`current_delegation`)."""
    token = _current_delegation.set(credential)
    try:
        yield
    finally:
        _current_delegation.reset(token)


def current_delegation() -> DelegatedCredential | None:
    return _current_delegation.get()


@contextlib.contextmanager
def user_scope(lookup: PasswordLookup) -> Iterator[None]:
    """Within this block (and thread), pyspnego's NTLM acceptor resolves users with ``lookup``."""
    _install_ntlm_hooks()
    token = _current_lookup.set(lookup)
    try:
        yield
    finally:
        _current_lookup.reset(token)


@dataclass
class AuthOutcome:
    """What the server should do with one HTTP request.

    ``accepted`` requests carry the plaintext SOAP in ``body`` (``b""`` for a bare
    authentication round trip, which is answered with an empty 200). Others are answered with
    ``status`` (401 to challenge or deny, 400/415 for bodies that cannot be used) and ``headers``.
    """

    accepted: bool
    username: str | None
    body: bytes
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)


def certificate_channel_bindings(certificate_der: bytes) -> bytes:
    """Return the ``tls-server-end-point`` channel binding data of a DER certificate.

    RFC 5929 section 4.1: the certificate is hashed with the hash of its signature algorithm,
    except that MD5 and SHA-1 (and unknown algorithms) are replaced by SHA-256. This is what
    pypsrp computes from the certificate it sees, so both sides bind to the same value.
    """
    cert = x509.load_der_x509_certificate(certificate_der)
    try:
        algorithm: hashes.HashAlgorithm | None = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return b"tls-server-end-point:" + digest.finalize()


class AuthPolicy:
    """The authentication settings of one listener (Windows' ``winrm/config/service/auth``).

    ``methods``: any of ``basic``, ``ntlm``, ``negotiate``, ``kerberos`` (case-insensitive).
    ``users``: user name -> password. ``https``: whether the listener is TLS.
    ``allow_unencrypted``: Windows' ``AllowUnencrypted``; when False, plain SOAP over HTTP is
    refused (Basic included), so HTTP clients must seal their messages.
    """

    def __init__(
        self,
        methods: Sequence[str],
        users: Mapping[str, str],
        *,
        https: bool,
        allow_unencrypted: bool,
    ) -> None:
        wanted = [m.strip().lower() for m in methods]
        unknown = [m for m in wanted if m not in _KNOWN_METHODS]
        if unknown:
            raise ValueError(
                f"unknown authentication method(s) {', '.join(unknown)}: choose from {', '.join(_KNOWN_METHODS)}"
            )
        if not wanted:
            raise ValueError(
                "at least one authentication method is needed (basic, ntlm, negotiate, kerberos)"
            )
        self.methods: tuple[str, ...] = tuple(dict.fromkeys(wanted))
        self._users: dict[str, tuple[str, str]] = {
            bare_user_name(u).lower(): (u, p) for u, p in users.items()
        }
        self.https = https
        self.allow_unencrypted = allow_unencrypted
        #: Client certificate mapping (WSMan:\localhost\ClientCertificate): certificate UPN -> user.
        self.certificate_users: dict[str, str] = {}
        #: Accounts that may not log on: user name (lower case) -> "locked" or "disabled".
        self.account_states: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"AuthPolicy(methods={self.methods!r}, users=<{len(self._users)} user(s)>, https={self.https}, "
            f"allow_unencrypted={self.allow_unencrypted})"
        )

    @property
    def negotiate_enabled(self) -> bool:
        """Whether the ``Negotiate`` scheme (NTLM and/or Kerberos) is offered."""
        return any(m in self.methods for m in ("ntlm", "negotiate", "kerberos"))

    def challenge_headers(self) -> list[tuple[str, str]]:
        """The ``WWW-Authenticate`` headers of a 401, one per enabled scheme, as Windows sends them."""
        headers: list[tuple[str, str]] = []
        if self.negotiate_enabled:
            headers.append(("WWW-Authenticate", "Negotiate"))
        if "credssp" in self.methods:
            headers.append(("WWW-Authenticate", "CredSSP"))
        if "kerberos" in self.methods:
            headers.append(("WWW-Authenticate", "Kerberos"))
        if "basic" in self.methods:
            headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return headers

    def lookup(self, username: str) -> tuple[str, str] | None:
        """Return ``(configured name, password)`` for a user name in any Windows form, or None."""
        return self._users.get(bare_user_name(username).lower())

    def account_state(self, username: str) -> str | None:
        """ "locked" or "disabled" for an account that may not log on, else None."""
        return self.account_states.get(bare_user_name(username).lower())

    def password_for(self, username: str) -> str | None:
        """The password of ``username`` (any form), for the NTLM acceptor; None for strangers.
        A locked or disabled account fails the logon with Windows' NTSTATUS for it, which a
        CredSSP acceptor passes on to the client (NTLM and Basic only ever answer 401)."""
        state = self.account_state(username)
        if state is not None:
            error = SpnegoError(ErrorCode.failure, context_msg=f"the account is {state}")
            error._SSPI_CODE = _ACCOUNT_STATUS[state]  # type: ignore[attr-defined]  # its nt_status
            raise error
        found = self.lookup(username)
        return found[1] if found else None

    def new_connection(
        self, peer_certificate_der: bytes | None = None, client_certificate_der: bytes | None = None
    ) -> ConnectionAuth:
        """Start the authentication state of a new TCP connection.

        ``peer_certificate_der`` is the server's own certificate on an HTTPS listener; it gives
        the channel bindings that NTLM clients send over TLS. ``client_certificate_der`` is
        the certificate the client presented in the TLS handshake (already verified against
        the client CA), mapped to a user for certificate authentication.
        """
        bindings = certificate_channel_bindings(peer_certificate_der) if peer_certificate_der else None
        connection = ConnectionAuth(self, bindings)
        if client_certificate_der and "certificate" in self.methods:
            from psremoting.emulator.tls import certificate_upn

            upn = (certificate_upn(client_certificate_der) or "").lower()
            connection.certificate_user = self.certificate_users.get(upn)
        return connection


class ConnectionAuth:
    """The authentication state of one TCP connection (requests on it arrive one at a time)."""

    def __init__(self, policy: AuthPolicy, channel_binding_data: bytes | None) -> None:
        self._policy = policy
        self._bindings = channel_binding_data
        self._context: Any = None  # spnego ContextProxy while a handshake runs or after it
        self._scheme = "Negotiate"
        self._session_user: str | None = None  # set once Negotiate completed on this connection
        self._sealed_protocol: str | None = None  # protocol of the last sealed request, None if plain
        self.certificate_user: str | None = None  # the user the client certificate maps to
        #: The credential the client delegated on this connection (CredSSP, Kerberos).
        self.delegated: DelegatedCredential | None = None

    def __repr__(self) -> str:
        return f"ConnectionAuth(user={self._session_user!r}, sealed={self._sealed_protocol is not None})"

    # -- the request side -------------------------------------------------------------------
    def accept(self, headers: Mapping[str, str], body: bytes) -> AuthOutcome:
        """Authenticate one request and return its plaintext SOAP, or the answer to send instead."""
        lowered = {k.lower(): v for k, v in headers.items()}
        self._sealed_protocol = None
        authorization = lowered.get("authorization", "").strip()
        if authorization == CERTIFICATE_AUTHORIZATION and "certificate" in self._policy.methods:
            if self.certificate_user is None:  # no certificate, or one no user is mapped to
                return AuthOutcome(False, None, b"", 403, [])
            return self._accept_body(self.certificate_user, lowered, body, sealable=False)
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            scheme_l = scheme.lower()
            if scheme_l == "basic" and "basic" in self._policy.methods:
                return self._accept_basic(credentials.strip(), lowered, body)
            if scheme_l in ("negotiate", "kerberos", "ntlm") and self._policy.negotiate_enabled:
                return self._accept_negotiate(scheme, credentials.strip(), lowered, body)
            if scheme_l == "credssp" and "credssp" in self._policy.methods:
                return self._accept_negotiate("CredSSP", credentials.strip(), lowered, body)
            return self._challenge()
        if self._session_user is not None:
            return self._accept_body(self._session_user, lowered, body, sealable=True)
        if (
            lowered.get("content-type", "")
            .lower()
            .startswith(("multipart/encrypted", "multipart/x-multi-encrypted"))
        ):
            # A sealed message on a connection that never authenticated (a client reusing the
            # keys of a connection the server dropped): HTTP.sys answers 400 Bad Request.
            return AuthOutcome(False, None, b"", 400, [])
        return self._challenge()

    def _challenge(self) -> AuthOutcome:
        return AuthOutcome(False, None, b"", 401, self._policy.challenge_headers())

    def _accept_basic(self, credentials: str, headers: Mapping[str, str], body: bytes) -> AuthOutcome:
        if not self._policy.https and not self._policy.allow_unencrypted:
            # Windows answers 401 to Basic over HTTP while AllowUnencrypted is false.
            return self._challenge()
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return self._challenge()
        username, sep, password = decoded.partition(":")
        found = self._policy.lookup(username) if sep else None
        if found is None or found[1] != password or self._policy.account_state(username):
            return self._challenge()
        return self._accept_body(found[0], headers, body, sealable=False)

    def _accept_negotiate(
        self, scheme: str, credentials: str, headers: Mapping[str, str], body: bytes
    ) -> AuthOutcome:
        if len(credentials) > _MAX_AUTH_HEADER:
            return self._fail_handshake()
        try:
            token = base64.b64decode(credentials, validate=True)
        except binascii.Error:
            return self._fail_handshake()
        if not token:
            return self._fail_handshake()
        try:
            if self._context is None or self._context.complete:
                # A new handshake (also a re-authentication on an authenticated connection).
                self._session_user = None
                self.delegated = None
                self._scheme = scheme
                self._context = self._new_acceptor(token)
            with user_scope(self._policy.password_for):
                out_token = self._context.step(token)
        except Exception as exc:  # any token the acceptor rejects is a failed logon
            # Wrong password, unknown user, bad channel bindings, a malformed or hostile token,
            # Kerberos without a keytab: all are a 401 to the client, as on Windows.
            log.debug("authentication failed: %s", type(exc).__name__)
            return self._fail_handshake()
        if not self._context.complete:
            if not out_token:
                return self._fail_handshake()
            return AuthOutcome(False, None, b"", 401, [("WWW-Authenticate", self._token_header(out_token))])
        principal = self._context.client_principal or ""
        found = self._policy.lookup(principal)
        user = found[0] if found else (bare_user_name(principal) or None)
        if self._scheme == "CredSSP":
            user = self._credssp_user()
            if user is None:
                return self._fail_handshake()
        else:
            from psremoting.emulator.kerberos import delegated_ticket

            ticket = delegated_ticket(self._context)
            if ticket is not None:  # the client asked for delegation: a forwarded TGT
                self.delegated = DelegatedCredential(principal or str(user), via="Kerberos", ticket=ticket)
        self._session_user = user
        outcome = self._accept_body(user, headers, body, sealable=True)
        if out_token:
            outcome.headers.append(("WWW-Authenticate", self._token_header(out_token)))
        return outcome

    def _credssp_user(self) -> str | None:
        """The user a completed CredSSP exchange delegated: the password it sent must be the
        user's (Windows logs on with it), and is kept for the second hop."""
        creds = self._context.get_extra_info("client_credential")
        username = getattr(creds, "username", None)
        password = getattr(creds, "password", None)
        found = self._policy.lookup(username or "") if username else None
        if found is None or password is None or found[1] != password or self._policy.account_state(found[0]):
            return None
        domain = getattr(creds, "domain_name", "") or ""
        self.delegated = DelegatedCredential(f"{domain}\\{username}" if domain else found[0], password)
        return found[0]

    def _new_acceptor(self, first_token: bytes) -> Any:
        if self._scheme == "CredSSP":
            with user_scope(self._policy.password_for):
                return spnego.server(
                    hostname="unspecified", service="host", protocol="credssp",
                    options=spnego.NegotiateOptions.wrapping_winrm,
                )  # fmt: skip
        bindings = GssChannelBindings(application_data=self._bindings) if self._bindings else None
        raw_ntlm = first_token.startswith(b"NTLMSSP\x00")
        options = spnego.NegotiateOptions.wrapping_winrm
        options |= spnego.NegotiateOptions.use_ntlm if raw_ntlm else spnego.NegotiateOptions.use_negotiate
        with user_scope(self._policy.password_for):
            return spnego.server(
                hostname="unspecified",
                service="host",
                channel_bindings=bindings,
                protocol="ntlm" if raw_ntlm else "negotiate",
                options=options,
            )

    def _fail_handshake(self) -> AuthOutcome:
        self._context = None
        self._session_user = None
        return self._challenge()

    def _token_header(self, token: bytes) -> str:
        return f"{self._scheme} {base64.b64encode(token).decode('ascii')}"

    def _accept_body(
        self, user: str | None, headers: Mapping[str, str], body: bytes, *, sealable: bool
    ) -> AuthOutcome:
        content_type = headers.get("content-type", "")
        if content_type.lower().startswith(("multipart/encrypted", "multipart/x-multi-encrypted")):
            if not sealable or self._context is None:
                return AuthOutcome(False, user, b"", 400, [])
            protocol = mime_parameter(content_type, "protocol") or SPNEGO_PROTOCOL
            boundary = mime_parameter(content_type, "boundary") or BOUNDARY
            try:
                plain = unseal_message(self._context, body, boundary)
            except (SpnegoError, ValueError, struct.error, IndexError):
                return AuthOutcome(False, user, b"", 400, [])
            self._sealed_protocol = protocol
            return AuthOutcome(True, user, plain, 200, [])
        if body and not self._policy.https and not self._policy.allow_unencrypted:
            # Plain SOAP over HTTP while AllowUnencrypted is false: Windows keeps answering 401.
            return AuthOutcome(False, None, b"", 401, self._policy.challenge_headers())
        if (
            body
            and content_type
            and not content_type.lower().startswith(("application/soap+xml", "text/xml"))
        ):
            return AuthOutcome(False, user, b"", 415, [])
        return AuthOutcome(True, user, body, 200, [])

    def forget(self) -> None:
        """Drop this connection's logon (the fault knob `reject_logons`)."""
        self._context = None
        self._session_user = None
        self.delegated = None

    # -- the response side ------------------------------------------------------------------
    def wrap(self, body: bytes) -> tuple[bytes, str]:
        """Seal a response body if its request was sealed; return ``(body, content type)``."""
        if self._sealed_protocol is None or self._context is None or not body:
            return body, SOAP_CONTENT_TYPE
        protocol = self._sealed_protocol
        if protocol.lower() == CREDSSP_PROTOCOL.lower() and len(body) > _CREDSSP_CHUNK:
            end = f"--{BOUNDARY}--\r\n".encode("ascii")
            chunks = [body[i : i + _CREDSSP_CHUNK] for i in range(0, len(body), _CREDSSP_CHUNK)]
            sealed = (
                b"".join(seal_message(self._context, c, protocol).removesuffix(end) for c in chunks) + end
            )
            return sealed, f'multipart/x-multi-encrypted;protocol="{protocol}";boundary="{BOUNDARY}"'
        sealed = seal_message(self._context, body, protocol)
        content_type = f'multipart/encrypted;protocol="{protocol}";boundary="{BOUNDARY}"'
        return sealed, content_type
