"""The second hop with CredSSP, through the project's own transport (pyspnego's CredSSP, no
requests-credssp), against the emulator's CredSSP acceptor.

CredSSP's last leg hands the user's password to the server; the emulator keeps it for the
session, and its Invoke-Command -ComputerName logs on with it at the second hop. Without a
delegated credential (NTLM), the second hop is denied: the double-hop problem.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator

USERS = {"user": "Passw0rd!", "other": "0ther-Passw0rd"}
SECOND_HOP = "whoami; Invoke-Command -ComputerName server02 { whoami; $env:COMPUTERNAME }"


@pytest.fixture(params=["http", "https"])
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(auth=("credssp", "ntlm"), users=USERS, https=request.param == "https") as server:
        yield server


def _session(
    emu: Emulator, authentication: str, user: str = "user", password: str | None = None
) -> psremoting.PSSession:
    option = (
        psremoting.SessionOption(skip_ca_check=True) if emu.https else None
    )  # 127.0.0.1 is in its certificate
    return psremoting.new_pssession(
        "127.0.0.1", port=emu.port, use_ssl=emu.https, authentication=authentication,
        credential=(user, password if password is not None else USERS[user]), session_option=option,
    )  # fmt: skip


def test_credssp_delegates_the_credential_to_the_second_hop(emu: Emulator) -> None:
    session = _session(emu, "credssp", "other")
    try:
        result = session.invoke(SECOND_HOP)
        assert [str(v) for v in result.output] == ["server01\\other", "server02\\other", "SERVER02"]
        assert not result.had_errors
        # Over HTTP every message is sealed with the CredSSP channel, large ones in 16 KiB parts.
        assert session.invoke("('y' * 50000).Length").output == [50000]
    finally:
        psremoting.remove_pssession(session)


def test_without_delegation_the_second_hop_is_denied(emu: Emulator) -> None:
    session = _session(emu, "ntlm")
    try:
        result = session.invoke(SECOND_HOP)
        assert [str(v) for v in result.output] == ["server01\\user"]
        assert "Connecting to remote server server02 failed" in str(result.error[0])
        assert "Access is denied" in str(result.error[0])
    finally:
        psremoting.remove_pssession(session)


def test_a_wrong_password_is_refused_by_credssp(emu: Emulator) -> None:
    with pytest.raises(psremoting.AuthenticationFailedError) as refused:
        _session(emu, "credssp", password="wrong")
    text = str(refused.value)
    assert "Access is denied" in text and "wrong" not in text.replace("wrong password", "")
    assert "SpnegoError" not in text and "Traceback" not in text


def test_the_cli_takes_credssp(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from psremoting.cli.main import main

    monkeypatch.setenv("PSREMOTING_USERNAME", "other")
    monkeypatch.setenv("PSREMOTING_PASSWORD", USERS["other"])
    argv = ["invoke", "-H", "127.0.0.1", "--port", str(emu.port), "--auth", "credssp", "-c",
            "Invoke-Command -ComputerName server02 { whoami }"]  # fmt: skip
    if emu.https:
        argv += ["--ssl", "--skip-ca-check"]
    assert main(argv) == 0
    assert "server02\\other" in capsys.readouterr().out
