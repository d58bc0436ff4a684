"""The client's fast paths give exactly what the slow ones gave.

- `from_clixml` reads lone primitives straight from the bytes (no XML parser): same values as
  the parser path, for every primitive tag and the awkward texts (entities, CR, escapes).
- Whole objects (nested objects, Ref, TNRef, lists, dicts, secure strings, datetimes) come
  out as pypsrp's own deserializer reads them.
- Fragments of big objects, interleaved with small ones, reassemble byte for byte; a gap
  in the fragment ids is an error, not silent corruption.
- The small state messages (SessionCapability, RunspacePoolState, PipelineState) read on the
  fast path are the objects pypsrp's serializer makes; any other shape goes to pypsrp;
  ApplicationPrivateData is read when first asked for, to the same data.
- Pipeline input is packed and cut into the very fragments pypsrp's ``fragment_multiple``
  makes (an upload's byte arrays written straight to ``<BA>``), with the same object ids.
- Against the emulator: pre-serialized output (the benchmark knob) streams in order, a
  multi-megabyte string crosses several Receives intact, pipeline input (with $null in it)
  arrives, and a pipeline uses the pool's host unless the host's data changed since open.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import struct
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pypsrp.serializer import Serializer

import psremoting
from psremoting.protocol.errors import PSRemotingError
from psremoting.protocol.fragments import Defragmenter as _Defragmenter
from psremoting.protocol.objects import (
    PSObject,
    SecureString,
    _fast_primitive,
    from_clixml,
    parse_datetime,
)
from psremoting.runspace.host import host_data_key
from psremoting.transport.pypsrp_values import from_pypsrp
from psremoting.transport.shell import secure_string_decryptor as _decryptor

# --- lone primitives: fast path == parser path ----------------------------------------------

PRIMITIVES = [
    b"<S>plain</S>",
    b"<S>  spaces kept  </S>",
    b"<S>caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80</S>",
    b"<S>line_x000D__x000A_next</S>",
    b"<S>_xD83D__xDE00_</S>",
    b"<S>a &amp; b &lt;c&gt; &quot;d&quot; &#x41;</S>",
    b"<S>cr\r\nlf</S>",
    b"<S>tab\tand\nnewline</S>",
    b"<S />",
    b"<S></S>",
    b"<Nil />",
    b"<I32>-2147483648</I32>",
    b"<I32>42</I32>",
    b"<I32></I32>",
    b"<I32>notanumber</I32>",
    b"<I64>9223372036854775807</I64>",
    b"<U64>18446744073709551615</U64>",
    b"<I16>-7</I16>",
    b"<U16>7</U16>",
    b"<By>255</By>",
    b"<SB>-128</SB>",
    b"<U32>4294967295</U32>",
    b"<B>true</B>",
    b"<B>false</B>",
    b"<Db>1.5</Db>",
    b"<Db>-1E+300</Db>",
    b"<Sg>3.25</Sg>",
    b"<D>12.50</D>",
    b"<C>65</C>",
    b"<BA>AAEC</BA>",
    b"<G>0b7f3a5e-8a2c-4b8e-9f43-6d2f1c0e5a77</G>",
    b"<DT>2026-11-24T23:25:21.1234567+01:00</DT>",
    b"<DT>2026-11-24T23:25:21Z</DT>",
    b"<TS>PT1M30.5S</TS>",
    b"<URI>http://example.com/a_x0020_b</URI>",
    b"<Version>10.0.17763</Version>",
    b"<XD>&lt;a/&gt;</XD>",
    b"<SBK>Get-Date</SBK>",
]


@pytest.mark.parametrize("clixml", PRIMITIVES, ids=lambda b: b.decode("utf-8", "replace")[:40])
def test_fast_primitives_match_the_parser(clixml: bytes) -> None:
    fast = from_clixml(clixml)
    parsed = from_clixml(ET.fromstring(clixml))
    assert fast == parsed and type(fast) is type(parsed)


def test_only_lone_primitives_take_the_fast_path() -> None:
    missing = _fast_primitive(b'<Obj RefId="0"><I32>1</I32></Obj>')
    for other in (
        b'<S N="x">named</S>',  # an attribute
        b"<S>a<b/></S>",  # a child element
        b"<S>text</S>\n",  # trailing bytes
        b"<S>unclosed",
        b"<Unknown>1</Unknown>",
        b"<S>\xff\xfe</S>",  # not UTF-8
        b"<I32>1</I64>",
    ):
        assert _fast_primitive(other) is missing
    # What the parser rejects is still rejected.
    with pytest.raises(ET.ParseError):
        from_clixml(b"<S>unclosed")


# --- whole objects: as pypsrp reads them -------------------------------------------------------

CORPUS = {
    "array": (
        '<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN>'
        "<LST><I32>1</I32><S>two</S><Nil /><B>true</B></LST></Obj>"
    ),
    "hashtable": (
        '<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T><T>System.Object</T></TN>'
        '<DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En>'
        '<En><S N="Key">nested</S><Obj N="Value" RefId="1"><TNRef RefId="0" />'
        '<DCT><En><S N="Key">b</S><Db N="Value">2.5</Db></En></DCT></Obj></En></DCT></Obj>'
    ),
    "pscustomobject with nested object and TNRef": (
        '<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN>'
        "<ToString>@{Name=web01; Child=}</ToString><MS>"
        '<S N="Name">web01</S><I32 N="Port">443</I32>'
        '<Obj N="Child" RefId="1"><TNRef RefId="0" /><ToString>@{Id=7}</ToString>'
        '<MS><I64 N="Id">7</I64><S N="Note">a &amp; b_x000A_</S></MS></Obj>'
        "</MS></Obj>"
    ),
    "list with the same object twice (Ref)": (
        '<Obj RefId="0"><TN RefId="0"><T>System.Collections.ArrayList</T><T>System.Object</T></TN><LST>'
        '<Obj RefId="1"><TN RefId="1"><T>Deserialized.System.Diagnostics.Process</T><T>System.Object</T></TN>'
        "<ToString>System.Diagnostics.Process (svchost)</ToString>"
        '<Props><S N="ProcessName">svchost</S><I32 N="Id">812</I32></Props></Obj>'
        '<Ref RefId="1" /></LST></Obj>'
    ),
    "adapted and extended properties, datetime inside": (
        '<Obj RefId="0"><TN RefId="0"><T>System.IO.FileInfo</T><T>System.IO.FileSystemInfo</T>'
        "<T>System.Object</T></TN><ToString>C:\\a.txt</ToString>"
        '<Props><S N="Name">a.txt</S><I64 N="Length">12</I64>'
        '<DT N="LastWriteTime">2026-11-24T23:25:21.1234567+01:00</DT></Props>'
        '<MS><S N="PSPath">Microsoft.PowerShell.Core\\FileSystem::C:\\a.txt</S>'
        '<B N="PSIsContainer">false</B></MS></Obj>'
    ),
    "datetime": "<DT>2026-11-24T23:25:21.1234567+01:00</DT>",
    "guid and bytes": (
        '<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN>'
        "<LST><G>0b7f3a5e-8a2c-4b8e-9f43-6d2f1c0e5a77</G><BA>AAEC</BA><C>97</C></LST></Obj>"
    ),
}


STACK_AND_QUEUE = (
    '<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST>'
    '<Obj RefId="1"><TN RefId="1"><T>System.Collections.Stack</T><T>System.Object</T></TN>'
    "<STK><I32>3</I32><I32>2</I32></STK></Obj>"
    '<Obj RefId="2"><TN RefId="2"><T>System.Collections.Queue</T><T>System.Object</T></TN>'
    "<QUE><S>first</S></QUE></Obj></LST></Obj>"
)


def test_stacks_and_queues_are_lists() -> None:
    # pypsrp 0.9.1 returns raw XML for these inside an array: nothing to compare with.
    assert from_clixml(STACK_AND_QUEUE.encode()) == [[3, 2], ["first"]]


def same(ours: Any, theirs: Any) -> bool:
    """Does our value say what pypsrp's does? (pypsrp keeps DT/TS/D as text.)"""
    if isinstance(ours, PSObject):
        if not isinstance(theirs, PSObject):
            return False
        if ours.type_names != theirs.type_names or str(ours) != str(theirs):
            return False
        return ours.properties.keys() == theirs.properties.keys() and all(
            same(ours.properties[k], theirs.properties[k]) for k in ours.properties
        )
    if isinstance(ours, list):
        return isinstance(theirs, list) and len(ours) == len(theirs) and all(map(same, ours, theirs))
    if isinstance(ours, dict):
        return (
            isinstance(theirs, dict)
            and ours.keys() == theirs.keys()
            and all(same(ours[k], theirs[k]) for k in ours)
        )
    if isinstance(ours, dt.datetime) and isinstance(theirs, str):
        return ours == parse_datetime(theirs)
    if isinstance(ours, Decimal) and isinstance(theirs, str):
        return ours == Decimal(theirs)
    return bool(ours == theirs) and type(ours) is type(theirs)


