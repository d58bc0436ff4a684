"""Disconnected sessions: Disconnect-, Connect-, Receive-PSSession and Get-PSSession -ComputerName.

A disconnected session lives on the server, not in a process: this process may disconnect it
and another connect to it and receive what its command wrote meanwhile.

    sessions = psremoting.invoke_command(script, computer_name="srv", in_disconnected_session=True)
    ...                                              # later, maybe in another process:
    [s] = psremoting.get_pssession(computer_name="srv", name=sessions[0].name)
    result = psremoting.receive_pssession(s)          # the output, exactly once, then the rest

As PowerShell: `get_pssession(computer_name=...)` asks the server (WSMan Enumerate) for this
user's sessions (PSSessions in state Disconnected, Availability None when connectable, Busy
when another client holds them; a session of this process is returned as its own object);
`disconnect_pssession` returns at once, even on a busy session (its command goes on);
`connect_pssession` connects (Opened/Available); `receive_pssession` connects if needed and
returns the output of the session's disconnected command.
"""

from __future__ import annotations

import fnmatch
import logging
import uuid
from collections.abc import Generator, Sequence
from typing import Any

from psremoting.cmdlets import sessions as registry
from psremoting.cmdlets.invoke.results import InvokeEvent, InvokeResult
from psremoting.cmdlets.sessions import PSSession, PSSessionList
from psremoting.cmdlets.sessions import get_pssession as get_local_pssession
from psremoting.protocol.errors import (
    InvalidOptionError,
    PSRemotingError,
    SessionNotFoundError,
    SessionStateError,
)
from psremoting.protocol.session_texts import (
    QUERY_FOR_RUNSPACES_FAILED,
    RUNSPACE_CANNOT_BE_CONNECTED,
    RUNSPACE_CANNOT_BE_DISCONNECTED,
    SESSION_ID_MATCH_FAILED,
    SESSION_NAME_MATCH_FAILED,
)
from psremoting.transport.failures import map_connection_error
from psremoting.transport.options import ConnectionInfo, PSCredential, SessionOption, short_configuration_name

__all__ = [
    "get_pssession",
    "query_pssessions",
    "disconnect_pssession",
    "connect_pssession",
    "receive_pssession",
    "iter_receive_pssession",
]

log = logging.getLogger(__name__)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset, PSSessionList)):
        return list(value)
    return [value]


def query_pssessions(
    computer_name: str | Sequence[str],
    *,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str | None = None,
    session_option: SessionOption | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    state: str = "All",
) -> list[PSSession]:
    """The PowerShell sessions this user has on each computer (Get-PSSession -ComputerName).

    Each is a PSSession of this process when it has one with the same instance id, else a new
    object (a new id from the session counter, its server-side name or ``Runspace<N>``, state
    Disconnected) that is not in the registry until it is connected. `name` (wildcards) and
    `instance_id` filter; an exact one that matches nothing raises `SessionNotFoundError`
    with PowerShell's text, when the server has any session at all.
    """
    from psremoting.transport.shell import enumerate_shells

    found: list[PSSession] = []
    names = [str(n) for n in _as_list(name)]
    ids = [str(i).upper() for i in _as_list(instance_id)]
    wanted_state = str(state or "All").lower()
    for computer in _as_list(computer_name):
        info = ConnectionInfo.create(
            str(computer), credential=credential, port=port, use_ssl=use_ssl, authentication=authentication,
            session_option=session_option,
        )  # fmt: skip
        try:
            entries = enumerate_shells(info)
        except Exception as exc:
            error = map_connection_error(exc, info, opening=False)
            raise PSRemotingError(
                QUERY_FOR_RUNSPACES_FAILED.format(info.computer_name, error.message),
                computer_name=info.computer_name,
            ) from exc
        on_server: list[PSSession] = []
        for entry in entries:
            if configuration_name and short_configuration_name(entry.resource_uri).lower() != str(
                configuration_name
            ).lower().removeprefix("http://schemas.microsoft.com/powershell/"):
                continue
            on_server.append(_session_for(entry, info))
        if on_server:
            misses = [
                n for n in names if not any(fnmatch.fnmatchcase(s.name.lower(), n.lower()) for s in on_server)
            ]
            missing_ids = [i for i in ids if not any(str(s.instance_id).upper() == i for s in on_server)]
            exact = [n for n in misses if not any(c in n for c in "*?[")]
            if exact or missing_ids:
                text = " ".join(
                    [SESSION_NAME_MATCH_FAILED.format(n) for n in exact]
                    + [SESSION_ID_MATCH_FAILED.format(i) for i in missing_ids]
                )
                raise SessionNotFoundError(text, sessions=on_server)
        for session in on_server:
            if names and not any(fnmatch.fnmatchcase(session.name.lower(), n.lower()) for n in names):
                continue
            if ids and str(session.instance_id).upper() not in ids:
                continue
            if wanted_state != "all" and session.state.value.lower() != wanted_state:
                continue
            found.append(session)
    return found


