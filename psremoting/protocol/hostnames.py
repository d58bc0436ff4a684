"""Computer names as a user types them: checked before anything connects.

`parse_computer_name` takes what follows ``-ComputerName`` / ``-H`` and returns the host and
the port it names, if any (``server01``, ``server01.corp.example``, ``10.0.0.5``,
``10.0.0.5:15985``, ``[fe80::1]:5986``, ``fe80::1``), or raises `InvalidOptionError` saying
why the name cannot be a host: an empty label (``a..b``), a label over 63 characters or a
name over 253 (RFC 1035), control characters or spaces, a port that is not 1-65535. The name
in the message is shown with control characters escaped: a name may come from a file or a
pipe and must not drive the terminal.
"""

from __future__ import annotations

import ipaddress
import re

from psremoting.protocol.errors import InvalidOptionError

__all__ = ["parse_computer_name", "shown_name"]

#: Letters, digits, hyphen; underscore too (NetBIOS names and some DNS records carry it).
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$")


def shown_name(name: str, limit: int = 80) -> str:
    """`name` safe to print: control characters as ``\\xNN``, cut to `limit` characters."""
    out = "".join(
        ch
        if not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000)
        else f"\\x{ord(ch):02x}"
        for ch in name[: limit + 1]
    )
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _invalid(name: str, why: str) -> InvalidOptionError:
    return InvalidOptionError(f"The computer name '{shown_name(name)}' is not valid: {why}.")


def _port(name: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise _invalid(name, f"the port '{shown_name(text, 10)}' is not a number from 1 to 65535")
    return int(text)


def parse_computer_name(name: str) -> tuple[str, int | None]:
    """The host of `name` and the port it names (None: none given); `InvalidOptionError`
    when it cannot be a host name or address."""
    text = name.strip()
    if not text:
        raise _invalid(name, "it is empty")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in text):
        raise _invalid(name, "it contains control characters")
    if any(ch.isspace() for ch in text) or "/" in text or "\\" in text or "@" in text:
        raise _invalid(
            name, "a host name has no spaces, slashes or '@' (to pass a URI, use connection_uri or --url)"
        )
    port: int | None = None
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        end = text.find("]")
        if end < 0:
            raise _invalid(name, "the IPv6 address has no closing ']'")
        rest = text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise _invalid(name, "only ':PORT' may follow an IPv6 address in brackets")
            port = _port(name, rest[1:])
        host = text[1:end]
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise _invalid(name, "the text in brackets is not an IPv6 address") from None
        return host, port
    if text.count(":") > 1:  # a bare IPv6 address (no port possible)
        try:
            ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise _invalid(name, "it is neither a host name nor an IPv6 address") from None
        return text, None
    host = text
    if ":" in text:
        host, _, port_text = text.partition(":")
        port = _port(name, port_text)
        if not host:
            raise _invalid(name, "there is no host before the ':'")
    if host == ".":
        return "localhost", port
    ascii_host = host.rstrip(".") if host != "." else host
    if not ascii_host.isascii():
        try:
            ascii_host = ascii_host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _invalid(name, "it is not a valid internationalized host name") from None
    if len(ascii_host) > 253:
        raise _invalid(name, f"it is {len(ascii_host)} characters long; a host name has at most 253")
    for label in ascii_host.split("."):
        if not label:
            raise _invalid(name, "it has an empty label (two dots in a row, or a dot at the start)")
        if len(label) > 63:
            raise _invalid(name, f"a label is {len(label)} characters long; a label has at most 63")
        if not _LABEL.match(label):
            raise _invalid(
                name,
                f"the label '{shown_name(label, 40)}' may hold only letters, digits, '-' and '_', "
                "and may not start or end with '-'",
            )
    return host, port
