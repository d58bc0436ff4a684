"""WinRM message encryption: SOAP bodies sealed in ``multipart/encrypted`` MIME parts.

Over plain HTTP, an NTLM/Negotiate/Kerberos-authenticated WinRM connection carries every SOAP
body sealed with the security context, in the layout Windows uses (and
:class:`pypsrp.encryption.WinRMEncryption` reads): two MIME parts per message between
``--Encrypted Boundary`` lines, the first naming the protocol and the plaintext length, the
second holding the 4-byte little-endian signature length, the signature and the sealed data.
:mod:`psremoting.emulator.auth` decides when to use it; this module only does the layout.
"""

from __future__ import annotations

import re
import struct
from typing import Any

__all__ = ["BOUNDARY", "SPNEGO_PROTOCOL", "mime_parameter", "seal_message", "unseal_message"]

BOUNDARY = "Encrypted Boundary"
SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"


def mime_parameter(content_type: str, name: str) -> str | None:
    """The value of parameter ``name`` in a Content-Type header (quoted or not), or None."""
    match = re.search(rf'{name}\s*=\s*"([^"]*)"|{name}\s*=\s*([^;\s]+)', content_type, re.IGNORECASE)
    if not match:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def seal_message(context: Any, message: bytes, protocol: str = SPNEGO_PROTOCOL) -> bytes:
    """Seal one SOAP message in WinRM's MIME layout (``--Encrypted Boundary`` parts).

    The octet-stream part is the 4-byte little-endian signature length, the signature and the
    sealed data, as :class:`pypsrp.encryption.WinRMEncryption` reads it.
    """
    header: bytes
    data: bytes
    header, data, padding = context.wrap_winrm(message)
    preamble = (
        f"--{BOUNDARY}\r\n"
        f"\tContent-Type: {protocol}\r\n"
        f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(message) + padding}\r\n"
        f"--{BOUNDARY}\r\n"
        "\tContent-Type: application/octet-stream\r\n"
    ).encode("ascii")
    return preamble + struct.pack("<i", len(header)) + header + data + f"--{BOUNDARY}--\r\n".encode("ascii")


def unseal_message(context: Any, payload: bytes, boundary: str = BOUNDARY) -> bytes:
    """Open a ``multipart/encrypted`` WinRM body and return the SOAP it carries.

    Raises ValueError when the layout is not WinRM's or the length does not match.
    """
    parts = [p for p in re.split(rb"--\s*" + re.escape(boundary.encode()) + rb"(?:--)?\r\n", payload) if p]
    if not parts or len(parts) % 2:
        raise ValueError("the encrypted body does not have WinRM's two-part MIME layout")
    message = b""
    for i in range(0, len(parts), 2):
        meta, sealed = parts[i], parts[i + 1]
        length_match = re.search(rb"Length=(\d+)", meta)
        if not length_match:
            raise ValueError("the encrypted body has no OriginalContent length")
        sealed = re.sub(rb"^\s*Content-Type: application/octet-stream\r\n", b"", sealed)
        if len(sealed) < 4:
            raise ValueError("the encrypted body is truncated")
        (header_length,) = struct.unpack("<i", sealed[:4])
        if header_length < 0 or 4 + header_length > len(sealed):
            raise ValueError("the encrypted body has an impossible signature length")
        plain = context.unwrap_winrm(sealed[4 : 4 + header_length], sealed[4 + header_length :])
        if len(plain) != int(length_match.group(1)):
            raise ValueError("the decrypted body does not have the announced length")
        message += plain
    return message
