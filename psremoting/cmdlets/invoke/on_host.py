"""One host of an Invoke-Command: connect, run, stream, stop, close (used by psremoting.cmdlets.invoke.command).

`run_on_host` is the callable the throttled fan-out runs in a worker thread per host. It
opens the temporary session of a computer name (or uses the PSSession given), starts the
script with its arguments, hands every output object and record to the consumer as it
arrives, stops the remote pipeline when told to (deadline, cancel), and always closes a
temporary session. It never raises for a host's failure: it returns the host's `HostResult`.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psremoting.cmdlets.invoke.results import (
    HostResult,
    HostStatus,
    InvokeEvent,
    as_error_record,
    connection_failure_record,
    timeout_record,
)
from psremoting.cmdlets.invoke.throttle import Emitted, FanOut, Finished, TargetContext
from psremoting.protocol.errors import (
    CommandDisconnectedError,
    ConnectionFailedError,
    PSRemotingError,
    PSRemotingTimeoutError,
    RemoteErrorRecord,
    SessionBrokenError,
)
from psremoting.protocol.objects import InformationRecord, PSObject
from psremoting.protocol.session_texts import RC_DISCONNECT_SESSION, RC_DISCONNECT_SESSION_CREATED
from psremoting.runspace.host_ui import NonInteractiveHostUI
from psremoting.runspace.pipeline import Command
from psremoting.transport.options import ConnectionInfo


@dataclass(frozen=True)
class Target:
    """One place to run: a computer name (temporary session) or an existing PSSession."""

    computer_name: str
    session: Any = None  # a psremoting.cmdlets.sessions.PSSession, or None for a temporary session
    info: ConnectionInfo | None = None  # how to connect, for a temporary session
    #: Receive this command of the session (Receive-PSSession) instead of starting the script.
    resume: str | None = None


#: How long a host told to stop (deadline, cancel) gets to stop its pipeline and close.
STOP_GRACE = 15.0


def run_on_host(
    target: Target,
    ctx: TargetContext[Target],
    script: str | Command,
    arguments: list[Any],
    using_values: dict[str, Any] | None,
    hide_computer_name: bool,
    timeout: float | None,
    input_items: Iterable[Any] | None = None,
    prompter: Any = None,
) -> HostResult:
    """Connect (unless a session was given), run, stream everything to the consumer, close.

    `input_items` is the pipeline input (Invoke-Command -InputObject), sent as it is read;
    `prompter` answers the remote prompts (a HostUI), or there is no host UI."""
    name = target.computer_name
    started = time.monotonic()
    result = HostResult(name)

    def emit(kind: Any, value: Any) -> None:
        ctx.emit(InvokeEvent(kind, name, value, ctx.index))

    pssession = target.session
    temporary = pssession is None
    try:
        if temporary:
            pssession = _open_temporary(target, ctx)
            if isinstance(pssession, BaseException):
                return _not_connected(result, ctx, pssession, timeout, started)
        result.runspace_id = pssession.instance_id
        if ctx.stop_requested.is_set():
            return _stopped(result, ctx, timeout, started, ran=False)

        def deliver(stream: str, value: Any) -> None:
            """Keep an item in the host's result and hand it to the consumer."""
            if stream == "output":
                result.output.append(value)
            elif stream == "error":
                value = as_error_record(value, name, result.runspace_id)
                result.errors.append(value)
            elif stream in ("warning", "verbose", "debug"):
                value = str(value)
                getattr(result, "warnings" if stream == "warning" else stream).append(value)
            elif stream == "information":
                result.information.append(value)
            emit(stream, value)

        host_ui = _EventHostUI(deliver, prompter)
        if target.resume is not None:
            pipeline = pssession.runspace.start(
                resume=target.resume,
                timeout=ctx.remaining(),
                annotate_output=True,
                show_computer_name=not hide_computer_name,
                ui=host_ui,
            )
        elif isinstance(script, Command):  # a command by name, with its parameters
            pssession.runspace.require_opened()
            pipeline = pssession.runspace.start(
                commands=[script],
                input=input_items,
                timeout=ctx.remaining(),
                annotate_output=True,
                show_computer_name=not hide_computer_name,
                ui=host_ui,
            )
        else:
            pipeline = pssession.start(
                script,
                arguments=arguments,
                parameters={"--%": using_values} if using_values else None,
                input=input_items,
                timeout=ctx.remaining(),
                annotate=True,
                show_computer_name=not hide_computer_name,
                ui=host_ui,
            )
        unregister = ctx.on_stop(pipeline.stop)
        timed_out = False
        try:
            for item in pipeline:
                if item.stream == "information" and host_ui.seen_in_stream(item.value):
                    continue
                deliver(item.stream, item.value)
        except PSRemotingTimeoutError:
            if not pipeline.timed_out:
                raise  # a transport timeout, not the deadline: the connection failed
            timed_out = True
        finally:
            unregister()
        result.exit_code = pipeline.exit_code
        if timed_out or pipeline.timed_out or pipeline.state == "Stopped":
            return _stopped(
                result, ctx, timeout, started, ran=True, timed_out=timed_out or pipeline.timed_out
            )
        result.pipeline_state = pipeline.state
        failed = bool(result.errors) or pipeline.state == "Failed" or (result.exit_code or 0) != 0
        result.status = HostStatus.FAILED if failed else HostStatus.COMPLETED
        if failed:
            result.reason = _failure_reason(result)
    except CommandDisconnectedError as exc:  # the network stayed down: kept on the server
        record = _disconnected_record(name, exc, result.runspace_id)
        emit("error", record)
        result.errors.append(record)
        for text in _disconnected_warnings(pssession, temporary=temporary):
            emit("warning", text)
            result.warnings.append(text)
        if temporary:
            from psremoting.cmdlets.sessions import register

            register(pssession)  # PowerShell: "has been created for reconnection"
            temporary = False
        result.status = HostStatus.DISCONNECTED
        result.session = pssession
        result.reason = exc.message
    except (ConnectionFailedError, SessionBrokenError) as exc:  # the connection broke while running
        record = (
            connection_failure_record(name, exc)
            if isinstance(exc, ConnectionFailedError)
            else _broken_record(name, exc, result.runspace_id, temporary=temporary)
        )
        record.extra["exception"] = exc
        emit("error", record)
        result.errors.append(record)
        result.status = HostStatus.CONNECTION_FAILED
        result.reason = getattr(exc, "reason", None) or exc.message
    finally:
        if temporary and pssession is not None and not isinstance(pssession, BaseException):
            _close_quietly(pssession)
    result.duration = time.monotonic() - started
    return result


