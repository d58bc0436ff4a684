"""PSRP messages as they travel: message types, messages packed and cut into fragments, and
fragments reassembled into messages.

Protocol logic only (bytes in, bytes or messages out, no I/O), so it can be tested on its own
and kept fast: fragments are cut with a precompiled `struct.Struct` and joined once per
message, in linear time however large the object (pypsrp's own reassembly is quadratic).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator, Sequence

from psremoting.protocol.errors import MalformedAnswerError

OUTPUT = 0x00041004
ERROR = 0x00041005
STATE = 0x00041006
DEBUG = 0x00041007
VERBOSE = 0x00041008
WARNING = 0x00041009
PROGRESS = 0x00041010
INFORMATION = 0x00041011
PIPELINE_INPUT = 0x00041002
END_OF_PIPELINE_INPUT = 0x00041003
PIPELINE_HOST_CALL = 0x00041100
POOL_HOST_CALL = 0x00021100
POOL_STATE = 0x00021005
#: MessageType of PIPELINE_OUTPUT as it sits in a message (little-endian, bytes 4..8).
OUTPUT_TYPE_BYTES = struct.pack("<I", OUTPUT)
BOM = b"\xef\xbb\xbf"
#: PSRP fragment header: ObjectId, FragmentId, flags (start 1, end 2), BlobLength.
FRAGMENT_HEADER = struct.Struct(">QQBI")


#: MS-PSRP 2.2.1 Destination of every message a client sends.
DESTINATION_SERVER = 2
_MESSAGE_HEADER = struct.Struct("<II")


def pack_message(message_type: int, pool_id: uuid.UUID, pipeline_id: uuid.UUID | None, data: bytes) -> bytes:
    """A message to the server (MS-PSRP 2.2.1): destination, type, the pool's and the
    pipeline's ids as .NET lays GUIDs out (little-endian), then its CLIXML as is."""
    pid = pipeline_id.bytes_le if pipeline_id is not None else bytes(16)
    return b"".join((_MESSAGE_HEADER.pack(DESTINATION_SERVER, message_type), pool_id.bytes_le, pid, data))


def fragment_messages(messages: Sequence[bytes], first_object_id: int, max_data: int) -> list[bytes]:
    """`messages` cut into fragments of at most `max_data` bytes of message each (MS-PSRP
    2.2.4), object ids counting from `first_object_id`. A message that starts where the
    previous one left room shares its blob (the bytes of one Send) with it, as pypsrp's
    ``Fragmenter.fragment_multiple`` packs them, so the two clients' Sends are the same."""
    blobs: list[bytes] = []
    room = max_data
    pack = FRAGMENT_HEADER.pack
    for object_id, message in enumerate(messages, first_object_id):
        size = len(message)
        first = message[:room]
        pieces = [pack(object_id, 0, 1 | (2 if len(first) == size else 0), len(first)) + first]
        offset, fragment_id = len(first), 1
        while offset < size:
            piece = message[offset : offset + max_data]
            offset += len(piece)
            pieces.append(pack(object_id, fragment_id, 2 if offset >= size else 0, len(piece)) + piece)
            fragment_id += 1
        if room != max_data and blobs:
            blobs[-1] += pieces.pop(0)
        blobs.extend(pieces)
        room = max_data - len(blobs[-1])
        if room <= 0:
            room = max_data
    return blobs


#: A message bigger than this is refused (memory stays bounded whatever a server sends);
#: Windows cuts output into objects far smaller.
MAX_MESSAGE = 256 << 20


class Defragmenter:
    """Reassembles PSRP fragments into messages in linear time (chunks joined once)."""

    def __init__(self) -> None:
        self._buffers: dict[int, tuple[int, list[bytes]]] = {}

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The whole messages `data` completes; `MalformedAnswerError` for fragments that do
        not fit together (out of order, cut short, a length past the data, a bad header)."""
        offset = 0
        end = len(data)
        unpack = FRAGMENT_HEADER.unpack_from
        while offset < end:
            if offset + 21 > end:
                raise MalformedAnswerError(
                    f"a PSRP fragment header is cut short ({end - offset} of its 21 bytes)"
                )
            object_id, fragment_id, flags, length = unpack(data, offset)
            start = offset + 21
            offset = start + length
            if offset > end:
                raise MalformedAnswerError(
                    f"PSRP fragment {fragment_id} of object {object_id} declares {length} bytes, "
                    f"but only {end - start} follow"
                )
            if flags & ~3:
                raise MalformedAnswerError(f"PSRP fragment {fragment_id} has unknown flags {flags:#x}")
            body = data[start:offset]
            if flags == 3:  # start and end: a whole message in one fragment
                if fragment_id != 0:
                    raise MalformedAnswerError(
                        f"PSRP fragment {fragment_id} of object {object_id} starts a message but is not fragment 0"
                    )
                yield body
                continue
            if flags & 1:
                if fragment_id != 0:
                    raise MalformedAnswerError(
                        f"PSRP fragment {fragment_id} of object {object_id} starts a message but is not fragment 0"
                    )
                self._buffers[object_id] = (1, [body])
                continue
            expected, chunks = self._buffers.get(object_id, (0, []))
            if not chunks or fragment_id != expected:
                raise MalformedAnswerError(
                    f"PSRP fragment {fragment_id} of object {object_id} came out of order "
                    f"(expected {expected}); the output stream is corrupt"
                )
            chunks.append(body)
            if len(chunks) * 32768 > MAX_MESSAGE and sum(map(len, chunks)) > MAX_MESSAGE:
                del self._buffers[object_id]
                raise MalformedAnswerError(
                    f"PSRP object {object_id} is still arriving past {MAX_MESSAGE // (1 << 20)} MiB without its end"
                )
            if flags & 2:
                del self._buffers[object_id]
                yield b"".join(chunks)
            else:
                self._buffers[object_id] = (expected + 1, chunks)
