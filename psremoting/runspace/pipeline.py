"""Pipelines on a runspace pool: start, stream, stop, close.

A `Pipeline` is one remote PowerShell invocation. Iterating it starts the command and
yields `StreamItem`s as they arrive (output objects and the six streams, in the order the
server sent them); `result()` drains it into a `PipelineResult` of lists. Every pipeline is
closed on the server (WSMan Signal terminate) when it ends, however it ends, so that a
long-lived session never reaches the server's command quota.

Receives are short long-polls (`poll_interval`): between them the loop sends a stop
(Ctrl+C) that `stop()` asked for from another thread or a signal handler, and enforces the
deadline. The loop is bounded: each pass takes about a poll even when the server answers
the OperationTimeout fault (HTTP 500) at once, any other fault ends it, and once a stop is
sent (asked for, or the deadline passed) it ends within the session's cancel_timeout. A
Ctrl+C while the command's input is being sent still terminates the command on the server.
Output is decoded by `psremoting.protocol.objects.from_clixml` in one linear pass, and
fragments are reassembled in linear time; nothing is kept that the caller did not ask for.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from psremoting.protocol.errors import (
    ERROR_CATEGORIES,
    PipelineStoppedError,
    PSRemotingError,
    PSRemotingTimeoutError,
    RemoteError,
    RemoteErrorRecord,
    SessionBrokenError,
)
from psremoting.protocol.fragments import (
    BOM,
    DEBUG,
    ERROR,
    INFORMATION,
    OUTPUT_TYPE_BYTES,
    PIPELINE_HOST_CALL,
    POOL_HOST_CALL,
    POOL_STATE,
    PROGRESS,
    STATE,
    VERBOSE,
    WARNING,
    Defragmenter,
)
from psremoting.protocol.objects import InformationRecord, annotate, from_clixml, from_pypsrp, progress_from
from psremoting.runspace.host import HostUI
from psremoting.runspace.pipeline_start import begin_invoke, input_generator
from psremoting.runspace.pool import (
    OPERATION_TIMEOUT_FAULT,
    SHELL_NOT_FOUND_FAULTS,
    map_connection_error,
)
from psremoting.runspace.wire import WireContext, to_wire, wire_items

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.pool import RunspacePoolConnection

__all__ = ["Pipeline", "PipelineResult", "StreamItem", "Command", "error_record_from"]

log = logging.getLogger(__name__)

StreamName = Literal["output", "error", "warning", "verbose", "debug", "information", "progress"]

#: WSMan faults a Receive gets for a command the server no longer has
#: (ERROR_WSMAN_UNEXPECTED_SELECTORS, ERROR_WSMAN_INVALID_SELECTORS). The first is also the
#: shell-not-found fault: after a stop it ends only this command; the next one finds out
#: whether the shell is there.
_COMMAND_GONE_FAULTS = frozenset({0x8033805B, 0x8033803D})

# PSInvocationState
_STATES = {
    0: "NotStarted",
    1: "Running",
    2: "Stopping",
    3: "Stopped",
    4: "Completed",
    5: "Failed",
    6: "Disconnected",
}


@dataclass
class StreamItem:
    """One thing a pipeline produced: ``stream`` says which stream, ``value`` is an output
    object, a `RemoteErrorRecord`, a message string (warning/verbose/debug), an
    `InformationRecord` or a `ProgressRecord`."""

    stream: StreamName
    value: Any


@dataclass
class Command:
    """One command of a pipeline: a script (``is_script=True``) or a command name, with
    positional `arguments` and named `parameters` (a value of None makes a switch)."""

    text: str
    is_script: bool = True
    arguments: Sequence[Any] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    merge_errors: bool = False


@dataclass
class PipelineResult:
    """All of a finished pipeline: `output` and each stream as lists, the final `state`
    (Completed, Failed, Stopped), and `exit_code` when the script ran ``exit N``."""

    output: list[Any] = field(default_factory=list)
    error: list[RemoteErrorRecord] = field(default_factory=list)
    warning: list[str] = field(default_factory=list)
    verbose: list[str] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)
    information: list[InformationRecord] = field(default_factory=list)
    progress: list[Any] = field(default_factory=list)
    state: str = "NotStarted"
    exit_code: int | None = None

    @property
    def had_errors(self) -> bool:
        return bool(self.error) or self.state == "Failed"

    def add(self, item: StreamItem) -> None:
        getattr(self, item.stream).append(item.value)


def error_record_from(
    record: Any, computer_name: str | None, runspace_id: uuid.UUID | None
) -> RemoteErrorRecord:
    """A RemoteErrorRecord from pypsrp's deserialized ErrorRecord (or a PSObject of one)."""

    def get(name: str) -> Any:
        return getattr(record, name, None)

    exception = from_pypsrp(get("exception"))
    exc_message = None
    exc_type = None
    if exception is not None and hasattr(exception, "get"):
        exc_message = exception.get("Message")
        types = getattr(exception, "type_names", [])
        exc_type = types[0] if types else None
    to_string = getattr(record, "_to_string", None)
    message = get("details_message") or to_string or exc_message or get("message") or "Unknown remote error"
    category_value = get("category")
    try:
        category = ERROR_CATEGORIES[int(category_value)]
    except (TypeError, ValueError, IndexError):
        category = str(category_value or "NotSpecified")
    return RemoteErrorRecord(
        message=str(message),
        category=category,
        activity=get("activity"),
        reason=get("reason"),
        target_name=get("target_name"),
        target_type=get("target_type"),
        fully_qualified_error_id=str(get("fq_error") or ""),
        target_object=from_pypsrp(get("target_object")),
        exception_type=exc_type,
        script_stack_trace=get("script_stacktrace"),
        position_message=get("invocation_position_message"),
        computer_name=computer_name,
        runspace_id=runspace_id,
    )


