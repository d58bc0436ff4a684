"""The known_hosts store and the TOFU decision the transport will call (phase 2 wires it into
the TLS handshake); certificates here are real ones, made with cryptography."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from psremoting.cli.main import main
from psremoting.emulator.tls import make_server_certificate
from psremoting.protocol.errors import InvalidOptionError
from psremoting.transport.trust import (
    CertificateChangedError,
    KnownHosts,
    UntrustedCertificateError,
    check_certificate,
    fingerprint,
    parse_fingerprint,
    split_host_port,
)


def _der(directory: Path) -> bytes:
    from cryptography import x509

    cert = make_server_certificate("server01", directory)
    return x509.load_pem_x509_certificate(cert.cert_file.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )


@pytest.fixture
def certs(tmp_path: Path) -> tuple[bytes, bytes]:
    return _der(tmp_path / "one"), _der(tmp_path / "two")


def test_fingerprints_are_sha256_in_ssh_and_openssl_spellings(certs: tuple[bytes, bytes]) -> None:
    der = certs[0]
    found = fingerprint(der)
    digest = hashlib.sha256(der).hexdigest()
    assert found.startswith("SHA256:") and "=" not in found
    assert parse_fingerprint(found) == found
    assert parse_fingerprint(digest.upper()) == found  # 64 hex digits
    assert parse_fingerprint(":".join(digest[i : i + 2] for i in range(0, 64, 2))) == found  # openssl's form
    with pytest.raises(InvalidOptionError, match="not a SHA-256 certificate fingerprint"):
        parse_fingerprint("SHA256:tooShort")


def test_tofu_round_trip_unknown_then_trusted_then_changed(
    tmp_path: Path, certs: tuple[bytes, bytes]
) -> None:
    store = KnownHosts(tmp_path / "cfg" / "known_hosts")
    first, second = certs
    with pytest.raises(UntrustedCertificateError) as unknown:
        check_certificate("Server01", 5986, first, known_hosts=store)
    assert unknown.value.fingerprint == fingerprint(first)
    assert unknown.value.command == f"psremoting trust server01:5986 --fingerprint {fingerprint(first)}"
    assert unknown.value.command in str(unknown.value) and unknown.value.error_code == "ServerNotTrusted"

    assert store.add("SERVER01", 5986, unknown.value.fingerprint)
    assert check_certificate("server01", 5986, first, known_hosts=store) == fingerprint(first)
    assert (tmp_path / "cfg" / "known_hosts").read_text().splitlines()[
        1
    ] == f"server01:5986 {fingerprint(first)}"

    with pytest.raises(CertificateChangedError, match="HAS CHANGED") as changed:
        check_certificate("server01", 5986, second, known_hosts=store)
    assert fingerprint(first) in str(changed.value) and fingerprint(second) in str(changed.value)
    with pytest.raises(UntrustedCertificateError):  # another port is another service
        check_certificate("server01", 443, first, known_hosts=store)


def test_an_interactive_yes_saves_and_a_pin_accepts_only_its_certificate(
    tmp_path: Path, certs: tuple[bytes, bytes]
) -> None:
    store = KnownHosts(tmp_path / "known_hosts")
    asked: list[tuple[str, str]] = []
    check_certificate(
        "[::1]", 5986, certs[0], known_hosts=store, confirm=lambda k, f: asked.append((k, f)) or True
    )
    assert asked == [("[::1]:5986", fingerprint(certs[0]))] and store.lookup("::1", 5986) == [
        fingerprint(certs[0])
    ]
    assert check_certificate("h", 1, certs[1], pinned=fingerprint(certs[1]), known_hosts=store)
    with pytest.raises(CertificateChangedError, match="pinned with --cert-fingerprint"):
        check_certificate("h", 1, certs[0], pinned=fingerprint(certs[1]), known_hosts=store)


def test_host_and_port_parsing() -> None:
    assert split_host_port("server01") == ("server01", 5986)
    assert split_host_port("server01:443") == ("server01", 443)
    assert split_host_port("[fe80::1]:5986") == ("fe80::1", 5986)
    with pytest.raises(InvalidOptionError, match="port"):
        split_host_port("server01:http")


def test_the_trust_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                           certs: tuple[bytes, bytes]) -> None:  # fmt: skip
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    found = fingerprint(certs[0])
    assert main(["trust", "Server01:5986", "--fingerprint", found]) == 0
    assert "Trusted server01:5986" in capsys.readouterr().out
    assert KnownHosts(tmp_path / "psremoting" / "known_hosts").lookup("server01", 5986) == [found]
    assert main(["trust", "--list"]) == 0 and f"server01:5986 {found}" in capsys.readouterr().out
    assert main(["trust", "server01", "--fingerprint", "nonsense"]) == 2
    assert "not a SHA-256 certificate fingerprint" in capsys.readouterr().err
    assert main(["trust", "server01", "--remove"]) == 0
    assert main(["trust", "server01", "--remove"]) == 1
