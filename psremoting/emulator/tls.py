"""A throwaway certificate authority and server certificate for the emulator's HTTPS listener.

Windows' HTTPS listener needs a certificate whose name matches what the client connects to;
clients verify it against a CA they trust. The emulator makes both on the fly: a private CA
(which a test hands to the client as ``ca_file``, so verification stays ON) and a server
certificate signed by it, valid for the emulated computer's name, ``localhost``, 127.0.0.1 and
::1. Keys are EC P-256 (fast to generate), signatures SHA-256, so the channel-binding hash of
RFC 5929 is SHA-256 as well. Private keys are written with mode 0600 and never leave the
directory the caller chose.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "ServerCertificate",
    "make_self_signed_certificate",
    "make_server_certificate",
    "server_ssl_context",
]

_VALIDITY = datetime.timedelta(days=30)
_CLOCK_SKEW = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class ServerCertificate:
    """Paths of the generated PEM files: the CA certificate, the server certificate, its key."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def certificate_der(self) -> bytes:
        """The server certificate in DER form (what a client sees in the TLS handshake)."""
        cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        return cert.public_bytes(serialization.Encoding.DER)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (created 0600, never wider)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _ca_key_usage() -> x509.KeyUsage:
    """A certificate authority's key usage: it signs certificates and CRLs, nothing else."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "psremoting emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _dns_name_ok(name: str) -> bool:
    return bool(name) and all(part and len(part) < 64 for part in name.split(".")) and " " not in name


def make_server_certificate(computer_name: str, directory: Path) -> ServerCertificate:
    """Create a CA and a server certificate for ``computer_name`` in ``directory``.

    The server certificate's subject alternative names are DNS ``computer_name`` (when it is a
    host name rather than an address), DNS ``localhost``, IP 127.0.0.1 and IP ::1, so a client
    checking the host name succeeds whichever of those it dialled. Files: ``ca.pem``,
    ``server.pem``, ``server.key`` (0600). The CA's private key is not kept.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - _CLOCK_SKEW, now + _VALIDITY

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"psremoting emulator CA for {computer_name}"[:64])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    alt_names: list[x509.GeneralName] = []
    try:
        alt_names.append(x509.IPAddress(ipaddress.ip_address(computer_name)))
    except ValueError:
        if _dns_name_ok(computer_name):
            alt_names.append(x509.DNSName(computer_name))
    alt_names += [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    alt_names = list(dict.fromkeys(alt_names))

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(computer_name[:64] or "localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    result = ServerCertificate(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    result.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    result.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        result.key_file,
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return result


def make_self_signed_certificate(computer_name: str, directory: Path) -> ServerCertificate:
    """A self-signed server certificate for ``computer_name`` (and localhost, 127.0.0.1, ::1),
    as ``New-SelfSignedCertificate`` makes for a WinRM HTTPS listener: no CA signed it, so a
    client trusts it by its fingerprint or not at all. ``ca_file`` is the certificate itself."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(computer_name[:64] or "localhost")
    alt_names: list[x509.GeneralName] = []
    if _dns_name_ok(computer_name):
        alt_names.append(x509.DNSName(computer_name))
    alt_names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("::1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(alt_names))), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    result = ServerCertificate(
        ca_file=directory / "server.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    result.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        result.key_file,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return result


def server_ssl_context(cert: ServerCertificate) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) serving ``cert``'s certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(cert.cert_file), keyfile=str(cert.key_file))
    return context


#: The Microsoft UPN otherName of a client certificate's subject alternative names: what
#: WinRM's certificate mapping (WSMan:\localhost\ClientCertificate -Subject) matches.
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@dataclass(frozen=True)
class ClientCertificateAuthority:
    """A CA that issues client-authentication certificates for the emulator's users."""

    ca_file: Path
    key: ec.EllipticCurvePrivateKey
    name: x509.Name
    directory: Path

    @classmethod
    def create(cls, directory: Path) -> ClientCertificateAuthority:
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("psremoting emulator client CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        ca_file = directory / "client-ca.pem"
        ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(ca_file, key, name, directory)

    def issue(self, upn: str) -> tuple[Path, Path]:
        """A client certificate for ``upn`` (``user@localhost``): ``(cert.pem, key.pem)``, key 0600."""
        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        encoded = upn.encode("utf-8")
        if len(encoded) > 127:
            raise ValueError("a user principal name this long is not supported by the emulator")
        utf8_string = b"\x0c" + bytes([len(encoded)]) + encoded  # DER UTF8String
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, upn.split("@")[0][:64] or "user")])
            )
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName([x509.OtherName(UPN_OID, utf8_string)]), critical=False
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        stem = self.directory / f"client-{x509.random_serial_number() % 10**8}"
        cert_file, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_private(
            key_file,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        return cert_file, key_file


def certificate_upn(certificate_der: bytes) -> str | None:
    """The UPN of a client certificate's subject alternative names, or None."""
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID and other.value[:1] == b"\x0c" and len(other.value) >= 2:
            try:
                return other.value[2 : 2 + other.value[1]].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def accept_client_certificates(context: ssl.SSLContext, ca_file: Path) -> None:
    """Ask clients for a certificate signed by `ca_file` (optional: other methods still work)."""
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(ca_file))


