"""WS-Management requests over the project's own HTTP transport.

pypsrp's ``WSMan`` still builds and reads the envelopes (headers, faults, RelatesTo); here
it is made to talk through `http.HTTPTransport` instead of its own requests session
(`make_wsman`). The few messages pypsrp 0.9.1 cannot shape as Windows PowerShell does are
built here: a Receive whose MessageID the caller chooses (sending the same MessageID again
after a network failure gets the answer WinRM kept), a Disconnect with ``IdleTimeOut`` and
``BufferMode``, a Reconnect or Connect of one command, and the Enumerate of shells and
commands that Get-PSSession -ComputerName reads.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from psremoting.protocol import safexml
from psremoting.transport import xmlguard
from psremoting.transport.auth import AuthSettings
from psremoting.transport.envelope import NAMESPACES, build_envelope, wsman_class
from psremoting.transport.errors import InvalidAnswerError, UnrelatedAnswerError
from psremoting.transport.http import HTTPTransport, TLSSettings
from psremoting.transport.options import ConnectionInfo

__all__ = [
    "NETWORK_DELAY",
    "ReceiveResult",
    "ShellEntry",
    "make_wsman",
    "invoke",
    "receive",
    "disconnect",
    "reconnect",
    "connect_command",
    "enumerate_shells",
]

#: Seconds the HTTP wait exceeds a request's OperationTimeout (MS-WSMAN NetworkDelayms).
NETWORK_DELAY = 5.0
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
_ACTIONS = {
    "receive": _SHELL + "/Receive",
    "disconnect": _SHELL + "/Disconnect",
    "reconnect": _SHELL + "/Reconnect",
    "connect": _SHELL + "/Connect",
    "enumerate": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
}


def _ns() -> dict[str, str]:
    return NAMESPACES


def _tls_for(info: ConnectionInfo) -> TLSSettings | None:
    if not info.use_ssl:
        return None
    option = info.session_option
    ca_file = info.ca_file or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
    return TLSSettings(
        verify=not option.skip_ca_check,
        check_hostname=not option.skip_cn_check,
        pinned=option.cert_fingerprint,
        check_revocation=not option.skip_revocation_check,
        ca_file=ca_file,
        cert_file=info.certificate_pem if info.authentication == "certificate" else None,
        key_file=info.certificate_key_pem if info.authentication == "certificate" else None,
    )


def make_wsman(info: ConnectionInfo) -> tuple[Any, HTTPTransport]:
    """pypsrp's ``WSMan`` for `info`, sending through a new `HTTPTransport` (returned too)."""
    xmlguard.harden()  # pypsrp's own parsing of what the server sends, hardened too
    wsman = wsman_class()(**info.wsman_kwargs())  # pypsrp's, its envelopes from a template
    option = info.session_option
    cred = info.credential
    method = info.authentication
    spn_service, spn_host = "host", info.spn_host or info.host
    if option.spn:
        service, _, host = option.spn.strip().rpartition("/")
        spn_service, spn_host = service or "host", host.partition("@")[0]
    auth = AuthSettings(
        method=method,
        username=cred.username if cred else None,
        password=cred.get_password() if cred else None,
        spn_host=spn_host,
        spn_service=spn_service,
        encrypt=not info.use_ssl
        and not option.no_encryption
        and method in ("negotiate", "ntlm", "kerberos", "credssp"),
        delegate=option.kerberos_delegate and method in ("negotiate", "kerberos"),
    )
    transport = HTTPTransport(
        endpoint=wsman.transport.endpoint,
        auth=auth,
        tls=_tls_for(info),
        connection_timeout=option.open_timeout,
        read_timeout=max(1, int(option.operation_timeout)) + NETWORK_DELAY,
        proxy=option.proxy,
        use_env_proxy=not option.no_proxy,
        envelope_size=lambda: int(wsman.max_envelope_size),
        computer_name=info.computer_name,
        connect_retries=option.max_connection_retries,
    )
    wsman.transport = transport  # the same interface, our connections
    return wsman, transport


def invoke(
    wsman: Any,
    action: str,
    resource_uri: str,
    resource: ET.Element | None,
    option_set: Any = None,
    selector_set: Any = None,
    timeout: float | None = None,
    *,
    message_id: str | None = None,
    deadline: float | None = None,
) -> tuple[ET.Element, str]:
    """One WSMan request, as pypsrp's ``WSMan.invoke`` sends it, with the MessageID given
    (or a new one); returns the answer and the MessageID used. The HTTP wait is the
    OperationTimeout plus `NETWORK_DELAY`, and never past `deadline` (``time.monotonic()``)."""
    from pypsrp.exceptions import WinRMTransportError

    xml, wanted = build_envelope(
        wsman, action, resource_uri, resource, option_set, selector_set, timeout, message_id=message_id
    )
    http_timeout = (float(timeout) + NETWORK_DELAY) if timeout else None
    if deadline is not None:
        remaining = max(0.1, deadline - time.monotonic())
        http_timeout = min(http_timeout, remaining) if http_timeout else remaining
    try:
        answer = wsman.transport.send(xml, timeout=http_timeout)
    except WinRMTransportError as err:
        try:
            fault = read_fault(err.response_text)  # through xmlguard's parser
        except ET.ParseError:
            raise err from None
        raise fault from None
    return read_answer(answer, wanted), wanted


