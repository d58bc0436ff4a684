"""The WS-Management SOAP vocabulary: parsing a request envelope, building response XML.

Pure functions and constants, no state and no sockets: :func:`parse_request` turns one
decrypted request body into a :class:`Request` (hostile or malformed input becomes a
:class:`~psremoting.emulator.faults.WSManFault`: a DTD or entity declaration, malformed
XML, a bad MaxEnvelopeSize); :func:`response_envelope`, :func:`shell_xml` and
:func:`config_xml` write answers shaped as the recordings of real Windows traffic in
``windows-recordings/`` show. ``wsman.py`` dispatches the actions between the two.
"""

from __future__ import annotations

import binascii
import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from psremoting.emulator import b64, faults
from psremoting.emulator.cmdshell import CmdShell
from psremoting.emulator.shell_registry import Shell
from psremoting.protocol import wsman as _codes

__all__ = [
    "NS",
    "Request",
    "config_xml",
    "decode_base64",
    "machine_name",
    "parse_duration",
    "parse_request",
    "response_envelope",
    "shell_xml",
]

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wsmv": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "wsen": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
SHELL_NS = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_URI = SHELL_NS + "/cmd"
COMMAND_URI = SHELL_NS + "/Command"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
PS_URI_PREFIX = "http://schemas.microsoft.com/powershell/"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
SHELL_ACTION = SHELL_NS + "/"
# Signal codes: the protocol layer's (SIGNAL_PS_STOP stops a pipeline; the others close it).
SIGNAL_TERMINATE = _codes.SIGNAL_TERMINATE
SIGNAL_CTRL_C = _codes.SIGNAL_CTRL_C
SIGNAL_PS_CTRL_C = _codes.SIGNAL_PS_CTRL_C
SIGNAL_PS_STOP = _codes.SIGNAL_PS_STOP
DONE_STATE = SHELL_NS + "/CommandState/Done"
RUNNING_STATE = SHELL_NS + "/CommandState/Running"

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_HOSTILE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

_ENVELOPE_OPEN = (
    '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"'
    ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
    ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
    ' xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"'
    ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
)


def parse_duration(text: str | None, default: float) -> float:
    """``PT20S`` / ``PT20.000S`` / ``P0DT0H1M0S`` -> seconds."""
    if not text:
        return default
    match = _DURATION.match(text.strip())
    if not match:
        return default
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _operation_timeout(text: str | None) -> float:
    """The OperationTimeout header in seconds (60 without one); Windows refuses one that is
    not a positive duration (pypsrp's ``PT-1S``) with an invalid-header fault."""
    if not text:
        return 60.0
    if not _DURATION.match(text.strip()) or "-" in text:
        from psremoting.emulator.shell_faults import invalid_timeout_header

        raise invalid_timeout_header(text.strip())
    return parse_duration(text, 60.0)


@dataclass
class Request:
    """The parts of a WS-Management request the service acts on."""

    action: str
    message_id: str | None
    resource_uri: str
    to: str
    max_envelope_size: int
    operation_timeout: float
    selectors: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    body: ET.Element | None = None
    #: The client's wsmv:SessionId: a Reconnect must come from the client that disconnected.
    session_id: str | None = None


def parse_request(data: bytes, default_envelope: int) -> Request:
    """Parse one SOAP envelope; hostile or malformed input raises a :class:`WSManFault`."""
    root = _parse_envelope(data)
    if root.tag != f"{{{NS['s']}}}Envelope":
        raise faults.malformed_xml("The root element is not a SOAP 1.2 Envelope.")
    header = root.find("s:Header", NS)
    if header is None:
        raise faults.bad_body("The SOAP Header is missing.")

    def text(path: str) -> str | None:
        el = header.find(path, NS)
        return el.text.strip() if el is not None and el.text is not None else None

    try:
        return _request_of(root, header, text, default_envelope)
    except faults.WSManFault as fault:
        # A fault about a header still answers the request it names (Windows' a:RelatesTo and
        # Machine in test_psrp_is_alive_other_wsman_error).
        fault.relates_to = text("wsa:MessageID")
        fault.to = text("wsa:To")
        raise


#: Element text longer than this is lifted out before the parse (:func:`_lift_long_texts`).
LIFT_MIN_BYTES = 4096
#: What stands in for a lifted text, its index after it: plain text, no markup.
_PLACEHOLDER = "psremoting-lifted-text-1f6b0c3e-"
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_BOM = b"\xef\xbb\xbf"
#: At most this many ``>`` are looked past for long texts (a Send has a few dozen elements):
#: a document of many tiny elements costs no more than its parse.
_LIFT_MAX_GAPS = 256


