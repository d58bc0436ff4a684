"""Where an Invoke-Command runs: its computer names, URIs or PSSessions made into `Target`s.

Connection settings are validated for every computer before anything runs (a mistake in them is
the caller's, raised at once); PSSessions that cannot run a command are refused with the error
record Invoke-Command writes for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psremoting.cmdlets.invoke.on_host import Target
from psremoting.protocol.errors import InvalidOptionError, RemoteErrorRecord
from psremoting.transport.options import ConnectionInfo

__all__ = ["plan_targets"]

#: The connection settings of an Invoke-Command request, with their defaults.
_CONNECT_DEFAULTS: dict[str, Any] = {
    "credential": None,
    "port": None,
    "use_ssl": False,
    "authentication": "negotiate",
    "session_option": None,
    "configuration_name": None,
}


def plan_targets(request: Mapping[str, Any]) -> tuple[list[Target], list[tuple[Target, RemoteErrorRecord]]]:
    """The targets an `iter_invoke_command(**request)` runs on, in order (indexes of its
    events' `target_index`), and the sessions it refuses with their error record."""
    connect = {k: request.get(k, default) for k, default in _CONNECT_DEFAULTS.items()}
    if request.get("certificate_pem") or request.get("certificate_key_pem"):
        connect.update(
            certificate_pem=request.get("certificate_pem"),
            certificate_key_pem=request.get("certificate_key_pem"),
        )
    return _targets(
        request.get("computer_name"), request.get("session"), connect, request.get("connection_uri")
    )


def _targets(
    computer_name: str | Sequence[str] | None,
    session: Any,
    connect: dict[str, Any],
    connection_uri: str | Sequence[str] | None = None,
) -> tuple[list[Target], list[tuple[Target, RemoteErrorRecord]]]:
    """The targets to run on, and the sessions rejected with their error record.

    Connection settings are validated for every computer before anything runs: a mistake in
    them is the caller's, raised at once (InvalidOptionError), not one error per host."""
    given = [
        n
        for n, v in (
            ("computer_name", computer_name),
            ("session", session),
            ("connection_uri", connection_uri),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise InvalidOptionError(
            f"Give only one of {' or '.join(given)} (they are different parameter sets)."
        )
    if connection_uri is not None:
        uris = [connection_uri] if isinstance(connection_uri, str) else list(connection_uri)
        if not uris:
            raise InvalidOptionError("connection_uri is empty; give URIs such as http://server01:5985/wsman.")
        if connect.get("port") is not None or connect.get("use_ssl"):
            raise InvalidOptionError(
                "port and use_ssl cannot be given with a connection URI: put them in the URI "
                "(https://server01:5986/wsman)."
            )
        options = {k: v for k, v in connect.items() if k not in ("port", "use_ssl")}
        targets = []
        for uri in uris:
            info = ConnectionInfo.create(connection_uri=str(uri), **options)
            targets.append(Target(info.computer_name, info=info))
        return targets, []
    if session is not None:
        sessions = [session] if not isinstance(session, (list, tuple)) else list(session)
        if len({id(s) for s in sessions}) != len(sessions):
            raise InvalidOptionError("Specified RemoteRunspaceInfo objects have duplicates.")
        targets, rejected = [], []
        for s in sessions:
            target = Target(str(getattr(s, "computer_name", s)), s)
            problem = _session_problem(s)
            if problem is None:
                targets.append(target)
            else:
                rejected.append((target, problem))
        return targets, rejected
    names = [computer_name] if isinstance(computer_name, str) else list(computer_name or ["localhost"])
    names = [str(n).strip() for n in names]
    if not names or any(not n for n in names):
        raise InvalidOptionError("A computer name is empty; give names such as 'server01'.")
    return [Target(n, info=ConnectionInfo.create(n, **connect)) for n in names], []


def _session_problem(session: Any) -> RemoteErrorRecord | None:
    """The error record for a PSSession that cannot run a command, as Invoke-Command words it."""

    state = str(getattr(session, "state", "Opened"))
    availability = str(getattr(session, "availability", "Available"))
    name = getattr(session, "name", "")
    ident = getattr(session, "instance_id", "")
    computer = getattr(session, "computer_name", "")
    if state != "Opened":
        message = (
            f"Because the session state for session {name}, {ident}, {computer} is not equal to Open, "
            f"you cannot run a command in the session.  The session state is {state}."
        )
        fqid = "InvokeCommandCommandInvalidSessionState,Microsoft.PowerShell.Commands.InvokeCommandCommand"
    elif availability != "Available":
        message = (
            f"The session {name}, {ident}, {computer} is not available to run commands.  "
            f"The session availability is {availability}."
        )
        fqid = "InvokeCommandCommandInvalidSessionAvailability,Microsoft.PowerShell.Commands.InvokeCommandCommand"
    else:
        return None
    return RemoteErrorRecord(
        message=message,
        category="InvalidOperation",
        target_name=str(name),
        target_type="PSSession",
        reason="InvalidOperationException",
        fully_qualified_error_id=fqid,
        computer_name=str(computer),
    )
