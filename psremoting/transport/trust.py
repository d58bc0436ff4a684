"""Trust on first use for WinRM's HTTPS certificates, as SSH does for host keys.

A self-signed or private-CA certificate need not mean turning verification off: the first
connection shows the certificate's SHA-256 fingerprint and either asks (at a terminal) or
fails with the fingerprint and the command that trusts it; a trusted fingerprint is kept in
``$XDG_CONFIG_HOME/psremoting/known_hosts`` (``~/.config/psremoting/known_hosts``); a
certificate that changed later is refused loudly, as SSH refuses a changed host key.

The file, one entry a line (``#`` comments and blank lines allowed)::

    # HOST:PORT  SHA256:<base64 of the SHA-256 of the DER certificate, no padding>
    server01:5986 SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU

Host names are lower-cased; an IPv6 address is written in brackets (``[::1]:5986``). A
fingerprint is accepted as ``SHA256:`` base64 (as SSH prints it) or as 64 hex digits, with
or without colons (as ``openssl x509 -fingerprint -sha256`` prints it).

`check_certificate` is the one function the transport calls, with the certificate the server
presented, when ordinary CA verification did not accept it (or when a fingerprint is pinned).
This module holds no socket code: it can be tested, and reasoned about, on its own.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from psremoting.protocol.errors import CertificateError, InvalidOptionError

__all__ = [
    "CertificateChangedError",
    "HostNameMismatchError",
    "certificate_names",
    "check_host_name",
    "get_confirm",
    "set_confirm",
    "KnownHosts",
    "UntrustedCertificateError",
    "check_certificate",
    "default_path",
    "fingerprint",
    "host_key",
    "parse_fingerprint",
]

DEFAULT_PORT = 5986
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def default_path() -> Path:
    """``$XDG_CONFIG_HOME/psremoting/known_hosts``, ``~/.config/psremoting/known_hosts`` by default."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "psremoting" / "known_hosts"


def fingerprint(certificate_der: bytes) -> str:
    """``SHA256:<base64>`` of a DER certificate, as SSH writes fingerprints."""
    digest = hashlib.sha256(certificate_der).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_fingerprint(text: str) -> str:
    """A fingerprint in any accepted spelling, in the canonical ``SHA256:<base64>`` form."""
    value = text.strip()
    if value.upper().startswith("SHA256:"):
        body = value[7:]
        if _HEX.match(body.replace(":", "")) and ":" in body:
            digest = bytes.fromhex(body.replace(":", ""))
        else:
            try:
                digest = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            except (binascii.Error, ValueError):
                digest = b""
    elif _HEX.match(value.replace(":", "")):
        digest = bytes.fromhex(value.replace(":", ""))
    else:
        digest = b""
    if len(digest) != 32:
        raise InvalidOptionError(
            f"{text!r} is not a SHA-256 certificate fingerprint: give it as SHA256:<base64> (as psremoting "
            "prints it) or as 64 hex digits (openssl x509 -noout -fingerprint -sha256 -in cert.pem)."
        )
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def host_key(host: str, port: int | None = None) -> str:
    """``host:port`` as the file writes it: lower-case, IPv6 in brackets."""
    name = host.strip().strip("[]").lower()
    if not name or any(c.isspace() for c in name):
        raise InvalidOptionError(f"{host!r} is not a host name.")
    shown = f"[{name}]" if ":" in name else name
    return f"{shown}:{port or DEFAULT_PORT}"


