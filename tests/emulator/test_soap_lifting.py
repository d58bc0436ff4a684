"""The request parser's fast path (`soap._parse_envelope`): long base64 texts lifted out of
the document before the parse give exactly the tree, and the faults, of the whole parse.

The reference is the parse as it was before the fast path: the hostile-document check, then
ElementTree over the whole document (`_whole_parse` below).
"""

from __future__ import annotations

import base64
import random
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests

from psremoting.emulator import Emulator, b64, faults, soap

RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
SEND = RSP + "/Send"
PS_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
SHELL_ID = "1B7E64F6-77E9-4D4C-9E6B-DA6F33C5B0A1"
COMMAND_ID = "9C3E2D3E-2C1B-4F41-9C58-3A8A2C6C0C11"


def _stream(size: int = 380_000, seed: int = 1) -> str:
    return base64.b64encode(random.Random(seed).randbytes(size)).decode()


def _send(body: str, *, prolog: str = "", header_extra: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        f' xmlns:rsp="{RSP}"><s:Header>'
        f'<a:Action s:mustUnderstand="true">{SEND}</a:Action><w:ResourceURI>{PS_URI}</w:ResourceURI>'
        "<a:MessageID>uuid:0E6C5A3B-5F1D-4E0C-8D43-6A0F1F3B2C10</a:MessageID>"
        "<a:To>http://server01:5985/wsman</a:To><w:MaxEnvelopeSize>512000</w:MaxEnvelopeSize>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{SHELL_ID}</w:Selector></w:SelectorSet>'
        f"<w:OperationTimeout>PT20S</w:OperationTimeout>{header_extra}</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _send_of(stream: str, **kwargs: Any) -> bytes:
    return _send(
        f'<rsp:Send><rsp:Stream Name="stdin" CommandId="{COMMAND_ID}">{stream}</rsp:Stream></rsp:Send>',
        **kwargs,
    )


def _whole_parse(data: bytes) -> ET.Element:
    """The parse before the fast path: what `_parse_envelope` must give, tree and faults."""
    if soap._HOSTILE.search(data):
        raise faults.malformed_xml("Document type definitions and entity declarations are not allowed.")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise faults.malformed_xml(f"Line {exc.position[0]}, column {exc.position[1]}: {exc.msg}.") from None


def _outcome(parse: Any, data: bytes) -> tuple[str, bytes | str]:
    try:
        return "tree", ET.tostring(parse(data))
    except faults.WSManFault as fault:
        return "fault", f"{fault.wsman_code} {fault.subcode} {fault.message}"


def _same_as_whole(data: bytes) -> tuple[str, bytes | str]:
    outcome = _outcome(soap._parse_envelope, data)
    assert outcome == _outcome(_whole_parse, data)
    return outcome


def test_a_large_send_is_lifted_and_parses_to_the_same_request() -> None:
    stream = _stream()
    data = _send_of(stream)
    lifted = soap._lift_long_texts(data)
    assert lifted is not None, "the fast path was not taken"
    small, texts = lifted
    assert texts == [stream] and len(small) < 2000
    assert _same_as_whole(data)[0] == "tree"
    request = soap.parse_request(data, 153600)
    assert (request.action, request.resource_uri, request.max_envelope_size) == (SEND, PS_URI, 512000)
    assert request.selectors == {"ShellId": SHELL_ID}
    assert request.body is not None
    streams = request.body.findall("rsp:Stream", soap.NS)
    assert [(s.get("Name"), s.get("CommandId"), s.text) for s in streams] == [("stdin", COMMAND_ID, stream)]
    assert soap.decode_base64(streams[0].text, "rsp:Stream") == base64.b64decode(stream)


def test_several_streams_and_a_declaration() -> None:
    first, second = _stream(9000, 2), _stream(20000, 3)
    body = (
        f'<rsp:Send><rsp:Stream Name="stdin" CommandId="{COMMAND_ID}">{first}</rsp:Stream>'
        f'<rsp:Stream Name="pr" CommandId="{COMMAND_ID}">{second}</rsp:Stream></rsp:Send>'
    )
    data = _send(body, prolog='<?xml version="1.0" encoding="utf-8"?>')
    lifted = soap._lift_long_texts(data)
    assert lifted is not None and lifted[1] == [first, second]
    _same_as_whole(data)


@pytest.mark.parametrize(
    "text",
    [
        "QUJD" * 2000 + "&amp;" + "QUJD" * 10,  # a reference: not lifted, expat resolves it
        "QUJD" * 2000 + "\r\n" + "QUJD" * 10,  # expat turns CRLF into LF
        "QUJD" * 2000 + " " + "QUJD",  # not clean base64 (not lifted; the Send's decode refuses it)
        "QUJD" * 2000 + ">",  # a '>' in text is XML, but not lifted
        "ü" * 3000,  # not ASCII
    ],
)
def test_texts_that_are_not_clean_base64_are_parsed_whole(text: str) -> None:
    data = _send_of(text)
    assert soap._lift_long_texts(data) is None
    kind, tree = _same_as_whole(data)
    assert kind == "tree"
    assert isinstance(tree, bytes)
    stream = ET.fromstring(tree).find(".//rsp:Stream", soap.NS)
    assert stream is not None
    assert stream.text == text.replace("&amp;", "&").replace("\r\n", "\n")


@pytest.mark.parametrize(
    "body",
    [
        # A long run inside a comment: its placeholder goes with the comment.
        "<rsp:Send><!-- a>{run}<b --></rsp:Send>",
        # Inside a CDATA section: the element's text is more than the placeholder.
        '<rsp:Send><rsp:Stream Name="stdin"><![CDATA[x>{run}<y]]></rsp:Stream></rsp:Send>',
        # A tail, not a text.
        '<rsp:Send><rsp:Stream Name="stdin"/>{run}</rsp:Send>',
        # Inside a processing instruction.
        "<rsp:Send><?pi a>{run}<b?></rsp:Send>",
        # The placeholder's own text already in the document (found twice).
        "<rsp:Send><rsp:Stream>{placeholder}0</rsp:Stream><rsp:Stream>{run}</rsp:Stream></rsp:Send>",
        # ... or in an attribute, or a tail.
        '<rsp:Send><rsp:Stream Name="{placeholder}0">{run}</rsp:Stream></rsp:Send>',
        "<rsp:Send><rsp:Stream>{run}</rsp:Stream>{placeholder}0</rsp:Send>",
    ],
)
def test_a_placeholder_that_is_not_an_elements_whole_text_falls_back(body: str) -> None:
    run = _stream(6000)
    data = _send(body.format(run=run, placeholder=soap._PLACEHOLDER))
    lifted = soap._lift_long_texts(data)
    assert lifted is not None and run in lifted[1]
    small, texts = lifted
    assert not soap._put_back(ET.fromstring(small), texts)
    assert _same_as_whole(data)[0] == "tree"


def test_a_long_attribute_value_parses_right() -> None:
    value = _stream(6000)
    data = _send(
        f'<rsp:Send><rsp:Stream Name="stdin" Extra="{value}">{_stream(6000, 4)}</rsp:Stream></rsp:Send>'
    )
    _, tree = _same_as_whole(data)
    assert isinstance(tree, bytes)
    stream = ET.fromstring(tree).find(".//rsp:Stream", soap.NS)
    assert stream is not None and stream.get("Extra") == value


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.replace(b"</rsp:Stream>", b"</rsp:Strem>"),  # mismatched tag after the run
        lambda d: d.replace(b"<rsp:Stream ", b"<rsp:Stream\x01 "),  # bad token before it
        lambda d: d.replace(b"</rsp:Stream>", b""),  # unclosed
        lambda d: d.replace(b"</s:Envelope>", b"</s:Envelope><junk/>"),  # junk after the root
        lambda d: d.replace(b"</s:Envelope>", b""),  # truncated
        lambda d: d[: len(d) // 2],  # cut inside the run
        lambda d: d.replace(b"QUJD", b"QU\x00D", 1),  # a forbidden character inside the run
        lambda d: d.replace(b"QUJD", b"QU<D", 1),  # markup inside the run
        lambda d: d.replace(b"QUJD", b"\xff\xfe", 1),  # not UTF-8 inside the run
        lambda d: d.replace(b"<a:Action", b"<a:Action a='1' a='2'", 1),  # duplicate attribute
    ],
)
def test_malformed_xml_around_or_inside_a_run_gets_the_whole_parses_fault(mangle: Any) -> None:
    data = mangle(_send_of("QUJD" * 5000))
    kind, fault = _same_as_whole(data)
    assert kind == "fault"
    assert "XML is invalid" in str(fault) and "Line 1, column" in str(fault)
    with pytest.raises(faults.WSManFault) as caught:
        soap.parse_request(data, 512000)
    assert caught.value.message == _outcome(_whole_parse, data)[1].split(" ", 2)[2]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>',
        "<!DOCTYPE s:Envelope>",
        '<?xml version="1.0"?><! entity x "y">',
    ],
)
def test_a_dtd_or_entity_before_a_large_run_is_refused(prolog: str) -> None:
    data = _send_of(_stream(), prolog=prolog)
    assert soap._lift_long_texts(data) is not None
    kind, fault = _same_as_whole(data)
    assert kind == "fault" and "Document type definitions" in str(fault)


