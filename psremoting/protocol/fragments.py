"""PSRP messages as they travel: message types, and fragments reassembled into messages.

Protocol logic only (bytes in, messages out, no I/O), so it can be tested on its own and kept
fast: fragments are cut with a precompiled `struct.Struct` and joined once per message, in
linear time however large the object (pypsrp's own reassembly is quadratic).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from psremoting.protocol.errors import PSRemotingError

OUTPUT = 0x00041004
ERROR = 0x00041005
STATE = 0x00041006
DEBUG = 0x00041007
VERBOSE = 0x00041008
WARNING = 0x00041009
PROGRESS = 0x00041010
INFORMATION = 0x00041011
PIPELINE_HOST_CALL = 0x00041100
POOL_HOST_CALL = 0x00021100
POOL_STATE = 0x00021005
#: MessageType of PIPELINE_OUTPUT as it sits in a message (little-endian, bytes 4..8).
OUTPUT_TYPE_BYTES = struct.pack("<I", OUTPUT)
BOM = b"\xef\xbb\xbf"
#: PSRP fragment header: ObjectId, FragmentId, flags (start 1, end 2), BlobLength.
FRAGMENT_HEADER = struct.Struct(">QQBI")


class Defragmenter:
    """Reassembles PSRP fragments into messages in linear time (chunks joined once)."""

    def __init__(self) -> None:
        self._buffers: dict[int, tuple[int, list[bytes]]] = {}

    def feed(self, data: bytes) -> Iterator[bytes]:
        offset = 0
        end = len(data)
        unpack = FRAGMENT_HEADER.unpack_from
        while offset + 21 <= end:
            object_id, fragment_id, flags, length = unpack(data, offset)
            start = offset + 21
            offset = start + length
            body = data[start:offset]
            if flags == 3:  # start and end: a whole message in one fragment
                yield body
                continue
            if flags & 1:
                self._buffers[object_id] = (1, [body])
                continue
            expected, chunks = self._buffers.get(object_id, (0, []))
            if not chunks or fragment_id != expected:
                raise PSRemotingError(
                    f"The server sent PSRP fragment {fragment_id} of object {object_id} out of order "
                    f"(expected {expected}); the output stream is corrupt."
                )
            chunks.append(body)
            if flags & 2:
                del self._buffers[object_id]
                yield b"".join(chunks)
            else:
                self._buffers[object_id] = (expected + 1, chunks)
