"""What the local shell's cmdlets do, on top of the `psremoting` Python API.

Each function takes a `Call`: the cmdlet's bound parameters (canonical names, as in
`cmdlets.SPECS`), its pipeline input and the shell `context`; it returns (or, to stream
them, yields) the objects it outputs, or raises: the interpreter shows errors in
PowerShell's concise view.
Non-terminating errors (one computer out of several failing) go to `context.error`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from psremoting.console.errors import ShellError


class ShellContext(Protocol):
    """What a cmdlet can use of the shell: the host UI, errors, variables, history."""

    ui: Any

    def error(self, message: str, command: str) -> None: ...

    def history(self) -> list[str]: ...

    def variable_names(self) -> list[str]: ...

    def using_values(self, script: str) -> dict[str, Any]: ...


@dataclass
class Call:
    """One cmdlet invocation after binding."""

    name: str  # the canonical cmdlet name
    params: dict[str, Any]
    input: list[Any] = field(default_factory=list)
    context: Any = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.params


def _list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _credential(call: Call) -> Any:
    """-Credential: a PSCredential as is; a user name prompts for its password, as PowerShell does."""
    from psremoting.transport.options import PSCredential

    value = call.get("Credential")
    if value is None or isinstance(value, PSCredential):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return PSCredential(str(value[0]), str(value[1]))
    return _prompt_credential(call.context.ui, str(value), None, None)


def _prompt_credential(ui: Any, user: str | None, message: str | None, title: str | None) -> Any:
    from psremoting.transport.options import PSCredential

    caption = title or "PowerShell credential request"
    text = message or "Enter your credentials."
    try:
        username, password = ui.prompt_for_credential(caption, text, user or "", "")
    except EOFError as ended:
        from psremoting.runspace.host import input_ended_message

        raise ShellError(input_ended_message().removesuffix("."), "Get-Credential") from ended
    if not username:
        raise ShellError("A credential needs a user name.", "Get-Credential")
    return PSCredential(username, password)


def _connection_kwargs(call: Call) -> dict[str, Any]:
    """The connection parameters shared by New-PSSession, Enter-PSSession, Invoke-Command."""
    kwargs: dict[str, Any] = {}
    if call.has("Credential"):
        kwargs["credential"] = _credential(call)
    if call.has("Port"):
        kwargs["port"] = int(call.get("Port"))
    if call.get("UseSSL"):
        kwargs["use_ssl"] = True
    if call.has("Authentication"):
        kwargs["authentication"] = str(call.get("Authentication")).lower()
    if call.has("ConfigurationName"):
        kwargs["configuration_name"] = str(call.get("ConfigurationName"))
    if call.has("SessionOption"):
        kwargs["session_option"] = call.get("SessionOption")
    if call.has("CertificateThumbprint"):
        raise ShellError(
            "-CertificateThumbprint names a certificate in the Windows certificate store, which this computer "
            "does not have: give the certificate's PEM files with -CertificatePath and -KeyPath instead.",
            call.name,
        )
    if call.has("CertificatePath") or call.has("KeyPath"):
        if not (call.has("CertificatePath") and call.has("KeyPath")):
            raise ShellError(
                "Certificate authentication needs both -CertificatePath and -KeyPath (PEM files).", call.name
            )
        if call.has("Credential"):
            raise ShellError("A Credential cannot be specified when CertificatePath is specified.", call.name)
        kwargs["certificate_pem"] = os.path.expanduser(str(call.get("CertificatePath")))
        kwargs["certificate_key_pem"] = os.path.expanduser(str(call.get("KeyPath")))
        kwargs["authentication"] = "certificate"
    return kwargs


def new_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets import sessions as api

    kwargs = _connection_kwargs(call)
    if call.has("Name"):
        kwargs["name"] = [str(n) for n in _list(call.get("Name")) or []]
    if call.has("ThrottleLimit"):
        kwargs["throttle_limit"] = int(call.get("ThrottleLimit")) or 32
    if call.has("Session"):
        raise ShellError(
            "New-PSSession -Session is not supported by psremoting yet; use -ComputerName with the "
            "sessions' computer names.",
            "New-PSSession",
        )
    if call.has("ConnectionUri"):
        targets: dict[str, Any] = {"connection_uri": [str(u) for u in _list(call.get("ConnectionUri")) or []]}
    else:
        computers = _list(call.get("ComputerName")) or _list(call.input or None) or ["localhost"]
        targets = {"computer_name": [str(c) for c in computers]}
    result = api.new_pssession(**targets, **kwargs)
    for error in getattr(result, "errors", ()):
        call.context.error(_with_computer(error), "New-PSSession")
    return _as_list(result)


def _with_computer(error: Any) -> str:
    """New-PSSession's error text starts with `[COMPUTER] `, as PowerShell's ErrorDetails do."""
    text = str(error)
    computer = getattr(error, "computer_name", None)
    if computer and not text.startswith("["):
        return f"[{computer}] {text}"
    return text


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def get_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets import sessions as api

    if call.has("ComputerName"):
        # Ask each server: this user's sessions there, disconnected ones included.
        from psremoting.cmdlets.disconnected import query_pssessions

        query = {**_connection_kwargs(call), **_session_filters(call)}
        if call.has("State"):
            query["state"] = str(call.get("State"))
        computers = [str(c) for c in _list(call.get("ComputerName")) or []]
        return _with_lookup_errors(call, lambda: query_pssessions(computers, **query))
    kwargs = _session_filters(call)
    if call.has("State"):
        kwargs["state"] = str(call.get("State"))
    return _with_lookup_errors(call, lambda: api.get_pssession(**kwargs))


def _session_filters(call: Call) -> dict[str, Any]:
    """-Id, -Name and -InstanceId as the session registry's keyword arguments (lists)."""
    kwargs: dict[str, Any] = {}
    if call.has("Id"):
        kwargs["id"] = [int(i) for i in _list(call.get("Id")) or []]
    if call.has("Name"):
        kwargs["name"] = [str(n) for n in _list(call.get("Name")) or []]
    if call.has("InstanceId"):
        kwargs["instance_id"] = [str(i) for i in _list(call.get("InstanceId")) or []]
    return kwargs


