"""The emulator's GetCommandMetadata answer has Windows' shape (test_psrp_get_command_metadata.yml).

Implicit remoting builds its proxies from this answer, so its structure is compared with what
Windows sent for New-PSSessionOption: the command object's properties and types, the
Parameters dictionary's type, and each ParameterMetadata's adapted properties.
"""

from __future__ import annotations

import base64
import os
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from psremoting.emulator import Emulator
from psremoting.emulator.pytest_plugin import make_wsman
from psremoting.pslang.binder import CommandSignature, Parameter

# Next to the checkout (../shared, as tests/conformance finds it), or where PSREMOTING_RECORDINGS says.
RECORDING = (
    Path(
        os.environ.get("PSREMOTING_RECORDINGS")
        or Path(__file__).resolve().parents[2] / ".." / "shared" / "windows-recordings"
    )
    / "test_psrp_get_command_metadata.yml"
).resolve()


def _messages(envelopes: list[str]) -> list[bytes]:
    """PSRP messages in the Streams of response envelopes, reassembled from fragments."""
    buffers: dict[int, bytes] = {}
    messages: list[bytes] = []
    for envelope in envelopes:
        root = ET.fromstring(envelope)
        for stream in root.iter("{http://schemas.microsoft.com/wbem/wsman/1/windows/shell}Stream"):
            data = base64.b64decode(stream.text or "")
            offset = 0
            while offset < len(data):
                object_id, _fragment, flags, length = struct.unpack(">QQBI", data[offset : offset + 21])
                buffers[object_id] = buffers.get(object_id, b"") + data[offset + 21 : offset + 21 + length]
                offset += 21 + length
                if flags & 2:
                    messages.append(buffers.pop(object_id))
    return messages


def _shape(obj: ET.Element) -> dict[str, Any]:
    """What matters of a CommandMetadata object: its type names, its properties (tag and name),
    the Parameters dictionary's type, and the adapted properties of a ParameterMetadata."""

    def types(el: ET.Element) -> list[str]:
        tn = el.find("TN")
        return [t.text or "" for t in tn] if tn is not None else []

    top = obj.find("MS")
    assert top is not None
    parameters = next(el for el in top if el.get("N") == "Parameters")
    entry = parameters.find("DCT/En/Obj")
    assert entry is not None
    props = entry.find("Props")
    assert props is not None
    return {
        "types": types(obj),
        "properties": [(el.tag, el.get("N")) for el in top],
        "parameters_types": [t for t in types(parameters) if t != "System.Object"],
        "parameter_types": types(entry),
        "parameter_props": [(el.tag, el.get("N")) for el in props],
        "aliases_types": [
            t for t in types(next(el for el in props if el.get("N") == "Aliases")) if t != "System.Object"
        ],
    }


def _recorded() -> dict[str, Any]:
    exchanges = yaml.safe_load(RECORDING.read_text(encoding="utf-8"))["messages"]
    for message in _messages([e["response"] for e in exchanges]):
        text = message[40:].decode("utf-8-sig")
        if '<S N="Name">New-PSSessionOption</S>' in text:
            return _shape(ET.fromstring(text))
    raise AssertionError("the recording has no New-PSSessionOption metadata")


@pytest.mark.skipif(not RECORDING.is_file(), reason=f"recording absent: {RECORDING}")
def test_metadata_answer_has_windows_shape() -> None:
    from pypsrp.messages import GetCommandMetadata
    from pypsrp.powershell import PowerShell, RunspacePool

    def handler(ctx: Any) -> list[Any]:
        return []

    handler.signature = CommandSignature(  # type: ignore[attr-defined]
        "New-PSSessionOption",
        (
            Parameter("MaximumRedirection", "int"),
            Parameter("NoCompression", "switch"),
            Parameter("Culture", "string"),
        ),
    )
    handler.command_type = "Cmdlet"  # type: ignore[attr-defined]
    with Emulator(users={"user": "pw"}, allow_unencrypted=True) as emu:
        emu.register("New-PSSessionOption", handler)
        wsman = make_wsman(emu, "basic", username="user", password="pw")
        with RunspacePool(wsman) as pool:
            ps = PowerShell(pool)
            ps._invoke(GetCommandMetadata(["New-PSSessionOption"], 511, None, None))
            output = ps.end_invoke()
    count, answer = output
    assert count.count == 1
    actual = _shape(ET.fromstring(answer._xml))
    recorded = _recorded()
    assert actual["types"] == recorded["types"]
    # Windows' properties also include OutputType's contents and HelpUri's text; their order and tags must agree.
    assert actual["properties"] == recorded["properties"]
    assert actual["parameters_types"] == recorded["parameters_types"]
    assert actual["parameter_types"] == recorded["parameter_types"]
    assert actual["parameter_props"] == recorded["parameter_props"]
    assert actual["aliases_types"] == recorded["aliases_types"]


def _recorded_parameters() -> dict[str, list[str]]:
    """Each command of the recording: its parameter names, in Windows' order."""
    exchanges = yaml.safe_load(RECORDING.read_text(encoding="utf-8"))["messages"]
    commands: dict[str, list[str]] = {}
    for message in _messages([e["response"] for e in exchanges]):
        text = message[40:].decode("utf-8-sig")
        if 'N="Parameters"' not in text:
            continue
        top = ET.fromstring(text).find("MS")
        assert top is not None
        name = top.findtext("S[@N='Name']", "")
        table = next(el for el in top if el.get("N") == "Parameters")
        commands[name] = [en.findtext("S[@N='Key']", "") for en in table.iter("En")]
    return commands


@pytest.mark.skipif(not RECORDING.is_file(), reason=f"recording absent: {RECORDING}")
def test_the_recorded_hosts_commands_are_listed_with_its_parameters() -> None:
    """New-PSSession*, New-Guid, New-TemporaryFile and Get-WSMan* answer GetCommandMetadata as
    the recorded Windows PowerShell 5.1 host does: the same commands per query, the same
    parameters in the same order (common ones included, ProgressAction not: it is 7.4's)."""
    from pypsrp.messages import GetCommandMetadata
    from pypsrp.powershell import PowerShell, RunspacePool

    recorded = _recorded_parameters()
    queries = [
        (["new-pssession*"], 511, None),
        (["new-*"], 2, None),
        (["Get-*"], 511, ["Microsoft.WSMan.Management"]),
    ]
    listed: dict[str, list[str]] = {}
    with Emulator(users={"user": "pw"}, allow_unencrypted=True) as emu:
        wsman = make_wsman(emu, "basic", username="user", password="pw")
        with RunspacePool(wsman) as pool:
            for names, command_type, namespace in queries:
                ps = PowerShell(pool)
                ps._invoke(GetCommandMetadata(names, command_type, namespace, None))
                count, *commands = ps.end_invoke()
                assert count.count == len(commands)
                for command in commands:
                    obj = ET.fromstring(command._xml)
                    top = obj.find("MS")
                    assert top is not None
                    name = top.findtext("S[@N='Name']", "")
                    table = next(el for el in top if el.get("N") == "Parameters")
                    listed[name] = [en.findtext("S[@N='Key']", "") for en in table.iter("En")]
    assert sorted(listed) == sorted(recorded)
    for name, parameters in recorded.items():
        assert listed[name] == parameters, name
