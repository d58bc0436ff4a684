"""XML from the network, parsed so that a hostile server cannot use the parser against us.

Every document the client reads from a server (SOAP envelopes, WSMan faults, CLIXML inside
PSRP messages) goes through `fromstring`, which refuses what no WinRM server sends and
what XML attacks are made of, before expat sees it:

- a document type declaration (``<!DOCTYPE``), hence any entity declaration: no entity
  expansion bomb ("billion laughs", quadratic blow-up), no external entity or DTD fetched;
- a document nested deeper than `MAX_DEPTH` elements (recursive readers above would
  exhaust the stack).

What it refuses raises `MalformedAnswerError` (a `xml.etree.ElementTree.ParseError` too, so
code that catches the parser's error keeps working). The check is a byte search (the C
parser stays on the hot path); UTF-16/32 documents are searched with their NULs removed.
pypsrp's own parsing of answers and CLIXML is pointed here by `psremoting.transport.xmlguard`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from psremoting.protocol.errors import MalformedAnswerError

__all__ = ["MAX_DEPTH", "NotWellFormedError", "UnsafeXMLError", "fromstring"]

#: Deeper than any envelope or CLIXML object Windows sends (a few dozen levels at most).
MAX_DEPTH = 1000
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY", b"<!ELEMENT", b"<!ATTLIST")
#: A start, end or empty-element tag (groups: "/" of an end tag, "/" of an empty one).
_TAG = re.compile(rb"<(/?)[^!?/>][^>]*?(/?)>")


class NotWellFormedError(MalformedAnswerError, ET.ParseError):
    """Not well-formed XML; the parser's message and position are kept."""

    def __init__(self, detail: str, code: int = 0, position: tuple[int, int] = (0, 0)) -> None:
        MalformedAnswerError.__init__(self, detail)
        self.msg = detail
        self.code = code
        self.position = position


class UnsafeXMLError(NotWellFormedError):
    """A document the client will not parse: a DTD or entity declarations, nesting too deep."""


def _depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether elements nest deeper than `limit` (only scanned when there are that many tags)."""
    if data.count(b"<") <= limit:
        return False
    depth = 0
    for match in _TAG.finditer(data):
        if match.group(2):
            continue  # <empty/>
        depth += -1 if match.group(1) else 1
        if depth > limit:
            return True
    return False


def fromstring(text: str | bytes) -> ET.Element:
    """`ET.fromstring` for documents from the network (see the module docstring)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    probe = data.replace(b"\x00", b"") if b"\x00" in data[:64] else data
    for declaration in _DECLARATIONS:
        if declaration in probe:
            raise UnsafeXMLError(
                "it carries a document type declaration (a DTD or entities), which no WinRM server sends; "
                "refused unparsed (entity expansion and external entities are XML attacks)"
            )
    if _depth_exceeds(probe, MAX_DEPTH):
        raise UnsafeXMLError(f"its elements nest deeper than {MAX_DEPTH} levels")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise NotWellFormedError(str(exc), exc.code, exc.position) from None
    except (ValueError, LookupError) as exc:  # an unknown or unusable encoding declaration
        raise NotWellFormedError(f"{type(exc).__name__}: {exc}") from None