def split_host_port(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` for IPv6) as typed on the command line."""
    value = text.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host, port_text = value, ""
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InvalidOptionError(f"{text!r}: the port must be a number from 1 to 65535 (HOST:PORT).")
    return host, int(port_text)


class UntrustedCertificateError(CertificateError):
    """The certificate is not signed by a trusted CA and its fingerprint is not trusted yet."""

    def __init__(self, computer_name: str, port: int, found: str) -> None:
        self.fingerprint = found
        self.command = f"psremoting trust {host_key(computer_name, port)} --fingerprint {found}"
        super().__init__(
            computer_name,
            f"The server certificate of {host_key(computer_name, port)} is not signed by a trusted "
            f"certificate authority, and it is not trusted yet. Its fingerprint is {found}. If that is the "
            f"certificate of this server (compare it on the server), trust it with: {self.command}",
        )


class CertificateChangedError(CertificateError):
    """The certificate differs from the one trusted (or pinned) for this host: refused."""

    def __init__(self, computer_name: str, port: int, found: str, expected: list[str], source: str) -> None:
        self.fingerprint = found
        self.expected = expected
        super().__init__(
            computer_name,
            f"WARNING: THE CERTIFICATE OF {host_key(computer_name, port).upper()} HAS CHANGED. Someone may be "
            f"intercepting the connection, or the server got a new certificate. Expected {', '.join(expected)} "
            f"({source}); the server presented {found}. The connection was refused. If the change is known, "
            f"remove the old entry (psremoting trust {host_key(computer_name, port)} --remove) and trust the "
            "new fingerprint.",
        )


class HostNameMismatchError(CertificateError):
    """The certificate is not valid for the name connected to; the message lists its names."""

    def __init__(self, computer_name: str, port: int, names: list[str]) -> None:
        self.names = names
        held = ", ".join(names) if names else "no host names at all"
        super().__init__(
            computer_name,
            f"The server certificate on the destination computer ({host_key(computer_name, port)}) has the "
            "following errors: The SSL certificate contains a common name (CN) that does not match the "
            f"hostname. The certificate is for: {held}. Connect with one of those names, or, if you trust "
            "this server, skip the name check: -SkipCNCheck in New-PSSessionOption, --skip-cn-check on the "
            "command line, SessionOption(skip_cn_check=True) in Python.",
        )


def certificate_names(certificate_der: bytes) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for (its subject alternative
    names; its common name when it has none)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        return []
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        alt = None
    if alt is not None:
        names = [str(n) for n in alt.get_values_for_type(x509.DNSName)]
        names += [str(a) for a in alt.get_values_for_type(x509.IPAddress)]
        if names:
            return names
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:] and "." in rest
    return "*" not in pattern and pattern == host


def check_host_name(computer_name: str, port: int, certificate_der: bytes, host: str) -> None:
    """Raise `HostNameMismatchError` unless the certificate is valid for `host` (RFC 6125:
    IP addresses exactly, DNS names case-insensitively, a wildcard for one left-most label)."""
    names = certificate_names(certificate_der)
    wanted = host.strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(wanted)
    except ValueError:
        address = None
    for name in names:
        if address is not None:
            try:
                if ipaddress.ip_address(name) == address:
                    return
            except ValueError:
                continue
        elif _name_matches(name, wanted):
            return
    raise HostNameMismatchError(computer_name, port, names)


#: How an interactive program asks whether to trust a certificate (`set_confirm`).
Confirm = Callable[[str, str], bool]
_confirm: Confirm | None = None
_confirm_lock = threading.Lock()


def set_confirm(fn: Confirm | None) -> None:
    """Install (None: remove) the question asked at the first connection to a host whose
    certificate is not trusted: ``fn(host_key, fingerprint) -> trust it?``. The shell and
    the CLI install one when they run at a terminal; without one the connection fails with
    the fingerprint and the trust command (CI, scripts)."""
    global _confirm
    _confirm = fn


def get_confirm() -> Confirm | None:
    return _confirm


@contextlib.contextmanager
def _line_mode(fd: int) -> Iterator[None]:
    """The terminal in line mode with echo while the question is asked (a line editor may have
    left it raw), as it was afterwards."""
    try:
        import termios

        saved = termios.tcgetattr(fd)
    except (ImportError, OSError):
        yield
        return
    wanted = list(saved)
    wanted[3] |= termios.ECHO | termios.ICANON
    try:
        termios.tcsetattr(fd, termios.TCSANOW, wanted)
        yield
    finally:
        with contextlib.suppress(OSError):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def ask_at_terminal(key: str, found: str) -> bool:
    """The question as SSH asks it, on the terminal (``/dev/tty``); False when there is none
    or the answer is not yes."""
    try:
        reader = open("/dev/tty", encoding="utf-8")  # noqa: SIM115
    except OSError:
        return False
    try:
        writer = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
    except OSError:
        reader.close()
        return False
    with _confirm_lock, reader, writer, _line_mode(reader.fileno()):
        writer.write(
            f"The authenticity of host '{key}' can't be established.\n"
            "Its TLS certificate is not signed by a certificate authority this computer trusts.\n"
            f"Certificate SHA256 fingerprint is {found}.\n"
            "Are you sure you want to continue connecting (yes/no)? "
        )
        writer.flush()
        while True:
            line = reader.readline()
            if not line:
                return False
            answer = line.strip().lower()
            if answer in ("yes", "y"):
                writer.write(f"Permanently added '{key}' to the list of known hosts.\n")
                writer.flush()
                return True
            if answer in ("no", "n"):
                return False
            writer.write("Please type 'yes' or 'no': ")
            writer.flush()


@dataclass(frozen=True)
class _Entry:
    key: str
    fingerprint: str


class KnownHosts:
    """The known_hosts file: read at each use (another process may have changed it), written
    atomically (a temporary file renamed over it), created with its folder when first written."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    def _entries(self) -> list[_Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) == 2:
                try:
                    entries.append(_Entry(parts[0].lower(), parse_fingerprint(parts[1])))
                except InvalidOptionError:
                    continue  # a damaged line trusts nothing
        return entries

    def lookup(self, host: str, port: int | None = None) -> list[str]:
        """The fingerprints trusted for ``host:port``."""
        key = host_key(host, port)
        return [e.fingerprint for e in self._entries() if e.key == key]

    def entries(self) -> list[tuple[str, str]]:
        return [(e.key, e.fingerprint) for e in self._entries()]

    def add(self, host: str, port: int | None, found: str) -> bool:
        """Trust `found` for ``host:port``; False when it already was."""
        key, canonical = host_key(host, port), parse_fingerprint(found)
        entries = self._entries()
        if _Entry(key, canonical) in entries:
            return False
        self._write([*entries, _Entry(key, canonical)])
        return True

    def remove(self, host: str, port: int | None = None) -> int:
        """Forget every fingerprint of ``host:port``; how many were removed."""
        key = host_key(host, port)
        entries = self._entries()
        kept = [e for e in entries if e.key != key]
        if len(kept) != len(entries):
            self._write(kept)
        return len(entries) - len(kept)

    def _write(self, entries: list[_Entry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = "# psremoting known_hosts: HOST:PORT SHA256:<fingerprint of the server certificate>\n"
        body += "".join(f"{e.key} {e.fingerprint}\n" for e in entries)
        fd, temp = tempfile.mkstemp(prefix=".known_hosts.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:  # 0600: the user's own trust decisions
                stream.write(body)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def check_certificate(
    computer_name: str,
    port: int,
    certificate_der: bytes,
    *,
    pinned: str | None = None,
    known_hosts: KnownHosts | None = None,
    confirm: Callable[[str, str], bool] | None = None,
) -> str:
    """Decide whether the certificate `certificate_der` of ``computer_name:port`` is trusted.

    The transport calls this when CA verification did not accept the certificate, or always
    when a fingerprint is `pinned` (``--cert-fingerprint``: only that one is accepted). With
    the host in known_hosts, its fingerprint must match, else `CertificateChangedError`. With
    no entry: `confirm(host_key, fingerprint)` (an interactive question) may trust it, and it
    is then saved; otherwise `UntrustedCertificateError` gives the fingerprint and the command.
    Returns the fingerprint accepted.
    """
    found = fingerprint(certificate_der)
    if pinned is not None:
        wanted = parse_fingerprint(pinned)
        if not hmac.compare_digest(wanted, found):
            raise CertificateChangedError(
                computer_name, port, found, [wanted], "pinned with --cert-fingerprint"
            )
        return found
    store = known_hosts if known_hosts is not None else KnownHosts()
    trusted = store.lookup(computer_name, port)
    if trusted:
        if any(hmac.compare_digest(t, found) for t in trusted):
            return found
        raise CertificateChangedError(computer_name, port, found, trusted, str(store.path))
    if confirm is not None and confirm(host_key(computer_name, port), found):
        store.add(computer_name, port, found)
        return found
    raise UntrustedCertificateError(computer_name, port, found)