def _with_lookup_errors(call: Call, action: Callable[[], Any]) -> list[Any]:
    """Run a lookup; ids or names that matched nothing are non-terminating errors, as in PowerShell."""
    from psremoting.protocol.errors import SessionNotFoundError

    try:
        return _as_list(action())
    except SessionNotFoundError as error:
        call.context.error(error.message, call.name)
        return list(error.sessions)


def enter_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets import interactive as api

    kwargs = _connection_kwargs(call)
    ui = call.context.ui
    from psremoting.console.display import is_session

    if not call.has("Session") and call.input and is_session(call.input[0]):
        call.params["Session"] = call.input[0]  # $s | Enter-PSSession
    if call.has("Session"):
        session = call.get("Session")
        if isinstance(session, (list, tuple)):
            if len(session) != 1:
                raise ShellError(
                    "Cannot convert the value to type PSSession: Enter-PSSession takes one session, "
                    f"not {len(session)}. Pick one, for example -Session $s[0].",
                    "Enter-PSSession",
                )
            session = session[0]
        api.enter_pssession(session=session, ui=ui)
    elif call.has("Id"):
        api.enter_pssession(id=int(call.get("Id")), ui=ui)
    elif call.has("Name"):
        api.enter_pssession(name=str(call.get("Name")), ui=ui)
    elif call.has("InstanceId"):
        api.enter_pssession(instance_id=str(call.get("InstanceId")), ui=ui)
    elif call.has("ConnectionUri"):
        api.enter_pssession(connection_uri=str(call.get("ConnectionUri")), ui=ui, **kwargs)
    else:
        computer = call.get("ComputerName")
        if computer is None and call.input:
            computer = call.input[0]
        if computer is None:
            raise ShellError(
                "Cannot process command because of one or more missing mandatory parameters: ComputerName. "
                "Give the computer to enter, for example: Enter-PSSession -ComputerName Server01.",
                "Enter-PSSession",
            )
        if isinstance(computer, (list, tuple)):
            if len(computer) != 1:
                raise ShellError(
                    "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter "
                    "'ComputerName'. Enter-PSSession connects to one computer at a time.",
                    "Enter-PSSession",
                )
            computer = computer[0]
        api.enter_pssession(str(computer), ui=ui, **kwargs)
    return []


def exit_pssession(call: Call) -> list[Any]:
    """At the local prompt Exit-PSSession does nothing, silently, as in PowerShell."""
    from psremoting.cmdlets.interactive import exit_pssession as leave

    leave()
    return []


