"""Bad input and injected failures get Windows' faults, and the server keeps serving.

Raw requests (``requests`` with Basic auth) carry what no well-behaved client sends; pypsrp
shows what a client sees of the fault knobs (dropped connection, injected 500, lost shells),
the OperationTimeout fault of an idle Receive, the idle reaper and the shell quota.
"""

from __future__ import annotations

import base64
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import requests
from pypsrp.exceptions import WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool

from psremoting.emulator import Emulator
from psremoting.emulator import faults as wsman_faults

WSManFor = Callable[..., Any]
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}


def _envelope(
    action: str,
    resource_uri: str,
    body: str = "",
    shell_id: str | None = None,
    message_id: str | None = None,
    timeout: str = "PT20S",
) -> str:
    selectors = (
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        if shell_id
        else ""
    )
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header>'
        f"<a:Action>{action}</a:Action><w:ResourceURI>{resource_uri}</w:ResourceURI>"
        f"<a:MessageID>{message_id or 'uuid:' + str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<w:OperationTimeout>{timeout}</w:OperationTimeout>{selectors}"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )


PS_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"


class Raw:
    """Posts raw bodies to an emulator as an authenticated Basic client."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = requests.Session()
        user, password = next(iter(emu.users.items()))
        self.session.auth = (user, password)

    def post(self, body: str | bytes) -> tuple[int, ET.Element | None]:
        data = body.encode() if isinstance(body, str) else body
        response = self.session.post(
            self.emu.url,
            data=data,
            headers={"Content-Type": "application/soap+xml;charset=UTF-8"},
            timeout=30,
        )
        try:
            return response.status_code, ET.fromstring(response.content)
        except ET.ParseError:
            return response.status_code, None


def _fault(root: ET.Element | None) -> tuple[int, str, str]:
    assert root is not None
    fault = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", NS)
    assert fault is not None, ET.tostring(root)
    subcode = root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", "", NS)
    return int(fault.get("Code", "0")), subcode, fault.findtext("f:Message", "", NS)


@pytest.fixture
def raw(emulator: Emulator) -> Any:
    client = Raw(emulator)
    yield client
    client.session.close()


def _still_serving(emu: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emu, "basic")) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", "alive")
        assert ps.invoke() == ["alive"]


def test_malformed_xml(raw: Raw, emulator: Emulator, wsman_for: WSManFor) -> None:
    status, root = raw.post("<s:Envelope><unclosed>")
    assert status == 500
    code, subcode, message = _fault(root)
    assert code == wsman_faults.ERROR_WSMAN_INVALID_XML
    assert "XML is invalid" in message
    _still_serving(emulator, wsman_for)


def test_dtd_and_entities_are_refused(raw: Raw, emulator: Emulator, wsman_for: WSManFor) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        + _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", "&lol2;")
    )
    status, root = raw.post(bomb)
    assert status == 500
    code, _, message = _fault(root)
    assert code == wsman_faults.ERROR_WSMAN_INVALID_XML
    assert "Document type definitions" in message
    _still_serving(emulator, wsman_for)


def test_unknown_action(raw: Raw) -> None:
    message_id = "uuid:" + str(uuid.uuid4()).upper()
    status, root = raw.post(_envelope("http://example.com/NoSuchAction", PS_URI, message_id=message_id))
    assert status == 500
    code, subcode, _ = _fault(root)
    assert code == wsman_faults.ERROR_WSMAN_INVALID_ACTIONURI
    assert subcode == "w:ActionNotSupported"
    assert root is not None and root.findtext("s:Header/a:RelatesTo", "", NS) == message_id


def test_unknown_shell_id(raw: Raw) -> None:
    shell_id = str(uuid.uuid4()).upper()
    body = "<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>"
    status, root = raw.post(_envelope(SHELL + "Receive", PS_URI, body, shell_id=shell_id))
    assert status == 500
    code, subcode, message = _fault(root)
    assert code == 2150858843
    assert subcode == "w:InvalidSelectors"
    assert message.strip() == (
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was not "
        "found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer "
        "exists on the server. Provide the correct ShellId or create a new shell and try the operation again."
    )


def test_unknown_configuration_name(emulator: Emulator, wsman_for: WSManFor) -> None:
    pool = RunspacePool(wsman_for(emulator, "basic"), configuration_name="NoSuchEndpoint")
    with pytest.raises(WSManFaultError) as caught:
        pool.open()
    assert caught.value.code == 2150858811
    assert "http://schemas.microsoft.com/powershell/NoSuchEndpoint" in str(caught.value.reason)
    assert "was not found in the WS-Management catalog" in str(caught.value.reason)


def test_garbage_base64_and_unknown_command(emulator: Emulator, raw: Raw, wsman_for: WSManFor) -> None:
    pool = RunspacePool(wsman_for(emulator, "basic"))
    pool.open()
    try:
        shell_id = str(pool.id).upper()
        body = '<rsp:Send><rsp:Stream Name="stdin">!!!not base64!!!</rsp:Stream></rsp:Send>'
        status, root = raw.post(_envelope(SHELL + "Send", PS_URI, body, shell_id=shell_id))
        assert status == 500
        assert _fault(root)[0] == wsman_faults.ERROR_WSMAN_INVALID_XML

        junk = base64.b64encode(b"\x00" * 40).decode()
        body = f'<rsp:Send><rsp:Stream Name="stdin">{junk}</rsp:Stream></rsp:Send>'
        status, root = raw.post(_envelope(SHELL + "Send", PS_URI, body, shell_id=shell_id))
        assert status == 500
        assert _fault(root)[0] == wsman_faults.ERROR_WSMAN_INVALID_XML  # base64, but not PSRP

        command_id = str(uuid.uuid4()).upper()
        body = f'<rsp:Receive><rsp:DesiredStream CommandId="{command_id}">stdout</rsp:DesiredStream></rsp:Receive>'
        status, root = raw.post(_envelope(SHELL + "Receive", PS_URI, body, shell_id=shell_id))
        assert status == 500
        code, _, message = _fault(root)
        # Windows' text for a Receive on an unknown command (recording test_psrp_receive_failure).
        assert code == 2150858843
        assert message.startswith("The Windows Remote Shell received a request to perform an operation on")
    finally:
        pool.close()
    _still_serving(emulator, wsman_for)


def test_oversized_envelope(wsman_for: WSManFor) -> None:
    with Emulator(users={"user": "pw"}, allow_unencrypted=True, max_envelope_size=20000) as emu:
        client = Raw(emu)
        padding = "x" * 30000
        status, root = client.post(_envelope(SHELL + "Send", PS_URI, f"<rsp:Send>{padding}</rsp:Send>"))
        assert status == 500
        code, subcode, _ = _fault(root)
        assert code == wsman_faults.ERROR_WSMAN_SERVER_ENVELOPE_LIMIT
        assert subcode == "w:EncodingLimit"
        client.session.close()


def test_idle_receive_gets_the_operation_timeout_fault(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        started = time.monotonic()
        with pytest.raises(WSManFaultError) as caught:
            pool.shell.receive("stdout", timeout=1)
        elapsed = time.monotonic() - started
        assert caught.value.code == 2150858793
        assert 0.9 <= elapsed < 3
        assert pool.is_alive()


def test_dropped_connection_then_recovery(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        emulator.faults.drop_connection()
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 1)
        with pytest.raises(requests.exceptions.ConnectionError):
            ps.invoke()
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 2)
        assert ps.invoke() == [2]


def test_a_cut_network_resets_connections_and_the_shells_live_on(
    emulator: Emulator, wsman_for: WSManFor
) -> None:
    """What pypsrp's recorded test_psrp_is_alive_http_error saw of a stopped WinRM service:
    no HTTP answer at all. After the cut the same shell answers again, as on Windows."""
    with RunspacePool(wsman_for(emulator, "basic"), idle_timeout=60) as pool:
        assert pool.is_alive(timeout=5) is True
        emulator.cut_network()
        assert pool.is_alive(timeout=5) is False
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(emulator.url, data=b"<x/>", timeout=5)
        assert emulator.shells() == 1
        emulator.restore_network()
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 3)
        assert ps.invoke() == [3]


def test_a_timed_cut_ends_by_itself(emulator: Emulator) -> None:
    emulator.cut_network(0.2)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(emulator.url, data=b"<x/>", timeout=5)
    deadline = time.monotonic() + 5
    while emulator.faults.network_is_cut() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests.post(emulator.url, data=b"<x/>", timeout=5).status_code == 401


def test_injected_fault_is_answered_once(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        emulator.faults.inject("Command", wsman_faults.quota_max_shells("user", 5))
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 1)
        with pytest.raises(WSManFaultError) as caught:
            ps.invoke()
        assert caught.value.code == wsman_faults.ERROR_WSMAN_QUOTA_MAX_SHELLS
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 2)
        assert ps.invoke() == [2]


def test_delayed_responses(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        emulator.faults.delay(0.3, action="Command", count=1)
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 1)
        started = time.monotonic()
        assert ps.invoke() == [1]
        assert time.monotonic() - started >= 0.3


def test_lost_shells_give_shell_not_found(emulator: Emulator, wsman_for: WSManFor) -> None:
    pool = RunspacePool(wsman_for(emulator, "basic"))
    pool.open()
    emulator.faults.lose_shells()
    assert emulator.shells() == 0
    assert not pool.is_alive()
    ps = PowerShell(pool)
    ps.add_cmdlet("Write-Output").add_parameter("InputObject", 1)
    with pytest.raises(WSManFaultError) as caught:
        ps.invoke()
    assert caught.value.code == 2150858843
    assert str(pool.id).upper() in str(caught.value.reason)


def test_max_shells_per_user(wsman_for: WSManFor) -> None:
    with Emulator(users={"user": "pw"}, allow_unencrypted=True, max_shells_per_user=2) as emu:
        pools = [RunspacePool(wsman_for(emu, "basic")) for _ in range(3)]
        pools[0].open()
        pools[1].open()
        with pytest.raises(WSManFaultError) as caught:
            pools[2].open()
        assert caught.value.code == wsman_faults.ERROR_WSMAN_QUOTA_MAX_SHELLS
        assert "maximum number of 2 concurrent shells" in str(caught.value.reason)
        pools[0].close()
        pools[2] = RunspacePool(wsman_for(emu, "basic"))
        pools[2].open()
        pools[1].close()
        pools[2].close()


def test_idle_shells_are_reaped(wsman_for: WSManFor) -> None:
    with Emulator(users={"user": "pw"}, allow_unencrypted=True, idle_timeout=0.3) as emu:
        pool = RunspacePool(wsman_for(emu, "basic"))
        pool.open()
        deadline = time.monotonic() + 5
        while emu.shells() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.shells() == 0
        assert not pool.is_alive()


def test_garbage_http_gets_400_and_the_server_keeps_serving(emulator: Emulator, wsman_for: WSManFor) -> None:
    import socket

    for garbage in (
        b"NOT HTTP AT ALL\r\n\r\n",
        b"POST /wsman HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"\x16\x03\x01\x00",
    ):
        with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
            sock.sendall(garbage)
            if garbage.endswith(b"\r\n\r\n"):
                assert sock.recv(4096).startswith(b"HTTP/1.1 400 ")
            else:
                sock.shutdown(socket.SHUT_WR)
                answer = sock.recv(4096)
                assert answer == b"" or answer.startswith(b"HTTP/1.1 400 ")  # closed, or refused
    status = requests.get(emulator.url, timeout=10).status_code
    assert status == 405
    assert requests.post(emulator.url.replace("/wsman", "/other"), timeout=10).status_code == 404
    _still_serving(emulator, wsman_for)