def _session_for(entry: Any, info: ConnectionInfo) -> PSSession:
    """The PSSession for one enumerated shell: this process's own object if it has one."""
    try:
        ident = uuid.UUID(entry.shell_id)
    except ValueError:
        ident = None
    for local in registry.all_sessions():
        if ident is not None and local.instance_id == ident and local.state.value != "Broken":
            if local.state.value == "Disconnected":
                local.runspace.server_state = entry.state
            return local
    shell_info = ConnectionInfo.create(
        info.computer_name, credential=info.credential, port=info.port,
        use_ssl=info.use_ssl, authentication=info.authentication, configuration_name=entry.resource_uri,
        session_option=info.session_option,
    )  # fmt: skip
    session_id = registry.next_session_id()
    return PSSession(
        shell_info, session_id=session_id, name=entry.name or f"Runspace{session_id}", found=entry
    )


def get_pssession(
    *,
    id: int | Sequence[int] | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    state: str | Any | None = None,
    error_action: str = "stop",
    computer_name: str | Sequence[str] | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str | None = None,
    session_option: SessionOption | None = None,
) -> list[PSSession]:
    """Get-PSSession: the sessions of this process (see `psremoting.cmdlets.sessions.get_pssession`),
    or, with `computer_name`, the sessions on those computers (`query_pssessions`)."""
    if computer_name is None:
        return get_local_pssession(
            id=id, name=name, instance_id=instance_id, state=state, error_action=error_action
        )
    if id is not None:
        raise InvalidOptionError("Get-PSSession -ComputerName takes -Name or -InstanceId, not -Id.")
    return query_pssessions(
        computer_name, credential=credential, port=port, use_ssl=use_ssl, authentication=authentication,
        configuration_name=configuration_name, session_option=session_option, name=name,
        instance_id=instance_id, state=str(getattr(state, "value", state) or "All"),
    )  # fmt: skip


def disconnect_pssession(
    session: PSSession | Sequence[PSSession],
    *,
    idle_timeout_sec: float | None = None,
    output_buffering_mode: str | None = None,
) -> list[PSSession]:
    """Disconnect-PSSession: the server keeps each session (Disconnected, Availability None)
    for `idle_timeout_sec` seconds (at least 60; None: the server's), buffering output as
    `output_buffering_mode` says ("Block" or "Drop"; None: the server's). Returns at once,
    even on a busy session: its command goes on on the server."""
    result = []
    for item in _as_list(session):
        if item.state.value not in ("Opened", "Disconnected"):
            raise SessionStateError(
                RUNSPACE_CANNOT_BE_DISCONNECTED.format(item.name), computer_name=item.computer_name,
                state=item.state.value,
            )  # fmt: skip
        item.disconnect(idle_timeout=idle_timeout_sec, output_buffering_mode=output_buffering_mode)
        result.append(item)
    return result


def _pick(
    session: Any,
    id: Any,
    name: Any,
    instance_id: Any,
    computer_name: Any,
    connect: dict[str, Any],
    *,
    state: str,
    exact_name: bool,
) -> list[PSSession]:
    picked: list[PSSession] = [s for s in _as_list(session) if isinstance(s, PSSession)]
    if computer_name is not None:
        if exact_name and name is not None:  # Receive-PSSession -ComputerName -Name: exact, no error
            wanted = [str(n).lower() for n in _as_list(name)]
            candidates = query_pssessions(computer_name, state=state, **connect)
            return picked + [s for s in candidates if s.name.lower() in wanted]
        try:
            picked += query_pssessions(
                computer_name, name=name, instance_id=instance_id, state=state, **connect
            )
        except SessionNotFoundError:
            if exact_name:
                return picked
            raise
        return picked
    if id is not None or name is not None or instance_id is not None:
        picked += get_local_pssession(id=id, name=name, instance_id=instance_id)
    return picked