@pytest.mark.parametrize("name", list(CORPUS))
def test_objects_read_as_pypsrp_reads_them(name: str) -> None:
    xml = CORPUS[name]
    ours = from_clixml(xml.encode("utf-8"))
    theirs = from_pypsrp(Serializer().deserialize(xml))
    assert same(ours, theirs), (ours, theirs)


def test_a_reference_is_the_same_python_object() -> None:
    items = from_clixml(CORPUS["list with the same object twice (Ref)"].encode())
    assert items[0] is items[1] and items[0].ProcessName == "svchost"
    data = from_clixml(CORPUS["pscustomobject with nested object and TNRef"].encode())
    assert data.Child.type_names == data.type_names and data.Child.Note == "a & b\n"


def test_secure_strings_decrypt_with_the_session_key() -> None:
    serializer = Serializer()
    key, iv = os.urandom(32), b"\x00" * 16
    serializer.cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    padder = padding.PKCS7(128).padder()
    plain = "s3cret påss".encode("utf-16-le")
    encryptor = serializer.cipher.encryptor()
    blob = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    xml = f"<SS>{base64.b64encode(blob).decode()}</SS>"
    ours = from_clixml(xml.encode(), decrypt=_decryptor(serializer))
    assert isinstance(ours, SecureString) and ours.get_value() == Serializer.deserialize(serializer, xml)
    assert ours.get_value() == "s3cret påss" and "s3cret" not in repr(ours) + str(ours)
    # Without the key: a placeholder, never the text.
    locked = from_clixml(xml.encode())
    assert isinstance(locked, SecureString) and locked.get_value() is None