class Pipeline:
    """One remote invocation on a `RunspacePoolConnection` (see the module docstring).

    Build it with `RunspacePoolConnection.start(...)` or `PSSession.start(...)`. Iterate it
    once; or call `result()`. `stop()` may be called from any thread or a signal handler.
    """

    def __init__(
        self,
        pool: RunspacePoolConnection,
        script: str | None = None,
        *,
        arguments: Sequence[Any] = (),
        parameters: dict[str, Any] | None = None,
        commands: Sequence[Command] | None = None,
        input: Iterable[Any] | None = None,
        out_default: bool = False,
        merge_errors: bool = False,
        ui: HostUI | None = None,
        timeout: float | None = None,
        annotate_output: bool = False,
        show_computer_name: bool = True,
        poll_interval: float = 1.0,
        add_to_history: bool = False,
    ) -> None:
        if commands is None:
            if script is None:
                raise ValueError("give a script or commands")
            commands = [
                Command(script, True, tuple(arguments), dict(parameters or {}), merge_errors=merge_errors)
            ]
        if not commands:
            raise ValueError("a pipeline needs at least one command")
        self.pool = pool
        self.commands = list(commands)
        if out_default:
            self.commands.append(Command("Out-Default", is_script=False))
        self.input = input
        self.ui = ui
        self.timeout = timeout
        self.annotate_output = annotate_output
        self.show_computer_name = show_computer_name
        self.poll_interval = max(0.2, poll_interval)
        self.add_to_history = add_to_history
        self.state = "NotStarted"
        self.exit_code: int | None = None
        self.pop_requested = False
        self.failed_record: RemoteErrorRecord | None = None
        self.timed_out = False
        self._stop_event = threading.Event()
        self._iterated = False
        self._ps: Any = None

    # --- control ------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the running command to stop (Ctrl+C). Safe from any thread or a signal
        handler: it only sets a flag, which the polling loop acts on within a poll interval."""
        self._stop_event.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    def __iter__(self) -> Iterator[StreamItem]:
        if self._iterated:
            raise RuntimeError("a Pipeline can be iterated only once")
        self._iterated = True
        return self._run()

    def output(self) -> Iterator[Any]:
        """Iterate only the output objects (the other streams are dropped); remote errors are
        not raised."""
        for item in self:
            if item.stream == "output":
                yield item.value

    def result(
        self, *, error_action: str = "continue", on_item: Callable[[StreamItem], None] | None = None
    ) -> PipelineResult:
        """Run to the end and collect everything. With ``error_action="stop"`` the first
        remote error stops the command and raises `RemoteError`."""
        result = PipelineResult()
        stop_on_error = error_action.lower() == "stop"
        items = iter(self)
        try:
            for item in items:
                if on_item is not None:
                    on_item(item)
                if stop_on_error and item.stream == "error":
                    self.stop()
                    for _rest in items:  # let the loop send the stop and close the pipeline
                        pass
                    raise RemoteError(item.value)
                if error_action.lower() == "ignore" and item.stream == "error":
                    continue  # SilentlyContinue still records the error, Ignore does not
                result.add(item)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        result.state = self.state
        result.exit_code = self.exit_code
        return result

    # --- the loop -----------------------------------------------------------------------
    def _run(self) -> Iterator[StreamItem]:  # noqa: C901 - the protocol loop reads best in one piece
        from pypsrp.exceptions import WSManFaultError
        from pypsrp.powershell import PowerShell
        from pypsrp.shell import SignalCode

        pool = self.pool
        info = pool.info
        deadline = time.monotonic() + self.timeout if self.timeout is not None else None
        if not pool.lock.acquire(timeout=info.session_option.operation_timeout):
            raise PSRemotingError(f"The session {pool.label} stayed busy; the command was not started.")
        command_created = False
        stop_sent_at: float | None = None
        previous_ui = pool.host.ui_target
        try:
            pool.require_opened()
            pool.current = self
            pool.set_busy(True)
            pool.host_state.reset()
            if self.ui is not None:
                pool.host.ui_target = self.ui
            ps = PowerShell(pool.pool)
            self._ps = ps
            wire = WireContext(pool.pool.exchange_keys)
            for cmd in self.commands:
                if cmd.is_script:
                    ps.add_script(cmd.text)
                else:
                    ps.add_cmdlet(cmd.text)
                for arg in cmd.arguments:
                    ps.add_argument(to_wire(arg, wire))
                for name, value in cmd.parameters.items():
                    ps.add_parameter(name, to_wire(value, wire))
                if cmd.merge_errors:
                    ps.merge_error("output")
            invoking = False
            try:
                input_iter = input_generator(wire_items(self.input, wire)) if self.input is not None else None
                invoking = True
                begin_invoke(ps, pool, input_iter, add_to_history=self.add_to_history)
                command_created = True
            except Exception as exc:
                command_created = ps._command_id is not None
                raise self._transport_failure(exc, during="starting the command") from exc
            except BaseException:
                # Ctrl+C (or SystemExit) while the Command or its input Sends were on the
                # way: the server may hold the command, waiting for input that will never
                # come, and with it the pool's runspace, so every later command would
                # queue behind it. The command id is the client's (pypsrp sends ps.id),
                # so the terminate in `finally` reaches it even when the Command's answer
                # was lost; a request cut half way leaves its connection (and the message
                # encryption's sequence numbers) unusable, so the transport starts afresh.
                command_created = invoking
                self._stop_event.set()
                if invoking:
                    _reset_transport(pool)
                raise
            self.state = "Running"
            defrag = Defragmenter()
            serializer = pool.pool._serializer
            decrypt = _decryptor(serializer)
            computer = info.computer_name
            rid = pool.instance_id
            annotate_output, show_computer_name = self.annotate_output, self.show_computer_name
            connection_retry_used = False
            while True:
                now = time.monotonic()
                asked = self._stop_event.is_set() or pool.host_state.extra.pop("stop_requested", False)
                if stop_sent_at is None and asked:
                    self._stop_event.set()
                    stop_sent_at = now
                    self._send_signal(ps, SignalCode.PS_CTRL_C)
                if stop_sent_at is None and deadline is not None and now >= deadline:
                    self.timed_out = True
                    self._stop_event.set()
                    stop_sent_at = now
                    self._send_signal(ps, SignalCode.PS_CTRL_C)
                if stop_sent_at is not None and now - stop_sent_at > info.session_option.cancel_timeout:
                    self.state = "Stopped"
                    break
                poll = self.poll_interval
                if deadline is not None and stop_sent_at is None:
                    poll = max(0.2, min(poll, deadline - now))
                try:
                    _state, _rc, streams = pool.pool.shell.receive(
                        "stdout", command_id=ps._command_id, timeout=_wsman_timeout(poll)
                    )
                except WSManFaultError as fault:
                    if fault.code == OPERATION_TIMEOUT_FAULT:
                        # Nothing yet (HTTP 500 by WSMan's design). A server that answers so
                        # before the long-poll is over would make this a busy loop of
                        # requests: wait out the poll (a stop still wakes it), so that every
                        # pass takes about a poll, and the stop / deadline / cancel_timeout
                        # checks above bound the whole loop in time.
                        rest = now + poll - time.monotonic()
                        if rest > 0 and stop_sent_at is None:
                            self._stop_event.wait(rest)
                        elif rest > 0:
                            time.sleep(rest)
                        continue
                    if stop_sent_at is not None and fault.code in _COMMAND_GONE_FAULTS:
                        # Stopped, and the server already forgot the command: it is over.
                        self.state = "Stopped"
                        break
                    raise self._transport_failure(fault, during="receiving output") from fault
                except KeyboardInterrupt:
                    # The request was cut half way: its connection (and the message
                    # encryption's sequence numbers) cannot be trusted any more.
                    self._stop_event.set()
                    _reset_transport(pool)
                    raise
                except Exception as exc:
                    if not connection_retry_used and _is_connection_drop(exc):
                        # A dropped keep-alive connection: Receive again once on a new one.
                        connection_retry_used = True
                        _reset_transport(pool)
                        continue
                    raise self._transport_failure(exc, during="receiving output") from exc
                connection_retry_used = False
                for data in defrag.feed(streams.get("stdout", b"")):
                    if data[4:8] == OUTPUT_TYPE_BYTES:
                        # Output, the bulk of a big answer: decoded here without a call more.
                        payload = data[43:] if data[40:43] == BOM else data[40:]
                        value = from_clixml(payload, decrypt=decrypt)
                        if annotate_output:
                            value = annotate(value, computer, rid, show_computer_name)
                        yield StreamItem("output", value)
                        continue
                    item = self._handle(data, ps, serializer, decrypt, computer, rid)
                    if item is not None:
                        if (
                            item.stream == "error"
                            and stop_sent_at is not None
                            and _is_stop_record(item.value)
                        ):
                            continue
                        yield item
                if self.state not in ("Running", "Stopping"):
                    break
                if str(_state).endswith("/Done"):
                    # WSMan says the command is over, yet its final state never arrived: the
                    # answer that carried it was lost with a dropped connection.
                    raise PSRemotingError(
                        f"The connection to {computer} was lost while the command's last output was in "
                        "transit; the command finished on the server, but some of its output or errors "
                        "may be missing.",
                        computer_name=computer,
                    )
            if self.timed_out:
                raise PSRemotingTimeoutError(
                    f"The command on {computer} did not complete within {self.timeout:g} seconds and was stopped.",
                    computer_name=computer,
                )
        finally:
            pool.host.ui_target = previous_ui
            self.exit_code = pool.host_state.exit_code
            self.pop_requested = pool.host_state.pop_requested or pool.host_state.should_exit
            try:
                if command_created and self._ps is not None and pool.state.value == "Opened":
                    self._close_on_server(self._ps)
            finally:
                if self.state in ("NotStarted", "Running", "Stopping"):
                    self.state = "Stopped" if self._stop_event.is_set() else "Failed"
                pool.current = None
                pool.set_busy(False)
                pool.lock.release()

    def _handle(
        self, data: bytes, ps: Any, serializer: Any, decrypt: Any, computer: str, rid: uuid.UUID
    ) -> StreamItem | None:
        from pypsrp.messages import Message, PipelineHostResponse, RunspacePoolHostResponse

        mtype = struct.unpack_from("<I", data, 4)[0]  # output never comes here: see _run
        message = Message.unpack(data, serializer)
        body: Any = message.data
        if mtype == ERROR:
            return StreamItem("error", error_record_from(body, computer, rid))
        if mtype == STATE:
            self.state = _STATES.get(int(body.state), str(body.state))
            ps.state = body.state
            if body.error_record is not None and self.state == "Failed":
                record = error_record_from(body.error_record, computer, rid)
                self.failed_record = record
                return StreamItem("error", record)
            return None
        if mtype in (WARNING, VERBOSE, DEBUG):
            stream: StreamName = "warning" if mtype == WARNING else "verbose" if mtype == VERBOSE else "debug"
            return StreamItem(stream, str(body.message or ""))
        if mtype == INFORMATION:
            return StreamItem(
                "information",
                InformationRecord(
                    message_data=from_pypsrp(body.message_data),
                    source=body.source,
                    tags=list(body.tags or []),
                    computer=body.computer,
                    user=body.user,
                ),
            )
        if mtype == PROGRESS:
            return StreamItem("progress", progress_from(body))
        if mtype == PIPELINE_HOST_CALL:
            self.pool.pool._process_host_call(message, PipelineHostResponse, ps)
            return None
        if mtype == POOL_HOST_CALL:
            self.pool.pool._process_host_call(message, RunspacePoolHostResponse)
            return None
        if mtype == POOL_STATE and int(body.state) in (3, 4, 5):  # Closed, Closing, Broken
            raise self.pool.mark_broken("the server closed the session.")
        return None

    def _send_signal(self, ps: Any, code: str) -> None:
        try:
            self.pool.pool.shell.signal(code, ps._command_id or ps.id)
        except Exception as exc:  # noqa: BLE001 - the next Receive reports a dead session
            log.debug("signal %s failed: %s", code, exc)

    def _close_on_server(self, ps: Any) -> None:
        from pypsrp.exceptions import WSManFaultError
        from pypsrp.shell import SignalCode

        try:
            self.pool.pool.shell.signal(SignalCode.TERMINATE, ps._command_id or ps.id)
        except WSManFaultError as fault:
            log.debug("terminate signal: %s", fault)
        except Exception as exc:  # noqa: BLE001 - report, but the pipeline is over anyway
            log.debug("terminate signal failed: %s", exc)
            _reset_transport(self.pool)
        finally:
            self.pool.pool.pipelines.pop(ps.id, None)

    def _transport_failure(self, exc: BaseException, *, during: str) -> PSRemotingError:
        """Classify a failure while the command ran: a lost shell or a dead connection makes
        the session Broken; anything else is reported as it is."""
        from pypsrp.exceptions import WSManFaultError

        error = map_connection_error(exc, self.pool.info, opening=False)
        if isinstance(exc, WSManFaultError) and exc.code in SHELL_NOT_FOUND_FAULTS:
            return self.pool.mark_broken(
                "the server no longer has the session's shell (it may have restarted, or closed the session "
                "after its idle timeout)."
            )
        if isinstance(error, SessionBrokenError):
            return self.pool.mark_broken(error.reason or error.message)
        if isinstance(exc, WSManFaultError):
            return error
        # A transport failure: the session is Broken only if the server cannot be reached
        # or no longer has it; a single dropped connection is not enough.
        _reset_transport(self.pool)
        if self.pool.check_alive(timeout=5):
            return PSRemotingError(
                f"The connection to {self.pool.info.computer_name} failed while {during}, so the command's "
                f"outcome is unknown ({getattr(error, 'reason', error.message)}). The session is still open: "
                "run the command again if "
                "it is safe to repeat.",
                computer_name=self.pool.info.computer_name,
            )
        if self.pool.state.value == "Broken":
            return SessionBrokenError(
                f"The session {self.pool.label} to {self.pool.info.computer_name} is Broken: the connection "
                f"failed while {during} and the server could not be reached again ({error.message})",
                computer_name=self.pool.info.computer_name,
                reason=self.pool.broken_reason,
            )
        return self.pool.mark_broken(f"the connection failed while {during}: {error.message}")


def _is_stop_record(record: RemoteErrorRecord) -> bool:
    return "PipelineStopped" in (record.fully_qualified_error_id or "") or (
        record.exception_type or ""
    ).endswith("PipelineStoppedException")


def _wsman_timeout(seconds: float) -> Any:
    # pypsrp writes PT<value>S and waits value+2 s for the HTTP answer.
    return int(seconds) if float(seconds).is_integer() else round(seconds, 3)


def _is_connection_drop(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, (requests.exceptions.SSLError, requests.exceptions.ConnectTimeout)
    )


def _reset_transport(pool: RunspacePoolConnection) -> None:
    transport = pool.wsman.transport
    transport.encryption = None
    if transport.session is not None:
        for adapter in transport.session.adapters.values():
            adapter.close()


def _decryptor(serializer: Any) -> Callable[[str], str]:
    """Decrypts SecureString text with the session key; the key may arrive mid-pipeline
    (a host call that needed it), so it is looked up at each call."""

    def decrypt(text: str) -> str:
        if getattr(serializer, "cipher", None) is None:
            raise ValueError("no session key")
        element = ET.Element("SS")
        element.text = text
        value = serializer._deserialize_secure_string(element)
        if not isinstance(value, str):
            raise ValueError("not decrypted")
        return value

    return decrypt


def raise_if_stopped(pipeline: Pipeline) -> None:
    """Raise PipelineStoppedError if the pipeline ended because it was stopped."""
    if pipeline.state == "Stopped" and not pipeline.timed_out:
        raise PipelineStoppedError(
            "The pipeline has been stopped.", computer_name=pipeline.pool.info.computer_name
        )
