"""The comparator the conformance test relies on: it must find no difference between a
recording and itself, and must notice the differences that matter."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest
from envelope_shape import (
    FRAGMENT_HEADER,
    IdMap,
    PSRPStreamDecoder,
    compare_shapes,
    envelope_shape,
    is_psrp_request,
    load_recording,
    shorten_operation_timeout,
)

RECORDINGS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "windows-recordings").resolve()

RECEIVE_OK = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header>'
    "<a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse</a:Action>"
    "<a:MessageID>uuid:{mid}</a:MessageID></s:Header><s:Body><rsp:ReceiveResponse>"
    '<rsp:CommandState CommandId="{cid}" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/{state}"/>'
    "</rsp:ReceiveResponse></s:Body></s:Envelope>"
)


def _fragment(object_id: int, fragment_id: int, flags: int, data: bytes) -> bytes:
    return FRAGMENT_HEADER.pack(object_id, fragment_id, flags, len(data)) + data


def _message(message_type: int, payload: bytes = b"<Obj/>") -> bytes:
    return struct.pack("<II", 2, message_type) + uuid.uuid4().bytes_le + uuid.uuid4().bytes_le + payload


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason=f"no Windows recordings at {RECORDINGS}")
def test_every_recording_matches_itself() -> None:
    files = sorted(RECORDINGS.glob("test_*.yml"))
    assert files
    for path in files:
        recorded, again = PSRPStreamDecoder(), PSRPStreamDecoder()
        for exchange in load_recording(path):
            psrp = is_psrp_request(exchange.request)
            first = envelope_shape(exchange.response, recorded if psrp else None)
            second = envelope_shape(exchange.response, again if psrp else None)
            assert compare_shapes(first, second) == [], f"{path.name} #{exchange.index}"


def test_ids_and_message_ids_do_not_count_but_states_do() -> None:
    a = envelope_shape(RECEIVE_OK.format(mid=uuid.uuid4(), cid=uuid.uuid4(), state="Done"))
    b = envelope_shape(RECEIVE_OK.format(mid=uuid.uuid4(), cid=uuid.uuid4(), state="Done"))
    running = envelope_shape(RECEIVE_OK.format(mid=uuid.uuid4(), cid=uuid.uuid4(), state="Running"))
    assert compare_shapes(a, b) == []
    assert any("State=Done" in d for d in compare_shapes(a, running))


def test_psrp_types_are_read_across_fragments_and_exchanges() -> None:
    decoder = PSRPStreamDecoder()
    output = _message(0x00041004)  # PipelineOutput, in one fragment
    state = _message(0x00041006)  # PipelineState, split after 5 bytes: its type is not there yet
    assert decoder.feed(_fragment(1, 0, 0x3, output) + _fragment(2, 0, 0x1, state[:5])) == ["PipelineOutput"]
    assert decoder.feed(_fragment(2, 1, 0x0, state[5:20])) == ["PipelineState"]
    assert decoder.feed(_fragment(2, 2, 0x2, state[20:])) == []
    assert decoder.feed(_fragment(9, 3, 0x2, b"tail of a message that started earlier")) == []


def test_id_map_learns_from_create_answers_only() -> None:
    recorded, emulated = str(uuid.uuid4()).upper(), str(uuid.uuid4()).upper()
    created = '<x:ResourceCreated xmlns:x="t"/><rsp:Shell><rsp:ShellId>{}</rsp:ShellId></rsp:Shell>'
    ids = IdMap()
    ids.learn("<n:EnumerateResponse><rsp:ShellId>X</rsp:ShellId>", "<rsp:ShellId>Y</rsp:ShellId>")
    assert ids.mapping == {}
    ids.learn(created.format(recorded), created.format(emulated))
    assert ids.rewrite(f'<w:Selector Name="ShellId">{recorded}</w:Selector>') == (
        f'<w:Selector Name="ShellId">{emulated}</w:Selector>'
    )


def test_operation_timeout_is_capped_not_raised() -> None:
    assert shorten_operation_timeout("<w:OperationTimeout>PT20S</w:OperationTimeout>", 0.5) == (
        "<w:OperationTimeout>PT0.5S</w:OperationTimeout>"
    )
    assert shorten_operation_timeout("<w:OperationTimeout>PT0.2S</w:OperationTimeout>", 0.5) == (
        "<w:OperationTimeout>PT0.2S</w:OperationTimeout>"
    )
