"""With every debug log on (pypsrp logs whole SOAP envelopes and PSRP messages), no
password and no SecureString, not even encrypted, reaches a log handler."""

from __future__ import annotations

import base64
import logging
import re

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.runspace.host_ui import BufferedHostUI
from psremoting.transport.redaction import redact

from .conftest import credentials, route_to

TYPED_SECRET = "Typed-S3cret-Answer"
CREDENTIAL_SECRET = "Cred-S3cret-Answer"


@pytest.mark.parametrize("auth", ["basic", "negotiate"])
def test_debug_logs_carry_no_password(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, auth: str
) -> None:
    route_to(emulator, auth=auth)
    user, login_password = credentials(emulator)
    with caplog.at_level(logging.DEBUG):
        session = psremoting.new_pssession("Server01")
        try:
            ui = BufferedHostUI([TYPED_SECRET], credential=("bob", CREDENTIAL_SECRET))
            interactive = psremoting.enter_pssession(session=session, ui=ui)
            interactive.run("$a = Read-Host -AsSecureString 'pw'; $c = Get-Credential; 'typed'", ui=ui)
            psremoting.exit_pssession()
        finally:
            psremoting.remove_pssession(session)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Sending message" in text and "Packing PSRP message" in text  # the bodies were logged
    assert "<SS" in text  # and the SecureStrings in them, redacted:
    for secret in (TYPED_SECRET, CREDENTIAL_SECRET, login_password):
        assert secret not in text
    assert base64.b64encode(f"{user}:{login_password}".encode()).decode() not in text
    assert set(re.findall(r"<SS\b[^>]*>([^<]*)</SS>", text)) == {"***"}


def test_redact_keeps_the_shape_and_drops_the_secrets() -> None:
    soap = (
        '<rsp:Send><rsp:Stream Name="stdin" CommandId="1">QUJDREVGR0g=</rsp:Stream></rsp:Send>'
        '<S N="Password"><SS N="Value">AbCdEf==</SS></S>'
    )
    cleaned = redact(soap)
    assert "QUJDREVGR0g=" not in cleaned and "AbCdEf==" not in cleaned
    assert (
        '<rsp:Stream Name="stdin" CommandId="1">[12 base64 characters of PSRP data not logged]</rsp:Stream>'
        in cleaned
    )
    assert '<SS N="Value">***</SS>' in cleaned
    assert redact("{'Authorization': 'Basic dXNlcjpwdw=='}") == "{'Authorization': '***'}"
    assert redact("nothing secret here") == "nothing secret here"