# --- fragments ------------------------------------------------------------------------------


def fragments(object_id: int, message: bytes, size: int) -> list[bytes]:
    parts = [message[i : i + size] for i in range(0, len(message), size)] or [b""]
    out = []
    for n, part in enumerate(parts):
        flags = (1 if n == 0 else 0) | (2 if n == len(parts) - 1 else 0)
        out.append(struct.pack(">QQBI", object_id, n, flags, len(part)) + part)
    return out


def test_big_objects_reassemble_exactly_between_small_ones() -> None:
    big = os.urandom(3_000_000)
    other = os.urandom(100_000)
    big_frags = fragments(1, big, 32_768)
    other_frags = fragments(2, other, 10_000)
    small = fragments(3, b"small", 32_768)
    # Interleaved as a server may send them, in several Receives of several fragments.
    stream = [big_frags[0], other_frags[0], *small, *big_frags[1:50], *other_frags[1:], *big_frags[50:]]
    defrag = _Defragmenter()
    got: list[bytes] = []
    for i in range(0, len(stream), 7):
        got.extend(defrag.feed(b"".join(stream[i : i + 7])))
    assert got == [b"small", other, big]


def test_a_missing_fragment_is_an_error() -> None:
    frags = fragments(9, b"x" * 100, 10)
    defrag = _Defragmenter()
    with pytest.raises(PSRemotingError, match="out of order"):
        list(defrag.feed(b"".join([frags[0], frags[2]])))