def connect_pssession(
    session: PSSession | Sequence[PSSession] | None = None,
    *,
    id: int | Sequence[int] | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    computer_name: str | Sequence[str] | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str | None = None,
    session_option: SessionOption | None = None,
) -> list[PSSession]:
    """Connect-PSSession: connect Disconnected sessions (back to Opened/Available) and add
    them to the registry; with `computer_name`, the server's disconnected sessions (by `name`,
    `instance_id`). A session another client holds (Busy) raises `SessionStateError`."""
    connect = {
        "credential": credential, "port": port, "use_ssl": use_ssl, "authentication": authentication,
        "configuration_name": configuration_name, "session_option": session_option,
    }  # fmt: skip
    picked = _pick(
        session, id, name, instance_id, computer_name, connect, state="Disconnected", exact_name=False
    )
    if not picked and session is None:
        raise SessionNotFoundError(
            "No disconnected session matched; list them with get_pssession(computer_name=...)."
        )
    result = []
    for item in picked:
        if item.state.value == "Opened":
            result.append(item)
            continue
        if item.state.value != "Disconnected" or item.availability.value != "None":
            raise SessionStateError(
                RUNSPACE_CANNOT_BE_CONNECTED.format(item.name), computer_name=item.computer_name,
                state=item.state.value,
            )  # fmt: skip
        item.reconnect()
        registry.register(item)
        result.append(item)
    return result


def receive_pssession(
    session: PSSession | None = None,
    *,
    id: int | None = None,
    name: str | None = None,
    instance_id: uuid.UUID | str | None = None,
    computer_name: str | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str | None = None,
    session_option: SessionOption | None = None,
    timeout: float | None = None,
) -> InvokeResult:
    """Receive-PSSession: connect to the session if needed and return the output of its
    disconnected command: what it wrote while no client was connected, exactly once, then
    the rest as it comes, until it ends. An `InvokeResult` (output list, `.errors`,
    `.hosts[computer]` with the exit code). A session with no command left, or no session
    matching a name on `computer_name`, gives an empty result, as PowerShell prints nothing."""
    from psremoting.cmdlets.invoke.command import collect

    return collect(
        iter_receive_pssession(
            session,
            id=id,
            name=name,
            instance_id=instance_id,
            computer_name=computer_name,
            credential=credential,
            port=port,
            use_ssl=use_ssl,
            authentication=authentication,
            configuration_name=configuration_name,
            session_option=session_option,
            timeout=timeout,
        )  # fmt: skip
    )


def iter_receive_pssession(
    session: PSSession | None = None,
    *,
    id: int | None = None,
    name: str | None = None,
    instance_id: uuid.UUID | str | None = None,
    computer_name: str | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str | None = None,
    session_option: SessionOption | None = None,
    timeout: float | None = None,
) -> Generator[InvokeEvent, None, None]:
    """Like `receive_pssession`, but yield the `InvokeEvent`s as they arrive (output, records,
    then one "finished" with the host's `HostResult`); nothing when there is nothing to receive."""
    from psremoting.cmdlets.invoke.command import iter_receive
    from psremoting.cmdlets.invoke.on_host import Target

    connect = {
        "credential": credential, "port": port, "use_ssl": use_ssl, "authentication": authentication,
        "configuration_name": configuration_name, "session_option": session_option,
    }  # fmt: skip
    picked = _pick(session, id, name, instance_id, computer_name, connect, state="All", exact_name=True)
    if not picked:
        return
    item = picked[0]
    if item.state.value == "Disconnected":
        if item.availability.value != "None":
            raise SessionStateError(
                RUNSPACE_CANNOT_BE_CONNECTED.format(item.name), computer_name=item.computer_name,
                state=item.state.value,
            )  # fmt: skip
        item.reconnect()
    elif item.state.value != "Opened":
        raise SessionStateError(
            RUNSPACE_CANNOT_BE_CONNECTED.format(item.name),
            computer_name=item.computer_name,
            state=item.state.value,
        )
    registry.register(item)
    commands = list(item.runspace.disconnected_commands)
    if not commands:
        return
    yield from iter_receive([Target(item.computer_name, item, resume=commands[0])], timeout=timeout)
