"""Fuzzing of everything the client reads from the network (issue 15), with hypothesis.

Targets, each the function the client calls on what a server sent:

- `safexml.fromstring`: any bytes, and XML-shaped text built from tags, DTDs, entities;
- `wsman.read_answer` + `wsman.read_receive`: SOAP envelopes of Receive answers, mutated
  (wrong namespaces, RelatesTo, streams that are not or not quite base64, exit codes), cut;
- `wsman.read_fault`: WSMan fault envelopes, mutated;
- `fragments.Defragmenter.feed`: PSRP fragments with bad headers, out of order, with huge
  declared lengths, cut short;
- `shell.unpack_message`: PSRP message headers and their CLIXML;
- `objects.from_clixml`: CLIXML documents.

For each: only the project's own error (`MalformedAnswerError`) comes out, never a raw
exception; each example ends within hypothesis' deadline (no hang); the hostile classics
(entity bombs, quadratic blow-up, deep nesting, huge declared lengths) stay within a few MiB.

``PSREMOTING_FUZZ_EXAMPLES`` sets the examples per target (CI: 1000); for a long local run,
e.g. ``PSREMOTING_FUZZ_EXAMPLES=20000 pytest tests/reliability/test_fuzz.py``.
"""

from __future__ import annotations

import base64
import os
import struct
import tracemalloc
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psremoting.protocol import safexml
from psremoting.protocol.errors import MalformedAnswerError
from psremoting.protocol.fragments import FRAGMENT_HEADER, Defragmenter
from psremoting.protocol.objects import from_clixml
from psremoting.transport import wsman as ws
from psremoting.transport.shell import unpack_message

EXAMPLES = int(os.environ.get("PSREMOTING_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=2000,  # ms per example: a parse that hangs fails here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("PSREMOTING_FUZZ_RANDOM") != "1",  # CI: reproducible
    database=None,
)

S = "http://www.w3.org/2003/05/soap-envelope"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
WANTED = "uuid:11111111-2222-3333-4444-555555555555"


def only_our_error(call: Any, *args: Any) -> Any:
    """`call(*args)`, which may fail only with the project's error."""
    try:
        return call(*args)
    except MalformedAnswerError:
        return None


# -- XML ------------------------------------------------------------------------------

XML_PIECES = st.sampled_from(
    [
        "<a>",
        "</a>",
        "<s:Envelope xmlns:s='" + S + "'>",
        "</s:Envelope>",
        "<b x='1'/>",
        "&amp;",
        "&lol;",
        "<!DOCTYPE a [",
        "<!ENTITY lol 'lol'>",
        "<!ENTITY e SYSTEM 'file:///etc/passwd'>",
        "]>",
        "&e;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?xml version='1.0' encoding='utf-16'?>",
        "<?pi x?>",
        "\x00",
        "\udcff",
        "\ufeff",
        "&#0;",
        "&#x10FFFF;",
        "<:a>",
        "<a:b xmlns:a=''>",
        "text",
        " ",
        "\r\n",
    ]
)


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes_as_xml(data: bytes) -> None:
    only_our_error(safexml.fromstring, data)


@FUZZ
@given(st.lists(XML_PIECES, max_size=60))
def test_xml_shaped_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    only_our_error(safexml.fromstring, text.encode("utf-8", "surrogatepass"))
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        with pytest.raises(MalformedAnswerError):
            safexml.fromstring(text.encode("utf-8", "surrogatepass"))


# -- SOAP envelopes: Receive answers and faults --------------------------------------

B64 = st.one_of(
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=1, max_size=300).map(lambda b: base64.b64encode(b).decode()[:-1]),  # truncated
    st.text(alphabet="ABCD+/=-_ \n*", max_size=40),
)
NAMESPACE = st.sampled_from([S, RSP, A, "urn:wrong", ""])