def remove_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets import sessions as api

    kwargs: dict[str, Any] = {}
    if call.has("Session") or call.input:
        sessions = _list(call.get("Session")) or []
        sessions += [i for i in call.input if i is not None]
        kwargs["session"] = sessions
    kwargs.update(_session_filters(call))
    if call.has("ComputerName"):
        kwargs["computer_name"] = [str(c) for c in _list(call.get("ComputerName")) or []]
    if call.get("WhatIf"):
        targets = kwargs.get("session") or api.get_pssession()
        for s in targets:
            call.context.ui.write_line(
                f'What if: Performing the operation "Remove" on target "{getattr(s, "computer_name", s)}".'
            )
        return []
    if not kwargs:
        raise ShellError(
            "Cannot process command because of one or more missing mandatory parameters: Id. "
            "Say which sessions to close, for example: Get-PSSession | Remove-PSSession.",
            "Remove-PSSession",
        )
    try:
        api.remove_pssession(**kwargs)
    except Exception as error:
        from psremoting.protocol.errors import SessionNotFoundError

        if not isinstance(error, SessionNotFoundError):
            raise
        call.context.error(error.message, "Remove-PSSession")
        if error.sessions:
            api.remove_pssession(session=error.sessions)
    return []


def invoke_command(call: Call) -> Iterator[Any]:
    """Invoke-Command: output is yielded, and errors, warnings and progress shown, as they arrive."""
    from psremoting.cmdlets.invoke.command import iter_invoke_command

    script = call.get("ScriptBlock")
    kwargs: dict[str, Any] = {}
    if script is not None:
        kwargs["script_block"] = str(getattr(script, "text", script))
    elif call.has("FilePath"):
        kwargs["file_path"] = Path(os.path.expanduser(str(call.get("FilePath"))))
    else:
        raise ShellError(
            "Cannot process command because of one or more missing mandatory parameters: ScriptBlock. "
            "Give the commands in braces, for example: Invoke-Command -ComputerName Server01 { Get-Date }.",
            "Invoke-Command",
        )
    if call.has("Session"):
        kwargs["session"] = _list(call.get("Session"))
    elif call.has("ComputerName"):
        kwargs["computer_name"] = [str(c) for c in _list(call.get("ComputerName")) or []]
        kwargs.update(_connection_kwargs(call))
    else:
        raise ShellError(
            "The local shell runs script blocks on remote computers only: give -ComputerName or -Session, "
            "for example: Invoke-Command -ComputerName Server01 { Get-Date }.",
            "Invoke-Command",
        )
    if call.has("ArgumentList"):
        kwargs["argument_list"] = _list(call.get("ArgumentList")) or []
    if call.get("InDisconnectedSession"):
        from psremoting.cmdlets.invoke.command import invoke_command as invoke

        if "computer_name" not in kwargs:
            raise ShellError(
                "Invoke-Command -InDisconnectedSession works with -ComputerName (or -ConnectionUri) only.",
                "Invoke-Command",
            )
        if call.has("ThrottleLimit"):
            kwargs["throttle_limit"] = int(call.get("ThrottleLimit")) or 32
        names = [str(n) for n in _list(call.get("SessionName")) or []] or None
        started = invoke(**kwargs, in_disconnected_session=True, session_name=names)
        for error in getattr(started, "errors", ()):
            call.context.error(_with_computer(error), "Invoke-Command")
        return iter(_as_list(started))
    if call.has("SessionName"):
        raise ShellError(
            "The SessionName parameter can only be used with the Disconnected switch parameter.",
            "Invoke-Command",
        )
    if call.has("ThrottleLimit"):
        kwargs["throttle_limit"] = int(call.get("ThrottleLimit")) or 32
    if call.get("HideComputerName"):
        kwargs["hide_computer_name"] = True
    using = getattr(call.context, "using_values", None)
    if callable(using) and "script_block" in kwargs:
        kwargs["using"] = using(kwargs["script_block"])
    action = str(call.get("ErrorAction") or "continue").lower()
    return _invoke_events(call, iter_invoke_command(**kwargs), action)


