"""Invoke-Command -InDisconnectedSession: start the command, disconnect, return the sessions.

For each computer (at most `throttle_limit` at once) a session is opened, named
``session_name[i]`` or, as PowerShell names the sessions it makes for this, ``Runspace<N>``;
the script is started on it (WSMan Command, nothing received), and the session is
disconnected at once, so that the command runs on while no client is connected. Each session
is added to the registry, Disconnected, Availability None: `receive_pssession` (or
``psremoting receive`` from another process) gets the output later, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from psremoting.cmdlets.sessions import PSSession, PSSessionList, next_session_id, register
from psremoting.protocol.errors import PSRemotingError
from psremoting.transport.options import ConnectionInfo

__all__ = ["start_in_disconnected_sessions"]

log = logging.getLogger(__name__)


def start_in_disconnected_sessions(
    infos: Sequence[ConnectionInfo],
    script: str,
    *,
    arguments: Sequence[Any] = (),
    parameters: dict[str, Any] | None = None,
    session_name: Sequence[str] | None = None,
    throttle_limit: int = 32,
    idle_timeout: float | None = None,
    output_buffering_mode: str | None = None,
) -> PSSessionList:
    """Start `script` on each computer in a session that is then disconnected; the sessions
    (in the order given) and, in `.errors`, the computers that failed."""
    names = list(session_name or [])
    if names and len(names) != len(infos):
        raise PSRemotingError(
            f"Give one session name per computer: {len(infos)} computer(s), {len(names)} name(s)."
        )
    sessions = []
    for index, info in enumerate(infos):
        session_id = next_session_id()
        sessions.append(
            PSSession(info, session_id=session_id, name=names[index] if names else f"Runspace{session_id}")
        )

    def start(session: PSSession) -> PSSession:
        session.open()
        try:
            session.runspace.start(script, arguments=arguments, parameters=parameters).begin()
            session.disconnect(idle_timeout=idle_timeout, output_buffering_mode=output_buffering_mode)
        except BaseException:
            session.close()
            raise
        register(session)
        return session

    opened: list[PSSession] = []
    errors: list[PSRemotingError] = []
    workers = max(1, min(throttle_limit if throttle_limit > 0 else 32, len(sessions)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psremoting-disconnected") as pool:
        futures = [pool.submit(start, s) for s in sessions]
        for session, future in zip(sessions, futures, strict=True):
            failure = future.exception()
            if failure is None:
                opened.append(session)
            elif isinstance(failure, PSRemotingError):
                errors.append(failure)
            else:
                errors.append(
                    PSRemotingError(
                        f"[{session.computer_name}] {failure}", computer_name=session.computer_name
                    )
                )
    for error in errors:
        log.warning("%s", error)
    return PSSessionList(opened, errors)