def _parse_envelope(data: bytes) -> ET.Element:
    """The element tree of a request, refused with the faults of a hostile or malformed one.

    A Send's ``rsp:Stream`` (an upload: ~500 KB of base64) would have expat scan every byte
    of its text. :func:`_lift_long_texts` first takes such texts out (found with
    ``bytes.find``), the small rest is parsed, with the same hostile-document check, and
    each text is put back on its element. Anything the lifting cannot vouch for is parsed
    whole, as it always was, so the tree and every fault (malformed XML with its line and
    column, a DTD) are the ones the whole parse gives.

    The hostile-document check of the lifted document is the check of the whole one: a
    match of ``<!DOCTYPE`` / ``<!ENTITY`` starts with ``<`` and holds no ``>``, and a lifted
    text is what lies between a ``>`` and the next ``<``, so no match can start inside it or
    reach into it from before; the placeholder, holding neither character, cannot make one.
    """
    lifted = _lift_long_texts(data)
    if lifted is not None:
        small, texts = lifted
        _refuse_hostile(small)
        try:
            root: ET.Element | None = ET.fromstring(small)
        except ET.ParseError:
            root = None  # the whole parse words the fault, with its line and column
        if root is not None and _put_back(root, texts):
            return root
    _refuse_hostile(data)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise faults.malformed_xml(f"Line {exc.position[0]}, column {exc.position[1]}: {exc.msg}.") from None


def _refuse_hostile(data: bytes) -> None:
    if _HOSTILE.search(data):
        raise faults.malformed_xml("Document type definitions and entity declarations are not allowed.")


