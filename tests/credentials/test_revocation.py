"""Revocation checking: a certificate naming a CRL (distribution point over HTTP) or an OCSP
responder is checked there; a revoked one is refused, a check that cannot be made refuses too,
and -SkipRevocationCheck turns the check off. The CA publishes its CRL and answers OCSP
requests from loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.emulator.tls import RevocableCertificate

USERS = {"user": "Passw0rd!"}


@pytest.fixture(params=["crl", "ocsp"])
def authority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[RevocableCertificate]:
    ca = RevocableCertificate("server01", tmp_path / "ca", ocsp=request.param == "ocsp")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.certificate.ca_file))  # the CA is trusted
    try:
        yield ca
    finally:
        ca.stop()


@pytest.fixture
def emu(authority: RevocableCertificate) -> Iterator[Emulator]:
    cert = authority.certificate
    with Emulator(
        https=True, auth=("ntlm",), users=USERS, certfile=cert.cert_file, keyfile=cert.key_file
    ) as server:
        yield server


def _whoami(emu: Emulator, option: psremoting.SessionOption | None = None) -> list[str]:
    session = psremoting.new_pssession("127.0.0.1", port=emu.port, use_ssl=True, authentication="ntlm",
                                       credential=("user", USERS["user"]), session_option=option)  # fmt: skip
    try:
        return [str(v) for v in session.invoke("whoami").output]
    finally:
        psremoting.remove_pssession(session)


def test_a_good_certificate_is_checked_against_its_crl(
    emu: Emulator, authority: RevocableCertificate
) -> None:
    assert _whoami(emu) == ["server01\\user"]
    assert authority.requests == 1  # asked once for the session, whatever its connections


def test_a_revoked_certificate_is_refused(emu: Emulator, authority: RevocableCertificate) -> None:
    authority.revoke()
    with pytest.raises(psremoting.CertificateError, match="has been revoked"):
        _whoami(emu)
    skip = psremoting.SessionOption(skip_revocation_check=True)
    assert _whoami(emu, skip) == ["server01\\user"]


def test_an_unreachable_crl_refuses_and_says_how_to_skip(
    emu: Emulator, authority: RevocableCertificate
) -> None:
    authority.stop()
    with pytest.raises(psremoting.CertificateError) as refused:
        _whoami(emu)
    text = str(refused.value)
    assert "could not be checked for revocation" in text and "-SkipRevocationCheck" in text


def test_a_forged_ocsp_answer_is_not_believed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = RevocableCertificate("server01", tmp_path / "ca", ocsp=True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.certificate.ca_file))
    ca.forge_ocsp = True  # "good", but not signed by the CA
    try:
        cert = ca.certificate
        with (
            Emulator(
                https=True, auth=("ntlm",), users=USERS, certfile=cert.cert_file, keyfile=cert.key_file
            ) as emu,
            pytest.raises(psremoting.CertificateError, match="could not be checked for revocation"),
        ):
            _whoami(emu)
    finally:
        ca.stop()
