"""PSSession objects, the process-wide session registry, and New/Get/Remove-PSSession.

As in PowerShell, every session (also a temporary one made by Enter-PSSession or
Invoke-Command -ComputerName) takes an id from one counter that starts at 1 and never
reuses a value; default names are ``Session<N>``. The registry (what `get_pssession` lists)
keeps sessions in any state until `remove_pssession`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, overload

from psremoting.protocol.errors import PSRemotingError, SessionNotFoundError
from psremoting.transport.options import ConnectionInfo, PSCredential, SessionOption

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.host_ui import HostUI
    from psremoting.runspace.pipeline import Pipeline, PipelineResult
    from psremoting.runspace.pool import Availability, RunspacePoolConnection, SessionState

__all__ = [
    "PSSession",
    "PSSessionList",
    "new_pssession",
    "iter_new_pssession",
    "get_pssession",
    "remove_pssession",
    "register",
    "end_of_process",
    "next_session_id",
]

log = logging.getLogger(__name__)

_counter_lock = threading.Lock()
_counter = itertools.count(1)
_registry_lock = threading.RLock()
_registry: dict[uuid.UUID, PSSession] = {}


def next_session_id() -> int:
    """Take the next session id (process-wide, from 1, never reused)."""
    with _counter_lock:
        return next(_counter)


def _reset_for_tests() -> None:
    """TEST ONLY: close every registered session, empty the registry and restart ids at 1."""
    global _counter
    with _registry_lock:
        sessions = list(_registry.values())
        _registry.clear()
    for session in sessions:
        with contextlib.suppress(Exception):
            session.close()
    with _counter_lock:
        _counter = itertools.count(1)


class PSSession:
    """A PowerShell session: one runspace pool on a remote computer.

    Attributes follow PowerShell's PSSession: `id`, `name`, `computer_name`,
    `computer_type`, `transport`, `configuration_name` (short), `state` (Opened, Closed,
    Broken, Disconnected...), `availability` (Available, Busy, None), `instance_id`.
    ``str(session)`` is ``[PSSession]Name``. Run commands with `invoke` (a list result) or
    `start` (a streaming `Pipeline`).
    """

    computer_type = "RemoteMachine"
    transport = "WSMan"

    def __init__(self, info: ConnectionInfo, *, name: str | None = None, session_id: int | None = None,
                 ui: HostUI | None = None, found: Any = None) -> None:  # fmt: skip
        """`found` is a shell listed by the server (`transport.shell.ShellEntry`): the session
        then stands for it, Disconnected, until it is connected (Get-PSSession -ComputerName)."""
        from psremoting.runspace.pool import RunspacePoolConnection

        self.id = session_id if session_id is not None else next_session_id()
        self.name = name or f"Session{self.id}"
        self.connection_info = info
        self.runspace: RunspacePoolConnection = RunspacePoolConnection(
            info, ui=ui, label=self.name, found=found
        )

    # --- PowerShell's properties ------------------------------------------------------------
    @property
    def computer_name(self) -> str:
        return self.connection_info.computer_name

    @property
    def configuration_name(self) -> str:
        return self.connection_info.configuration_name

    @property
    def instance_id(self) -> uuid.UUID:
        return self.runspace.instance_id

    @property
    def state(self) -> SessionState:
        return self.runspace.state

    @property
    def availability(self) -> Availability:
        return self.runspace.availability

    @property
    def broken_reason(self) -> str | None:
        """Why the session is Broken (None otherwise)."""
        return self.runspace.broken_reason

    def __str__(self) -> str:
        return f"[PSSession]{self.name}"

    def __repr__(self) -> str:
        return (
            f"<PSSession Id={self.id} Name={self.name} ComputerName={self.computer_name} "
            f"State={self.state.value} ConfigurationName={self.configuration_name} "
            f"Availability={self.availability.value}>"
        )

    # --- life -------------------------------------------------------------------------------
    def open(self) -> PSSession:
        """Open the session on the server (New-PSSession does this)."""
        self.runspace.open()
        return self

    def close(self) -> None:
        """Close the session on the server; its state becomes Closed."""
        self.runspace.close()

    def disconnect(
        self, *, idle_timeout: float | None = None, output_buffering_mode: str | None = None
    ) -> None:
        """Disconnect-PSSession: the server keeps the session (and a running command) for
        `idle_timeout` seconds (None: its own setting); returns at once even when busy."""
        self.runspace.disconnect(idle_timeout=idle_timeout, buffer_mode=output_buffering_mode)

    def reconnect(self) -> None:
        self.runspace.reconnect()

    def check_alive(self) -> bool:
        """Ask the server whether the session still exists; a lost one becomes Broken."""
        return self.runspace.check_alive()

    def __enter__(self) -> PSSession:
        return self

    def __exit__(self, *exc: object) -> None:
        remove_pssession(self)

    # --- commands ---------------------------------------------------------------------------
    def start(
        self,
        script: str,
        *,
        arguments: Sequence[Any] = (),
        parameters: dict[str, Any] | None = None,
        input: Iterable[Any] | None = None,
        timeout: float | None = None,
        annotate: bool = True,
        show_computer_name: bool = True,
        ui: HostUI | None = None,
        out_default: bool = False,
        merge_errors: bool = False,
    ) -> Pipeline:
        """A streaming pipeline running `script` (a script block's text) with positional
        `arguments` (its ``param()``), named `parameters` and pipeline `input`.

        Iterate it for `StreamItem`s as they arrive: output objects carry PSComputerName,
        RunspaceId and PSShowComputerName (unless ``annotate=False``); errors are
        `RemoteErrorRecord`s. `timeout` is a deadline in seconds: the command is stopped and
        `PSRemotingTimeoutError` raised when it passes. `stop()` the pipeline from any thread.
        """
        self.runspace.require_opened()
        return self.runspace.start(
            script,
            arguments=arguments,
            parameters=parameters,
            input=input,
            timeout=timeout,
            annotate_output=annotate,
            show_computer_name=show_computer_name,
            ui=ui,
            out_default=out_default,
            merge_errors=merge_errors,
        )

    def invoke(
        self,
        script: str,
        *,
        arguments: Sequence[Any] = (),
        parameters: dict[str, Any] | None = None,
        input: Iterable[Any] | None = None,
        timeout: float | None = None,
        error_action: str = "continue",
        annotate: bool = False,
        ui: HostUI | None = None,
        merge_errors: bool = False,
    ) -> PipelineResult:
        """Run `script` to the end and return a `PipelineResult` (output and every stream as
        lists). ``error_action="stop"`` raises `RemoteError` at the first remote error.
        ``merge_errors=True`` is ``2>&1`` on the whole script: its errors arrive in the output,
        in order with the objects (MergeMyResult=Error, MergeToResult=Output)."""
        pipeline = self.start(
            script, arguments=arguments, parameters=parameters, input=input, timeout=timeout,
            annotate=annotate, ui=ui, merge_errors=merge_errors,
        )  # fmt: skip
        return pipeline.result(error_action=error_action)


class PSSessionList(list["PSSession"]):
    """A list of PSSessions that also carries `errors`: the failures (one per computer) of
    a New-PSSession over several computers, as PowerShell's non-terminating errors."""

    def __init__(self, sessions: Iterable[PSSession] = (), errors: Iterable[PSRemotingError] = ()) -> None:
        super().__init__(sessions)
        self.errors: list[PSRemotingError] = list(errors)


def register(session: PSSession) -> None:
    """Add (or replace, by instance id) a session in the registry."""
    _register(session)


def _register(session: PSSession) -> None:
    with _registry_lock:
        _registry[session.instance_id] = session


def _unregister(session: PSSession) -> None:
    with _registry_lock:
        _registry.pop(session.instance_id, None)


def all_sessions() -> list[PSSession]:
    """Every registered session, in creation order."""
    with _registry_lock:
        return sorted(_registry.values(), key=lambda s: s.id)


def iter_new_pssession(
    computer_names: Sequence[str] | None = None,
    *,
    connection_uris: Sequence[str] | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str = "Microsoft.PowerShell",
    names: Sequence[str] | None = None,
    session_option: SessionOption | None = None,
    throttle_limit: int = 32,
    register: bool = True,
    certificate_pem: str | None = None,
    certificate_key_pem: str | None = None,
) -> Iterator[PSSession | PSRemotingError]:
    """Open sessions to several computers concurrently; yield each PSSession, or the error
    of a computer that failed, in completion order (what New-PSSession writes)."""
    targets: list[tuple[str | None, str | None]] = [(c, None) for c in (computer_names or [])]
    targets += [(None, u) for u in (connection_uris or [])]
    if not targets:
        targets = [("localhost", None)]
    # Validate everything first: a bad option is the caller's mistake, raised at once.
    infos = [
        ConnectionInfo.create(
            computer,
            connection_uri=uri,
            credential=credential,
            port=port,
            use_ssl=use_ssl,
            authentication=authentication,
            configuration_name=configuration_name,
            session_option=session_option,
            certificate_pem=certificate_pem,
            certificate_key_pem=certificate_key_pem,
        )  # fmt: skip
        for computer, uri in targets
    ]
    name_list = list(names or [])
    sessions = [
        PSSession(info, name=name_list[i] if i < len(name_list) else None) for i, info in enumerate(infos)
    ]
    if len(sessions) == 1:
        try:
            sessions[0].open()
        except PSRemotingError as exc:
            yield exc
            return
        if register:
            _register(sessions[0])
        yield sessions[0]
        return
    workers = max(1, min(throttle_limit if throttle_limit > 0 else 32, len(sessions)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psremoting-open") as pool:
        futures: dict[Future[PSSession], PSSession] = {pool.submit(s.open): s for s in sessions}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                session = futures[future]
                failure = future.exception()
                if failure is None:
                    if register:
                        _register(session)
                    yield session
                elif isinstance(failure, PSRemotingError):
                    yield failure
                else:
                    yield PSRemotingError(
                        f"[{session.computer_name}] {failure}", computer_name=session.computer_name
                    )


@overload
def new_pssession(  # type: ignore[overload-overlap]  # a str is also a Sequence[str]: str wins
    computer_name: str | None = ...,
    *,
    connection_uri: str | None = ...,
    credential: PSCredential | tuple[str, str] | None = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    configuration_name: str = ...,
    name: str | Sequence[str] | None = ...,
    session_option: SessionOption | None = ...,
    throttle_limit: int = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
) -> PSSession: ...


@overload
def new_pssession(
    computer_name: Sequence[str],
    *,
    connection_uri: None = ...,
    credential: PSCredential | tuple[str, str] | None = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    configuration_name: str = ...,
    name: str | Sequence[str] | None = ...,
    session_option: SessionOption | None = ...,
    throttle_limit: int = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
) -> PSSessionList: ...


@overload
def new_pssession(
    computer_name: None = ...,
    *,
    connection_uri: Sequence[str],
    credential: PSCredential | tuple[str, str] | None = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    configuration_name: str = ...,
    name: str | Sequence[str] | None = ...,
    session_option: SessionOption | None = ...,
    throttle_limit: int = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
) -> PSSessionList: ...


def new_pssession(
    computer_name: str | Sequence[str] | None = None,
    *,
    connection_uri: str | Sequence[str] | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str = "Microsoft.PowerShell",
    name: str | Sequence[str] | None = None,
    session_option: SessionOption | None = None,
    throttle_limit: int = 32,
    certificate_pem: str | None = None,
    certificate_key_pem: str | None = None,
) -> PSSession | PSSessionList:
    """New-PSSession: open a session and add it to the registry.

    One computer name (or URI) in, one `PSSession` out; a failure raises the
    `PSRemotingError` (ConnectionFailedError, AuthenticationFailedError, ...). A list in gives
    a `PSSessionList` out, opened concurrently (`throttle_limit` at a time), in completion
    order; computers that failed are in its `errors` and do not stop the others.
    """
    single = not isinstance(computer_name, (list, tuple)) and not isinstance(connection_uri, (list, tuple))
    computers = [computer_name] if isinstance(computer_name, str) else list(computer_name or [])
    uris = [connection_uri] if isinstance(connection_uri, str) else list(connection_uri or [])
    names = [name] if isinstance(name, str) else list(name or [])
    results = list(
        iter_new_pssession(
            computers or None,
            connection_uris=uris or None,
            credential=credential,
            port=port,
            use_ssl=use_ssl,
            authentication=authentication,
            configuration_name=configuration_name,
            names=names,
            session_option=session_option,
            throttle_limit=throttle_limit,
            certificate_pem=certificate_pem,
            certificate_key_pem=certificate_key_pem,
        )  # fmt: skip
    )
    opened = [r for r in results if isinstance(r, PSSession)]
    failed = [r for r in results if isinstance(r, PSRemotingError)]
    if single:
        if failed:
            raise failed[0]
        return opened[0]
    for error in failed:
        log.warning("%s", error)
    return PSSessionList(opened, failed)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _has_wildcard(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _wildcard_match(pattern: str, text: str) -> bool:
    return fnmatch.fnmatchcase(text.lower(), pattern.lower())


def _select(
    *,
    sessions: Any = None,
    id: Any = None,
    name: Any = None,
    instance_id: Any = None,
    computer_name: Any = None,
) -> tuple[list[PSSession], list[str]]:
    """Local repository lookup as PSRunspaceCmdlet does it: matches, and error messages
    (PowerShell's texts) for exact identifiers that matched nothing."""
    everything = all_sessions()
    found: dict[uuid.UUID, PSSession] = {}
    errors: list[str] = []
    for session in _as_list(sessions):
        if not isinstance(session, PSSession):
            raise TypeError(f"expected a PSSession, got {type(session).__name__}")
        found[session.instance_id] = session
    for wanted in _as_list(id):
        hits = [s for s in everything if s.id == int(wanted)]
        if not hits:
            errors.append(f"The remote session with the session ID {wanted} is not available.")
        found.update((s.instance_id, s) for s in hits)
    for wanted in _as_list(name):
        hits = [s for s in everything if _wildcard_match(str(wanted), s.name)]
        if not hits and not _has_wildcard(str(wanted)):
            errors.append(f"The remote session with the name {wanted}  is not available.")
        found.update((s.instance_id, s) for s in hits)
    for wanted in _as_list(instance_id):
        try:
            guid = wanted if isinstance(wanted, uuid.UUID) else uuid.UUID(str(wanted))
        except ValueError:
            errors.append(f"Remote session is not available for {wanted}.")
            continue
        hits = [s for s in everything if s.instance_id == guid]
        if not hits:
            errors.append(f"Remote session is not available for {wanted}.")
        found.update((s.instance_id, s) for s in hits)
    for wanted in _as_list(computer_name):
        hits = [s for s in everything if _wildcard_match(str(wanted), s.computer_name)]
        if not hits:
            errors.append(f"Remote session is not available for ComputerName {wanted}.")
        found.update((s.instance_id, s) for s in hits)
    return sorted(found.values(), key=lambda s: s.id), errors


def get_pssession(
    *,
    id: int | Sequence[int] | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    state: str | SessionState | None = None,
    error_action: str = "stop",
) -> list[PSSession]:
    """Get-PSSession: the sessions of this process (all, or those matching an id, a name
    (case-insensitive wildcards), an instance id, and/or a state).

    An exact id, name or instance id that matches nothing raises `SessionNotFoundError`
    with PowerShell's text ("The remote session with the session ID 7 is not available.");
    its `sessions` holds what did match. With ``error_action="continue"`` the matches are
    returned and the misses logged instead.
    """
    errors: list[str] = []
    if id is None and name is None and instance_id is None:
        selected = all_sessions()
    else:
        selected, errors = _select(id=id, name=name, instance_id=instance_id)
    if state is not None:
        wanted = str(getattr(state, "value", state)).lower()
        if wanted != "all":
            selected = [s for s in selected if s.state.value.lower() == wanted]
    if errors:
        if error_action.lower() == "stop":
            raise SessionNotFoundError(" ".join(errors), sessions=selected)
        for text in errors:
            log.warning("%s", text)
    return selected


def remove_pssession(
    session: PSSession | Sequence[PSSession] | None = None,
    *,
    id: int | Sequence[int] | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    computer_name: str | Sequence[str] | None = None,
    error_action: str = "stop",
) -> list[PSSession]:
    """Remove-PSSession: close sessions on their servers and drop them from the registry.

    A Disconnected session is reconnected first so that the server side is deleted too.
    Returns the removed sessions (now Closed). Lookups fail as in `get_pssession`.
    """
    if session is None and id is None and name is None and instance_id is None and computer_name is None:
        raise TypeError("remove_pssession needs a session, id, name, instance_id or computer_name")
    selected, errors = _select(sessions=session, id=id, name=name, instance_id=instance_id,
                               computer_name=computer_name)  # fmt: skip
    if errors and error_action.lower() == "stop":
        raise SessionNotFoundError(" ".join(errors), sessions=selected)
    for text in errors:
        log.warning("%s", text)
    for item in selected:
        if item.state.value == "Disconnected":
            try:
                item.reconnect()
            except PSRemotingError as exc:
                log.warning(
                    "Remote session %s could not be connected and could not be removed from the server. %s",
                    item.name, exc,
                )  # fmt: skip
        item.close()
        _unregister(item)
    return selected


def end_of_process() -> None:
    """What PowerShell does with the sessions when its process ends (LocalConnection close):
    an Opened session running a command is disconnected (the command goes on, the session
    is kept on the server); an idle Opened one is closed (WSMan Delete); Disconnected, Broken
    and Closed ones are left alone, so Disconnected ones live on until their idle timeout."""
    for session in all_sessions():
        try:
            if session.state.value == "Opened" and session.availability.value == "Busy":
                session.disconnect()
            elif session.state.value == "Opened":
                session.close()
        except Exception as exc:
            log.debug("leaving %s at exit: %s", session.name, exc)
        _unregister(session)