def _lift_long_texts(data: bytes) -> tuple[bytes, list[str]] | None:
    """``data`` with each long run between a ``>`` and the next ``<`` replaced by a
    placeholder, and the texts of those runs; None when there is none to lift.

    Only a run of nothing but clean base64 (its alphabet and padding, ``b64.is_clean``) is
    lifted: no reference (``&``), no markup character, no carriage return (which expat would
    rewrite), no character XML forbids, all ASCII, so as an element's text it is exactly its
    bytes. Nothing is lifted from a document that declares an encoding other than UTF-8 or
    ASCII (there bytes are not characters one to one).
    """
    if len(data) <= LIFT_MIN_BYTES:
        return None
    declared = _DECLARATION.match(data, len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return None
    pieces: list[bytes] = []
    texts: list[str] = []
    start = 0
    pos = data.find(b">")
    for _ in range(_LIFT_MAX_GAPS):
        if pos < 0:
            break
        end = data.find(b"<", pos + 1)
        if end < 0:
            break
        if end - pos - 1 > LIFT_MIN_BYTES:
            run = data[pos + 1 : end]
            if b64.is_clean(run):
                pieces.append(data[start : pos + 1])
                pieces.append(f"{_PLACEHOLDER}{len(texts)}".encode("ascii"))
                texts.append(run.decode("ascii"))
                start = end
        pos = data.find(b">", end + 1)
    if not texts:
        return None
    pieces.append(data[start:])
    return b"".join(pieces), texts


def _put_back(root: ET.Element, texts: list[str]) -> bool:
    """Give each placeholder's element its lifted text back; False (parse it whole) unless
    each placeholder is found exactly once, as the whole text of an element, and nowhere
    else (in an attribute or a tail; in a comment or a processing instruction it is gone)."""
    wanted = {f"{_PLACEHOLDER}{number}": number for number in range(len(texts))}
    found: dict[int, ET.Element] = {}
    for el in root.iter():
        text = el.text
        if text is not None and _PLACEHOLDER in text:
            number = wanted.get(text)
            if number is None or number in found:
                return False
            found[number] = el
        if el.tail is not None and _PLACEHOLDER in el.tail:
            return False
        if _PLACEHOLDER in el.tag or any(
            _PLACEHOLDER in k or _PLACEHOLDER in v for k, v in el.attrib.items()
        ):
            return False
    if len(found) != len(texts):
        return False
    for number, el in found.items():
        el.text = texts[number]
    return True


def _request_of(
    root: ET.Element, header: ET.Element, text: Callable[[str], str | None], default_envelope: int
) -> Request:
    action = text("wsa:Action") or ""
    max_env = default_envelope
    raw_max = text("wsman:MaxEnvelopeSize")
    if raw_max:
        try:
            max_env = int(raw_max)
        except ValueError:
            raise faults.bad_body(f"MaxEnvelopeSize '{raw_max}' is not a number.") from None
    selectors = {
        (el.get("Name") or ""): (el.text or "").strip()
        for el in header.findall("wsman:SelectorSet/wsman:Selector", NS)
    }
    options = {
        (el.get("Name") or ""): (el.text or "").strip()
        for el in header.findall("wsman:OptionSet/wsman:Option", NS)
    }
    body_el = root.find("s:Body", NS)
    body = body_el[0] if body_el is not None and len(body_el) else None
    return Request(
        action=action,
        message_id=text("wsa:MessageID"),
        resource_uri=text("wsman:ResourceURI") or "",
        to=text("wsa:To") or "",
        max_envelope_size=max_env,
        operation_timeout=_operation_timeout(text("wsman:OperationTimeout")),
        selectors=selectors,
        options=options,
        body=body,
        session_id=text("wsmv:SessionId"),
    )


def decode_base64(text: str | None, where: str) -> bytes:
    """The bytes of a base64 element; anything but clean base64 is a WSMan fault naming ``where``."""
    try:
        return b64.decode_strict((text or "").strip())
    except (binascii.Error, ValueError):
        raise faults.bad_base64(where) from None


def machine_name(request: Request | None, default: str) -> str:
    """The host a request was addressed to (its ``wsa:To``), as Windows names it in faults."""
    return host_of(request.to if request is not None else None, default)


def host_of(to: str | None, default: str) -> str:
    """The host of a ``wsa:To`` address (``default`` without one)."""
    if to:
        match = re.match(r"^\w+://\[?([^/\]]+?)\]?(?::\d+)?(/|$)", to)
        if match:
            return match.group(1)
    return default


def response_envelope(request: Request, action: str, body: str) -> bytes:
    """A complete response envelope for ``action`` around ``body``, related to ``request``."""
    relates = f"<a:RelatesTo>{escape(request.message_id)}</a:RelatesTo>" if request.message_id else ""
    return (
        f"{_ENVELOPE_OPEN}<s:Header><a:Action>{action}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<p:ActivityId>{str(uuid.uuid4()).upper()}</p:ActivityId>"
        f"<a:To>{ANONYMOUS}</a:To>{relates}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _duration(seconds: int) -> str:
    return f"P0DT{seconds // 3600}H{seconds // 60 % 60}M{seconds % 60}S"


#: Also escape the quote in an attribute value.
_QUOTE = {'"': "&quot;"}


def shell_xml(shell: Shell, *, computer_name: str, extra: bool = False) -> str:
    """The ``rsp:Shell`` description of a shell (Create, Get and Enumerate answers).

    A cmd shell's description is shorter, as Windows answers pywinrm/pypsrp's WinRS;
    ``extra`` adds the MemoryUsed/ChildProcesses that Get and Enumerate show for a PowerShell shell.
    """
    now = time.monotonic()
    is_cmd = isinstance(shell, CmdShell)
    process = "" if is_cmd else "<rsp:ProcessId>4242</rsp:ProcessId>"
    name = f"<rsp:Name>{escape(shell.name)}</rsp:Name>" if shell.name else ""
    directory = getattr(shell, "working_directory", "")
    cwd = f"<rsp:WorkingDirectory>{escape(directory)}</rsp:WorkingDirectory>" if directory else ""
    variables = getattr(shell, "environment", None) or {}
    # Windows echoes the shell's environment variables after the ClientIP.
    env = (
        "<rsp:Environment>"
        + "".join(
            f'<rsp:Variable Name="{escape(k, _QUOTE)}">{escape(v)}</rsp:Variable>'
            for k, v in variables.items()
        )
        + "</rsp:Environment>"
        if variables
        else ""
    )
    head = (
        f'<rsp:Shell xmlns:rsp="{SHELL_NS}"><rsp:ShellId>{shell.shell_id}</rsp:ShellId>{name}'
        f"<rsp:ResourceUri>{escape(shell.resource_uri)}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(computer_name.upper())}\\{escape(shell.owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(shell.client_ip)}</rsp:ClientIP>{env}{process}{cwd}"
        f"<rsp:IdleTimeOut>PT{shell.idle_timeout:.3f}S</rsp:IdleTimeOut>"
        f"<rsp:InputStreams>{shell.input_streams}</rsp:InputStreams>"
        f"<rsp:OutputStreams>{shell.output_streams}</rsp:OutputStreams>"
    )
    settings = (
        ""
        if is_cmd
        else "<rsp:MaxIdleTimeOut>PT2147483.647S</rsp:MaxIdleTimeOut><rsp:Locale>en-US</rsp:Locale>"
        "<rsp:DataLocale>en-US</rsp:DataLocale><rsp:CompressionMode>NoCompression</rsp:CompressionMode>"
        "<rsp:ProfileLoaded>Yes</rsp:ProfileLoaded><rsp:Encoding>UTF8</rsp:Encoding>"
        f"<rsp:BufferMode>{shell.buffer_mode}</rsp:BufferMode><rsp:State>{shell.state}</rsp:State>"
    )
    times = (
        f"<rsp:ShellRunTime>{_duration(int(now - shell.created))}</rsp:ShellRunTime>"
        f"<rsp:ShellInactivity>{_duration(int(now - shell.last_activity))}</rsp:ShellInactivity>"
    )
    more = (
        "<rsp:MemoryUsed>46MB</rsp:MemoryUsed><rsp:ChildProcesses>0</rsp:ChildProcesses>"
        if extra and not is_cmd
        else ""
    )
    return f"{head}{settings}{times}{more}</rsp:Shell>"


def config_xml(
    *,
    max_envelope_size: int,
    auth_methods: tuple[str, ...],
    allow_unencrypted: bool,
    idle_timeout: float,
    max_shells_per_user: int,
) -> str:
    """``winrm/config`` as Windows shows it, with one service's real settings."""

    def flag(value: bool) -> str:
        return "true" if value else "false"

    methods = set(auth_methods)
    negotiate = bool(methods & {"ntlm", "negotiate", "kerberos"})
    return (
        f'<cfg:Config xmlns:cfg="{CONFIG_URI}">'
        f"<cfg:MaxEnvelopeSizekb>{max_envelope_size // 1024}</cfg:MaxEnvelopeSizekb>"
        "<cfg:MaxTimeoutms>60000</cfg:MaxTimeoutms><cfg:MaxBatchItems>32000</cfg:MaxBatchItems>"
        "<cfg:MaxProviderRequests>4294967295</cfg:MaxProviderRequests>"
        "<cfg:Client><cfg:NetworkDelayms>5000</cfg:NetworkDelayms><cfg:URLPrefix>wsman</cfg:URLPrefix>"
        "<cfg:AllowUnencrypted>false</cfg:AllowUnencrypted><cfg:Auth><cfg:Basic>true</cfg:Basic>"
        "<cfg:Digest>true</cfg:Digest><cfg:Kerberos>true</cfg:Kerberos><cfg:Negotiate>true</cfg:Negotiate>"
        "<cfg:Certificate>true</cfg:Certificate><cfg:CredSSP>false</cfg:CredSSP></cfg:Auth>"
        "<cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP><cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts>"
        "<cfg:TrustedHosts></cfg:TrustedHosts></cfg:Client>"
        "<cfg:Service><cfg:RootSDDL>O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)"
        "</cfg:RootSDDL><cfg:MaxConcurrentOperations>4294967295</cfg:MaxConcurrentOperations>"
        "<cfg:MaxConcurrentOperationsPerUser>1500</cfg:MaxConcurrentOperationsPerUser>"
        "<cfg:EnumerationTimeoutms>240000</cfg:EnumerationTimeoutms><cfg:MaxConnections>300</cfg:MaxConnections>"
        "<cfg:MaxPacketRetrievalTimeSeconds>120</cfg:MaxPacketRetrievalTimeSeconds>"
        f"<cfg:AllowUnencrypted>{flag(allow_unencrypted)}</cfg:AllowUnencrypted>"
        f"<cfg:Auth><cfg:Basic>{flag('basic' in methods)}</cfg:Basic>"
        f"<cfg:Kerberos>{flag('kerberos' in methods or 'negotiate' in methods)}</cfg:Kerberos>"
        f"<cfg:Negotiate>{flag(negotiate)}</cfg:Negotiate><cfg:Certificate>false</cfg:Certificate>"
        f"<cfg:CredSSP>{flag('credssp' in methods)}</cfg:CredSSP>"
        "<cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel></cfg:Auth>"
        "<cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP><cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts>"
        "<cfg:IPv4Filter>*</cfg:IPv4Filter><cfg:IPv6Filter>*</cfg:IPv6Filter>"
        "<cfg:EnableCompatibilityHttpListener>false</cfg:EnableCompatibilityHttpListener>"
        "<cfg:EnableCompatibilityHttpsListener>false</cfg:EnableCompatibilityHttpsListener>"
        "<cfg:CertificateThumbprint></cfg:CertificateThumbprint><cfg:AllowRemoteAccess>true</cfg:AllowRemoteAccess>"
        "</cfg:Service><cfg:Winrs><cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess>"
        f"<cfg:IdleTimeout>{int(idle_timeout * 1000)}</cfg:IdleTimeout>"
        "<cfg:MaxConcurrentUsers>2147483647</cfg:MaxConcurrentUsers>"
        "<cfg:MaxShellRunTime>2147483647</cfg:MaxShellRunTime>"
        "<cfg:MaxProcessesPerShell>2147483647</cfg:MaxProcessesPerShell>"
        "<cfg:MaxMemoryPerShellMB>2147483647</cfg:MaxMemoryPerShellMB>"
        f"<cfg:MaxShellsPerUser>{max_shells_per_user}</cfg:MaxShellsPerUser>"
        "</cfg:Winrs></cfg:Config>"
    )
