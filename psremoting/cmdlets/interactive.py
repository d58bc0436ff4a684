"""Enter-PSSession / Exit-PSSession: the interactive stack and `InteractiveSession`.

`enter_pssession` pushes a session onto a process-wide stack and returns an
`InteractiveSession`. Each line `run` sends is one pipeline (the line, then Out-Default,
errors merged into output), so output arrives already formatted, as text, through the
host UI, as in PowerShell. `prompt()` evaluates the remote ``prompt`` function and gives
``[Server01]: PS C:\\Users\\me\\Documents> ``.

Entering by computer name makes a temporary session: it takes an id but is not listed by
get_pssession, and is closed when the interactive session ends. Entering by session, id,
name or instance id uses that PSSession, which stays Opened and Available afterwards.
``exit`` and ``Exit-PSSession`` typed as a line end the interactive session locally, so
they work even when the server no longer answers (PowerShell issue #10573).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psremoting.protocol.errors import PSRemotingError, SessionNotFoundError, SessionStateError
from psremoting.runspace.host_ui import BufferedHostUI, HostUI
from psremoting.transport.options import ConnectionInfo, PSCredential, SessionOption

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.cmdlets.sessions import PSSession
    from psremoting.runspace.pipeline import Pipeline

__all__ = ["InteractiveSession", "RunResult", "Completion", "enter_pssession", "exit_pssession", "current"]

log = logging.getLogger(__name__)

_EXIT_LINES = frozenset({"exit", "exit-pssession", "exsn"})
_stack_lock = threading.RLock()
_stack: list[InteractiveSession] = []


@dataclass
class RunResult:
    """What running one line did.

    `state` is the pipeline's end state (Completed, Failed, Stopped) or ``NotRun``;
    `exited` says the interactive session ended with this line (exit, Exit-PSSession, a
    remote PopRunspace or ``exit N``, or the session breaking); `exit_code` is N of a remote
    ``exit N``; `error` a local or transport error that was also written to the UI.
    """

    state: str = "Completed"
    exited: bool = False
    exit_code: int | None = None
    had_errors: bool = False
    error: PSRemotingError | None = None


@dataclass
class Completion:
    """Remote tab completion (TabExpansion2): replace ``line[replacement_index:
    replacement_index + replacement_length]`` by one of `matches`."""

    matches: list[str] = field(default_factory=list)
    replacement_index: int = 0
    replacement_length: int = 0
    details: list[Any] = field(default_factory=list)


def _reset_for_tests() -> None:
    """TEST ONLY: end every interactive session and empty the stack."""
    with _stack_lock:
        entered = list(reversed(_stack))
        _stack.clear()
    for item in entered:
        item._deactivate()


def current() -> InteractiveSession | None:
    """The innermost entered session, or None at the local prompt."""
    with _stack_lock:
        return _stack[-1] if _stack else None


class InteractiveSession:
    """An entered session: run lines, get the prompt, complete, stop (Ctrl+C), exit."""

    def __init__(self, session: PSSession, *, temporary: bool, ui: HostUI | None = None) -> None:
        self.session = session
        self.temporary = temporary
        self.ui: HostUI = ui if ui is not None else BufferedHostUI()
        self._active = True
        self._pipeline: Pipeline | None = None
        self._lock = threading.Lock()

    @property
    def computer_name(self) -> str:
        return self.session.computer_name

    @property
    def is_active(self) -> bool:
        return self._active

    def __repr__(self) -> str:
        kind = "temporary" if self.temporary else "PSSession"
        return f"<InteractiveSession {self.computer_name} ({kind} {self.session.name}) active={self._active}>"

    # --- prompt -------------------------------------------------------------------------
    def prompt(self, timeout: float = 30.0) -> str:
        """``[COMPUTER]: `` + the remote ``prompt`` function's text (``PS>`` if it fails)."""
        base = "PS>"
        if self._active and self.session.state.value == "Opened":
            try:
                result = self.session.runspace.start(
                    "prompt", timeout=timeout, annotate_output=False
                ).result()
                text = "".join(str(o) for o in result.output)
                if text.strip():
                    base = text
            except PSRemotingError as exc:
                log.debug("remote prompt failed: %s", exc)
        return f"[{self.computer_name}]: {base}"

    # --- lines --------------------------------------------------------------------------
    def run(self, line: str, ui: HostUI | None = None) -> RunResult:
        """Run one line remotely, with Out-Default: its output arrives through `ui` (or the
        session's UI) as it comes. ``exit`` / ``Exit-PSSession`` end the session locally."""
        target = ui if ui is not None else self.ui
        text = line.strip()
        if not self._active:
            raise SessionStateError("This interactive session has ended; enter a session again.")
        if text.lower() in _EXIT_LINES:
            self.exit()
            return RunResult(state="Completed", exited=True)
        if not text:
            return RunResult(state="NotRun")
        if self.session.state.value != "Opened":
            message = (
                f"Command '{text}' was not run as the session in which it was intended to run was either "
                "closed or broken"
            )
            target.write_error_line(message)
            self.exit()
            return RunResult(state="NotRun", exited=True, error=SessionStateError(message))
        result = RunResult(state="Completed")
        try:
            pipeline = self.session.runspace.start(
                line,
                out_default=True,
                merge_errors=True,
                ui=target,
                annotate_output=False,
                add_to_history=True,  # as Enter-PSSession: the server's Get-History lists typed lines
            )
            with self._lock:
                self._pipeline = pipeline
            for item in pipeline:
                _render(item.stream, item.value, target)
                if item.stream == "error":
                    result.had_errors = True
            result.state = pipeline.state
            result.exit_code = pipeline.exit_code
            if pipeline.state == "Failed":
                result.had_errors = True
            if pipeline.pop_requested:
                result.exited = True
        except PSRemotingError as exc:
            target.write_error_line(str(exc))
            result.state = "Failed"
            result.had_errors = True
            result.error = exc
        finally:
            with self._lock:
                self._pipeline = None
        if result.exited or self.session.state.value != "Opened":
            # PowerShell pops when the session breaks or closes under the user.
            result.exited = True
            self.exit()
        return result

    def stop(self) -> None:
        """Ctrl+C: stop the running line (the session stays). Safe from a signal handler or
        another thread."""
        pipeline = self._pipeline
        if pipeline is not None:
            pipeline.stop()

    def complete(self, line: str, cursor: int | None = None, timeout: float = 15.0) -> Completion:
        """Tab completion by the remote TabExpansion2."""
        from psremoting.runspace.pipeline import Command

        if not self._active or self.session.state.value != "Opened":
            return Completion()
        position = len(line) if cursor is None else cursor
        command = Command(
            "TabExpansion2", is_script=False, parameters={"inputScript": line, "cursorColumn": position}
        )
        try:
            result = self.session.runspace.start(commands=[command], timeout=timeout).result()
        except PSRemotingError as exc:
            log.debug("completion failed: %s", exc)
            return Completion()
        if not result.output:
            return Completion(replacement_index=position)
        found = result.output[0]
        get = found.get if hasattr(found, "get") else (lambda _k, d=None: d)
        matches = get("CompletionMatches", []) or []
        texts = [str(m.get("CompletionText", m) if hasattr(m, "get") else m) for m in matches]
        return Completion(
            matches=texts,
            replacement_index=int(get("ReplacementIndex", position) or 0),
            replacement_length=int(get("ReplacementLength", 0) or 0),
            details=list(matches),
        )

    def exit(self) -> None:
        """End this interactive session: pop it (and anything entered after it) from the
        stack; a temporary session is closed, a PSSession stays as it is."""
        with _stack_lock:
            if self in _stack:
                while _stack:
                    top = _stack.pop()
                    top._deactivate()
                    if top is self:
                        break
            else:
                self._deactivate()

    def _deactivate(self) -> None:
        if not self._active:
            return
        self._active = False
        self.session.runspace.host_state.is_pushed = False
        if self.temporary and self.session.state.value == "Disconnected":
            # The network stayed down past the retry period: the command is kept on the server,
            # and so is the session, for Connect-PSSession / Receive-PSSession later.
            from psremoting.cmdlets.sessions import register

            register(self.session)
        elif self.temporary:
            try:
                self.session.close()
            except Exception as exc:
                log.debug("closing the temporary session failed: %s", exc)


