"""What a session trusts in the server's TLS certificate (`http.py` asks, with no policy of its own).

`TLSTrust` holds the OpenSSL contexts of one transport and decides, per connection, what
OpenSSL checks and what is checked afterwards, as PowerShell keeps them apart:

- the CA (-SkipCACheck turns it off): OpenSSL verifies the chain against ``ca_file`` or the
  system's CAs. A certificate no trusted CA signed (self-signed, a private CA) is then decided
  by its SHA-256 fingerprint (`trust.check_certificate`: known_hosts, the user's answer), as
  SSH decides host keys; later connections of the session compare the fingerprint only;
- the host name (-SkipCNCheck): checked here against the certificate's names, so that a
  mismatch can list them (`trust.check_host_name`);
- a pinned fingerprint (``--cert-fingerprint``): only that certificate, whatever signed it;
- revocation (-SkipRevocationCheck): a CA-signed certificate that names a CRL is checked
  against it (`revocation.py`): the CRL is fetched once, and the connection made again with
  OpenSSL checking it; one that names only an OCSP responder is asked about there, once.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from dataclasses import dataclass

from psremoting.transport.guard import printable
from psremoting.transport.revocation import (
    CRL_PROBLEMS,
    REVOKED,
    CertificateRevokedError,
    RevocationUnknownError,
    crl_urls,
    fetch_crl,
    ocsp_status,
    ocsp_urls,
)
from psremoting.transport.trust import check_certificate, check_host_name, get_confirm

__all__ = ["TLSSettings", "TLSTrust"]

#: OpenSSL's verify codes for "no trusted CA signed this" (self-signed, private CA): the
#: cases trust on first use is for. An expired or revoked certificate stays an error.
_UNTRUSTED_ISSUER = frozenset({2, 18, 19, 20, 21})


@dataclass(frozen=True)
class TLSSettings:
    """How the server's certificate is checked (-SkipCACheck and -SkipCNCheck apart).

    verify: the certificate must chain to a trusted CA (`ca_file`, else the system's), or be
    trusted in known_hosts (trust on first use). check_hostname: it must be valid for the
    name connected to. pinned: only the certificate with this SHA-256 fingerprint is accepted.
    check_revocation: a CA-signed certificate is checked against the CRL it names.
    """

    verify: bool
    check_hostname: bool
    ca_file: str | None
    cert_file: str | None = None
    key_file: str | None = None
    pinned: str | None = None
    trust_on_first_use: bool = True
    check_revocation: bool = True


class TLSTrust:
    """The trust decisions of one transport's connections (see the module docstring)."""

    def __init__(
        self, settings: TLSSettings | None, *, computer_name: str, host: str, port: int, timeout: float
    ) -> None:
        self.settings = settings or TLSSettings(verify=True, check_hostname=True, ca_file=None)
        self.computer_name, self.host, self.port = computer_name, host, port
        self._timeout = timeout
        self._verified = self._context(verify=True)
        self._unverified = self._context(verify=False)
        #: The certificate is trusted by its fingerprint, not by a CA.
        self.by_fingerprint = False
        self._with_crl: ssl.SSLContext | None = None
        self._ocsp_good: bytes | None = None
        self._lock = threading.Lock()

    def _context(self, *, verify: bool) -> ssl.SSLContext:
        tls = self.settings
        context = ssl.create_default_context(cafile=tls.ca_file) if verify else ssl.create_default_context()
        context.check_hostname = False  # checked in `accept`, which can then name what it found
        if not verify:
            context.verify_mode = ssl.CERT_NONE
        if tls.cert_file:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        return context

    @property
    def context(self) -> ssl.SSLContext:
        """The context new connections use."""
        tls = self.settings
        if not tls.verify or tls.pinned or self.by_fingerprint:
            return self._unverified
        return self._with_crl or self._verified

    def retry_after(self, exc: ssl.SSLCertVerificationError) -> bool:
        """OpenSSL refused the certificate: raise the error that says why, or return True when
        it is one to decide by fingerprint (connect again with `context`)."""
        if exc.verify_code == REVOKED:
            raise CertificateRevokedError(self.computer_name, self.port) from None
        if exc.verify_code in CRL_PROBLEMS:
            why = str(exc.verify_message or "the CRL is not usable")
            raise RevocationUnknownError(self.computer_name, self.port, why) from None
        tls = self.settings
        if tls.verify and tls.trust_on_first_use and exc.verify_code in _UNTRUSTED_ISSUER:
            self.by_fingerprint = True
            return True
        return False

    def accept(self, certificate_der: bytes) -> bool:
        """Check what OpenSSL was not asked to (a pin, known_hosts, the host name); raise when
        the certificate is not trusted. True: connect again (the CRL is now loaded)."""
        tls = self.settings
        if tls.pinned:
            check_certificate(self.computer_name, self.port, certificate_der, pinned=tls.pinned)
            return False
        if self.by_fingerprint:
            with self._lock:  # one question at a time, however many connections
                check_certificate(self.computer_name, self.port, certificate_der, confirm=get_confirm())
            return False
        if tls.check_hostname:
            check_host_name(self.computer_name, self.port, certificate_der, self.host)
        if not (tls.verify and tls.check_revocation):
            return False
        if self._with_crl is None and crl_urls(certificate_der):
            self._load_crl(certificate_der)
            return True
        if not crl_urls(certificate_der) and ocsp_urls(certificate_der):
            self._ask_ocsp(certificate_der)
        return False

    def _ask_ocsp(self, certificate_der: bytes) -> None:
        """The OCSP responder's answer for this certificate, asked once per session."""
        with self._lock:
            if self._ocsp_good == certificate_der:
                return
        try:
            trusted = self._verified.get_ca_certs(binary_form=True)
            status = ocsp_status(certificate_der, trusted, timeout=min(self._timeout, 15.0))
        except (OSError, ValueError) as exc:
            raise RevocationUnknownError(self.computer_name, self.port, printable(str(exc), 200)) from None
        if status == "revoked":
            raise CertificateRevokedError(self.computer_name, self.port)
        with self._lock:
            self._ocsp_good = certificate_der

    def _load_crl(self, certificate_der: bytes) -> None:
        try:
            crl = fetch_crl(crl_urls(certificate_der), timeout=min(self._timeout, 15.0))
        except (OSError, ValueError) as exc:
            raise RevocationUnknownError(self.computer_name, self.port, printable(str(exc), 200)) from None
        context = self._context(verify=True)
        with tempfile.NamedTemporaryFile("w", suffix=".crl.pem", encoding="ascii") as crl_file:
            crl_file.write(crl)  # OpenSSL loads CRLs from a file only (cadata takes certificates)
            crl_file.flush()
            context.load_verify_locations(cafile=crl_file.name)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        with self._lock:
            self._with_crl = context
