"""Base64 on the emulator's hot paths: pybase64's SIMD codec, with the stdlib's exact results.

An upload goes through base64 several times per Send (the ``rsp:Stream`` text, the copy
scripts' chunks), and the stdlib's ``a2b_base64`` decodes ~250 MB/s; pybase64 decodes the
same clean input 10-50 times faster. The two do not refuse the same inputs (pybase64's
``validate=True`` also refuses the excess padding the stdlib accepts, and its lenient mode
reads on past a ``=`` the stdlib stops at), so pybase64 only ever answers for input it
validates, and everything else is left to the stdlib, which decides and words the refusal
exactly as before: each function here returns what its stdlib counterpart returns and raises
what it raises. (Checked: wherever pybase64's ``validate=True`` accepts an input, the stdlib's
strict and lenient decoders accept it too, with the same bytes; see tests/emulator/test_b64.py.)
"""

from __future__ import annotations

import base64
import binascii

import pybase64

__all__ = ["decode_clean", "decode_lenient", "decode_strict", "encode", "is_clean"]


def decode_strict(data: str | bytes) -> bytes:
    """``base64.b64decode(data, validate=True)``: anything but the base64 alphabet (and its
    padding) raises ``binascii.Error`` (``ValueError`` for a non-ASCII ``str``)."""
    try:
        return pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(data, validate=True)


def decode_lenient(data: str | bytes) -> bytes:
    """``base64.b64decode(data)``: characters outside the alphabet are discarded first
    (.NET's ``FromBase64String`` as the emulated copy scripts call it)."""
    try:
        return pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(data)


def encode(data: bytes) -> str:
    """``base64.b64encode(data).decode("ascii")``."""
    return pybase64.b64encode_as_string(data)


def decode_clean(data: bytes) -> bytes | None:
    """The bytes of ``data`` if it is nothing but base64 that decodes (the alphabet
    ``A-Z a-z 0-9 + /`` and its ``=`` padding, no whitespace, no other byte), else None.
    Where it decodes, the stdlib's strict and lenient decoders give these same bytes."""
    try:
        return pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def is_clean(data: bytes) -> bool:
    """Whether ``data`` is nothing but base64 that decodes (see :func:`decode_clean`)."""
    return decode_clean(data) is not None
