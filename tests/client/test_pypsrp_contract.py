"""The contract with pypsrp 0.9.1: what `psremoting.transport` relies on, pinned.

The transport (the only place that uses pypsrp's WSMan and private members) builds on these
names, signatures and behaviours. A pypsrp release that changes one fails here first, with
the name of what moved, instead of somewhere deep in a session. pypsrp's version is set in
one place, pyproject.toml (``pypsrp>=0.9.1,<1.0``).
"""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET
from importlib.metadata import version

import pytest
from pypsrp.complex_objects import HostInfo, PSInvocationState, RunspacePoolState
from pypsrp.encryption import WinRMEncryption
from pypsrp.exceptions import AuthenticationError, WinRMTransportError, WSManFaultError
from pypsrp.powershell import Fragmenter, PowerShell, RunspacePool
from pypsrp.serializer import Serializer
from pypsrp.shell import WinRS
from pypsrp.wsman import NAMESPACES, OptionSet, SelectorSet, WSMan

from psremoting.emulator import Emulator
from psremoting.transport.shell import ShellChannel
from psremoting.transport.wsman import invoke, make_wsman

from .conftest import route_to


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_pinned_pypsrp_version() -> None:
    major, minor, *_ = (int(p) for p in version("pypsrp").split(".")[:3])
    assert (major, minor) == (0, 9), "psremoting.transport is written against pypsrp 0.9"


def test_wsman_keeps_its_transport_and_header_builders() -> None:
    wsman = WSMan("server01", port=5985, ssl=False, auth="ntlm", username="u", password="p")
    assert hasattr(wsman.transport, "endpoint") and wsman.transport.endpoint == "http://server01:5985/wsman"
    assert _parameters(WSMan._create_header)[1:] == [
        "action",
        "resource_uri",
        "option_set",
        "selector_set",
        "timeout",
    ]
    message_id, header = wsman._create_header("urn:action", "urn:resource")
    assert (
        isinstance(message_id, str) and header.find("wsa:MessageID", NAMESPACES).text == f"uuid:{message_id}"
    )
    assert header.find("wsa:To", NAMESPACES).text == wsman.transport.endpoint  # read from the transport
    assert {"max_envelope_size", "max_payload_size", "operation_timeout"} <= set(vars(wsman))
    fault = WSMan._parse_wsman_fault(
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver'
        '</s:Value></s:Code><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        'Code="2150858793" Machine="m"><f:Message>quiet</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body>'
        "</s:Envelope>"
    )
    assert isinstance(fault, WSManFaultError) and (fault.code, fault.reason) == (2150858793, "quiet")
    # How WSMan.invoke reads a transport's HTTP error: WinRMTransportError(protocol, code, text).
    error = WinRMTransportError("http", 500, "text")
    assert (error.code, error.response_text) == (500, "text")
    assert issubclass(AuthenticationError, Exception)


def test_winrs_members_the_transport_uses() -> None:
    assert {"wsman", "id", "resource_uri", "name", "opened", "_selector_set"} <= set(
        vars(WinRS(WSMan("s", auth="ntlm", username="u", password="p")))
    )
    for method, params in {
        "open": ["base_options", "open_content"],
        "send": ["stream", "data", "command_id", "end"],
        "signal": ["code", "command_id"],
        "close": [],
        "_get_shell": ["timeout"],
    }.items():
        assert _parameters(getattr(WinRS, method))[1:] == params, method


def test_runspace_pool_and_powershell_privates() -> None:
    pool = RunspacePool(WSMan("s", auth="ntlm", username="u", password="p"))
    assert isinstance(pool._fragmenter, Fragmenter) and isinstance(pool._serializer, Serializer)
    assert {"fragment", "fragment_multiple"} <= set(dir(pool._fragmenter))
    assert _parameters(RunspacePool._parse_responses)[1:] == ["responses", "pipeline"]
    assert _parameters(RunspacePool._process_host_call)[1:] == ["message", "response_obj", "pipeline"]
    assert isinstance(pool.pipelines, dict) and pool.state == RunspacePoolState.BEFORE_OPEN
    ps = PowerShell(pool)
    assert ps._command_id is None and _parameters(PowerShell._invoke)[1:] == ["msg"]
    assert PSInvocationState.RUNNING == 1
    # HostInfo serializes these members (the transport's RunspaceHostInfo overrides them):
    names = [name for name, _meta in HostInfo()._extended_properties]
    assert names == [
        "_host_data",
        "_is_host_null",
        "_is_host_ui_null",
        "_is_host_raw_ui_null",
        "_use_runspace_host",
    ]
    from psremoting.transport.shell import _runspace_host_info_class

    xml = Serializer().serialize(_runspace_host_info_class()(host=None))
    assert b'<B N="_useRunspaceHost">true</B>' in ET.tostring(xml)
    assert _parameters(Serializer._deserialize_secure_string)[1:] == ["value"]
    assert _parameters(WinRMEncryption.__init__)[1:] == ["context", "protocol"]
    assert {"wrap_message", "unwrap_message"} <= set(dir(WinRMEncryption))


def test_the_transport_behaviour_end_to_end(emulator_ntlm: Emulator) -> None:
    """What the runspace layer gets from the transport, against a server: a pool opened, a
    Receive with a chosen MessageID, the same MessageID answered again from the server's
    memory, a WSMan fault raised as pypsrp's WSManFaultError."""
    route_to(emulator_ntlm, auth="ntlm")
    from psremoting.runspace.host import HostState, make_pshost
    from psremoting.runspace.host_ui import BufferedHostUI
    from psremoting.transport.options import ConnectionInfo

    info = ConnectionInfo.create("Server01")
    channel = ShellChannel(info, make_pshost(BufferedHostUI(), HostState()), name="Contract")
    channel.open(None, deadline=__import__("time").monotonic() + 30)
    assert channel.pool.state == RunspacePoolState.OPENED
    ps = channel.new_powershell()
    ps.add_script("'pinned'")
    channel.start_pipeline(ps, None, add_to_history=False, use_pool_host=False)
    command_id = channel.command_id(ps)
    assert command_id == str(ps.id).upper()
    answer = channel.receive(command_id, 5, message_id="uuid:00000000-0000-4000-8000-000000000001")
    again = channel.receive(command_id, 5, message_id="uuid:00000000-0000-4000-8000-000000000001")
    assert answer.data == again.data and answer.done
    wsman, transport = make_wsman(info)
    with pytest.raises(WSManFaultError):
        invoke(wsman, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive", channel.pool.shell.resource_uri,
               ET.Element("{{{}}}Receive".format(NAMESPACES["rsp"])), OptionSet(), SelectorSet())  # fmt: skip
    transport.close()
    channel.terminate(ps)
    channel.close()