def _open_temporary(target: Target, ctx: TargetContext[Target]) -> Any:
    """Open the temporary session of a computer name; the error instead if it failed.

    As in PowerShell, a temporary session takes two ids from the session counter (one for
    its id, one for its name) and is not added to the registry. Opening is bounded by what
    is left of the invocation's deadline.
    """
    from psremoting.cmdlets.sessions import PSSession, next_session_id

    info = target.info
    assert info is not None, "a computer-name target always has its ConnectionInfo"
    remaining = ctx.remaining()
    if remaining is not None:
        info = info.with_option(open_timeout=max(1.0, min(info.session_option.open_timeout, remaining)))
    session = PSSession(info, session_id=next_session_id(), name=f"Session{next_session_id()}")
    try:
        session.open()
    except PSRemotingError as exc:
        return exc
    return session


def _not_connected(
    result: HostResult, ctx: TargetContext[Target], exc: BaseException, timeout: float | None, started: float
) -> HostResult:
    name = result.computer_name
    remaining = ctx.remaining()
    # The open was bounded by what was left of the deadline: its timeout is the deadline's.
    deadline_hit = ctx.cancel_reason == "timeout" or (
        isinstance(exc, PSRemotingTimeoutError) and remaining is not None and remaining < 1.0
    )
    if deadline_hit and timeout is not None:
        record = timeout_record(name, timeout, started=True)
        result.status = HostStatus.TIMED_OUT
        detail = exc.reason if isinstance(exc, ConnectionFailedError) else str(exc)
        result.reason = f"could not connect within the timeout of {timeout:g} seconds: {detail}"
    elif isinstance(exc, ConnectionFailedError):
        record = connection_failure_record(name, exc)
        result.status = HostStatus.CONNECTION_FAILED
        result.reason = exc.reason
    else:
        record = as_error_record(internal_error_record(name, exc), name)
        result.status = HostStatus.CONNECTION_FAILED
        result.reason = str(exc)
    record.extra["exception"] = exc
    ctx.emit(InvokeEvent("error", name, record, ctx.index))
    result.errors.append(record)
    result.duration = time.monotonic() - started
    return result


