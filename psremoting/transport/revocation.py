"""Revocation checking of HTTPS server certificates, where the certificate names a CRL.

A certificate with a CRL distribution point (``http://...``) is checked against that CRL, as
Windows does unless -SkipRevocationCheck: the transport fetches the CRL once per session,
hands it to OpenSSL (which verifies its signature against the certificate's issuer, found
in the chain the server sent) and connects again with ``VERIFY_CRL_CHECK_LEAF``. A revoked
certificate is refused; a CRL that cannot be fetched refuses the connection too, saying how to
skip the check. OCSP responders (Authority Information Access) are not asked.
"""

from __future__ import annotations

import urllib.request

from psremoting.protocol.errors import CertificateError
from psremoting.transport.trust import host_key

__all__ = [
    "CertificateRevokedError",
    "RevocationUnknownError",
    "crl_urls",
    "fetch_crl",
    "REVOKED",
    "CRL_PROBLEMS",
]

#: OpenSSL verify codes: the certificate is revoked; the CRL could not be used.
REVOKED = 23
CRL_PROBLEMS = frozenset(
    {3, 8, 11, 12, 15, 16, 17}
)  # unable to get / bad signature / not yet valid / expired
_MAX_CRL = 10 * 1024 * 1024
_SKIP = (
    "Only if you accept the risk, skip the check: -SkipRevocationCheck in New-PSSessionOption, "
    "SessionOption(skip_revocation_check=True) in Python."
)


class CertificateRevokedError(CertificateError):
    def __init__(self, computer_name: str, port: int) -> None:
        super().__init__(
            computer_name,
            f"The server certificate on the destination computer ({host_key(computer_name, port)}) has the "
            "following errors: The SSL certificate has been revoked by the certificate authority that issued "
            "it. Do not connect until the server has a new certificate.",
        )


class RevocationUnknownError(CertificateError):
    def __init__(self, computer_name: str, port: int, why: str) -> None:
        super().__init__(
            computer_name,
            f"The server certificate on the destination computer ({host_key(computer_name, port)}) has the "
            f"following errors: The SSL certificate could not be checked for revocation ({why}). The server "
            f"used to check for revocation might be unreachable from this computer. {_SKIP}",
        )


def crl_urls(certificate_der: bytes) -> list[str]:
    """The ``http(s)://`` CRL distribution points a certificate names."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(certificate_der)
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except (ValueError, x509.ExtensionNotFound):
        return []
    urls = []
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(
                ("http://", "https://")
            ):
                urls.append(name.value)
    return urls


def fetch_crl(urls: list[str], timeout: float) -> str:
    """The first CRL of `urls` that can be fetched, in PEM (what OpenSSL loads); raises
    OSError/ValueError with the reason otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    problem: Exception = ValueError("no CRL distribution point over HTTP")
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                data = answer.read(_MAX_CRL + 1)
            if len(data) > _MAX_CRL:
                raise ValueError(f"the CRL at {url} is larger than {_MAX_CRL} bytes")
            try:
                crl = x509.load_der_x509_crl(data)
            except ValueError:
                crl = x509.load_pem_x509_crl(data)
            return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")
        except (OSError, ValueError) as exc:
            problem = exc
    raise problem