def _render(stream: str, value: Any, ui: HostUI) -> None:
    """Show a record that came on a stream (not through host calls) as the console would."""
    if stream == "output":
        ui.write_line(str(value))
    elif stream == "error":
        formatter = getattr(value, "format", None)
        ui.write_error_line(formatter() if callable(formatter) else str(value))
    elif stream == "warning":
        ui.write_warning_line(str(value))
    elif stream == "verbose":
        ui.write_verbose_line(str(value))
    elif stream == "debug":
        ui.write_debug_line(str(value))
    elif stream == "information":
        # Write-Host already reached the UI through a host call (its record is tagged
        # PSHOST), and so did Write-Information when the remote $InformationPreference (or
        # -InformationAction) is Continue: the server shows it through its host, once.
        return
    elif stream == "progress":
        ui.write_progress(0, value)


def _find_session(*, session: Any, id: Any, name: Any, instance_id: Any) -> PSSession:
    from psremoting.cmdlets.sessions import PSSession, _register, all_sessions

    if session is not None:
        if not isinstance(session, PSSession):
            raise TypeError(f"session must be a PSSession, not {type(session).__name__}")
        _register(session)  # AddOrReplace, as Enter-PSSession -Session does
        return session
    everything = all_sessions()
    if id is not None:
        hits = [s for s in everything if s.id == int(id)]
        if not hits:
            raise SessionNotFoundError(f"The remote session with the session ID {id} is not available.")
        if len(hits) > 1:
            raise SessionNotFoundError(f"Multiple matches found for session ID {id}.")
        return hits[0]
    if name is not None:
        hits = [s for s in everything if s.name.lower() == str(name).lower()]
        if not hits:
            raise SessionNotFoundError(f"The remote session with the name {name}  is not available.")
        if len(hits) > 1:
            raise SessionNotFoundError(f"Multiple matches found for name {name}.")
        return hits[0]
    guid = instance_id if isinstance(instance_id, uuid.UUID) else None
    if guid is None:
        try:
            guid = uuid.UUID(str(instance_id))
        except ValueError:
            raise SessionNotFoundError(f"Remote session is not available for {instance_id}.") from None
    hits = [s for s in everything if s.instance_id == guid]
    if not hits:
        raise SessionNotFoundError(f"Remote session is not available for {instance_id}.")
    return hits[0]