@st.composite
def receive_envelopes(draw: Any) -> bytes:
    s_ns, rsp_ns, a_ns = (
        draw(st.sampled_from([S, "urn:wrong"])),
        draw(NAMESPACE),
        draw(st.sampled_from([A, "urn:x"])),
    )
    relates = draw(st.sampled_from([WANTED, "uuid:other", "", "\x1b[2J"]))
    streams = "".join(
        f"<rsp:Stream Name='stdout'>{text}</rsp:Stream>" for text in draw(st.lists(B64, max_size=4))
    )
    state = draw(
        st.sampled_from(
            ["", "<rsp:CommandState State='x/Done'><rsp:ExitCode>{}</rsp:ExitCode></rsp:CommandState>"]
        )
    ).format(draw(st.sampled_from(["0", "-1", "zero", "9" * 5000, "", "1e3"])))
    envelope = (
        f"<s:Envelope xmlns:s='{s_ns}' xmlns:a='{a_ns}' xmlns:rsp='{rsp_ns}'>"
        f"<s:Header><a:RelatesTo>{relates}</a:RelatesTo></s:Header>"
        f"<s:Body><rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse></s:Body></s:Envelope>"
    ).encode("utf-8", "surrogatepass")
    cut = draw(st.one_of(st.none(), st.integers(0, len(envelope))))
    return envelope if cut is None else envelope[:cut]


def _read_receive(answer: bytes) -> Any:
    return ws.read_receive(ws.read_answer(answer, WANTED))


@FUZZ
@given(receive_envelopes())
def test_receive_answers(answer: bytes) -> None:
    only_our_error(_read_receive, answer)


@st.composite
def fault_envelopes(draw: Any) -> str:
    code = draw(st.sampled_from(["2150858793", "5", "x", "", "-1", "9" * 100]))
    text = draw(st.text(max_size=50)).replace("<", "&lt;").replace("&", "&amp;")
    body = (
        f"<s:Envelope xmlns:s='{draw(NAMESPACE)}'><s:Body><s:Fault>"
        f"<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>"
        f"<s:Reason><s:Text>{text}</s:Text></s:Reason>"
        f"<s:Detail><f:WSManFault xmlns:f='{draw(st.sampled_from([F, 'urn:x']))}' Code='{code}' Machine='m'>"
        f"<f:Message>{text}<f:ProviderFault provider='p' path='q'>{text}</f:ProviderFault></f:Message>"
        "</f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>"
    )
    cut = draw(st.one_of(st.none(), st.integers(0, len(body))))
    return body if cut is None else body[:cut]


@FUZZ
@given(fault_envelopes())
def test_wsman_faults(text: str) -> None:
    from pypsrp.exceptions import WSManFaultError

    fault = only_our_error(ws.read_fault, text)
    assert fault is None or isinstance(fault, WSManFaultError)


# -- PSRP fragments, messages, CLIXML ------------------------------------------------


@st.composite
def fragment_streams(draw: Any) -> bytes:
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        body = draw(st.binary(max_size=64))
        declared = draw(st.one_of(st.just(len(body)), st.integers(0, 2**32 - 1)))
        out += (
            FRAGMENT_HEADER.pack(
                draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 255)), declared
            )
            + body
        )
    cut = draw(st.one_of(st.none(), st.integers(0, len(out))))
    return out if cut is None else out[:cut]


@FUZZ
@given(st.lists(fragment_streams(), max_size=4))
def test_fragments(answers: list[bytes]) -> None:
    defrag = Defragmenter()
    for data in answers:
        only_our_error(lambda d: list(defrag.feed(d)), data)


CLIXML_PIECES = st.sampled_from(
    [
        "<Obj RefId='0'>",
        "</Obj>",
        "<TN RefId='0'>",
        "<T>System.Object</T>",
        "</TN>",
        "<TNRef RefId='0'/>",
        "<TNRef RefId='9'/>",
        "<Ref RefId='0'/>",
        "<Ref RefId='7'/>",
        "<MS>",
        "</MS>",
        "<LST>",
        "</LST>",
        "<DCT>",
        "</DCT>",
        "<En>",
        "</En>",
        "<Key>",
        "</Key>",
        "<Value>",
        "</Value>",
        "<Props>",
        "</Props>",
        "<I32>",
        "</I32>",
        "<I32 N='x'>99999999999999999999</I32>",
        "<DT>not a date</DT>",
        "<G>nope</G>",
        "<BA>!!</BA>",
        "<SS>abc</SS>",
        "<C>-1</C>",
        "<D>1e999999</D>",
        "<Db>nan</Db>",
        "<S>",
        "</S>",
        "<ToString>",
        "</ToString>",
        "<Nil/>",
        "<B>maybe</B>",
        "<U64>-5</U64>",
        "<TS>PXYZ</TS>",
        "x",
        "_x0000_",
    ]
)