def read_answer(answer: bytes, wanted: str) -> ET.Element:
    """The SOAP envelope of an answer (hardened parser), checked to answer MessageID `wanted`."""
    ns = _ns()
    response = safexml.fromstring(answer)
    relates = response.find("s:Header/wsa:RelatesTo", ns)
    if (relates.text if relates is not None else "") != wanted:
        raise UnrelatedAnswerError(
            f"it is not an answer to the request that was sent (it relates to "
            f"'{printable_id(relates.text if relates is not None else '')}', not {wanted})"
        )
    return response


def printable_id(text: str | None) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in (text or "")[:100])


def read_fault(text: str) -> Any:
    """pypsrp's ``WSManFaultError`` for the fault in an HTTP 500 answer (hardened parser);
    ``ET.ParseError`` (a `MalformedAnswerError`) when it is not XML."""
    from pypsrp.wsman import WSMan

    xmlguard.harden()
    return WSMan._parse_wsman_fault(text)


@dataclass
class ReceiveResult:
    """One Receive's answer: the stdout bytes, whether the command is Done, its exit code."""

    data: bytes
    done: bool
    exit_code: int | None


def new_message_id() -> str:
    return f"uuid:{str(uuid.uuid4()).upper()}"


def receive(
    wsman: Any,
    shell: Any,
    command_id: str | None,
    timeout: float,
    *,
    message_id: str,
    deadline: float | None = None,
) -> ReceiveResult:
    """Receive stdout of the shell (or of one command), long-polling up to `timeout` s (and
    waiting for the answer no later than `deadline`, if given).
    `message_id` is the caller's: the same one again asks for the same answer."""
    ns = _ns()
    rsp = ns["rsp"]
    from pypsrp.wsman import OptionSet

    request = ET.Element(f"{{{rsp}}}Receive")
    desired = ET.SubElement(request, f"{{{rsp}}}DesiredStream")
    desired.text = "stdout"
    if command_id is not None:
        desired.attrib["CommandId"] = command_id
    options = OptionSet()
    options.add_option("WSMAN_CMDSHELL_OPTION_KEEPALIVE", "True")
    seconds: float = int(timeout) if float(timeout).is_integer() else round(timeout, 3)
    response, _ = invoke(
        wsman,
        _ACTIONS["receive"],
        shell.resource_uri,
        request,
        options,
        shell._selector_set,
        seconds,
        message_id=message_id,
        deadline=deadline,
    )
    return read_receive(response)


def read_receive(response: ET.Element) -> ReceiveResult:
    """The streams, state and exit code of a ReceiveResponse; `InvalidAnswerError` for
    streams that are not base64 or an exit code that is not a number."""
    ns = _ns()
    body = response.find("s:Body/rsp:ReceiveResponse", ns)
    if body is None:
        return ReceiveResult(b"", False, None)
    try:
        chunks = [
            base64.b64decode(el.text, validate=True) for el in body.findall("rsp:Stream", ns) if el.text
        ]
    except ValueError as exc:  # binascii.Error: truncated, padded wrong, not base64 at all
        raise InvalidAnswerError(f"a Receive's rsp:Stream is not valid base64 ({exc})") from exc
    state = body.find("rsp:CommandState", ns)
    done = state is not None and state.get("State", "").endswith("/Done")
    code_el = body.find("rsp:CommandState/rsp:ExitCode", ns)
    try:
        exit_code = int(code_el.text or "0") if code_el is not None else None
    except ValueError as exc:
        raise InvalidAnswerError("a Receive's rsp:ExitCode is not a number") from exc
    return ReceiveResult(b"".join(chunks), done, exit_code)


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def disconnect(wsman: Any, shell: Any, *, idle_timeout: float | None, buffer_mode: str | None) -> None:
    """Disconnect the shell (MS-PSRP 3.1.5.3.16): optional IdleTimeOut, optional BufferMode."""
    ns = _ns()
    rsp = ns["rsp"]
    body = ET.Element(f"{{{rsp}}}Disconnect")
    if idle_timeout is not None:
        ET.SubElement(body, f"{{{rsp}}}IdleTimeOut").text = _duration(idle_timeout)
    if buffer_mode:
        ET.SubElement(body, f"{{{rsp}}}BufferMode").text = buffer_mode
    invoke(wsman, _ACTIONS["disconnect"], shell.resource_uri, body, None, shell._selector_set)


