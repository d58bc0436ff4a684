"""What the local shell's cmdlets do, on top of the `psremoting` Python API.

Each function takes a `Call`: the cmdlet's bound parameters (canonical names, as in
`cmdlets.SPECS`), its pipeline input and the shell `context`; it returns (or, to stream
them, yields) the objects it outputs, or raises: the interpreter shows errors in
PowerShell's concise view.
Non-terminating errors (one computer out of several failing) go to `context.error`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from psremoting.console.common_params import CommonSettings
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
    """One cmdlet invocation after binding.

    A cmdlet writes its non-terminating errors, warnings, verbose, debug, information and
    progress through the ``write_*`` methods, which apply the common parameters
    (-ErrorAction, -WarningVariable, ...: `common_params`)."""

    name: str  # the canonical cmdlet name
    params: dict[str, Any]
    input: list[Any] = field(default_factory=list)
    context: Any = None
    common: CommonSettings = field(default_factory=CommonSettings)

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.params

    # -- streams, honouring the common parameters -------------------------------------
    def write_error(self, message: str, record: Any = None, *, command: str | None = None) -> None:
        """A non-terminating error (shown as ``command: message``; `command` "" shows the text as is)."""
        action = self.common.error_action
        if action == "ignore":
            return
        self.common.errors.append(record if record is not None else message)
        shown = self.name if command is None else command
        if action == "stop":
            raise ShellError(message, shown or self.name)
        if action == "continue":
            self.context.error(message, shown)
        else:  # silentlycontinue: not shown, but the command failed ($? is False)
            mark = getattr(self.context, "mark_failed", None)
            if callable(mark):
                mark()

    def write_warning(self, text: str) -> None:
        action = self.common.warning_action
        if action == "ignore":
            return
        self.common.warnings.append(text)
        if action == "stop":
            raise ShellError(
                'The running command stopped because the preference variable "WarningPreference" or '
                f"common parameter is set to Stop: {text}",
                self.name,
            )
        if action == "continue":
            self.context.ui.write_warning_line(text)

    def write_verbose(self, text: str, *, remote: bool = False) -> None:
        """Verbose text: the cmdlet's own only with -Verbose; a remote command's as it came."""
        if remote or self.common.verbose:
            self.context.ui.write_verbose_line(text)

    def write_debug(self, text: str, *, remote: bool = False) -> None:
        if remote or self.common.debug:
            self.context.ui.write_debug_line(text)

    def write_information(
        self, record: Any, text: str, *, from_host: bool, colors: tuple[Any, Any, bool] = (None, None, False)
    ) -> None:
        """An information record: Write-Host text (`from_host`) shows unless -InformationAction
        SilentlyContinue/Ignore; other records only with -InformationAction Continue, as
        $InformationPreference is SilentlyContinue by default (setting it to Continue in the
        shell shows them, as in PowerShell)."""
        action = self.common.information_action
        if action is None and not from_host:
            action = _preference(self.context, "InformationPreference")
        if action == "ignore":
            return
        self.common.information.append(record)
        if action == "stop":
            raise ShellError(
                'The running command stopped because the preference variable "InformationPreference" or '
                f"common parameter is set to Stop: {text}",
                self.name,
            )
        if action == "continue" or (action is None and from_host):
            fore, back, no_newline = colors
            if fore is None and back is None and not no_newline:
                self.context.ui.write_line(text)
                return
            self.context.ui.write(text, fore, back)
            if not no_newline:
                self.context.ui.write_line()

    def write_progress(self, source_id: int, record: Any) -> None:
        if self.common.progress_action in ("silentlycontinue", "ignore"):
            return
        if self.common.progress_action == "stop":
            raise ShellError(
                'The running command stopped because the preference variable "ProgressPreference" or '
                "common parameter is set to Stop.",
                self.name,
            )
        self.context.ui.write_progress(source_id, record)


def _preference(context: Any, name: str) -> str | None:
    """A preference variable of the shell (``$InformationPreference = 'Continue'``), lower-case;
    None when unset or not a preference."""
    scope = getattr(context, "scope", None)
    value = scope.lookup(name) if scope is not None else None
    text = str(getattr(value, "name", value) or "").replace(" ", "").lower()
    return text if text in ("continue", "silentlycontinue", "stop", "ignore", "inquire") else None


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
        from psremoting.runspace.host_ui import input_ended_message

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
        option = call.get("SessionOption")
        from psremoting.transport.options import SessionOption

        if not isinstance(option, SessionOption):
            raise ShellError(
                "Cannot bind parameter 'SessionOption': the value is not a PSSessionOption. "
                "Create one with New-PSSessionOption.",
                call.name,
            )
        kwargs["session_option"] = option
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


def computer_targets(call: Call, computers: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """`computer_name=` for these computers, or with -ApplicationName the `connection_uri=`
    PowerShell builds from the computer, -Port, -UseSSL and the application name."""
    if not call.has("ApplicationName"):
        return {"computer_name": computers}
    from psremoting.cmdlets.endpoints import connection_uri

    port, ssl = kwargs.pop("port", None), kwargs.pop("use_ssl", False)
    app = str(call.get("ApplicationName"))
    return {
        "connection_uri": [connection_uri(c, port=port, use_ssl=ssl, application_name=app) for c in computers]
    }


def new_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets import sessions as api

    kwargs = _connection_kwargs(call)
    names = [str(n) for n in _list(call.get("Name")) or []] if call.has("Name") else []
    if call.has("ThrottleLimit"):
        kwargs["throttle_limit"] = int(call.get("ThrottleLimit")) or 32
    if call.has("Session"):
        return _sessions_like(call, _list(call.get("Session")) or [], names, kwargs)
    if names:
        kwargs["name"] = names
    if call.has("ConnectionUri"):
        targets: dict[str, Any] = {"connection_uri": [str(u) for u in _list(call.get("ConnectionUri")) or []]}
    else:
        computers = _list(call.get("ComputerName")) or _list(call.input or None) or ["localhost"]
        targets = computer_targets(call, [str(c) for c in computers], kwargs)
    result = api.new_pssession(**targets, **kwargs)
    for error in getattr(result, "errors", ()):
        call.write_error(_with_computer(error), error)
    return _as_list(result)


def _sessions_like(call: Call, sessions: list[Any], names: list[str], kwargs: dict[str, Any]) -> list[Any]:
    """New-PSSession -Session: a new session connected as each given one is (same computer,
    port, configuration, options and credential)."""
    from psremoting.cmdlets import sessions as api
    from psremoting.cmdlets.endpoints import like_session

    opened: list[Any] = []
    for index, session in enumerate(sessions):
        request = {**like_session(session), **{k: v for k, v in kwargs.items() if k == "throttle_limit"}}
        if index < len(names):
            request["name"] = names[index]
        try:
            opened.append(api.new_pssession(**request))
        except Exception as error:
            call.write_error(_with_computer(error), error)
    return opened


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
        call.write_error(error.message, error)
        return list(error.sessions)


def enter_pssession(call: Call) -> list[Any]:
    """Enter-PSSession; a connection that fails is a non-terminating error, as PowerShell
    writes it (so -ErrorAction and -ErrorVariable apply)."""
    from psremoting.protocol.errors import ConnectionFailedError

    try:
        _enter(call)
    except ConnectionFailedError as error:
        call.write_error(error.message, error)
    return []


def _enter(call: Call) -> None:
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
        target = computer_targets(call, [str(computer)], kwargs)
        if "connection_uri" in target:
            api.enter_pssession(connection_uri=target["connection_uri"][0], ui=ui, **kwargs)
        else:
            api.enter_pssession(str(computer), ui=ui, **kwargs)


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
        call.write_error(error.message, error)
        if error.sessions:
            api.remove_pssession(session=error.sessions)
    return []


def new_pssessionoption(call: Call) -> list[Any]:
    from psremoting.console.cmdlet_types import COMMON_PARAMS
    from psremoting.transport.options import SessionOption

    common = {p.name for p in COMMON_PARAMS}
    options = {k: v for k, v in call.params.items() if k not in common}
    # Switches this client's behaviour already matches: it never compresses PSRP data, and
    # it never checks certificate revocation.
    options.pop("NoCompression", None)
    redirections = options.pop("MaximumRedirection", None)
    if redirections is not None and int(redirections) != 0:
        raise ShellError(
            f"-MaximumRedirection {redirections} is not supported on this client: it does not follow WinRM "
            "redirections (-AllowRedirection), so 0 is the only value that holds; connect to the address the "
            "server redirects to instead.",
            call.name,
        )
    access = options.get("ProxyAccessType")
    if access is not None and str(access).lower() not in ("none", "noproxyserver"):
        raise ShellError(
            f"-ProxyAccessType {access} is not supported on this client: it reads the Windows proxy settings, "
            "which this client does not have. Use None (the HTTP_PROXY/HTTPS_PROXY environment), "
            "NoProxyServer, or psremoting --proxy URL.",
            call.name,
        )
    if access is not None and str(access).lower() == "none":
        options.pop("ProxyAccessType")
    if "ApplicationArguments" in options and not isinstance(options["ApplicationArguments"], dict):
        raise ShellError(
            "Cannot bind parameter 'ApplicationArguments': give a hashtable, for example @{ Tier = 'web' }.",
            call.name,
        )
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


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {
    "New-PSSession": new_pssession,
    "Get-PSSession": get_pssession,
    "Enter-PSSession": enter_pssession,
    "Exit-PSSession": exit_pssession,
    "Remove-PSSession": remove_pssession,
    "New-PSSessionOption": new_pssessionoption,
    "Get-Credential": get_credential,
    "Disconnect-PSSession": disconnect_pssession,
    "Connect-PSSession": connect_pssession,
}