def enter_pssession(
    computer_name: str | None = None,
    *,
    session: PSSession | None = None,
    id: int | None = None,
    name: str | None = None,
    instance_id: uuid.UUID | str | None = None,
    connection_uri: str | None = None,
    credential: PSCredential | tuple[str, str] | None = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    configuration_name: str = "Microsoft.PowerShell",
    session_option: SessionOption | None = None,
    ui: HostUI | None = None,
    certificate_pem: str | None = None,
    certificate_key_pem: str | None = None,
) -> InteractiveSession:
    """Enter-PSSession: start an interactive session and push it onto the stack.

    By `computer_name` (or `connection_uri`): a temporary session, closed on exit. By
    `session`, `id`, `name` (exact, case-insensitive) or `instance_id`: that PSSession,
    which must be Opened (a Disconnected one is reconnected) and stays open after exit.
    """
    from psremoting.cmdlets.sessions import PSSession

    by_session = any(v is not None for v in (session, id, name, instance_id))
    if by_session and (computer_name is not None or connection_uri is not None):
        raise TypeError("enter_pssession takes a computer name/URI or a session, not both")
    if by_session:
        target = _find_session(session=session, id=id, name=name, instance_id=instance_id)
        if target.state.value == "Disconnected":
            try:
                target.reconnect()
            except PSRemotingError as exc:
                raise SessionStateError(
                    "A failure occurred while attempting to connect the PSSession.",
                    computer_name=target.computer_name, state=target.state.value,
                ) from exc  # fmt: skip
        if target.state.value != "Opened":
            if session is not None:
                message = (
                    f"Cannot enter session {target.id} because it is not in the disconnected state or is not "
                    f"available for connection. The session state is {target.state.value}."
                )
            else:
                message = f"Session must be open. The session state is {target.state.value}."
            raise SessionStateError(message, computer_name=target.computer_name, state=target.state.value)
        interactive = InteractiveSession(target, temporary=False, ui=ui)
    else:
        info = ConnectionInfo.create(
            computer_name if connection_uri is None else None, connection_uri=connection_uri,
            credential=credential, port=port, use_ssl=use_ssl, authentication=authentication,
            configuration_name=configuration_name, session_option=session_option,
            certificate_pem=certificate_pem, certificate_key_pem=certificate_key_pem,
        )  # fmt: skip
        temporary = PSSession(info, ui=ui)
        temporary.open()
        interactive = InteractiveSession(temporary, temporary=True, ui=ui)
    if ui is not None:
        interactive.session.runspace.host.ui_target = ui
    interactive.session.runspace.host_state.is_pushed = True
    with _stack_lock:
        _stack.append(interactive)
    return interactive


def exit_pssession() -> None:
    """Exit-PSSession: end the innermost interactive session; nothing happens when none is
    entered (as at PowerShell's local prompt)."""
    top = current()
    if top is not None:
        top.exit()