def _clixml(pieces: list[str]) -> bytes:
    return (
        "<Objs Version='1.1.0.1' xmlns='http://schemas.microsoft.com/powershell/2004/04'>"
        + "".join(pieces)
        + "</Objs>"
    ).encode()


@FUZZ
@given(st.lists(CLIXML_PIECES, max_size=40))
def test_clixml_objects(pieces: list[str]) -> None:
    only_our_error(from_clixml, "".join(pieces).encode())
    only_our_error(from_clixml, _clixml(pieces))


@FUZZ
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([0x00041004, 0x00041005, 0x00041006, 0x00021005, 0x00041100, 0x00021100, 0x00010002, 1]),
    st.lists(CLIXML_PIECES, max_size=30),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 60)),
)
def test_psrp_messages(
    destination: int, message_type: int, pieces: list[str], bom: bool, cut: int | None
) -> None:
    from pypsrp.serializer import Serializer

    from psremoting.transport import xmlguard

    xmlguard.harden()
    data = struct.pack("<II", destination, message_type) + uuid.uuid4().bytes_le + uuid.uuid4().bytes_le
    data += (b"\xef\xbb\xbf" if bom else b"") + "".join(pieces).encode()
    if cut is not None:
        data = data[:cut]
    only_our_error(unpack_message, data, Serializer())


# -- the hostile classics, with memory measured --------------------------------------


def _bomb(levels: int = 10) -> bytes:
    entities = "<!ENTITY l0 'lol'>" + "".join(
        "<!ENTITY l{} '{}'>".format(i, f"&l{i - 1};" * 10) for i in range(1, levels)
    )
    return f"<!DOCTYPE x [{entities}]><x>&l{levels - 1};</x>".encode()


HOSTILE = {
    "billion laughs": _bomb(),
    "quadratic blow-up": b"<!DOCTYPE x [<!ENTITY a '"
    + b"a" * 100_000
    + b"'>]><x>"
    + b"&a;" * 10_000
    + b"</x>",
    "external entity": b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    "external DTD": b"<!DOCTYPE x SYSTEM 'http://127.0.0.1:9/evil.dtd'><x/>",
    "parameter entity": b"<!DOCTYPE x [<!ENTITY % p SYSTEM 'http://127.0.0.1:9/p'> %p;]><x/>",
    "UTF-16 DTD": "<?xml version='1.0' encoding='utf-16'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>".encode(
        "utf-16"
    ),
    "deep nesting": b"<a>" * 50_000 + b"</a>" * 50_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_in_bounded_memory(name: str) -> None:
    tracemalloc.start()
    try:
        for target in (safexml.fromstring, from_clixml, lambda d: ws.read_answer(d, WANTED)):
            with pytest.raises(MalformedAnswerError):
                target(HOSTILE[name])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # a few MiB at most, whatever the document asks for


def test_a_huge_declared_fragment_length_is_refused_without_allocating_it() -> None:
    tracemalloc.start()
    try:
        data = FRAGMENT_HEADER.pack(1, 0, 1, 2**32 - 1) + b"x" * 100
        with pytest.raises(MalformedAnswerError, match="declares 4294967295 bytes"):
            list(Defragmenter().feed(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_out_of_order_fragments_are_named() -> None:
    first = FRAGMENT_HEADER.pack(5, 0, 1, 3) + b"abc"
    third = FRAGMENT_HEADER.pack(5, 2, 2, 3) + b"def"
    with pytest.raises(MalformedAnswerError, match="fragment 2 of object 5 came out of order"):
        list(Defragmenter().feed(first + third))