@pytest.mark.parametrize("seed", range(40))
def test_input_fragments_are_pypsrps(seed: int) -> None:
    import random
    import uuid

    from pypsrp.messages import EndOfPipelineInput, PipelineInput
    from pypsrp.powershell import Fragmenter
    from pypsrp.serializer import TaggedValue

    from psremoting.protocol.fragments import fragment_messages
    from psremoting.transport.sending import input_messages

    rng = random.Random(seed)
    size = rng.choice([120, 300, 4096, 512_000])
    theirs, ours = Fragmenter(size, Serializer()), Fragmenter(size, Serializer())
    theirs.outgoing_counter = ours.outgoing_counter = rng.randint(1, 1000)
    pool, pipeline = str(uuid.uuid4()), str(uuid.uuid4())
    values: list[Any] = [
        rng.choice([TaggedValue("BA", rng.randbytes(rng.choice([0, 1, 90, 5000, 400_000]))),
                    "text & <more>", TaggedValue("I32", 7), None])
        for _ in range(rng.randint(1, 6))
    ]  # fmt: skip
    end = rng.random() < 0.5
    expected = theirs.fragment_multiple(
        [PipelineInput(data=v) for v in values] + ([EndOfPipelineInput()] if end else []), pool, pipeline
    )
    messages = input_messages(values, pool, pipeline, ours.serializer, end=end)
    assert fragment_messages(messages, ours.outgoing_counter, ours.max_size) == expected
    assert ours.outgoing_counter + len(messages) == theirs.outgoing_counter


_STATE_MESSAGES = [
    ("SessionCapability", '<Obj RefId="0"><MS><Version N="PSVersion">2.0</Version><Version N="protocolversion">2.3'
     '</Version><Version N="SerializationVersion">1.1.0.1</Version></MS></Obj>'),
    ("SessionCapability", '<Obj RefId="0"><MS><Version N="protocolversion">2.2</Version><Version N="PSVersion">2.0'
     '</Version><Version N="SerializationVersion">1.1.0.1</Version><BA N="TimeZone">AAEAAA==</BA></MS></Obj>'),
    ("RunspacePoolStateMessage", '<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>'),
    ("RunspacePoolStateMessage", '<Obj RefId="0"><MS><I32 N="RunspaceState">-1</I32></MS></Obj>'),
    ("PipelineState", '<Obj RefId="3"><MS><I32 N="PipelineState">4</I32></MS></Obj>'),
    ("PipelineState", '<Obj RefId="0"><MS><I32 N="PipelineState">3</I32><Obj N="ExceptionAsErrorRecord" RefId="1">'
     '<ToString>stopped</ToString><MS><S N="FullyQualifiedErrorId">PipelineStopped</S></MS></Obj></MS></Obj>'),
    ("PipelineState", '<Obj RefId="0"><MS><I32 N="PipelineState">4</I32><I32 N="PipelineState">5</I32></MS></Obj>'),
    ("PipelineState", '<Obj RefId="0"><MS><I32 N="Other">4</I32></MS></Obj>'),
    ("ApplicationPrivateData", '<Obj RefId="0"><MS><Obj RefId="1" N="ApplicationPrivateData"><TN RefId="0">'
     "<T>System.Management.Automation.PSPrimitiveDictionary</T><T>System.Collections.Hashtable</T><T>System.Object</T>"
     '</TN><DCT><En><S N="Key">PSVersionTable</S><Obj RefId="2" N="Value"><TN RefId="1"><T>System.Collections.Hashtable'
     '</T><T>System.Object</T></TN><DCT><En><S N="Key">PSRemotingProtocolVersion</S><Version N="Value">2.3</Version>'
     "</En></DCT></Obj></En></DCT></Obj></MS></Obj>"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "xml"), _STATE_MESSAGES)
