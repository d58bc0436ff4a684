"""Revocation checking of HTTPS server certificates, where the certificate names a CRL.

A certificate with a CRL distribution point (``http://...``) is checked against that CRL, as
Windows does unless -SkipRevocationCheck: the transport fetches the CRL once per session,
hands it to OpenSSL (which verifies its signature against the certificate's issuer, found
in the chain the server sent) and connects again with ``VERIFY_CRL_CHECK_LEAF``. A
certificate that names no CRL but an OCSP responder (Authority Information Access) is asked
about there (`ocsp_status`): its issuer is found among the trusted CAs, or fetched from the
certificate's CA Issuers address, and must have signed both the certificate and the answer.
A revoked certificate is refused; a check that cannot be made refuses the connection too,
saying how to skip it.
"""

from __future__ import annotations

import urllib.request

from cryptography.exceptions import InvalidSignature

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


def _access(certificate_der: bytes, method: str) -> list[str]:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    wanted = {
        "ocsp": AuthorityInformationAccessOID.OCSP,
        "issuers": AuthorityInformationAccessOID.CA_ISSUERS,
    }[method]
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (ValueError, x509.ExtensionNotFound):
        return []
    return [
        d.access_location.value
        for d in access
        if d.access_method == wanted
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and d.access_location.value.lower().startswith(("http://", "https://"))
    ]


def ocsp_urls(certificate_der: bytes) -> list[str]:
    """The ``http(s)://`` OCSP responders a certificate names (Authority Information Access)."""
    return _access(certificate_der, "ocsp")


def _fetch(url: str, timeout: float, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/ocsp-request"} if body else {}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        data = bytes(answer.read(_MAX_CRL + 1))
    if len(data) > _MAX_CRL:
        raise ValueError(f"the answer of {url} is larger than {_MAX_CRL} bytes")
    return data


def _issuer(leaf: object, trusted_der: list[bytes], timeout: float) -> object:
    """The certificate that signed `leaf`: a trusted CA, else the one its CA Issuers address gives."""
    from cryptography import x509

    candidates = [x509.load_der_x509_certificate(d) for d in trusted_der]
    for url in _access(leaf.public_bytes(_der()), "issuers"):  # type: ignore[attr-defined]
        data = _fetch(url, timeout)
        try:
            candidates.append(x509.load_der_x509_certificate(data))
        except ValueError:
            candidates.append(x509.load_pem_x509_certificate(data))
    for candidate in candidates:
        if candidate.subject == leaf.issuer:  # type: ignore[attr-defined]
            try:
                leaf.verify_directly_issued_by(candidate)  # type: ignore[attr-defined]
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate
    raise ValueError("the certificate's issuer is not among the trusted certificate authorities")


def _der() -> object:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER


def _verify_signature(public_key: object, signature: bytes, data: bytes, algorithm: object) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), algorithm)  # type: ignore[arg-type]
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(algorithm))  # type: ignore[arg-type]
    else:
        public_key.verify(signature, data)  # type: ignore[attr-defined]  # Ed25519/Ed448


def ocsp_status(certificate_der: bytes, trusted_der: list[bytes], timeout: float) -> str:
    """``"good"`` or ``"revoked"``, as the certificate's OCSP responder answers, its answer
    signed by the issuer (or by a responder the issuer delegated with the OCSP-signing usage);
    raises OSError/ValueError when no trustworthy answer could be had."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtendedKeyUsageOID

    leaf = x509.load_der_x509_certificate(certificate_der)
    issuer: x509.Certificate = _issuer(leaf, trusted_der, timeout)  # type: ignore[assignment]
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()
    problem: Exception = ValueError("no OCSP responder over HTTP")
    for url in ocsp_urls(certificate_der):
        try:
            answer = ocsp.load_der_ocsp_response(_fetch(url, timeout, request.public_bytes(_der())))  # type: ignore[arg-type]
            if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
                raise ValueError(f"the OCSP responder answered {answer.response_status.name.lower()}")
            signer = issuer
            for delegated in answer.certificates:  # a responder the issuer delegated
                delegated.verify_directly_issued_by(issuer)
                usage = delegated.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
                if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
                    raise ValueError("the OCSP answer is signed by a certificate not meant for it")
                signer = delegated
            _verify_signature(signer.public_key(), answer.signature, answer.tbs_response_bytes,
                              answer.signature_hash_algorithm)  # fmt: skip
            if answer.serial_number != leaf.serial_number:
                raise ValueError("the OCSP answer is about another certificate")
            now = datetime.datetime.now(datetime.timezone.utc)
            if answer.next_update_utc is not None and answer.next_update_utc < now - datetime.timedelta(
                minutes=5
            ):
                raise ValueError("the OCSP answer is out of date")
            if answer.certificate_status == ocsp.OCSPCertStatus.REVOKED:
                return "revoked"
            if answer.certificate_status == ocsp.OCSPCertStatus.GOOD:
                return "good"
            raise ValueError("the OCSP responder does not know the certificate")
        except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound) as exc:
            problem = exc
    raise problem
