"""WS-Management action dispatch, as a Windows WinRM service answers it: bytes in, bytes out.

:class:`WSManService` takes one decrypted request body (plus who sent it) and returns the
HTTP status and the response envelope. It knows no sockets, so the conformance tests can
feed it the recorded requests directly. It dispatches the WS-Transfer, WS-Enumeration and
Windows shell actions pypsrp and pywinrm use (Create, Command, Send, Receive, Signal,
Delete, Get, Disconnect, Reconnect, Connect, Enumerate, Pull) to the shells of
``psrp_shell.py`` and ``cmdshell.py``; the SOAP parsing and the XML of the answers are in
``soap.py``, the counters in ``stats.py``.

Hostile input is refused, not processed: a DTD or entity declaration, malformed XML, an
envelope over MaxEnvelopeSize, garbage base64, unknown actions or ids all become WSMan
faults, and nothing a request contains can kill the service.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape

from psremoting.emulator import b64, faults
from psremoting.emulator.cmdshell import CmdShell, run_command_line
from psremoting.emulator.psrp_shell import PSRPShell, fragment_size_for
from psremoting.emulator.retransmission import AnswerCache
from psremoting.emulator.shell_faults import get_of_a_missing_shell
from psremoting.emulator.shell_registry import Shell, ShellRegistry
from psremoting.emulator.soap import (
    CMD_URI,
    COMMAND_URI,
    CONFIG_URI,
    DONE_STATE,
    ENUMERATION,
    NS,
    PS_URI_PREFIX,
    RUNNING_STATE,
    SHELL_ACTION,
    SHELL_NS,
    SIGNAL_CTRL_C,
    SIGNAL_PS_CTRL_C,
    SIGNAL_PS_STOP,
    SIGNAL_TERMINATE,
    TRANSFER,
    Request,
    config_xml,
    decode_base64,
    host_of,
    machine_name,
    parse_duration,
    parse_request,
    response_envelope,
    shell_xml,
)
from psremoting.emulator.stats import Stats, short_action

log = logging.getLogger(__name__)

__all__ = ["WSManService"]


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
        protocol_version: str = "2.3",
        configurations: Mapping[str, Any] | None = None,
        cmd_enabled: bool = True,
        run_cmd_script: Callable[[str], Callable[[], Any]] | None = None,
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
        #: The PSRP protocol version the server announces (2.1: Windows 7 / Server 2008 R2
        #: with PowerShell 2.0; 2.2: PowerShell 3/4; 2.3: 5.1 and later).
        self.protocol_version = protocol_version
        if configurations is None:
            from psremoting.emulator.config import session_configurations

            configurations = session_configurations()
        #: The endpoints by lower-case name (`emulator.config.SessionConfiguration`).
        self.configurations = configurations
        self.cmd_enabled = cmd_enabled
        self.run_cmd_script = run_cmd_script
        self._enumerations: dict[str, list[str]] = {}
        #: Answers of recent requests, for a client that sends one again after a network failure.
        self.answers = AnswerCache()
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
        """Answer one request body: ``(http_status, response_envelope)``. A shell request
        whose MessageID was answered before gets that answer again (`retransmission.py`)."""
        request: Request | None = None
        try:
            if len(data) > self.max_envelope_size:
                self.stats.count("(oversized)")
                raise faults.envelope_too_large(len(data), self.max_envelope_size)
            request = parse_request(data, self.max_envelope_size)
            # Unknown actions are counted together: a client cannot grow the table at will.
            self.stats.count(request.action if request.action in self._handlers else "(unknown)")
        except faults.WSManFault as known:
            if request is not None:
                return known.status, faults.render_fault(
                    known, request.message_id, machine_name(request, self.computer_name)
                )
            return known.status, faults.render_fault(
                known, known.relates_to, host_of(known.to, self.computer_name)
            )
        parsed = request
        if parsed.message_id and parsed.action.startswith((SHELL_ACTION, TRANSFER)):
            answer = self.answers.answer(
                username,
                parsed.message_id,
                parsed.operation_timeout + 10,
                lambda: self._answer(parsed, username, client_ip),
            )
            if answer is None:
                return 500, faults.render_fault(
                    faults.operation_timed_out(), parsed.message_id, machine_name(parsed, self.computer_name)
                )
            return answer
        return self._answer(parsed, username, client_ip)

    def _answer(self, request: Request, username: str, client_ip: str) -> tuple[int, bytes]:
        try:
            injected = self.knobs.take_injected(request.action)
            if injected is not None:
                raise injected
            handler = self._handlers.get(request.action)
            if handler is None:
                raise faults.action_not_supported(request.action)
            body = handler(request, username, client_ip)
            return 200, response_envelope(request, request.action + "Response", body)
        except faults.WSManFault as known:
            return known.status, faults.render_fault(
                known, request.message_id, machine_name(request, self.computer_name)
            )
        except Exception as exc:
            log.exception("internal error answering %s", short_action(request.action))
            internal = faults.internal_error(f"{type(exc).__name__}: {exc}")
            return 500, faults.render_fault(
                internal, request.message_id, machine_name(request, self.computer_name)
            )

    # -- helpers ------------------------------------------------------------------------------

    def _shell(self, request: Request, username: str, *, connected: bool = False) -> Shell:
        """The shell the request's ShellId names; with `connected`, refused while it is
        disconnected (Command, Send, Signal need a connected client)."""
        shell_id = request.selectors.get("ShellId")
        if not shell_id:
            raise faults.invalid_selectors()
        shell = self.registry.get(shell_id, username)
        if connected and shell.state == "Disconnected":
            raise faults.shell_in_use(shell.shell_id)
        return shell

    def _shell_xml(self, shell: Shell, *, extra: bool = False) -> str:
        return shell_xml(shell, computer_name=self.computer_name, extra=extra)

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
            data = decode_base64(creation.text, "creationXml")
            kwargs = dict(self.engine_kwargs())
            kwargs["username"] = username
            options = getattr(self.configurations[name.lower()], "engine_options", None)
            if options is not None:
                kwargs.update(options())
            if request.options.get("WINRS_NOPROFILE", "").upper() == "TRUE":
                kwargs["no_profile"] = True
            shell = PSRPShell(
                shell_id,
                uri,
                username,
                client_ip,
                engine_factory=self.engine_factory(),
                engine_kwargs=kwargs,
                stats=self.stats,
            )
            name_el = body.find("rsp:Name", NS)
            shell.name = (name_el.text or "").strip() if name_el is not None else ""
            idle_el = body.find("rsp:IdleTimeOut", NS)
            if idle_el is not None and idle_el.text:
                shell.idle_timeout = max(1.0, parse_duration(idle_el.text, self.registry.idle_timeout))
            shell.client_session = request.session_id
            announce_protocol_version(shell.pool, self.protocol_version)
            self.registry.add(shell)
            try:
                shell.fragment_size = min(shell.fragment_size, fragment_size_for(request.max_envelope_size))
                shell.feed(data, "stdin")
            except BaseException:
                self.registry.remove(shell.shell_id)
                shell.close()
                raise
        elif uri.lower() == CMD_URI:
            if not self.cmd_enabled or self.run_cmd_script is None:
                raise faults.invalid_resource_uri(uri)
            make_engine = self.run_cmd_script(username)

            def run(shell: CmdShell, line: str, read_stdin: Callable[[], str]) -> tuple[bytes, bytes, int]:
                return run_command_line(shell, line, read_stdin, make_engine)

            variables = {
                (el.get("Name") or ""): el.text or ""
                for el in body.findall("rsp:Environment/rsp:Variable", NS)
            }
            cwd_el = body.find("rsp:WorkingDirectory", NS)
            shell = CmdShell(
                shell_id,
                uri,
                username,
                client_ip,
                run_line=run,
                environment=variables,
                working_directory=(cwd_el.text or "").strip() if cwd_el is not None else "",
                no_profile=request.options.get("WINRS_NOPROFILE", "").upper() == "TRUE",
            )
            idle_el = body.find("rsp:IdleTimeOut", NS)
            if idle_el is not None and idle_el.text:
                shell.idle_timeout = max(1.0, parse_duration(idle_el.text, self.registry.idle_timeout))
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
            return config_xml(
                max_envelope_size=self.max_envelope_size,
                auth_methods=self.auth_methods,
                allow_unencrypted=self.allow_unencrypted,
                idle_timeout=self.registry.idle_timeout,
                max_shells_per_user=self.registry.max_shells_per_user,
            )
        if request.selectors.get("ShellId"):
            # Windows describes a shell in a Get as in an Enumerate: with MemoryUsed and ChildProcesses.
            try:
                shell = self._shell(request, username)
            except faults.WSManFault as fault:
                if fault.subcode != "w:InvalidSelectors":
                    raise
                raise get_of_a_missing_shell() from None
            return self._shell_xml(shell, extra=True)
        raise faults.invalid_resource_uri(request.resource_uri)

    def _command(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username, connected=True)
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
            data = decode_base64(arguments[0] if arguments else "", "rsp:Arguments")
            shell.fragment_size = fragment_size_for(request.max_envelope_size)
            shell.create_command(command_id, data)
        elif isinstance(shell, CmdShell):
            command_el = body.find("rsp:Command", NS)
            line = (command_el.text or "").strip() if command_el is not None else ""
            parts = line.split()
            executable = parts[0] if parts else ""
            if request.options.get("WINRS_SKIP_CMD_SHELL", "").lower() == "true":
                shell.check_program(line)
            shell.run(command_id, executable, parts[1:] + arguments)
        return f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"

    def _send(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username, connected=True)
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}Send":
            raise faults.bad_body("Send expects an rsp:Send element.")
        streams = body.findall("rsp:Stream", NS)
        decoded = [
            (el.get("Name") or "stdin", el.get("CommandId"), decode_base64(el.text, "rsp:Stream"))
            for el in streams
        ]
        if isinstance(shell, PSRPShell):
            shell.fragment_size = fragment_size_for(request.max_envelope_size)
            for name, command_id, data in decoded:
                if command_id and command_id.upper() not in shell.commands:
                    raise faults.command_not_found(command_id.upper())
                if data:
                    shell.feed(data, name, command_id)
        elif isinstance(shell, CmdShell):
            for el in streams:
                data = decode_base64(el.text, "rsp:Stream")
                shell.send(el.get("CommandId"), data, (el.get("End") or "").lower() == "true")
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
            stdout, stderr, done, code = shell.receive(cid, request.operation_timeout)
            parts = []
            for name, data in (("stdout", stdout), ("stderr", stderr)):
                if data:
                    parts.append(f'<rsp:Stream Name="{name}"{attr}>{b64.encode(data)}</rsp:Stream>')
                if done:
                    parts.append(f'<rsp:Stream Name="{name}"{attr} End="true"></rsp:Stream>')
            state = (
                f'<rsp:CommandState{attr} State="{DONE_STATE}"><rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>'
                if done
                else f'<rsp:CommandState{attr} State="{RUNNING_STATE}"/>'
            )
            return f"<rsp:ReceiveResponse>{''.join(parts)}{state}</rsp:ReceiveResponse>"
        assert isinstance(shell, PSRPShell)
        result = shell.receive(cid, request.max_envelope_size, request.operation_timeout)
        streams = "".join(
            f'<rsp:Stream Name="stdout"{attr}>{b64.encode(chunk)}</rsp:Stream>' for chunk in result.chunks
        )
        state = ""
        if result.done:
            state = (
                f'<rsp:CommandState{attr} State="{DONE_STATE}">'
                f"<rsp:ExitCode>{result.exit_code}</rsp:ExitCode></rsp:CommandState>"
            )
        return f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>"

    def _signal(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username, connected=True)
        body = request.body
        if body is None or body.tag != f"{{{NS['rsp']}}}Signal":
            raise faults.bad_body("Signal expects an rsp:Signal element.")
        command_id = body.get("CommandId")
        code_el = body.find("rsp:Code", NS)
        code = (code_el.text or "").strip() if code_el is not None else ""
        if isinstance(shell, PSRPShell):
            if code == SIGNAL_PS_STOP:
                # PowerShell's stop (Ctrl+C), compared ordinally as Windows' plugin does.
                shell.stop_command(command_id)
            elif code.lower() in (SIGNAL_TERMINATE.lower(), SIGNAL_PS_CTRL_C, SIGNAL_CTRL_C):
                # Windows' PowerShell plugin treats every other code on a command as a close
                # of the command (pypsrp's PowerShell.stop() sends powershell/signal/ctrl_c).
                if command_id:
                    shell.terminate_command(command_id)
                elif code.lower() != SIGNAL_TERMINATE.lower():
                    shell.stop_command(None)
            else:
                raise faults.bad_body(f"Unknown signal code '{code}'.")
        elif isinstance(shell, CmdShell) and command_id:
            shell.signal(command_id)
        return "<rsp:SignalResponse/>"

    def _disconnect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        if isinstance(shell, PSRPShell) and self.protocol_version == "2.1":
            # Disconnected sessions came with protocol 2.2 (PowerShell 3.0); a 2.1 host's
            # WinRM (Windows 7 / Server 2008 R2) has no Disconnect action.
            raise faults.action_not_supported(request.action)
        body = request.body
        idle_timeout: float | None = None
        buffer_mode: str | None = None
        if body is not None:
            idle_el = body.find("rsp:IdleTimeOut", NS)
            if idle_el is not None and (idle_el.text or "").strip():
                idle_timeout = parse_duration(idle_el.text, -1.0)
                if not 60 <= idle_timeout <= 2147483.647:
                    raise faults.bad_body(
                        f"IdleTimeOut {idle_el.text} is out of range: it must be between PT60S and "
                        "MaxIdleTimeOut (PT2147483.647S)."
                    )
            mode_el = body.find("rsp:BufferMode", NS)
            if mode_el is not None and (mode_el.text or "").strip():
                buffer_mode = (mode_el.text or "").strip()
                if buffer_mode not in ("Block", "Drop"):
                    raise faults.bad_body(f"BufferMode '{buffer_mode}' is not Block or Drop.")
        if isinstance(shell, PSRPShell):
            shell.disconnect(idle_timeout, buffer_mode)
        return ""

    def _reconnect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        command_id = body.get("CommandId") if body is not None else None
        if isinstance(shell, PSRPShell):
            shell.reconnect(request.session_id, command_id)
        return ""

    def _connect(self, request: Request, username: str, client_ip: str) -> str:
        shell = self._shell(request, username)
        body = request.body
        if not isinstance(shell, PSRPShell) or body is None:
            raise faults.bad_body("Connect expects an rsp:Connect element for a PowerShell shell.")
        command_id = body.get("CommandId")
        if command_id:
            # A command of a shell this client has just connected to.
            if shell.state == "Disconnected":
                raise faults.shell_in_use(shell.shell_id)
            shell._get_command(command_id)
            return "<rsp:ConnectResponse/>"
        xml_el = body.find("pwsh:connectXml", NS)
        if xml_el is None:
            raise faults.bad_body("Connect expects connectXml.")
        answer = shell.connect(decode_base64(xml_el.text, "connectXml"), request.session_id)
        return (
            "<rsp:ConnectResponse><rsp:InputStreams>stdin pr</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout</rsp:OutputStreams>"
            f'<connectResponseXml xmlns="{NS["pwsh"]}">{b64.encode(answer)}'
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
            raise faults.invalid_enumeration_context()
        listed = "".join(items)
        return f"<n:PullResponse><n:Items>{listed}</n:Items><n:EndOfSequence/></n:PullResponse>"


def announce_protocol_version(pool: Any, version: str) -> None:
    """Make `pool` (a psrpcore ServerRunspacePool) announce PSRP `version` in its
    SESSION_CAPABILITY, with the PSVersion a host of that version has."""
    import psrpcore

    major, minor = (int(p) for p in version.split("."))
    current = pool.our_capability
    pool.our_capability = psrpcore.types.SessionCapability(
        PSVersion=current.PSVersion,
        protocolversion=psrpcore.types.PSVersion(major=major, minor=minor),
        SerializationVersion=current.SerializationVersion,
        TimeZone=current.TimeZone,
    )
