"""A SecureString both ways over real NTLM-encrypted HTTP against the emulator: a Python
SecureString arrives on the server as System.Security.SecureString holding the text (read
back there with [Marshal]), and one the server makes (Read-Host -AsSecureString answered by
the HostUI, ConvertTo-SecureString) arrives as psremoting.SecureString, decrypted with the
session key, printing as its type name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import psremoting
from psremoting import SecureString
from psremoting.emulator import Emulator
from psremoting.runspace.host_ui import BufferedHostUI

USER, PASSWORD = "ops", "Op3rat0r!"
MARSHAL = (
    "[System.Runtime.InteropServices.Marshal]::PtrToStringAuto("
    "[System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($s))"
)


@pytest.fixture()
def session() -> Iterator[Any]:
    with Emulator(users={USER: PASSWORD}, auth=("ntlm",)) as emu:
        s = psremoting.new_pssession(
            connection_uri=emu.url, credential=(USER, PASSWORD), authentication="ntlm"
        )
        try:
            yield s
        finally:
            psremoting.remove_pssession(s)


def test_a_python_secure_string_arrives_on_the_server_with_its_text(session: Any) -> None:
    result = session.invoke(
        f"param($s) $s.GetType().FullName; {MARSHAL}", arguments=[SecureString("Pa55-w0rd!")]
    )
    assert result.output == ["System.Security.SecureString", "Pa55-w0rd!"]


def test_read_host_as_secure_string_comes_back_as_a_secure_string(session: Any) -> None:
    ui = BufferedHostUI(["typed-Secret1"])
    result = session.invoke(
        "$s = Read-Host -AsSecureString 'Secret'; $s; $s.GetType().FullName; " + MARSHAL, ui=ui
    )
    secret, type_name, plain = result.output
    assert isinstance(secret, SecureString)
    assert str(secret) == "System.Security.SecureString"
    assert secret.get_value() == "typed-Secret1"
    assert "typed-Secret1" not in repr(secret)
    assert (type_name, plain) == ("System.Security.SecureString", "typed-Secret1")


def test_convert_to_secure_string_round_trips_back_to_the_server(session: Any) -> None:
    # the session key exists once a SecureString went to the server
    session.invoke("param($s) $null", arguments=[SecureString("x")])
    (made,) = session.invoke("ConvertTo-SecureString 'From-Server9' -AsPlainText -Force").output
    assert isinstance(made, SecureString) and str(made) == "System.Security.SecureString"
    assert made.get_value() == "From-Server9"
    # and the received one goes back as it came
    assert session.invoke(f"param($s) {MARSHAL}", arguments=[made]).output == ["From-Server9"]
