"""Keep secrets out of debug logs, even when a user turns pypsrp's debug logging on.

pypsrp logs every SOAP envelope it sends and receives (``pypsrp.wsman``: "Sending message
...", "Received message ...") and every PSRP message it packs or unpacks
(``pypsrp.messages``). A password typed at ``Read-Host -AsSecureString`` or
``Get-Credential``, or a credential passed as an argument, travels in those messages as a
SecureString: encrypted with the session key, but still the secret's ciphertext (and PSRP's
fixed IV makes equal prefixes visible). :class:`RedactingFilter` rewrites such records
before any handler sees them:

- the content of every ``<SS>`` element (a SecureString) becomes ``***``;
- the base64 PSRP payload of a SOAP envelope (``rsp:Stream``, ``rsp:Arguments``,
  ``creationXml``, ``connectXml``, ``connectResponseXml``) becomes a note of its length,
  since it carries the same SecureStrings, base64-encoded;
- an ``Authorization`` header value (Basic carries the password in base64) becomes ``***``.

:func:`install` attaches it to pypsrp's and psremoting's loggers; ``import psremoting``
calls it, and it costs nothing while debug logging is off.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "install", "redact"]

#: The loggers whose records can carry message bodies (a filter on a logger sees only the
#: records logged on that very logger, not its children's, hence the full names).
LOGGERS = (
    "psremoting.transport.http",
    "pypsrp.wsman",
    "pypsrp.messages",
    "pypsrp.serializer",
    "pypsrp.powershell",
    "pypsrp.host",
    "psrpcore._base",
    "psrpcore.types._serializer",
)

_SECURE_STRING = re.compile(r"(<SS\b[^>]*>)[^<]*(</SS>)")
_PSRP_PAYLOAD = re.compile(
    r"(<(?:[\w]+:)?(?:Stream|Arguments|creationXml|connectXml|connectResponseXml)\b[^>]*>)"
    r"([A-Za-z0-9+/=\s]+)"
    r"(</)"
)
_AUTHORIZATION = re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+", re.IGNORECASE)


def _payload_note(match: re.Match[str]) -> str:
    return f"{match.group(1)}[{len(match.group(2).strip())} base64 characters of PSRP data not logged]{match.group(3)}"


def redact(text: str) -> str:
    """``text`` with SecureStrings, PSRP payloads and Authorization values taken out."""
    if "<" in text:
        text = _SECURE_STRING.sub(r"\1***\2", text)
        text = _PSRP_PAYLOAD.sub(_payload_note, text)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = _AUTHORIZATION.sub(r"\1***", text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites a record's message with :func:`redact`; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the filter to every logger in :data:`LOGGERS` (once; calling again is harmless)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