def test_a_dtd_after_a_large_run_is_refused() -> None:
    data = _send_of(_stream()) + b"<!DOCTYPE x>"
    kind, fault = _same_as_whole(data)
    assert kind == "fault" and "Document type definitions" in str(fault)


def test_another_declared_encoding_is_parsed_whole() -> None:
    data = _send_of(_stream(6000), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert soap._lift_long_texts(data) is None
    assert _same_as_whole(data)[0] == "tree"


def test_random_damage_anywhere_gives_what_the_whole_parse_gives() -> None:
    """Bytes of markup inserted, removed or changed around and inside the runs of a two-stream
    Send: every outcome (tree or fault text) is the whole parse's."""
    rng = random.Random(7)
    body = (
        f'<rsp:Send><rsp:Stream Name="stdin" CommandId="{COMMAND_ID}">{_stream(6000, 5)}</rsp:Stream>'
        f'<!-- c --><rsp:Stream Name="pr">{_stream(5000, 6)}</rsp:Stream></rsp:Send>'
    )
    original = _send(body, prolog='<?xml version="1.0" encoding="utf-8"?>')
    tokens = [
        b"<",
        b">",
        b"&",
        b"&amp;",
        b"]]>",
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b'"',
        b"\r",
        b"\x00",
        b"=",
        b"/",
        b"",
    ]
    anchors = [i for i in range(len(original)) if original[i : i + 1] in (b"<", b">")]
    lifted_count = 0
    for _ in range(400):
        data = bytearray(original)
        for _ in range(rng.randint(1, 3)):
            near = rng.choice(anchors) + rng.randint(-3, 3)
            at = min(max(near, 0), len(data))
            cut = rng.randint(0, 2)
            data[at : at + cut] = rng.choice(tokens)
        sample = bytes(data)
        lifted_count += soap._lift_long_texts(sample) is not None
        _same_as_whole(sample)
    assert lifted_count > 100  # the fast path was tried on most of them


def test_is_clean_is_the_alphabet_and_padding_only() -> None:
    assert b64.is_clean(b"QUJD") and b64.is_clean(b"QQ==") and b64.is_clean(b"")
    for bad in (b"QUJ", b"QU JD", b"QUJD\n", b"QU-D", b"QU_D", b"QUJD&", "QUJé".encode()):
        assert not b64.is_clean(bad), bad


def test_a_large_malformed_send_over_http_gets_the_same_fault(emulator: Emulator) -> None:
    data = _send_of("QUJD" * 50_000).replace(b"</rsp:Stream>", b"</rsp:Strem>")
    expected = _outcome(_whole_parse, data)[1]
    user, password = next(iter(emulator.users.items()))
    response = requests.post(
        emulator.url,
        data=data,
        auth=(user, password),
        headers={"Content-Type": "application/soap+xml;charset=UTF-8"},
        timeout=30,
    )
    assert response.status_code == 500
    root = ET.fromstring(response.content)
    message = root.findtext(
        "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message",
        "",
        {"s": soap.NS["s"], "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"},
    )
    assert message == str(expected).split(" ", 2)[2]