def _invoke_events(call: Call, events: Any, action: str) -> Iterator[Any]:
    ui = call.context.ui
    try:
        for event in events:
            if event.kind == "output":
                yield event.value
            elif event.kind == "error":
                if action == "stop":
                    raise ShellError(_error_text(event.value), "Invoke-Command")
                if action not in ("silentlycontinue", "ignore"):
                    call.context.error(_error_text(event.value), "")
            elif event.kind == "warning":
                ui.write_warning_line(str(event.value))
            elif event.kind == "verbose":
                ui.write_verbose_line(str(event.value))
            elif event.kind == "debug":
                ui.write_debug_line(str(event.value))
            elif event.kind == "information":
                ui.write_line(str(event.value))
            elif event.kind == "progress":
                ui.write_progress(0, event.value)
    finally:
        events.close()
        end = getattr(ui, "end_command", None)
        if callable(end):
            end()


def _error_text(record: Any) -> str:
    formatter = getattr(record, "format", None)
    return str(formatter()) if callable(formatter) else str(record)


def new_pssessionoption(call: Call) -> list[Any]:
    from psremoting.console.cmdlets import COMMON_PARAMS
    from psremoting.transport.options import SessionOption

    common = {p.name for p in COMMON_PARAMS}
    options = {k: v for k, v in call.params.items() if k not in common}
    return [SessionOption.from_powershell(**options)]


def get_credential(call: Call) -> list[Any]:
    user = call.get("UserName") or call.get("Credential")
    user_name = getattr(user, "username", user)
    return [_prompt_credential(call.context.ui, user_name, call.get("Message"), call.get("Title"))]


def _sessions_of(call: Call, label: str, *, exact_name: bool = False) -> list[Any]:
    """The sessions a Disconnect/Connect/Receive-PSSession call names: -Session or the
    pipeline, -Id/-Name/-InstanceId in this process, or -ComputerName (asking the server)."""
    from psremoting.cmdlets import disconnected as api

    sessions = (_list(call.get("Session")) or []) + [i for i in call.input if i is not None]
    lookup = _session_filters(call)
    if call.has("ComputerName"):
        computers = [str(c) for c in _list(call.get("ComputerName")) or []]
        query = {**_connection_kwargs(call), **lookup}
        if exact_name and "name" in query:  # Receive-PSSession -ComputerName -Name: exact, or nothing
            wanted = {str(n).lower() for n in query.pop("name")}
            return [s for s in api.query_pssessions(computers, **query) if s.name.lower() in wanted]
        sessions += _with_lookup_errors(call, lambda: api.query_pssessions(computers, **query))
        if not sessions and not exact_name:
            raise ShellError(f"No disconnected session matched on {', '.join(computers)}.", label)
        return sessions
    if lookup:
        sessions += _with_lookup_errors(call, lambda: api.get_pssession(**lookup))
    if not sessions:
        raise ShellError(f"Say which sessions, for example: {label} -Session $s.", label)
    return sessions


def disconnect_pssession(call: Call) -> list[Any]:
    """Disconnect-PSSession: returns at once, even when a session runs a command."""
    from psremoting.cmdlets.disconnected import disconnect_pssession as disconnect

    idle = call.get("IdleTimeoutSec")
    mode = call.get("OutputBufferingMode")
    return _as_list(
        disconnect(
            _sessions_of(call, "Disconnect-PSSession"),
            idle_timeout_sec=float(idle) if idle is not None else None,
            output_buffering_mode=str(mode).capitalize() if mode not in (None, "", "None") else None,
        )
    )


def connect_pssession(call: Call) -> list[Any]:
    """Connect-PSSession: Disconnected sessions back to Opened (no command output)."""
    from psremoting.cmdlets.disconnected import connect_pssession as connect

    return _as_list(connect(_sessions_of(call, "Connect-PSSession")))


def receive_pssession(call: Call) -> Iterator[Any]:
    """Receive-PSSession: the output of the session's disconnected command, streamed."""
    from psremoting.cmdlets.disconnected import iter_receive_pssession

    sessions = _sessions_of(call, "Receive-PSSession", exact_name=True)
    if not sessions:
        return iter(())
    action = str(call.get("ErrorAction") or "continue").lower()
    return _invoke_events(call, iter_receive_pssession(sessions[0]), action)


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {
    "New-PSSession": new_pssession,
    "Get-PSSession": get_pssession,
    "Enter-PSSession": enter_pssession,
    "Exit-PSSession": exit_pssession,
    "Remove-PSSession": remove_pssession,
    "Invoke-Command": invoke_command,
    "New-PSSessionOption": new_pssessionoption,
    "Get-Credential": get_credential,
    "Disconnect-PSSession": disconnect_pssession,
    "Connect-PSSession": connect_pssession,
    "Receive-PSSession": receive_pssession,
}
