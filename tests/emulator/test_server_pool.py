"""`ServerPool`: pipeline input read without the CLIXML parse is what psrpcore would read."""

from __future__ import annotations

import base64
import random
import uuid
from typing import Any

import psrpcore
import pytest
from psrpcore._payload import PSRPMessage
from psrpcore.types import PSByteArray, PSRPMessageType, PSString

from psremoting.emulator import server_pool

RPID = uuid.UUID("2F3A6C1E-2D4B-4B8A-9B0E-1C2D3E4F5A6B")
PID = uuid.UUID("7A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9")


def _chunk(size: int, seed: int = 1) -> bytes:
    return base64.b64encode(random.Random(seed).randbytes(size))


def _events(data: bytes) -> tuple[Any, Any]:
    """The PipelineInput event of `data` from ServerPool and from psrpcore's own pool."""

    def message() -> PSRPMessage:
        return PSRPMessage(PSRPMessageType.PipelineInput, bytearray(data), RPID, PID, 1)

    return server_pool.ServerPool()._process_message(
        message()
    ), psrpcore.ServerRunspacePool()._process_message(message())


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"<BA>" + _chunk(300_000) + b"</BA>", PSByteArray),
        (b"<BA>" + _chunk(3_001) + b"</BA>", PSByteArray),  # padded
        (b"<S>" + _chunk(30_000, 2) + b"</S>", PSString),
    ],
)
def test_plain_input_is_read_directly_as_psrpcore_reads_it(data: bytes, kind: type) -> None:
    assert server_pool.plain_input(data) is not None, "the fast path was not taken"
    ours, theirs = _events(data)
    assert type(ours) is type(theirs) is psrpcore.PipelineInputEvent
    assert (
        (ours.runspace_pool_id, ours.pipeline_id)
        == (theirs.runspace_pool_id, theirs.pipeline_id)
        == (RPID, PID)
    )
    assert type(ours.data) is type(theirs.data) is kind
    assert ours.data == theirs.data


@pytest.mark.parametrize(
    "data",
    [
        b"<BA>" + _chunk(3_000)[:-1] + b"</BA>",  # not a whole base64 text
        b"<BA>" + _chunk(3_000) + b"\n</BA>",  # whitespace (psrpcore's decode skips it)
        b'<BA RefId="0">' + _chunk(3_000) + b"</BA>",
        b"<S>" + b"abc_x000A_" * 200 + b"</S>",  # an escape
        b"<S>" + _chunk(3_000) + b"&amp;</S>",
        b"<S>" + _chunk(3_000) + b"</S><S>x</S>",  # not one value
        b"<Obj RefId='0'><S>" + _chunk(3_000) + b"</S></Obj>",
        b"<BA>QUJD</BA>",  # small: psrpcore's own path
    ],
)
def test_anything_else_goes_through_psrpcore(data: bytes) -> None:
    assert server_pool.plain_input(data) is None
    try:
        theirs = _events(data)[1]
    except Exception as exc:
        with pytest.raises(type(exc)):
            _events(data)
        return
    ours = _events(data)[0]
    assert type(ours.data) is type(theirs.data)
    assert ours.data == theirs.data
