"""The emulator's generated CA and server certificate: a real TLS handshake on loopback
verifies the chain against the CA file and the host names clients dial."""

from __future__ import annotations

import contextlib
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from pypsrp.negotiate import HTTPNegotiateAuth

from psremoting.emulator.auth import certificate_channel_bindings
from psremoting.emulator.tls import ServerCertificate, make_server_certificate, server_ssl_context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificate:
    return make_server_certificate("SERVER01", tmp_path_factory.mktemp("tls"))


class _TLSServer:
    """A one-connection-at-a-time TLS echo server on 127.0.0.1, stopped by the fixture."""

    def __init__(
        self, context: ssl.SSLContext, family: int = socket.AF_INET, host: str = "127.0.0.1"
    ) -> None:
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(8)
        self._listener.settimeout(10)
        self.port = self._listener.getsockname()[1]
        self._context = context
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            try:
                with self._context.wrap_socket(raw, server_side=True) as conn:
                    data = conn.recv(64)
                    conn.sendall(data)
            except (OSError, ssl.SSLError):
                continue

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # shutdown() wakes the blocked accept(); close() would not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=10)


@pytest.fixture
def tls_server(certificate: ServerCertificate) -> Iterator[_TLSServer]:
    server = _TLSServer(server_ssl_context(certificate))
    yield server
    server.close()


def _client_handshake(certificate: ServerCertificate, port: int, server_hostname: str) -> bytes:
    context = ssl.create_default_context(cafile=str(certificate.ca_file))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as conn,
    ):
        conn.sendall(b"ping")
        return conn.recv(64)


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost", "SERVER01"])
def test_chain_verifies_against_ca_file_for_each_name(
    certificate: ServerCertificate, tls_server: _TLSServer, hostname: str
) -> None:
    assert _client_handshake(certificate, tls_server.port, hostname) == b"ping"


def test_wrong_host_name_is_refused(certificate: ServerCertificate, tls_server: _TLSServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        _client_handshake(certificate, tls_server.port, "otherhost")


def test_client_without_the_ca_refuses_the_certificate(tls_server: _TLSServer) -> None:
    context = ssl.create_default_context()
    with (
        socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_ipv6_loopback_is_in_the_certificate(certificate: ServerCertificate) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = _TLSServer(server_ssl_context(certificate), socket.AF_INET6, "::1")
    except OSError as exc:
        pytest.skip(f"cannot listen on ::1: {exc}")
    try:
        context = ssl.create_default_context(cafile=str(certificate.ca_file))
        with (
            socket.create_connection(("::1", server.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="::1") as conn,
        ):
            conn.sendall(b"six")
            assert conn.recv(64) == b"six"
    finally:
        server.close()


def test_private_key_is_owner_only(certificate: ServerCertificate) -> None:
    mode = stat.S_IMODE(certificate.key_file.stat().st_mode)
    assert mode == 0o600
    assert b"PRIVATE KEY" in certificate.key_file.read_bytes()
    assert b"PRIVATE KEY" not in certificate.cert_file.read_bytes()
    assert b"PRIVATE KEY" not in certificate.ca_file.read_bytes()
    assert sorted(p.name for p in Path(certificate.key_file).parent.iterdir()) == [
        "ca.pem",
        "server.key",
        "server.pem",
    ]


def test_certificate_names_and_algorithm(certificate: ServerCertificate) -> None:
    cert = x509.load_pem_x509_certificate(certificate.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"SERVER01", "localhost"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_ip_computer_name_goes_in_as_an_address(tmp_path: Path) -> None:
    made = make_server_certificate("192.0.2.7", tmp_path)
    cert = x509.load_pem_x509_certificate(made.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "192.0.2.7" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost"}


def test_channel_bindings_match_what_pypsrp_computes(certificate: ServerCertificate) -> None:
    der = certificate.certificate_der()
    expected = b"tls-server-end-point:" + HTTPNegotiateAuth._get_certificate_hash(der)
    assert certificate_channel_bindings(der) == expected
