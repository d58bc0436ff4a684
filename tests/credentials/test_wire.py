"""Secrets across the wire, against the emulator over HTTP with NTLM message encryption.

A PSCredential or SecureString given in Python travels as PowerShell sends it: the password
encrypted with the session key (MS-PSRP 2.2.5.1.24). The emulator decrypts it with its side of
the key exchange, and the tests look at what the server received: the right secret, which
arrived as ciphertext, never as its text.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import psremoting
from psremoting import PSCredential, SecureString
from psremoting.emulator import Emulator

USER, PASSWORD = "admin", "Wire-Passw0rd"
SECRET = "Hop2-S3cret!"


@pytest.fixture
def server() -> Iterator[tuple[Emulator, dict[str, Any]]]:
    received: dict[str, Any] = {}

    def probe(ctx: Any) -> list[Any]:
        received["value"] = ctx.args[0]
        return [type(ctx.args[0]).__name__]

    with Emulator(users={USER: PASSWORD, "bob": SECRET}, auth=("ntlm",)) as emu:
        emu.register("Receive-Secret", probe)
        yield emu, received


@pytest.fixture
def session(server: tuple[Emulator, dict[str, Any]]) -> Iterator[Any]:
    emu, _ = server
    s = psremoting.new_pssession(connection_uri=emu.url, credential=(USER, PASSWORD), authentication="ntlm")
    yield s
    psremoting.remove_pssession(s)


def _as_plain_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode()


def test_a_credential_argument_reaches_the_server_encrypted_and_decrypts_to_the_secret(
    server: tuple[Emulator, dict[str, Any]], session: Any
) -> None:
    _, received = server
    out = psremoting.invoke_command(
        "param($c) Receive-Secret $c; $c.UserName; $c.Password; $c.GetNetworkCredential().Password",
        session=session,
        argument_list=[PSCredential("bob", SECRET)],
    )
    assert [str(v) for v in out] == ["PSCredential", "bob", "System.Security.SecureString", SECRET]
    got = received["value"]
    assert isinstance(got, PSCredential) and got.get_password() == SECRET  # decrypted by the server
    ciphertext = got.password.encrypted
    assert ciphertext and SECRET not in ciphertext and ciphertext != _as_plain_base64(SECRET)


def test_a_secure_string_goes_as_an_argument_and_as_pipeline_input(
    server: tuple[Emulator, dict[str, Any]], session: Any
) -> None:
    _, received = server
    out = psremoting.invoke_command(
        "param($p) Receive-Secret $p; $p.Length", session=session, argument_list=[SecureString(SECRET)]
    )
    assert [str(v) for v in out] == ["SecureString", str(len(SECRET))]
    assert received["value"].get_value() == SECRET and received["value"].encrypted
    piped = session.invoke("$input | ForEach-Object { $_.GetNetworkCredential().Password }",
                           input=[PSCredential("bob", SECRET)]).output  # fmt: skip
    assert [str(v) for v in piped] == [SECRET]


def test_a_credential_comes_back_as_a_credential_with_its_password_hidden(session: Any) -> None:
    out = psremoting.invoke_command(
        "param($c) $c", session=session, argument_list=[PSCredential("bob", SECRET)]
    )
    (back,) = out
    assert isinstance(back, PSCredential) and back.username == "bob" and back.get_password() == SECRET
    assert SECRET not in repr(out) and SECRET not in str(back)


def test_invoke_command_credential_on_the_server_logs_on_at_the_second_hop(session: Any) -> None:
    """The server's own Invoke-Command gets the credential: the right secret logs on to the
    second computer; a wrong one, or none (nothing delegated: the double hop), is denied."""
    script = 'param($c) Invoke-Command -ComputerName SERVER02 -Credential $c { "on $env:COMPUTERNAME" }'
    out = psremoting.invoke_command(script, session=session, argument_list=[PSCredential("bob", SECRET)])
    assert [str(v) for v in out] == ["on SERVER02"]
    with pytest.raises(
        psremoting.RemoteError, match=r"\[SERVER02\] Connecting to remote server SERVER02 failed"
    ):
        psremoting.invoke_command(
            script, session=session, argument_list=[PSCredential("bob", "wrong")], error_action="stop"
        )
    result = session.invoke('Invoke-Command -ComputerName SERVER02 { "on $env:COMPUTERNAME" }')
    assert not result.output and "Access is denied" in result.error[0].message
    assert result.error[0].fully_qualified_error_id == "AccessDenied,PSSessionStateBroken"


def test_no_secret_reaches_the_debug_logs(session: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        psremoting.invoke_command(
            "param($c, $p) $c.UserName",
            session=session,
            argument_list=[PSCredential("bob", SECRET), SecureString(SECRET)],
        )
    text = caplog.text
    assert any(r.name.startswith("pypsrp") for r in caplog.records)  # the messages were logged...
    assert SECRET not in text and _as_plain_base64(SECRET) not in text  # ...without the secret