def test_state_messages_read_as_pypsrp_reads_them(kind: str, xml: str) -> None:
    from pypsrp import messages
    from pypsrp.serializer import ObjectMeta

    from psremoting.transport.state_messages import QuickMessages

    cls = getattr(messages, kind)
    try:
        expected = Serializer().deserialize(xml, ObjectMeta("Obj", object=cls))
    except Exception as exc:  # a shape pypsrp refuses: refused the same way
        with pytest.raises(type(exc)):
            QuickMessages(Serializer()).deserialize(xml, ObjectMeta("Obj", object=cls))
        return
    got = QuickMessages(Serializer()).deserialize(xml, ObjectMeta("Obj", object=cls))
    assert isinstance(got, cls)
    names = [name for name, _ in expected._extended_properties]
    assert [getattr(got, n) for n in names if n != "error_record"] == [
        getattr(expected, n) for n in names if n != "error_record"
    ]
    if "error_record" in names:
        assert type(got.error_record) is type(expected.error_record)
        assert str(got.error_record) == str(expected.error_record)


# --- against the emulator -------------------------------------------------------------------


def test_pre_serialized_output_streams_in_order(emu: Any) -> None:
    def many(ctx: Any) -> None:
        ctx.io.write_serialized_output(b"<I32>%d</I32>" % n for n in range(5000))

    def big(ctx: Any) -> None:
        ctx.io.write_serialized_output(b"<S>" + BIG_TEXT.encode() + b"</S>")

    emu.register("Get-Many", many)
    emu.register("Get-Big", big)
    with psremoting.new_pssession("Server01") as s:
        assert s.invoke("Get-Many").output == list(range(5000))
        # Several Receives (the envelope is 512 kB), many fragments, one object.
        assert s.invoke("Get-Big").output == [BIG_TEXT.replace("_x000A_", "\n")]
        streamed = [item.value for item in s.start("Get-Many") if item.stream == "output"]
        assert streamed == list(range(5000)) and streamed[1].PSComputerName == "Server01"


BIG_TEXT = ("0123456789abcdef_x000A_" * 150_000)[:3_000_000]


def test_pipeline_input_arrives_whole_with_nulls(emu: Any) -> None:
    with psremoting.new_pssession("Server01") as s:
        result = s.invoke(
            "$input | ForEach-Object { if ($null -eq $_) { 'null' } else { $_ } }", input=[1, None, "two", 3]
        )
        assert result.output == [1, "null", "two", 3]


def test_pipelines_use_the_pool_host_until_its_data_changes(emu: Any) -> None:
    with psremoting.new_pssession("Server01") as s:
        runspace = s.runspace
        assert runspace.host_key_at_open == host_data_key(runspace.host)
        assert s.invoke("1").output == [1]
        raw_ui = runspace.host.ui.raw_ui
        before = host_data_key(runspace.host)
        raw_ui.window_title = "changed"
        assert host_data_key(runspace.host) != before
        # The full host data is sent again; the command still runs with the host.
        assert s.invoke("Write-Host hi; 2").output == [2]


def test_sessions_opened_one_after_another_each_send_their_own_application_arguments(emu: Any) -> None:
    """The creation messages' XML is reused between sessions with the same settings (a fleet
    opens thousands): a session with other settings must still send its own."""
    from psremoting.transport.options import SessionOption

    def pool_arguments() -> list[Any]:
        shells = emu._computers[emu.computer_name.lower()].registry._shells.values()
        return [dict(getattr(s.pool, "application_arguments", None) or {}) for s in shells]

    opened = []
    for tag in ("one", "one", "two"):
        option = SessionOption(application_arguments={"Tag": tag})
        opened.append(psremoting.new_pssession(emu.computer_name, session_option=option))
    try:
        tags = sorted(str(a.get("Tag")) for a in pool_arguments())
        assert tags == ["one", "one", "two"]
    finally:
        for session in opened:
            session.close()
