"""The WSMan layer without sockets (bytes in, bytes out), and many clients at once over HTTP."""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from pypsrp.powershell import PowerShell, RunspacePool

from psremoting.emulator import Emulator

WSManFor = Callable[..., Any]
WSMANFAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
}


def _request(action: str, resource_uri: str, body: str = "") -> tuple[str, bytes]:
    message_id = f"uuid:{str(uuid.uuid4()).upper()}"
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header>'
        f"<a:Action>{action}</a:Action><w:ResourceURI>{resource_uri}</w:ResourceURI>"
        f"<a:MessageID>{message_id}</a:MessageID><a:To>http://server01:5985/wsman</a:To>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    return message_id, envelope.encode()


def test_get_config_without_sockets(emulator: Emulator) -> None:
    message_id, request = _request(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
        "http://schemas.microsoft.com/wbem/wsman/1/config",
    )
    status, response = emulator.service().handle(request, username="user")
    assert status == 200
    root = ET.fromstring(response)
    assert root.findtext("s:Header/a:RelatesTo", "", NS) == message_id
    assert root.findtext("s:Header/a:Action", "", NS).endswith("/transfer/GetResponse")
    assert root.findtext("s:Body/cfg:Config/cfg:MaxEnvelopeSizekb", "", NS) == "500"
    assert root.findtext("s:Body/cfg:Config/cfg:Winrs/cfg:MaxShellsPerUser", "", NS) == "30"


def test_a_refused_header_still_relates_the_fault_to_the_request(emulator: Emulator) -> None:
    """Windows answers an OperationTimeout of PT-1S with a fault that names the request
    (a:RelatesTo) and the host it was sent to (test_psrp_is_alive_other_wsman_error)."""
    message_id, request = _request(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
        "http://schemas.microsoft.com/wbem/wsman/1/config",
    )
    request = request.replace(b"</s:Header>", b"<w:OperationTimeout>PT-1S</w:OperationTimeout></s:Header>")
    status, response = emulator.service().handle(request, username="user")
    assert status == 500
    root = ET.fromstring(response)
    assert root.findtext("s:Header/a:RelatesTo", "", NS) == message_id
    assert (
        root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", "", NS)
        == "a:InvalidMessageInformationHeader"
    )
    fault = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", {**NS, "f": WSMANFAULT})
    assert fault is not None and fault.get("Machine") == "server01"
    assert "invalid timeout field in the SOAP header: PT-1S" in "".join(fault.itertext())


def test_enumerate_and_pull_shells_of_the_user(emulator: Emulator, wsman_for: WSManFor) -> None:
    user = next(iter(emulator.users))
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        service = emulator.service()
        _, request = _request(
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
            "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
            "<n:Enumerate/>",
        )
        status, response = service.handle(request, username=user)
        assert status == 200
        context = ET.fromstring(response).findtext("s:Body/n:EnumerateResponse/n:EnumerationContext", "", NS)
        assert context
        _, request = _request(
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull",
            "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
            f"<n:Pull><n:EnumerationContext>{context}</n:EnumerationContext></n:Pull>",
        )
        status, response = service.handle(request, username=user)
        root = ET.fromstring(response)
        shells = root.findall("s:Body/n:PullResponse/n:Items/rsp:Shell", NS)
        assert [s.findtext("rsp:ShellId", "", NS) for s in shells] == [str(pool.id).upper()]
        assert root.find("s:Body/n:PullResponse/n:EndOfSequence", NS) is not None
        status, response = service.handle(request, username=user)
        assert status == 500  # the context was used up
        # Another user sees none of this user's shells.
        _, request = _request(
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
            "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
            "<n:Enumerate><w:OptimizeEnumeration/></n:Enumerate>",
        )
        status, response = service.handle(request, username="someone-else")
        root = ET.fromstring(response)
        assert status == 200
        assert root.findall(".//rsp:Shell", NS) == []
        assert root.find("s:Body/n:EnumerateResponse/w:EndOfSequence", NS) is not None


def test_many_clients_at_once(emulator: Emulator, wsman_for: WSManFor) -> None:
    errors: list[BaseException] = []
    results: dict[int, list[Any]] = {}

    def client(n: int) -> None:
        try:
            with RunspacePool(wsman_for(emulator, "basic")) as pool:
                got = []
                for i in range(15):
                    ps = PowerShell(pool)
                    ps.add_cmdlet("Write-Output").add_parameter("InputObject", n * 100 + i)
                    got.extend(ps.invoke())
                    ps.close()
                results[n] = got
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert results == {n: [n * 100 + i for i in range(15)] for n in range(8)}
    assert emulator.stats.requests["Create"] == 8
    assert emulator.stats.open_shells == 0


def test_fast_output_serialization_matches_psrpcore() -> None:
    import psrpcore
    from psrpcore.types import serialize

    from psremoting.emulator.pipelines import fast_clixml

    pool = psrpcore.ServerRunspacePool()
    values: list[Any] = ["", "a<b>&c>\"'", "x\ny\r\t", "_x_X_x0041_", "emoji \U0001f600", "\x00\x7f", 0, -1]
    values += [2**31 - 1, 2**31, -(2**31), 2**63 - 1, True, False]
    for value in values:
        expected = ET.tostring(serialize(value, pool._cipher), encoding="utf-8", method="xml")
        assert fast_clixml(value) == expected, value
    assert fast_clixml(-(2**31) - 1) == b"<I64>-2147483649</I64>"  # psrpcore would overflow an I32
    assert fast_clixml(1.5) is None and fast_clixml(None) is None
