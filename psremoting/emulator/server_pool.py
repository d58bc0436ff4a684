"""psrpcore's server runspace pool, reading an upload's pipeline input without the CLIXML parse.

An upload sends its data as PipelineInput messages of one CLIXML value each: psremoting's
copy script a ``<BA>`` (byte[]) of ~380 KB, pypsrp's ``Client.copy`` an ``<S>`` holding a
base64 chunk. psrpcore parses each with ElementTree (expat scanning the whole base64 text)
and decodes a ``<BA>`` with the stdlib's base64; an ``<S>`` it re-encodes to UTF-16 and
scans for ``_xHHHH_`` escapes: ~1.5-2 ms a message. :class:`ServerPool` reads such a
message directly when it is exactly ``<BA>``/``<S>``, clean base64, and the closing tag (what
both clients send): the value is the one psrpcore would make (``PSByteArray`` of the decoded
bytes; ``PSString`` of the text, which can hold no escape since ``_`` is not in the base64
alphabet, no reference, no markup), and the event is created and processed as psrpcore's
``_process_message`` does. Every other message goes through psrpcore unchanged.

``_process_message`` is psrpcore internals (pinned <0.4, as the pool's ``_send_buffer`` and
``data_to_send`` the shell uses); tests/emulator/test_server_pool.py compares the two paths.
"""

from __future__ import annotations

from typing import Any

import psrpcore
from psrpcore.types import PSByteArray, PSRPMessageType, PSString

from psremoting.emulator import b64

__all__ = ["PLAIN_INPUT_MIN_BYTES", "ServerPool", "plain_input"]

#: Smaller messages go through psrpcore's parse (nothing to win there).
PLAIN_INPUT_MIN_BYTES = 1024


def plain_input(data: bytes) -> PSByteArray | PSString | None:
    """The value of a PipelineInput message that is one ``<BA>`` or ``<S>`` of clean base64
    (``b64.decode_clean``) and nothing else; None for any other message."""
    if len(data) < PLAIN_INPUT_MIN_BYTES:
        return None
    if data.startswith(b"<BA>") and data.endswith(b"</BA>"):
        decoded = b64.decode_clean(data[4:-5])
        return PSByteArray(decoded) if decoded is not None else None
    if data.startswith(b"<S>") and data.endswith(b"</S>"):
        text = data[3:-4]
        return PSString(text.decode("ascii")) if b64.is_clean(text) else None
    return None


class ServerPool(psrpcore.ServerRunspacePool):
    """A ``psrpcore.ServerRunspacePool`` with the fast reading of plain pipeline input."""

    def _process_message(self, message: Any) -> Any:
        if message.message_type == PSRPMessageType.PipelineInput:
            value = plain_input(message.data)
            if value is not None:
                event = psrpcore.PSRPEvent.create(
                    message.message_type, value, message.runspace_pool_id, message.pipeline_id
                )
                assert isinstance(event, psrpcore.PipelineInputEvent)
                self._process_PipelineInput(event)
                return event
        return super()._process_message(message)