def _disconnected_record(
    name: str, exc: CommandDisconnectedError, runspace_id: uuid.UUID | None
) -> RemoteErrorRecord:
    """PowerShell's RCAutoDisconnectingError record (FQID PowerShellNetworkFailedStartDisconnect)."""
    return RemoteErrorRecord(
        message=f"[{name}] {exc.message}",
        category="OperationTimeout",
        target_name=name,
        target_type="PSSession",
        reason="RuntimeException",
        fully_qualified_error_id="PowerShellNetworkFailedStartDisconnect",
        target_object=name,
        exception_type="System.Management.Automation.RuntimeException",
        computer_name=name,
        runspace_id=runspace_id,
    )


def _disconnected_warnings(pssession: Any, *, temporary: bool) -> list[str]:
    """What Invoke-Command warns once a command was left in a disconnected session."""
    texts = [RC_DISCONNECT_SESSION.format(pssession.name, pssession.instance_id, pssession.computer_name)]
    if temporary:
        texts.append(RC_DISCONNECT_SESSION_CREATED.format(pssession.name, pssession.instance_id))
    return texts


def _broken_record(
    name: str, exc: SessionBrokenError, runspace_id: uuid.UUID | None, *, temporary: bool
) -> RemoteErrorRecord:
    """The record for a session that broke while the command ran (FQID PSSessionStateBroken)."""
    if temporary and exc.reason:  # the user never saw this session: no advice about removing it
        message = (
            f"[{name}] The connection to {name} broke while the command ran: {exc.reason} "
            "The command may not have finished; run it again."
        )
    else:
        message = f"[{name}] {exc.message}"
    return RemoteErrorRecord(
        message=message,
        category="OpenError",
        target_name=name,
        target_type="String",
        reason="PSRemotingTransportException",
        fully_qualified_error_id="PSSessionStateBroken",
        target_object=name,
        exception_type="System.Management.Automation.Remoting.PSRemotingTransportException",
        computer_name=name,
        runspace_id=runspace_id,
    )


class _EventHostUI(NonInteractiveHostUI):
    """The host of an Invoke-Command pipeline: text written to the host (Write-Host, host
    calls) becomes "information" events, warnings and the like their own events. Without a
    `prompter` it is not interactive: Read-Host, Get-Credential and prompts fail on the server
    with PowerShell's non-interactive-host error (HostFunctionNotImplemented), as nobody could
    answer them. With one (the shell's console), prompts go to it, one host at a time."""

    _prompt_lock = threading.Lock()  # one prompt on the console at a time, whichever host asks

    def __init__(self, emit: Callable[[Any, Any], None], prompter: Any = None) -> None:
        super().__init__()
        self._emit = emit
        self._prompter = prompter
        self.interactive = prompter is not None
        self._partial = ""
        # Write-Host may arrive twice, as a host call and as an information record tagged
        # PSHOST; each line is shown once, whichever comes first.
        self._from_host: Counter[str] = Counter()
        self._from_stream: Counter[str] = Counter()
        self._colors: tuple[str | None, str | None] = (None, None)

    def write(self, text: str, fg: str | None = None, bg: str | None = None) -> None:
        self._partial += text
        if fg is not None or bg is not None:
            self._colors = (fg, bg)

    def write_line(self, text: str = "") -> None:
        line, self._partial = self._partial + text, ""
        (fg, bg), self._colors = self._colors, (None, None)
        if self._from_stream[line]:
            self._from_stream[line] -= 1
            return
        self._from_host[line] += 1
        data: Any = line
        if fg is not None or bg is not None:  # Write-Host's colours, as its HostInformationMessage has them
            data = PSObject(
                ["System.Management.Automation.HostInformationMessage", "System.Object"],
                {"Message": line, "NoNewLine": False, "ForegroundColor": fg, "BackgroundColor": bg},
                line,
            )
        self._emit("information", InformationRecord(message_data=data, source="Write-Host", tags=["PSHOST"]))

    def seen_in_stream(self, record: Any) -> bool:
        """Note an information record; True if the host already showed it (drop it then)."""
        tags = getattr(record, "tags", None) or []
        if "PSHOST" not in tags and getattr(record, "source", None) != "Write-Host":
            return False
        line = str(getattr(record, "message_data", ""))
        if self._from_host[line]:
            self._from_host[line] -= 1
            return True
        self._from_stream[line] += 1
        return False

    def write_error_line(self, text: str) -> None:
        self._emit("information", InformationRecord(message_data=text, source="Write-Host", tags=["PSHOST"]))

    # -- prompts, forwarded to the prompter (only asked when there is one) -------------------
    def read_line(self) -> str:
        with self._prompt_lock:
            return str(self._prompter.read_line())

    def read_line_as_secure_string(self) -> str:
        with self._prompt_lock:
            return str(self._prompter.read_line_as_secure_string())

    def prompt_for_credential(
        self, caption: str, message: str, user_name: str, target_name: str
    ) -> tuple[str, str]:
        with self._prompt_lock:
            pair = self._prompter.prompt_for_credential(caption, message, user_name, target_name)
        return pair[0], pair[1]

    def prompt_for_choice(self, caption: str, message: str, choices: list[Any], default: int) -> int:
        with self._prompt_lock:
            return int(self._prompter.prompt_for_choice(caption, message, choices, default))

    def prompt(self, caption: str, message: str, descriptions: list[Any]) -> dict[str, Any]:
        with self._prompt_lock:
            return dict(self._prompter.prompt(caption, message, descriptions))

    def write_warning_line(self, text: str) -> None:
        self._emit("warning", text)

    def write_verbose_line(self, text: str) -> None:
        self._emit("verbose", text)

    def write_debug_line(self, text: str) -> None:
        self._emit("debug", text)


