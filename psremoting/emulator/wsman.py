"""WS-Management over SOAP, as a Windows WinRM service answers it: bytes in, bytes out.

:class:`WSManService` takes one decrypted request body (plus who sent it) and returns the
HTTP status and the response envelope. It knows no sockets, so the conformance tests can
feed it the recorded requests directly. It dispatches the WS-Transfer, WS-Enumeration and
Windows shell actions pypsrp and pywinrm use (Create, Command, Send, Receive, Signal,
Delete, Get, Disconnect, Reconnect, Connect, Enumerate, Pull) to the shells of
``shells.py`` and shapes every answer, faults included, as the recordings of real Windows
traffic in ``windows-recordings/`` show.

Hostile input is refused, not processed: a DTD or entity declaration, malformed XML, an
envelope over MaxEnvelopeSize, garbage base64, unknown actions or ids all become WSMan
faults, and nothing a request contains can kill the service.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from psremoting.emulator import faults
from psremoting.emulator.cmdshell import CmdShell
from psremoting.emulator.shells import PSRPShell, Shell, ShellRegistry

log = logging.getLogger(__name__)

__all__ = ["Request", "Stats", "WSManService", "parse_request"]

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
SIGNAL_TERMINATE = SHELL_NS + "/signal/terminate"
SIGNAL_CTRL_C = SHELL_NS + "/signal/ctrl_c"
SIGNAL_PS_CTRL_C = "powershell/signal/ctrl_c"
DONE_STATE = SHELL_NS + "/CommandState/Done"

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


def _short(action: str) -> str:
    return action.rsplit("/", 1)[-1] if action else "(none)"


def parse_duration(text: str | None, default: float) -> float:
    """``PT20S`` / ``PT20.000S`` / ``P0DT0H1M0S`` -> seconds."""
    if not text:
        return default
    match = _DURATION.match(text.strip())
    if not match:
        return default
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


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


def parse_request(data: bytes, default_envelope: int) -> Request:
    """Parse one SOAP envelope; hostile or malformed input raises a :class:`WSManFault`."""
    if _HOSTILE.search(data):
        raise faults.malformed_xml("Document type definitions and entity declarations are not allowed.")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise faults.malformed_xml(f"Line {exc.position[0]}, column {exc.position[1]}: {exc.msg}.") from None
    if root.tag != f"{{{NS['s']}}}Envelope":
        raise faults.malformed_xml("The root element is not a SOAP 1.2 Envelope.")
    header = root.find("s:Header", NS)
    if header is None:
        raise faults.bad_body("The SOAP Header is missing.")

    def text(path: str) -> str | None:
        el = header.find(path, NS)
        return el.text.strip() if el is not None and el.text is not None else None

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
        operation_timeout=parse_duration(text("wsman:OperationTimeout"), 60.0),
        selectors=selectors,
        options=options,
        body=body,
    )


def _b64(text: str | None, where: str) -> bytes:
    try:
        return base64.b64decode((text or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise faults.bad_base64(where) from None


class Stats:
    """Counters a test can read: requests per action, open shells, peak running pipelines."""

    def __init__(self, open_shells: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.running_pipelines = 0
        self.peak_running_pipelines = 0
        self.pipelines_started = 0
        self._open_shells = open_shells or (lambda: 0)

    def count(self, action: str) -> None:
        with self._lock:
            self.requests[_short(action)] += 1

    def pipeline_started(self) -> None:
        with self._lock:
            self.running_pipelines += 1
            self.pipelines_started += 1
            self.peak_running_pipelines = max(self.peak_running_pipelines, self.running_pipelines)

    def pipeline_ended(self) -> None:
        with self._lock:
            self.running_pipelines -= 1

    @property
    def open_shells(self) -> int:
        return self._open_shells()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.peak_running_pipelines = self.running_pipelines
            self.pipelines_started = 0

    def __repr__(self) -> str:
        return (
            f"Stats(requests={dict(self.requests)}, open_shells={self.open_shells}, "
            f"peak_running_pipelines={self.peak_running_pipelines})"
        )


class WSManService:
    """The WinRM service of one emulated computer."""

    def __init__(
        self,
        *,
        computer_name: str,
        registry: ShellRegistry,
        stats: Stats,
        engine_factory: Callable[[], Callable[..., Any]],
        engine_kwargs: Callable[[], dict[str, Any]],
        knobs: faults.FaultKnobs,
        max_envelope_size: int = 512000,
        configurations: tuple[str, ...] = ("microsoft.powershell", "microsoft.powershell32", "powershell.7"),
        cmd_enabled: bool = True,
        run_cmd_script: Callable[[str, str], tuple[bytes, bytes, int]] | None = None,
        auth_methods: tuple[str, ...] = ("basic", "ntlm", "negotiate"),
        allow_unencrypted: bool = False,
    ) -> None:
        self.auth_methods = auth_methods
        self.allow_unencrypted = allow_unencrypted
        self.computer_name = computer_name
        self.registry = registry
        self.stats = stats
        self.engine_factory = engine_factory
        self.engine_kwargs = engine_kwargs
        self.knobs = knobs
        self.max_envelope_size = max_envelope_size
        self.configurations = configurations
        self.cmd_enabled = cmd_enabled
        self.run_cmd_script = run_cmd_script
        self._enumerations: dict[str, list[str]] = {}
        self._handlers: dict[str, Callable[[Request, str, str], str]] = {
            TRANSFER + "Create": self._create,
            TRANSFER + "Delete": self._delete,
            TRANSFER + "Get": self._get,
            SHELL_ACTION + "Command": self._command,
            SHELL_ACTION + "Send": self._send,
            SHELL_ACTION + "Receive": self._receive,
            SHELL_ACTION + "Signal": self._signal,
            SHELL_ACTION + "Disconnect": self._disconnect,
            SHELL_ACTION + "Reconnect": self._reconnect,
            SHELL_ACTION + "Connect": self._connect,
            ENUMERATION + "Enumerate": self._enumerate,
            ENUMERATION + "Pull": self._pull,
        }

    # -- entry point ------------------------------------------------------------------------

    def handle(self, data: bytes, *, username: str, client_ip: str = "127.0.0.1") -> tuple[int, bytes]:
        """Answer one request body: ``(http_status, response_envelope)``."""
        request: Request | None = None
        try:
            if len(data) > self.max_envelope_size:
                self.stats.count("(oversized)")
                raise faults.envelope_too_large(len(data), self.max_envelope_size)
            request = parse_request(data, self.max_envelope_size)
            # Unknown actions are counted together: a client cannot grow the table at will.
            self.stats.count(request.action if request.action in self._handlers else "(unknown)")
            injected = self.knobs.take_injected(request.action)
            if injected is not None:
                raise injected
            handler = self._handlers.get(request.action)
            if handler is None:
                raise faults.action_not_supported(request.action)
            body = handler(request, username, client_ip)
            return 200, self._envelope(request, request.action + "Response", body)
        except faults.WSManFault as known:
            relates = request.message_id if request is not None else None
            return known.status, faults.render_fault(known, relates, self._machine(request))
        except Exception as exc:
            log.exception("internal error answering %s", _short(request.action) if request else "a request")
            relates = request.message_id if request is not None else None
            internal = faults.internal_error(f"{type(exc).__name__}: {exc}")
            return 500, faults.render_fault(internal, relates, self._machine(request))

    def _machine(self, request: Request | None) -> str:
        if request is not None and request.to:
            match = re.match(r"^\w+://\[?([^/\]]+?)\]?(?::\d+)?(/|$)", request.to)
            if match:
                return match.group(1)
        return self.computer_name

    def _envelope(self, request: Request, action: str, body: str) -> bytes:
        relates = f"<a:RelatesTo>{escape(request.message_id)}</a:RelatesTo>" if request.message_id else ""
        return (
            f"{_ENVELOPE_OPEN}<s:Header><a:Action>{action}</a:Action>"
            f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
            f"<p:ActivityId>{str(uuid.uuid4()).upper()}</p:ActivityId>"
            f"<a:To>{ANONYMOUS}</a:To>{relates}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        ).encode()

    # -- helpers ------------------------------------------------------------------------------

    def _shell(self, request: Request, username: str) -> Shell:
        shell_id = request.selectors.get("ShellId")
        if not shell_id:
            raise faults.invalid_selectors()
        return self.registry.get(shell_id, username)

    def _shell_xml(self, shell: Shell, *, extra: bool = False) -> str:
        now = time.monotonic()
        run = int(now - shell.created)
        idle = int(now - shell.last_activity)
        if isinstance(shell, CmdShell):
            # A cmd shell's description is shorter (as Windows answers pywinrm/pypsrp's WinRS).
            return (
                f'<rsp:Shell xmlns:rsp="{SHELL_NS}"><rsp:ShellId>{shell.shell_id}</rsp:ShellId>'
                f"<rsp:ResourceUri>{escape(shell.resource_uri)}</rsp:ResourceUri>"
                f"<rsp:Owner>{escape(self.computer_name.upper())}\\{escape(shell.owner)}</rsp:Owner>"
                f"<rsp:ClientIP>{escape(shell.client_ip)}</rsp:ClientIP>"
                f"<rsp:IdleTimeOut>PT{self.registry.idle_timeout:.3f}S</rsp:IdleTimeOut>"
                f"<rsp:InputStreams>{shell.input_streams}</rsp:InputStreams>"
                f"<rsp:OutputStreams>{shell.output_streams}</rsp:OutputStreams>"
                f"<rsp:ShellRunTime>P0DT{run // 3600}H{run // 60 % 60}M{run % 60}S</rsp:ShellRunTime>"
                f"<rsp:ShellInactivity>P0DT{idle // 3600}H{idle // 60 % 60}M{idle % 60}S</rsp:ShellInactivity>"
                "</rsp:Shell>"
            )
        more = (
            "<rsp:MemoryUsed>46MB</rsp:MemoryUsed><rsp:ChildProcesses>0</rsp:ChildProcesses>" if extra else ""
        )
        return (
            f'<rsp:Shell xmlns:rsp="{SHELL_NS}"><rsp:ShellId>{shell.shell_id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{escape(shell.resource_uri)}</rsp:ResourceUri>"
            f"<rsp:Owner>{escape(self.computer_name.upper())}\\{escape(shell.owner)}</rsp:Owner>"
            f"<rsp:ClientIP>{escape(shell.client_ip)}</rsp:ClientIP><rsp:ProcessId>4242</rsp:ProcessId>"
            f"<rsp:IdleTimeOut>PT{self.registry.idle_timeout:.3f}S</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>{shell.input_streams}</rsp:InputStreams>"
            f"<rsp:OutputStreams>{shell.output_streams}</rsp:OutputStreams>"
            "<rsp:MaxIdleTimeOut>PT2147483.647S</rsp:MaxIdleTimeOut><rsp:Locale>en-US</rsp:Locale>"
            "<rsp:DataLocale>en-US</rsp:DataLocale><rsp:CompressionMode>NoCompression</rsp:CompressionMode>"
            "<rsp:ProfileLoaded>Yes</rsp:ProfileLoaded><rsp:Encoding>UTF8</rsp:Encoding>"
            f"<rsp:BufferMode>Block</rsp:BufferMode><rsp:State>{shell.state}</rsp:State>"
            f"<rsp:ShellRunTime>P0DT{run // 3600}H{run // 60 % 60}M{run % 60}S</rsp:ShellRunTime>"
            f"<rsp:ShellInactivity>P0DT{idle // 3600}H{idle // 60 % 60}M{idle % 60}S</rsp:ShellInactivity>"
            f"{more}</rsp:Shell>"
        )

    # -- actions ------------------------------------------------------------------------------

    def _create(self, request: Request, username: str, client_ip: str) -> str:
        uri = request.resource_uri
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}Shell":
            raise faults.bad_body("Create expects an rsp:Shell element.")
        shell_id = (body.get("ShellId") or str(uuid.uuid4())).upper()
        try:
            uuid.UUID(shell_id)
        except ValueError:
            raise faults.bad_body(f"ShellId '{shell_id}' is not a GUID.") from None
        shell: Shell
        if uri.lower().startswith(PS_URI_PREFIX):
            name = uri[len(PS_URI_PREFIX) :]
            if name.lower() not in self.configurations:
                raise faults.invalid_resource_uri(uri)
            creation = body.find("pwsh:creationXml", NS)
            if creation is None:
                raise faults.bad_body("A PowerShell shell needs creationXml.")
            data = _b64(creation.text, "creationXml")
            kwargs = dict(self.engine_kwargs())
            kwargs["username"] = username
            shell = PSRPShell(
                shell_id,
                uri,
                username,
                client_ip,
                engine_factory=self.engine_factory(),
                engine_kwargs=kwargs,
                stats=self.stats,
            )
            self.registry.add(shell)
            try:
                shell.fragment_size = min(shell.fragment_size, _fragment_for(request.max_envelope_size))
                shell.feed(data, "stdin")
            except BaseException:
                self.registry.remove(shell.shell_id)
                shell.close()
                raise
        elif uri.lower() == CMD_URI:
            if not self.cmd_enabled or self.run_cmd_script is None:
                raise faults.invalid_resource_uri(uri)
            runner = self.run_cmd_script

            def run(script: str, _user: str = username) -> tuple[bytes, bytes, int]:
                return runner(script, _user)

            shell = CmdShell(shell_id, uri, username, client_ip, run_script=run)
            self.registry.add(shell)
        else:
            raise faults.invalid_resource_uri(uri)
        address = escape(request.to or "")
        return (
            f"<x:ResourceCreated><a:Address>{address}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{escape(uri)}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell.shell_id}</w:Selector></w:SelectorSet>'
            f"</a:ReferenceParameters></x:ResourceCreated>{self._shell_xml(shell)}"
        )

    def _delete(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        self.registry.remove(shell.shell_id)
        shell.close()
        return ""

    def _get(self, request: Request, username: str, client_ip: str) -> str:
        if request.resource_uri.lower() == CONFIG_URI:
            return _config_xml(self)
        if request.selectors.get("ShellId"):
            return self._shell_xml(self._shell(request, username))
        raise faults.invalid_resource_uri(request.resource_uri)

    def _command(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}CommandLine":
            raise faults.bad_body("Command expects an rsp:CommandLine element.")
        command_id = (body.get("CommandId") or str(uuid.uuid4())).upper()
        try:
            uuid.UUID(command_id)
        except ValueError:
            raise faults.bad_body(f"CommandId '{command_id}' is not a GUID.") from None
        arguments = [el.text or "" for el in body.findall("rsp:Arguments", NS)]
        if isinstance(shell, PSRPShell):
            data = _b64(arguments[0] if arguments else "", "rsp:Arguments")
            shell.fragment_size = _fragment_for(request.max_envelope_size)
            shell.create_command(command_id, data)
        elif isinstance(shell, CmdShell):
            command_el = body.find("rsp:Command", NS)
            line = (command_el.text or "").strip() if command_el is not None else ""
            parts = line.split()
            executable = parts[0] if parts else ""
            shell.run(command_id, executable, parts[1:] + arguments)
        return f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"

    def _send(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}Send":
            raise faults.bad_body("Send expects an rsp:Send element.")
        streams = body.findall("rsp:Stream", NS)
        decoded = [
            (el.get("Name") or "stdin", el.get("CommandId"), _b64(el.text, "rsp:Stream")) for el in streams
        ]
        if isinstance(shell, PSRPShell):
            shell.fragment_size = _fragment_for(request.max_envelope_size)
            for name, command_id, data in decoded:
                if command_id and command_id.upper() not in shell.commands:
                    raise faults.command_not_found(command_id.upper())
                if data:
                    shell.feed(data, name, command_id)
        return "<rsp:SendResponse/>"

    def _receive(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        desired = body.find("rsp:DesiredStream", NS) if body is not None else None
        if desired is None:
            raise faults.bad_body("Receive expects rsp:Receive/rsp:DesiredStream.")
        command_id = desired.get("CommandId")
        cid = command_id.upper() if command_id else None
        attr = f' CommandId="{cid}"' if cid else ""
        if isinstance(shell, CmdShell):
            if cid is None:
                raise faults.command_not_found("")
            stdout, stderr, code = shell.receive(cid)
            parts = []
            for name, data in (("stdout", stdout), ("stderr", stderr)):
                if data:
                    parts.append(
                        f'<rsp:Stream Name="{name}"{attr}>{base64.b64encode(data).decode()}</rsp:Stream>'
                    )
                parts.append(f'<rsp:Stream Name="{name}"{attr} End="true"></rsp:Stream>')
            state = f'<rsp:CommandState{attr} State="{DONE_STATE}"><rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>'
            return f"<rsp:ReceiveResponse>{''.join(parts)}{state}</rsp:ReceiveResponse>"
        assert isinstance(shell, PSRPShell)
        result = shell.receive(cid, request.max_envelope_size, request.operation_timeout)
        streams = "".join(
            f'<rsp:Stream Name="stdout"{attr}>{base64.b64encode(chunk).decode()}</rsp:Stream>'
            for chunk in result.chunks
        )
        state = ""
        if result.done:
            state = (
                f'<rsp:CommandState{attr} State="{DONE_STATE}">'
                f"<rsp:ExitCode>{result.exit_code}</rsp:ExitCode></rsp:CommandState>"
            )
        return f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>"

    def _signal(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}Signal":
            raise faults.bad_body("Signal expects an rsp:Signal element.")
        command_id = body.get("CommandId")
        code_el = body.find("rsp:Code", NS)
        code = (code_el.text or "").strip() if code_el is not None else ""
        if isinstance(shell, PSRPShell):
            if code.lower() in (SIGNAL_PS_CTRL_C, SIGNAL_CTRL_C):
                shell.stop_command(command_id)
            elif code.lower() == SIGNAL_TERMINATE.lower():
                if command_id:
                    shell.terminate_command(command_id)
            else:
                raise faults.bad_body(f"Unknown signal code '{code}'.")
        elif isinstance(shell, CmdShell) and command_id:
            with shell.lock:
                shell.results.pop(command_id.upper(), None)
        return "<rsp:SignalResponse/>"

    def _disconnect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        if isinstance(shell, PSRPShell):
            shell.disconnect()
        return ""

    def _reconnect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        if isinstance(shell, PSRPShell):
            shell.reconnect()
        return ""

    def _connect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        if not isinstance(shell, PSRPShell) or body is None:
            raise faults.bad_body("Connect expects an rsp:Connect element for a PowerShell shell.")
        command_id = body.get("CommandId")
        if command_id:
            shell._get_command(command_id)
            shell.reconnect()
            return "<rsp:ConnectResponse/>"
        xml_el = body.find("pwsh:connectXml", NS)
        if xml_el is None:
            raise faults.bad_body("Connect expects connectXml.")
        answer = shell.connect(_b64(xml_el.text, "connectXml"))
        return (
            "<rsp:ConnectResponse><rsp:InputStreams>stdin pr</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout</rsp:OutputStreams>"
            f'<connectResponseXml xmlns="{NS["pwsh"]}">{base64.b64encode(answer).decode()}'
            "</connectResponseXml></rsp:ConnectResponse>"
        )

    def _enumeration_items(self, request: Request, username: str) -> list[str]:
        uri = request.resource_uri.lower()
        if uri == SHELL_NS.lower():
            return [self._shell_xml(s, extra=True) for s in self.registry.list(username) if not s.closed]
        if uri == COMMAND_URI.lower():
            body = request.body
            selector = (
                body.find("wsman:Filter/wsman:SelectorSet/wsman:Selector", NS) if body is not None else None
            )
            shell_id = (
                (selector.text or "").strip() if selector is not None else request.selectors.get("ShellId")
            )
            if not shell_id:
                raise faults.invalid_selectors()
            shell = self.registry.get(shell_id, username)
            return [
                f'<rsp:Command xmlns:rsp="{SHELL_NS}"><rsp:CommandId>{cid}</rsp:CommandId>'
                f"<rsp:CommandLine></rsp:CommandLine><rsp:CommandState>{state}</rsp:CommandState></rsp:Command>"
                for cid, state in shell.command_ids()
            ]
        raise faults.invalid_resource_uri(request.resource_uri)

    def _enumerate(self, request: Request, username: str, client_ip: str) -> str:
        items = self._enumeration_items(request, username)
        body = request.body
        optimize = body is not None and body.find("wsman:OptimizeEnumeration", NS) is not None
        if optimize:
            listed = f"<w:Items>{''.join(items)}</w:Items>" if items else ""
            return (
                f"<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext>{listed}"
                "<w:EndOfSequence/></n:EnumerateResponse>"
            )
        context = f"uuid:{str(uuid.uuid4()).upper()}"
        self._enumerations[context] = items
        if len(self._enumerations) > 1000:
            self._enumerations.pop(next(iter(self._enumerations)))
        return f"<n:EnumerateResponse><n:EnumerationContext>{context}</n:EnumerationContext></n:EnumerateResponse>"

    def _pull(self, request: Request, username: str, client_ip: str) -> str:
        body = request.body
        ctx_el = body.find("wsen:EnumerationContext", NS) if body is not None else None
        context = (ctx_el.text or "").strip() if ctx_el is not None else ""
        items = self._enumerations.pop(context, None)
        if items is None:
            raise faults.WSManFault(
                2150858993,
                "The WS-Management service cannot process the request because the enumeration context "
                "is not valid or has expired. ",
                subcode="n:InvalidEnumerationContext",
            )
        listed = "".join(items)
        return f"<n:PullResponse><n:Items>{listed}</n:Items><n:EndOfSequence/></n:PullResponse>"


def _fragment_for(max_envelope_size: int) -> int:
    from psremoting.emulator.shells import fragment_size_for

    return fragment_size_for(max_envelope_size)


def _config_xml(service: WSManService) -> str:
    """``winrm/config`` as Windows shows it, with this service's real settings."""

    def flag(value: bool) -> str:
        return "true" if value else "false"

    methods = set(service.auth_methods)
    negotiate = bool(methods & {"ntlm", "negotiate", "kerberos"})
    return (
        f'<cfg:Config xmlns:cfg="{CONFIG_URI}">'
        f"<cfg:MaxEnvelopeSizekb>{service.max_envelope_size // 1024}</cfg:MaxEnvelopeSizekb>"
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
        f"<cfg:AllowUnencrypted>{flag(service.allow_unencrypted)}</cfg:AllowUnencrypted>"
        f"<cfg:Auth><cfg:Basic>{flag('basic' in methods)}</cfg:Basic>"
        f"<cfg:Kerberos>{flag('kerberos' in methods or 'negotiate' in methods)}</cfg:Kerberos>"
        f"<cfg:Negotiate>{flag(negotiate)}</cfg:Negotiate><cfg:Certificate>false</cfg:Certificate>"
        "<cfg:CredSSP>false</cfg:CredSSP><cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel></cfg:Auth>"
        "<cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP><cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts>"
        "<cfg:IPv4Filter>*</cfg:IPv4Filter><cfg:IPv6Filter>*</cfg:IPv6Filter>"
        "<cfg:EnableCompatibilityHttpListener>false</cfg:EnableCompatibilityHttpListener>"
        "<cfg:EnableCompatibilityHttpsListener>false</cfg:EnableCompatibilityHttpsListener>"
        "<cfg:CertificateThumbprint></cfg:CertificateThumbprint><cfg:AllowRemoteAccess>true</cfg:AllowRemoteAccess>"
        "</cfg:Service><cfg:Winrs><cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess>"
        f"<cfg:IdleTimeout>{int(service.registry.idle_timeout * 1000)}</cfg:IdleTimeout>"
        "<cfg:MaxConcurrentUsers>2147483647</cfg:MaxConcurrentUsers>"
        "<cfg:MaxShellRunTime>2147483647</cfg:MaxShellRunTime>"
        "<cfg:MaxProcessesPerShell>2147483647</cfg:MaxProcessesPerShell>"
        "<cfg:MaxMemoryPerShellMB>2147483647</cfg:MaxMemoryPerShellMB>"
        f"<cfg:MaxShellsPerUser>{service.registry.max_shells_per_user}</cfg:MaxShellsPerUser>"
        "</cfg:Winrs></cfg:Config>"
    )
