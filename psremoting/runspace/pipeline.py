"""Pipelines on a runspace pool: start, stream, stop, close; and receive a disconnected one.

A `Pipeline` is one remote PowerShell invocation. Iterating it starts the command and
yields `StreamItem`s as they arrive (output objects and the six streams, in the order the
server sent them); `result()` drains it into a `PipelineResult` of lists. Every pipeline is
closed on the server (WSMan Signal terminate) when it ends, however it ends, so that a
long-lived session never reaches the server's command quota; a pipeline whose session was
disconnected is left running there, to be received later (``resume=CommandId``).

Silence is not failure: each Receive long-polls and an empty answer (w:TimedOut) means "ask
again". A command ends only when it completes, its deadline passes, it is stopped (Ctrl+C:
`stop()` signals at once on another connection, as PowerShell does), or the connection is
really dead (network failures are ridden out by the transport's robust connections; past the
retry period the session becomes Disconnected, `CommandDisconnectedError`). One started from a
host call of another (a HostUI callback) is nested (IsNested). Output is decoded in one pass.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from psremoting.protocol.errors import (
    AuthenticationFailedError,
    CommandDisconnectedError,
    MalformedAnswerError,
    PipelineStoppedError,
    PSRemotingError,
    PSRemotingTimeoutError,
    RemoteError,
    RemoteErrorRecord,
    SessionBrokenError,
)
from psremoting.protocol.fragments import (
    BOM,
    OUTPUT_TYPE_BYTES,
    PIPELINE_HOST_CALL,
    POOL_HOST_CALL,
    POOL_STATE,
    STATE,
    Defragmenter,
)
from psremoting.protocol.objects import annotate, from_clixml
from psremoting.protocol.session_texts import (
    DISCONNECTED_ON_SYNC_COMMAND,
    RC_AUTO_DISCONNECTING_ERROR,
    STOP_COMMAND_ON_RETRY,
)
from psremoting.protocol.wsman import COMMAND_GONE, SHELL_NOT_FOUND
from psremoting.runspace import streams
from psremoting.runspace.host import host_data_key
from psremoting.runspace.host_ui import HostUI
from psremoting.runspace.pool_protocol import PoolForPipelines
from psremoting.runspace.streams import (
    RECORD_MESSAGES,
    Command,
    PipelineResult,
    StreamItem,
    error_record_from,
    record_item,
)
from psremoting.runspace.wire import WireContext, check_sendable, to_wire, wire_items
from psremoting.transport.errors import NetworkLostError, ReconnectCancelledError
from psremoting.transport.failures import map_connection_error
from psremoting.transport.pipeline_input import input_source
from psremoting.transport.shell import fault_code, is_operation_timeout
from psremoting.transport.wsman import new_message_id

__all__ = ["Pipeline", "PipelineResult", "StreamItem", "Command", "error_record_from", "RECEIVE_TIMEOUT"]

log = logging.getLogger(__name__)

#: The longest a Receive long-polls (its OperationTimeout), in seconds: Windows' MaxTimeoutms
#: default. SessionOption.operation_timeout lowers it.
RECEIVE_TIMEOUT = 60.0

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


class Pipeline:
    """One remote invocation on a `RunspacePoolConnection` (see the module docstring).

    Build it with `RunspacePoolConnection.start(...)` or `PSSession.start(...)`. Iterate it
    once; or call `result()`. `stop()` may be called from any thread or a signal handler.
    With ``resume=CommandId`` it receives a command already running on the server (one left
    there by a disconnect) instead of starting one.
    """

    def __init__(
        self,
        pool: PoolForPipelines,
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
        add_to_history: bool = False,
        resume: str | None = None,
    ) -> None:
        if commands is None and resume is None:
            if script is None:
                raise ValueError("give a script or commands")
            commands = [
                Command(script, True, tuple(arguments), dict(parameters or {}), merge_errors=merge_errors)
            ]
        if commands is not None and not commands:
            raise ValueError("a pipeline needs at least one command")
        for command in commands or []:
            for index, arg in enumerate(command.arguments):
                check_sendable(arg, f"argument_list[{index}]")
            for name, value in command.parameters.items():
                check_sendable(value, f"the value of -{name}")
        if isinstance(input, (list, tuple)):
            for index, item in enumerate(input):
                check_sendable(item, f"input item {index}")
        self.pool = pool
        self.commands = list(commands or [])
        if out_default:
            self.commands.append(Command("Out-Default", is_script=False))
        self.resume = resume.upper() if resume else None
        self.input = input
        self.ui = ui
        self.timeout = timeout
        self.annotate_output = annotate_output
        self.show_computer_name = show_computer_name
        self.add_to_history = add_to_history
        self.state = "NotStarted"
        self.exit_code: int | None = None
        self.pop_requested = False
        self.failed_record: RemoteErrorRecord | None = None
        self.timed_out = False
        self.command_id: str | None = self.resume
        self._stop_event = threading.Event()
        self._stop_lock = threading.Lock()
        self._stop_signalled = False
        self._iterated = False
        self._ps: Any = None
        self._wire = WireContext(pool.channel.exchange_keys)
        self._outer: Any = None  # the pipeline whose host call started this one (nested)

    # --- control ------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the running command to stop (Ctrl+C). Safe from any thread or a signal
        handler: the stop signal leaves at once on a connection of its own (a thread sends
        it), so a Receive long-polling on another connection ends as soon as the server
        stopped the command."""
        self._stop_event.set()
        if self.pool.channel.network_down:
            # Ctrl+C while the network is down cancels the reconnection, not the command: it
            # goes on on the server, for Receive-PSSession (PowerShell's StopCommandOnRetry).
            with self._stop_lock:
                self._stop_signalled = True
            return
        if self.command_id is not None and self.state in ("Running", "Stopping"):
            threading.Thread(target=self._signal_stop, name="psremoting-stop", daemon=True).start()

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    def _signal_stop(self) -> bool:
        """Send the stop signal once; True when this call sent it."""
        with self._stop_lock:
            if self._stop_signalled or self.command_id is None:
                return False
            self._stop_signalled = True
        try:
            self.pool.channel.stop(self.command_id)
        except Exception as exc:
            log.debug("stop signal failed: %s", exc)
        return True

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

    def begin(self) -> str:
        """Start the command on the server and return its CommandId, without receiving: the
        command runs on, and the pool remembers it (Invoke-Command -InDisconnectedSession
        disconnects next; Receive-PSSession gets its output)."""
        pool = self.pool
        with pool.lock:
            pool.require_opened()
            ps = self._build()
            try:
                self._start_on_server(ps)
            except Exception as exc:
                raise self._transport_failure(exc, during="starting the command") from exc
            assert self.command_id is not None
            pool.disconnected_commands[self.command_id] = None
            self.state = "Running"
            return self.command_id

    def _build(self) -> Any:
        """The pypsrp PowerShell of the commands; arguments, parameter values (and, in
        `_start_on_server`, input) go through `runspace.wire.to_wire` (secrets sealed with the
        session key, exchanged first when one is needed)."""
        ps = self.pool.channel.new_powershell()
        for cmd in self.commands:
            if cmd.is_script:
                ps.add_script(cmd.text)
            else:
                ps.add_cmdlet(cmd.text)
            for arg in cmd.arguments:
                ps.add_argument(to_wire(arg, self._wire))
            for name, value in cmd.parameters.items():
                ps.add_parameter(name, to_wire(value, self._wire))
            if cmd.merge_errors:
                ps.merge_error("output")
        ps.is_nested = self._outer is not None
        if self.add_to_history and self.commands:
            # The line as typed is what the server's Get-History shows (MS-PSRP's History), not
            # the pipeline with its Out-Default.
            ps.history_string = self.commands[0].text
        self._ps = ps
        return ps

    def _start_on_server(self, ps: Any) -> None:
        pool = self.pool
        input_iter = (
            input_source(
                wire_items(self.input, self._wire), packable=isinstance(self.input, (list, tuple, range))
            )
            if self.input is not None
            else None
        )
        use_pool_host = (
            pool.host_key_at_open is not None and host_data_key(pool.pool.host) == pool.host_key_at_open
        )
        # The command id is the client's (pypsrp sends ps.id): known before the Command goes.
        self.command_id = str(ps.id).upper()
        with pool.channel.scope(abort=self._stop_event):
            pool.channel.start_pipeline(
                ps, input_iter, add_to_history=self.add_to_history, use_pool_host=use_pool_host
            )

    def _attach(self) -> tuple[Any, str | None]:
        """A command already on the server: its PowerShell object, and the MessageID of a
        Receive of it that was never answered (sent again first, so nothing is lost)."""
        pool = self.pool
        ps = pool.channel.new_powershell()
        assert self.resume is not None
        pool.channel.adopt_command(ps, self.resume)
        self._ps = ps
        pending = pool.disconnected_commands.pop(self.resume, None)
        if pool.take_needs_command_connect(self.resume):
            pool.channel.connect_command(self.resume)
        return ps, pending

    def _run(self) -> Iterator[StreamItem]:
        merged = any(c.merge_errors for c in self.commands)
        pool = self.pool
        info = pool.info
        channel = pool.channel
        option = info.session_option
        deadline = time.monotonic() + self.timeout if self.timeout is not None else None
        if not pool.lock.acquire(timeout=option.operation_timeout):
            raise PSRemotingError(f"The session {pool.label} stayed busy; the command was not started.")
        command_created = False
        disconnected = False
        stop_sent_at: float | None = None
        previous_ui = pool.host.ui_target
        self._outer = outer = pool.current if pool.current is not self else None
        try:
            pool.require_opened()
            pool.current = self
            pool.set_busy(True)
            if outer is None:
                pool.host_state.reset()
            if self.ui is not None:
                pool.host.ui_target = self.ui
            pending: str | None = None
            if self.resume is not None:
                try:
                    ps, pending = self._attach()
                except Exception as exc:
                    raise self._transport_failure(exc, during="connecting to the command") from exc
                command_created = True
            else:
                ps = self._build()
                try:
                    self._start_on_server(ps)
                    command_created = True
                except NetworkLostError as exc:
                    command_created = disconnected = True
                    raise self._disconnected_by_network(exc, None) from exc
                except Exception as exc:
                    command_created = channel.command_id(ps) is not None
                    raise self._transport_failure(exc, during="starting the command") from exc
                except BaseException:
                    # Ctrl+C (or SystemExit) while the Command or its input Sends were on the
                    # way: the server may hold the command, waiting for input that will never
                    # come, and with it the pool's runspace; the terminate in `finally`
                    # reaches it even when the Command's answer was lost (the command id is
                    # the client's). The transport dropped the connection cut half way.
                    command_created = True
                    self._stop_event.set()
                    raise
            self.state = "Running"
            defrag = Defragmenter()
            decrypt = channel.decrypt
            computer = info.computer_name
            rid = pool.instance_id
            annotate_output, show_computer_name = self.annotate_output, self.show_computer_name
            receive_cap = max(1.0, min(RECEIVE_TIMEOUT, float(option.operation_timeout)))
            while True:
                now = time.monotonic()
                asked = self._stop_event.is_set() or pool.host_state.take_stop_request(self.command_id)
                if stop_sent_at is None and asked:
                    self._stop_event.set()
                    stop_sent_at = now
                    self._signal_stop()
                if stop_sent_at is None and deadline is not None and now >= deadline:
                    self.timed_out = True
                    self._stop_event.set()
                    stop_sent_at = now
                    self._signal_stop()
                if stop_sent_at is not None and now - stop_sent_at > option.cancel_timeout:
                    self.state = "Stopped"
                    break
                if pool.state.value in ("Disconnecting", "Disconnected"):
                    disconnected = True
                    raise self._disconnected_by_client(pending)
                wait = receive_cap
                if deadline is not None and stop_sent_at is None:
                    wait = min(wait, deadline - now)
                if stop_sent_at is not None:
                    wait = min(wait, option.cancel_timeout - (now - stop_sent_at))
                wait = max(1.0, wait)
                message_id = pending or new_message_id()
                pending = message_id
                asked_at = time.monotonic()
                try:
                    with channel.scope(abort=self._stop_event, deadline=deadline):
                        answer = channel.receive(self.command_id, wait, message_id=message_id)
                except KeyboardInterrupt:
                    self._stop_event.set()
                    raise
                except Exception as exc:
                    if is_operation_timeout(exc):
                        pending = None
                        # Nothing yet. A server that answers so long before the long poll is
                        # over would make this a busy loop: pause the rest of a second then.
                        rest = min(1.0, wait) - (time.monotonic() - asked_at)
                        if rest > 0 and stop_sent_at is None:
                            self._stop_event.wait(rest)
                        elif rest > 0:
                            time.sleep(rest)
                        continue
                    if pool.state.value in ("Disconnecting", "Disconnected"):
                        disconnected = True
                        raise self._disconnected_by_client(None) from exc
                    if isinstance(exc, NetworkLostError):
                        disconnected = True
                        raise self._disconnected_by_network(exc, pending) from exc
                    if stop_sent_at is not None and fault_code(exc) in COMMAND_GONE:
                        self.state = "Stopped"  # stopped, and the server already forgot it
                        break
                    raise self._transport_failure(exc, during="receiving output") from exc
                pending = None
                for data in defrag.feed(answer.data):
                    if data[4:8] == OUTPUT_TYPE_BYTES:
                        # Output, the bulk of a big answer: decoded here without a call more.
                        payload = data[43:] if data[40:43] == BOM else data[40:]
                        value = from_clixml(payload, decrypt=decrypt)
                        if merged and streams.is_error_record(value):  # merge_errors=True
                            value = error_record_from(value, computer, rid)
                        elif annotate_output:
                            value = annotate(value, computer, rid, show_computer_name)
                        yield StreamItem("output", value)
                        continue
                    item = self._handle(data, ps, computer, rid)
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
                if answer.done:
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
        except MalformedAnswerError as exc:  # fragments, a message or an object unreadable
            raise map_connection_error(exc, pool.info, opening=False) from exc
        finally:
            pool.host.ui_target = previous_ui
            self.exit_code = pool.host_state.exit_code
            self.pop_requested = pool.host_state.pop_requested or pool.host_state.should_exit
            try:
                if (
                    command_created
                    and not disconnected
                    and self._ps is not None
                    and pool.state.value == "Opened"
                ):
                    self._close_on_server(self._ps)
            finally:
                if disconnected:
                    self.state = "Disconnected"
                    if self._ps is not None:
                        channel.forget(self._ps)
                elif self.state in ("NotStarted", "Running", "Stopping"):
                    self.state = "Stopped" if self._stop_event.is_set() else "Failed"
                pool.current = outer
                pool.set_busy(outer is not None)
                pool.lock.release()

    def _disconnected_by_client(self, pending: str | None) -> CommandDisconnectedError:
        """Disconnect-PSSession from another thread: the command runs on on the server."""
        if self.command_id is not None:
            self.pool.disconnected_commands[self.command_id] = pending
        return CommandDisconnectedError(
            DISCONNECTED_ON_SYNC_COMMAND, computer_name=self.pool.info.computer_name
        )

    def _disconnected_by_network(
        self, exc: NetworkLostError, pending: str | None
    ) -> CommandDisconnectedError:
        """The network stayed down past the retry period (or Ctrl+C during the retries): the
        session is Disconnected, the command kept, with the unanswered Receive to send again."""
        pool = self.pool
        if self.command_id is not None:
            pool.disconnected_commands[self.command_id] = pending
        cancelled = isinstance(exc, ReconnectCancelledError)
        if cancelled:
            pool.display.warn(STOP_COMMAND_ON_RETRY)
        pool.auto_disconnect()
        text = (
            STOP_COMMAND_ON_RETRY
            if cancelled
            else RC_AUTO_DISCONNECTING_ERROR.format(pool.info.computer_name)
        )
        return CommandDisconnectedError(text, computer_name=pool.info.computer_name)

    def _handle(self, data: bytes, ps: Any, computer: str, rid: uuid.UUID) -> StreamItem | None:
        channel = self.pool.channel
        message = channel.unpack(data)  # MalformedAnswerError for bytes that are not a message
        mtype = struct.unpack_from("<I", data, 4)[0]  # output never comes here: see _run
        body: Any = message.data
        if mtype in RECORD_MESSAGES:
            return record_item(mtype, body, computer, rid)
        if mtype == STATE:
            self.state = _STATES.get(int(body.state), str(body.state))
            ps.state = body.state
            if body.error_record is not None and self.state == "Failed":
                record = error_record_from(body.error_record, computer, rid)
                self.failed_record = record
                return StreamItem("error", record)
            return None
        if mtype == PIPELINE_HOST_CALL:
            with channel.scope(abort=self._stop_event):
                channel.answer_host_call(message, ps)
            return None
        if mtype == POOL_HOST_CALL:
            with channel.scope(abort=self._stop_event):
                channel.answer_host_call(message, None)
            return None
        if mtype == POOL_STATE and int(body.state) in (3, 4, 5):  # Closed, Closing, Broken
            raise self.pool.mark_broken("the server closed the session.")
        return None

    def _close_on_server(self, ps: Any) -> None:
        try:
            self.pool.channel.terminate(ps)
        except Exception as exc:
            log.debug("terminate signal failed: %s", exc)

    def _transport_failure(self, exc: BaseException, *, during: str) -> PSRemotingError:
        """Classify a failure while the command ran: a lost shell or a dead connection makes
        the session Broken; anything else is reported as it is."""
        pool = self.pool
        error = map_connection_error(exc, pool.info, opening=False)
        if fault_code(exc) in SHELL_NOT_FOUND:
            return pool.mark_broken(
                "the server no longer has the session's shell (it may have restarted, or closed the session "
                "after its idle timeout)."
            )
        if isinstance(error, SessionBrokenError):
            return pool.mark_broken(error.reason or error.message)
        if fault_code(exc) is not None or isinstance(error, AuthenticationFailedError):
            # A WSMan fault, or a logon refused even after authenticating again: the server is
            # there and said what went wrong.
            return error
        # A transport failure: the session is Broken only if the server cannot be reached
        # or no longer has it; a single dropped connection is not enough.
        with contextlib.suppress(Exception):
            if pool.check_alive(timeout=5):
                return PSRemotingError(
                    f"The connection to {pool.info.computer_name} failed while {during}, so the command's "
                    f"outcome is unknown ({getattr(error, 'reason', error.message)}). The session is still open: "
                    "run the command again if it is safe to repeat.",
                    computer_name=pool.info.computer_name,
                )
        if pool.state.value == "Broken":
            return SessionBrokenError(
                f"The session {pool.label} to {pool.info.computer_name} is Broken: the connection "
                f"failed while {during} and the server could not be reached again ({error.message})",
                computer_name=pool.info.computer_name,
                reason=pool.broken_reason,
            )
        return pool.mark_broken(f"the connection failed while {during}: {error.message}")


def _is_stop_record(record: RemoteErrorRecord) -> bool:
    return "PipelineStopped" in (record.fully_qualified_error_id or "") or (
        record.exception_type or ""
    ).endswith("PipelineStoppedException")


def raise_if_stopped(pipeline: Pipeline) -> None:
    """Raise PipelineStoppedError if the pipeline ended because it was stopped."""
    if pipeline.state == "Stopped" and not pipeline.timed_out:
        raise PipelineStoppedError(
            "The pipeline has been stopped.", computer_name=pipeline.pool.info.computer_name
        )