def _stopped(
    result: HostResult,
    ctx: TargetContext[Target],
    timeout: float | None,
    started: float,
    *,
    ran: bool,
    timed_out: bool = False,
) -> HostResult:
    if (timed_out or ctx.cancel_reason == "timeout") and timeout is not None:
        record = timeout_record(result.computer_name, timeout, started=True, runspace_id=result.runspace_id)
        ctx.emit(InvokeEvent("error", result.computer_name, record, ctx.index))
        result.errors.append(record)
        result.status = HostStatus.TIMED_OUT
        result.reason = (
            f"did not finish within the timeout of {timeout:g} seconds; the remote pipeline was stopped"
        )
    else:
        result.status = HostStatus.STOPPED
        result.reason = "stopped because the invocation was cancelled" + ("" if ran else " before it ran")
    result.duration = time.monotonic() - started
    return result


def _failure_reason(result: HostResult) -> str:
    if result.errors:
        count = len(result.errors)
        return f"{count} error{'s' if count > 1 else ''}: {result.errors[0].message}"
    if result.exit_code:
        return f"the script exited with code {result.exit_code}"
    return "the command failed"


def fan_events(fan: FanOut[Target], timeout: float | None) -> Generator[InvokeEvent, None, None]:
    """The events of a running fan-out, each host ending with its "finished" event."""
    completed = False
    try:
        for event in fan:
            if isinstance(event, Emitted):
                yield event.item
            else:
                yield from finished_events(event, timeout)
        completed = True
    finally:
        if not completed:
            # Closed early (a break, error_action="stop", Ctrl+C): stop the hosts still running
            # and give them the grace period to stop their pipelines and close their sessions.
            fan.cancel()
            fan.join(STOP_GRACE)
        else:
            # Every host reported; only abandoned ones (already given the grace) may remain.
            fan.join(1.0)


def finished_events(event: Finished[Target], timeout: float | None) -> Iterator[InvokeEvent]:
    """The events for a host's end as the scheduler reports it."""
    name = event.target.computer_name
    index = event.index
    if event.outcome == "returned":
        yield InvokeEvent("finished", name, event.result, index)
        return
    result = HostResult(name, duration=event.duration)
    if event.outcome == "raised":
        exc = event.error
        record = as_error_record(internal_error_record(name, exc), name)
        result.status = HostStatus.FAILED
        result.reason = f"{type(exc).__name__}: {exc}"
    elif event.cancel_reason == "timeout" and timeout is not None:
        record = timeout_record(name, timeout, started=event.outcome == "abandoned")
        result.status = HostStatus.TIMED_OUT
        result.reason = (
            f"did not finish within the timeout of {timeout:g} seconds"
            if event.outcome == "abandoned"
            else f"not started: the timeout of {timeout:g} seconds passed first"
        )
    else:
        result.status = HostStatus.STOPPED
        result.reason = "stopped because the invocation was cancelled"
        yield InvokeEvent("finished", name, result, index)
        return
    result.errors.append(record)
    yield InvokeEvent("error", name, record, index)
    yield InvokeEvent("finished", name, result, index)


def internal_error_record(name: str, exc: BaseException | None) -> RemoteErrorRecord:
    return RemoteErrorRecord(
        message=f"[{name}] {exc}",
        category="NotSpecified",
        target_name=name,
        target_type="String",
        reason=type(exc).__name__,
        fully_qualified_error_id=f"{type(exc).__name__},InvokeCommand",
        computer_name=name,
    )


def _close_quietly(pssession: Any) -> None:
    # Closing a temporary session must not hide the host's result.
    with contextlib.suppress(Exception):
        pssession.close()
