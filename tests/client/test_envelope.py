"""Request envelopes written from the template are the bytes pypsrp's ElementTree builds;
answer headers read without the e-mail parser are what http.client reads; a fleet's
CreatePipeline is cached only when its XML is decided by plain values."""

from __future__ import annotations

import http.client
import io
import xml.etree.ElementTree as ET

import pytest
from pypsrp.wsman import NAMESPACES, OptionSet, SelectorSet, WSMan

from psremoting.transport.envelope import NAMESPACES as OURS
from psremoting.transport.envelope import SendBody, build_envelope, wsman_class
from psremoting.transport.reading import read_headers
from psremoting.transport.sending import pipeline_key

RSP = NAMESPACES["rsp"]


def _wsman() -> WSMan:
    return WSMan("host.example", port=5985, ssl=False, auth="ntlm", username="u", password="p",
                 locale="de-DE", data_locale="fr-FR")  # fmt: skip


def _pypsrp_bytes(wsman: WSMan, action: str, uri: str, resource, options, selectors, timeout):
    envelope = ET.Element("{{{}}}Envelope".format(NAMESPACES["s"]))
    message_id, header = wsman._create_header(action, uri, options, selectors, timeout)
    envelope.append(header)
    body = ET.SubElement(envelope, "{{{}}}Body".format(NAMESPACES["s"]))
    if resource is not None:
        body.append(resource)
    return ET.tostring(envelope, encoding="utf-8", method="xml"), f"uuid:{message_id}"


def _cases():
    protocol = OptionSet()
    protocol.add_option("protocolversion", "2.3", {"MustComply": "true"})
    creation = ET.Element("creationXml", xmlns="http://schemas.microsoft.com/powershell")
    creation.text = "AAAA&<>\"'"
    shell = ET.Element(f"{{{RSP}}}Shell", ShellId="ABC")
    ET.SubElement(shell, f"{{{RSP}}}InputStreams").text = "stdin pr"
    shell.append(creation)
    selectors = SelectorSet()
    selectors.add_option("ShellId", "1234-ABCD")
    send = ET.Element(f"{{{RSP}}}Send")
    ET.SubElement(send, f"{{{RSP}}}Stream", Name="stdin", CommandId="X").text = "QUJD" * 1000
    receive = ET.Element(f"{{{RSP}}}Receive")
    ET.SubElement(receive, f"{{{RSP}}}DesiredStream", CommandId="C").text = "stdout"
    keepalive = OptionSet()
    keepalive.add_option("WSMAN_CMDSHELL_OPTION_KEEPALIVE", "True")
    signal = ET.Element(f"{{{RSP}}}Signal", attrib={"CommandId": 'a\tb\nc\r"d'})
    ET.SubElement(signal, f"{{{RSP}}}Code").text = "x"
    signal[0].tail = "tail&"
    odd = ET.Element(
        "{urn:unknown}Thing", attrib={"{urn:other}a": "1", "{{{}}}lang".format(NAMESPACES["xml"]): "en"}
    )
    ET.SubElement(odd, "{urn:unknown}Child")
    transfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
    return [
        (f"{transfer}/Create", "http://schemas.microsoft.com/powershell/Microsoft.PowerShell", shell, protocol, None, None),
        (f"{RSP}/Send", "http://x/y?a=1&b=<2>", send, None, selectors, None),
        (f"{RSP}/Receive", "http://u", receive, keepalive, selectors, 20),
        (f"{transfer}/Delete", "http://u", None, None, selectors, None),
        ("act", "u", signal, None, None, 1.5),
        ("act", "u", odd, None, None, None),
    ]  # fmt: skip


def test_namespaces_are_pypsrps() -> None:
    assert OURS == NAMESPACES


@pytest.mark.parametrize("case", range(6))
def test_template_envelope_is_the_one_pypsrp_builds(case: int) -> None:
    wsman = _wsman()
    action, uri, resource, options, selectors, timeout = _cases()[case]
    expected, message_id = _pypsrp_bytes(wsman, action, uri, resource, options, selectors, timeout)
    ours, used = build_envelope(
        wsman, action, uri, resource, options, selectors, timeout, message_id=message_id
    )
    assert ours == expected
    assert used == message_id