class RevocableCertificate:
    """A CA that publishes a CRL over HTTP on loopback, and a server certificate naming it
    (CRL distribution point), so that a client's revocation check can be tested: `revoke`
    publishes a new CRL listing the server certificate. With ``ocsp=True`` the certificate
    names an OCSP responder instead (Authority Information Access), which the same loopback
    server answers for, signed by the CA. ``stop()`` ends the server."""

    def __init__(self, computer_name: str, directory: Path, *, ocsp: bool = False) -> None:
        import http.server
        import threading

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.requests = 0
        owner = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = owner._crl_der
                self.send_response(200 if self.path == "/ca.crl" else 404)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                owner.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = owner._ocsp_answer(self.rfile.read(min(length, 65536)))
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.crl_url = f"http://127.0.0.1:{self._server.server_address[1]}/ca.crl"
        self.ocsp_url = f"http://127.0.0.1:{self._server.server_address[1]}/ocsp"
        self._revoked = False
        #: Answer OCSP requests signed by a key that is not the CA's (a forged answer).
        self.forge_ocsp = False
        self._thread = threading.Thread(target=self._server.serve_forever, name="crl-server", daemon=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        self._now = now
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_name = _name("psremoting emulator revocation CA")
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(self._ca_name)
            .issuer_name(self._ca_name)
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        self._ca_cert = ca_cert
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        if _dns_name_ok(computer_name):
            names.insert(0, x509.DNSName(computer_name))
        self._serial = x509.random_serial_number()
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name(computer_name[:64] or "localhost"))
            .issuer_name(self._ca_name)
            .public_key(key.public_key())
            .serial_number(self._serial)
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if ocsp:
            from cryptography.x509.oid import AuthorityInformationAccessOID

            leaf = leaf.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url)
                        )
                    ]
                ),
                critical=False,
            )
        else:
            leaf = leaf.add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(self.crl_url)], None, None, None)]
                ),
                critical=False,
            )
        leaf_cert = leaf.sign(self._ca_key, hashes.SHA256())
        self._leaf = leaf_cert
        self.certificate = ServerCertificate(
            ca_file=self.directory / "ca.pem", cert_file=self.directory / "server.pem",
            key_file=self.directory / "server.key",
        )  # fmt: skip
        self.certificate.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.certificate.cert_file.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
        _write_private(
            self.certificate.key_file,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        self._crl_der = self._crl(revoked=False)
        self._thread.start()

    def _crl(self, *, revoked: bool) -> bytes:
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._ca_name)
            .last_update(now - datetime.timedelta(minutes=5))
            .next_update(now + datetime.timedelta(days=1))
        )
        if revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(self._serial).revocation_date(now).build()
            )
        key = ec.generate_private_key(ec.SECP256R1()) if self.forge_ocsp else self._ca_key
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _ocsp_answer(self, request_der: bytes) -> bytes:
        from cryptography.x509 import ocsp

        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        if request.serial_number != self._serial:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        now = datetime.datetime.now(datetime.timezone.utc)
        status = ocsp.OCSPCertStatus.REVOKED if self._revoked else ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=self._leaf, issuer=self._ca_cert, algorithm=hashes.SHA1(), cert_status=status,
            this_update=now - datetime.timedelta(minutes=1), next_update=now + datetime.timedelta(hours=1),
            revocation_time=now if self._revoked else None, revocation_reason=None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, self._ca_cert)  # fmt: skip
        key = ec.generate_private_key(ec.SECP256R1()) if self.forge_ocsp else self._ca_key
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def revoke(self) -> None:
        """Publish a CRL that lists the server certificate (the OCSP responder says so too)."""
        self._revoked = True
        self._crl_der = self._crl(revoked=True)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
