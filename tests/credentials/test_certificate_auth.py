"""Certificate authentication over HTTPS: the client certificate (PEM files on Linux) is the
credential, mapped to a user by the server as WinRM's ClientCertificate mapping does.

The emulator asks for a client certificate in the TLS handshake, verifies it against its
client CA and maps the certificate's UPN to a user; a certificate mapped to no one is refused.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import psremoting
from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.emulator.tls import ClientCertificateAuthority
from psremoting.transport.options import EndpointOverride, set_endpoint_override

USER = "certuser"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(
        users={USER: "Cert-Passw0rd", "other": "x"}, https=True, auth=("certificate", "ntlm")
    ) as server:
        yield server


@pytest.fixture
def route(emu: Emulator) -> Iterator[None]:
    """server01 is the emulator, its CA trusted: verification stays on."""
    set_endpoint_override(lambda name: EndpointOverride(emu.url, None, None, None, emu.ca_file))
    yield
    set_endpoint_override(None)


def test_python_api_logs_on_as_the_mapped_user(emu: Emulator, route: None) -> None:
    cert, key = emu.issue_client_certificate(USER)
    s = psremoting.new_pssession("server01", use_ssl=True, authentication="certificate",
                                 certificate_pem=cert, certificate_key_pem=key)  # fmt: skip
    try:
        assert [str(v) for v in psremoting.invoke_command("whoami", session=s)] == [f"server01\\{USER}"]
    finally:
        psremoting.remove_pssession(s)


def test_a_certificate_mapped_to_no_user_is_refused(emu: Emulator, route: None, tmp_path: Path) -> None:
    stranger = ClientCertificateAuthority.create(tmp_path)  # another CA: the TLS check refuses it
    cert, key = stranger.issue(f"{USER}@localhost")
    with pytest.raises(psremoting.ConnectionFailedError):
        psremoting.new_pssession("server01", use_ssl=True, authentication="certificate",
                                 certificate_pem=str(cert), certificate_key_pem=str(key))  # fmt: skip
    emu._client_ca()  # the emulator's CA, but a UPN no user is mapped to
    unmapped_cert, unmapped_key = emu._client_ca().issue("nobody@localhost")
    with pytest.raises(psremoting.ConnectionFailedError):
        psremoting.new_pssession("server01", use_ssl=True, authentication="certificate",
                                 certificate_pem=str(unmapped_cert), certificate_key_pem=str(unmapped_key))  # fmt: skip


def test_the_cli_takes_cert_pem_and_cert_key_pem(emu: Emulator, route: None, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cert, key = emu.issue_client_certificate(USER)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(
        ["invoke", "-H", "server01", "--ssl", "--cert-pem", cert, "--cert-key-pem", key, "-c", "whoami"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"server01\\{USER}" in out
    assert main(["invoke", "-H", "server01", "--ssl", "--cert-pem", cert, "-c", "whoami"]) == 2
    assert "needs both --cert-pem and --cert-key-pem" in capsys.readouterr().err


def test_the_shell_takes_certificate_path_and_key_path(emu: Emulator) -> None:
    cert, key = emu.issue_client_certificate(USER)
    script = (
        "$o = New-PSSessionOption -SkipCACheck\n"
        f"$s = New-PSSession -ConnectionUri {emu.url} -CertificatePath {cert} -KeyPath {key} -SessionOption $o\n"
        "Invoke-Command -Session $s { whoami }\n"
        f"Enter-PSSession -ConnectionUri {emu.url} -CertificatePath {cert} -SessionOption $o\n"
    )
    done = subprocess.run([sys.executable, "-m", "psremoting", "shell"], input=script, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.stdout.count(f"\\{USER}") == 1, done.stdout + done.stderr
    assert "Certificate authentication needs both -CertificatePath and -KeyPath" in done.stdout + done.stderr