@pytest.mark.parametrize(
    ("data", "command_id"), [(bytes(range(256)) * 1500, "1A2B-C3"), (b"", None), (b"\x00&<", 'a"b')]
)
def test_a_send_of_stream_data_is_the_one_pypsrp_builds(data: bytes, command_id: str | None) -> None:
    """The bytes written straight for an upload's Send are pypsrp's ``WinRS.send`` element."""
    import base64

    wsman = _wsman()
    selectors = SelectorSet()
    selectors.add_option("ShellId", "1234-ABCD")
    send = ET.Element(f"{{{RSP}}}Send")
    stream = ET.SubElement(send, f"{{{RSP}}}Stream", Name="stdin")
    if command_id is not None:
        stream.attrib["CommandId"] = command_id
    stream.text = base64.b64encode(data).decode()
    action, uri = f"{RSP}/Send", "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
    expected, message_id = _pypsrp_bytes(wsman, action, uri, send, None, selectors, None)
    body = SendBody("stdin", data, command_id)
    ours, _ = build_envelope(wsman, action, uri, body, None, selectors, None, message_id=message_id)
    assert ours == expected


@pytest.mark.parametrize("size", [153600, 512000, 2048000])
def test_payload_size_is_pypsrps(size: int) -> None:
    theirs, ours = _wsman(), wsman_class()("host.example", port=5985, ssl=False, auth="ntlm", username="u",
                                           password="p", locale="de-DE", data_locale="fr-FR")  # fmt: skip
    theirs.max_envelope_size = ours.max_envelope_size = size
    assert ours._calc_envelope_size(size) == WSMan._calc_envelope_size(theirs, size)


@pytest.mark.parametrize(
    "block",
    [
        b'Server: Microsoft-HTTPAPI/2.0\r\nContent-Type: multipart/encrypted;boundary="Encrypted Boundary"\r\n'
        b"Content-Length: 1234\r\nWWW-Authenticate: Negotiate abc\r\nWWW-Authenticate: NTLM\r\n\r\n",
        b"A: b\r\n folded\r\n\r\n",
        b"X:  y  \r\nno colon here\r\n\r\n",
        b"Truncated: yes",
    ],
)
def test_headers_read_as_http_client_reads_them(block: bytes) -> None:
    ours, theirs = read_headers(io.BytesIO(block)), http.client.parse_headers(io.BytesIO(block))
    assert ours.items() == theirs.items()
    assert ours.get_all("www-authenticate") == theirs.get_all("www-authenticate")


def test_too_many_headers_refused_as_http_client_does() -> None:
    block = b"".join(b"H%d: v\r\n" % n for n in range(101)) + b"\r\n"
    with pytest.raises(http.client.HTTPException):
        read_headers(io.BytesIO(block))


def _create(value: object, host_info: object) -> object:
    from pypsrp.complex_objects import (
        ApartmentState,
        Command,
        CommandParameter,
        Pipeline,
        RemoteStreamOptions,
    )
    from pypsrp.messages import CreatePipeline

    command = Command(cmd="Get-Thing", is_script=False, use_local_scope=False)
    command.args.append(CommandParameter(name="Value", value=value))
    pipeline = Pipeline(is_nested=False, cmds=[command], history="", redirect_err_to_out=False)
    return CreatePipeline(True, ApartmentState(value=2), RemoteStreamOptions(value=15), False, host_info,
                          pipeline, False)  # fmt: skip


def test_pipeline_key_tells_values_apart_and_refuses_objects() -> None:
    from pypsrp.complex_objects import HostInfo

    class DataLess(HostInfo):
        pass

    kinds = (DataLess,)
    key_one = pipeline_key(_create(1, DataLess()), kinds)
    assert key_one is not None
    assert key_one == pipeline_key(_create(1, DataLess()), kinds)
    assert key_one != pipeline_key(_create(True, DataLess()), kinds)  # 1 and True differ on the wire
    assert key_one != pipeline_key(_create("1", DataLess()), kinds)
    assert pipeline_key(_create(object(), DataLess()), kinds) is None  # not a plain value
    assert pipeline_key(_create(1, HostInfo()), kinds) is None  # full host data: never cached