def reconnect(wsman: Any, shell: Any, command_id: str | None = None) -> None:
    """Reconnect the shell this client disconnected; with `command_id`, one of its commands."""
    ns = _ns()
    body = ET.Element(f"{{{ns['rsp']}}}Reconnect")
    if command_id is not None:
        body.attrib["CommandId"] = command_id
    invoke(wsman, _ACTIONS["reconnect"], shell.resource_uri, body, None, shell._selector_set)


def connect_command(wsman: Any, shell: Any, command_id: str) -> None:
    """Connect to one command of a shell this client connected to (``rsp:Connect CommandId``)."""
    ns = _ns()
    body = ET.Element(f"{{{ns['rsp']}}}Connect", CommandId=command_id)
    invoke(wsman, _ACTIONS["connect"], shell.resource_uri, body, None, shell._selector_set)


def connect_pool(wsman: Any, shell: Any, connect_xml: bytes) -> bytes:
    """Connect to a disconnected shell as a new client; returns the connectResponseXml."""
    from pypsrp.wsman import OptionSet

    ns = _ns()
    body = ET.Element(f"{{{ns['rsp']}}}Connect")
    content = ET.SubElement(body, "connectXml", xmlns="http://schemas.microsoft.com/powershell")
    content.text = base64.b64encode(connect_xml).decode()
    options = OptionSet()
    options.add_option("protocolversion", "2.3", {"MustComply": "true"})
    response, _ = invoke(wsman, _ACTIONS["connect"], shell.resource_uri, body, options, shell._selector_set)
    found = response.find("s:Body/rsp:ConnectResponse/pwsh:connectResponseXml", ns)
    return base64.b64decode(found.text or "") if found is not None else b""


@dataclass
class ShellEntry:
    """One shell of Enumerate: what PowerShell builds a PSSession from."""

    shell_id: str
    name: str
    resource_uri: str
    state: str
    owner: str = ""
    idle_timeout: float | None = None
    buffer_mode: str = "Block"
    inactivity: float = 0.0
    commands: list[tuple[str, str]] = field(default_factory=list)


def _seconds(text: str | None) -> float:
    """xs:duration (PT7200.000S, P0DT0H1M5S) -> seconds."""
    import re

    match = re.fullmatch(
        r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", (text or "").strip()
    )
    if not match:
        return 0.0
    days, hours, minutes, seconds = (float(g or 0) for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _enumerate(wsman: Any, resource_uri: str, shell_id: str | None = None) -> list[ET.Element]:
    from pypsrp.wsman import SelectorSet

    ns = _ns()
    body = ET.Element(f"{{{ns['wsen']}}}Enumerate")
    ET.SubElement(body, f"{{{ns['wsman']}}}OptimizeEnumeration")
    ET.SubElement(body, f"{{{ns['wsman']}}}MaxElements").text = "32000"
    if shell_id is not None:
        selector = ET.SubElement(
            body,
            f"{{{ns['wsman']}}}Filter",
            Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter",
        )
        selectors = SelectorSet()
        selectors.add_option("ShellId", shell_id)
        selector.append(selectors.pack())
    response, _ = invoke(wsman, _ACTIONS["enumerate"], resource_uri, body)
    items = response.find("s:Body/wsen:EnumerateResponse/wsman:Items", ns)
    return list(items) if items is not None else []


def enumerate_shells(wsman: Any) -> list[ShellEntry]:
    """This user's PowerShell shells on the server, with their commands (as Windows
    PowerShell's Get-PSSession -ComputerName reads them; cmd shells left out)."""
    ns = _ns()
    found: list[ShellEntry] = []
    for item in _enumerate(wsman, _SHELL):

        def text(name: str, item: ET.Element = item) -> str:
            element = item.find(f"rsp:{name}", ns)
            return (element.text or "").strip() if element is not None else ""

        uri = text("ResourceUri")
        if not uri.lower().startswith("http://schemas.microsoft.com/powershell/"):
            continue
        shell_id = text("ShellId")
        entry = ShellEntry(
            shell_id=shell_id,
            name=text("Name"),
            resource_uri=uri,
            state=text("State") or "Connected",
            owner=text("Owner"),
            idle_timeout=_seconds(text("IdleTimeOut")) or None,
            buffer_mode=text("BufferMode") or "Block",
            inactivity=_seconds(text("ShellInactivity")),
        )
        for command in _enumerate(wsman, _SHELL + "/Command", shell_id):
            cid = command.find("rsp:CommandId", ns)
            state = command.find("rsp:CommandState", ns)
            if cid is not None and cid.text:
                entry.commands.append(
                    (cid.text.strip(), (state.text or "").strip() if state is not None else "")
                )
        found.append(entry)
    return found
