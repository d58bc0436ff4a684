"""The PowerShell shell: a psrpcore ServerRunspacePool per WinRS shell, its pipelines and receive queues.

One :class:`PSRPShell` is what Windows runs behind a ``Create`` on
``http://schemas.microsoft.com/powershell/<configuration>``: a runspace pool (psrpcore's server
role, ``server_pool.ServerPool``), one command :class:`~psremoting.emulator.engine.Engine`
holding the session state, and a pipeline per WSMan ``Command``. Each pipeline runs in its own
worker thread; everything it sends goes through :class:`PipelineIOImpl` into psrpcore and from
there, cut into fragments, into per-target queues that long-poll ``Receive`` requests drain.

psrpcore is not thread-safe, so every touch of the pool or a pipeline happens under the shell's
lock; the same lock's condition wakes waiting Receives and host calls. The cmd shell (pywinrm's
``windows/shell/cmd``) is in ``cmdshell.py``; both kinds derive from ``shell_registry.Shell``
and live in the same :class:`~psremoting.emulator.shell_registry.ShellRegistry` (quota, idle reaper).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psrpcore
from psrpcore.types import PSInvocationState

from psremoting.emulator import faults
from psremoting.emulator.command_metadata import command_metadata, wanted
from psremoting.emulator.pipelines import (
    RUNSPACEPOOL_STATE,
    Collector,
    Command,
    PipelineIOImpl,
    mark_running,
    pipeline_id_of,
    split_messages,
    wire_text,
)
from psremoting.emulator.server_pool import ServerPool
from psremoting.emulator.session_info import record_history, set_sender_info
from psremoting.emulator.shell_connection import DISCONNECTED_BUFFER_BYTES, ClientConnection
from psremoting.emulator.shell_faults import unknown_command_id
from psremoting.emulator.shell_registry import Shell

log = logging.getLogger(__name__)

__all__ = ["DISCONNECTED_BUFFER_BYTES", "MAX_FRAGMENT", "PSRPShell", "ReceiveResult", "fragment_size_for"]

#: Windows' largest PSRP fragment.
MAX_FRAGMENT = 32768
#: Room kept in a Receive response for the SOAP header, ReceiveResponse and CommandState.
RESPONSE_OVERHEAD = 2048
#: Room for one ``<rsp:Stream Name="stdout" CommandId="...">`` wrapper.
STREAM_OVERHEAD = 100
#: Windows' WinRM stops adding fragments to a ReceiveResponse once it holds this much PSRP
#: data (128 KiB), whatever the MaxEnvelopeSize: the recordings show two 517-byte messages
#: and four 32768-byte fragments, then four, then the rest (test_client_fetch_file).
RECEIVE_DATA_LIMIT = 128 * 1024

EngineFactory = Callable[..., Any]


#: How long a Receive that has output waits for the pipeline to end, to send both at once.
LINGER_SECONDS = 0.03


def _chunk_cost(chunk: bytes) -> int:
    """Bytes one chunk takes in a Receive response: its base64 plus the Stream wrapper."""
    return (len(chunk) + 2) // 3 * 4 + STREAM_OVERHEAD


def fragment_size_for(max_envelope_size: int) -> int:
    """The largest fragment whose base64 fits one Receive response of this envelope size."""
    room = (max_envelope_size - RESPONSE_OVERHEAD - STREAM_OVERHEAD) * 3 // 4
    return max(512, min(MAX_FRAGMENT, room))


@dataclass
class ReceiveResult:
    """What one Receive returns: stream chunks (raw bytes), and the command's end if reached."""

    chunks: list[bytes]
    done: bool = False
    exit_code: int = 0
    stream_names: list[str] = field(default_factory=list)


class PSRPShell(ClientConnection, Shell):
    """A PowerShell runspace pool behind a WinRS shell."""

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        owner: str,
        client_ip: str,
        *,
        engine_factory: EngineFactory,
        engine_kwargs: dict[str, Any],
        stats: Any,
    ) -> None:
        super().__init__(shell_id, resource_uri, owner, client_ip)
        self.pool = ServerPool()
        self.queues: dict[uuid.UUID | None, collections.deque[bytes]] = collections.defaultdict(
            collections.deque
        )
        self.queue_sizes: dict[uuid.UUID | None, int] = collections.defaultdict(int)
        self.commands: dict[str, Command] = {}
        self.by_pipeline: dict[uuid.UUID, Command] = {}
        #: True until the RunspacePoolState of the open has been handed out.
        self.opening = True
        self._held_state: bytes | None = None
        self.fragment_size = MAX_FRAGMENT
        self._engine_factory = engine_factory
        self._engine_kwargs = engine_kwargs
        self._engine: Any = None
        self._stats = stats
        self._unpumped = 0
        self._running = 0
        self._active_receives = 0
        #: Per pipeline, the chunks held at a Disconnect: the first Receive after it hands out those.
        self.disconnect_marks: dict[uuid.UUID | None, int] = {}
        self._taken = 0

    # -- psrpcore plumbing ---------------------------------------------------------------

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = self._engine_factory(**self._engine_kwargs)
            set_sender_info(self._engine, self)
        return self._engine

    def note_written(self) -> None:
        """A message was queued in psrpcore: move it to the receive queues now and then."""
        self._unpumped += 1
        if self.state == "Disconnected" and self.buffer_mode == "Drop":
            self.pump(self.fragment_size)
            self._drop_oldest(DISCONNECTED_BUFFER_BYTES)
        elif self._unpumped >= 64:
            self.pump(self.fragment_size)
        self.cond.notify_all()

    def pump(self, fragment_size: int) -> None:
        """Move everything psrpcore has to send into the per-target queues, one fragment a
        chunk, as Windows fragments: each message on its own (a message that fits is one
        fragment, never cut to fill the rest of a payload), one ``rsp:Stream`` per fragment."""
        self._unpumped = 0
        pending = self.pool._send_buffer  # psrpcore internals (pinned <0.4): queued messages
        while pending:
            # Room for exactly the rest of the first message (or one fragment_size piece of
            # it): psrpcore's data_to_send then packs nothing of the next one.
            size = min(fragment_size, len(pending[0]) + 21)
            payload = self.pool.data_to_send(size)
            if payload is None:
                return
            target = payload.pipeline_id
            self.queues[target].append(bytes(payload.data))
            self.queue_sizes[target] += len(payload.data)

    def commands_have_written(self) -> bool:
        """Whether every command has ended or has output waiting (a replay waits for it before a Disconnect)."""
        with self.cond:
            self.pump(self.fragment_size)
            return all(c.finished or self.queue_sizes.get(c.pipeline_id) for c in self.commands.values())

    def queued_bytes(self, target: uuid.UUID | None) -> int:
        return self.queue_sizes.get(target, 0)

    def feed(self, data: bytes, stream: str = "stdin", command_id: str | None = None) -> None:
        """Feed client PSRP bytes (creationXml, Arguments, Send) and act on the events."""
        with self.cond:
            pipeline_id = None
            if command_id:
                command = self.commands.get(command_id.upper())
                pipeline_id = command.pipeline_id if command is not None else uuid.UUID(command_id)
            stream_type = (
                psrpcore.StreamType.prompt_response if stream == "pr" else psrpcore.StreamType.default
            )
            try:
                self.pool.receive_data(psrpcore.PSRPPayload(data, stream_type, pipeline_id))
            except Exception as exc:
                raise faults.bad_base64(f"the {stream} stream ({type(exc).__name__}: {exc})") from exc
            while True:
                try:
                    event = self.pool.next_event()
                except Exception as exc:  # fragments or CLIXML that do not parse
                    log.info(
                        "unparsable PSRP data on shell %s: %s: %s", self.shell_id, type(exc).__name__, exc
                    )
                    raise faults.bad_base64(f"the {stream} stream ({type(exc).__name__})") from exc
                if event is None:
                    break
                self._on_event(event)
            self.cond.notify_all()

    def _on_event(self, event: Any) -> None:
        if isinstance(event, psrpcore.CreatePipelineEvent):
            self._start_pipeline(event.pipeline_id)
        elif isinstance(event, psrpcore.GetCommandMetadataEvent):
            command = self._command_by_pipeline(event.pipeline_id)
            mark_running(command.pipeline)
            request = command.pipeline.metadata
            names = list(getattr(request, "name", None) or ["*"])
            threading.Thread(
                target=self._answer_command_metadata,
                args=(
                    command,
                    names,
                    getattr(request, "command_type", None),
                    getattr(request, "namespace", None),
                ),
                name="emulator-metadata",
                daemon=True,
            ).start()
        elif isinstance(event, psrpcore.PipelineInputEvent):
            self._command_by_pipeline(event.pipeline_id).input_items.append(event.data)
        elif isinstance(event, psrpcore.EndOfPipelineInputEvent):
            self._command_by_pipeline(event.pipeline_id).input_ended = True
        elif isinstance(event, psrpcore.PipelineHostResponseEvent):
            self._command_by_pipeline(event.pipeline_id).host_responses[event.ci] = (
                event.result,
                event.error,
            )
        elif isinstance(event, psrpcore.SetMaxRunspacesEvent):
            # RunspacePool.SetMaxRunspaces: refused below 1 or below the minimum.
            ok = event.count >= max(1, self.pool.min_runspaces)
            self.pool.runspace_availability_response(event.ci, ok)
        elif isinstance(event, psrpcore.SetMinRunspacesEvent):
            # RunspacePool.SetMinRunspaces: refused below 1 or above the maximum.
            ok = 1 <= event.count <= self.pool.max_runspaces
            self.pool.runspace_availability_response(event.ci, ok)
        elif isinstance(event, psrpcore.ResetRunspaceStateEvent):
            # Windows refuses a reset of a pool that may hold more than one runspace.
            self.pool.runspace_availability_response(event.ci, self.pool.max_runspaces <= 1)
        elif isinstance(event, psrpcore.GetAvailableRunspacesEvent):
            running = sum(1 for c in self.commands.values() if not c.finished)
            self.pool.runspace_availability_response(event.ci, max(0, self.pool.max_runspaces - running))

    def _answer_command_metadata(
        self, command: Command, names: list[str], command_type: Any = None, namespaces: Any = None
    ) -> None:
        """GetCommandMetadata: the engine's ``Get-Command -Name names`` of the requested
        CommandType and modules (Namespace), shaped as Windows answers it: a count, then one
        Selected.CmdletInfo per command with its parameters (emulator.command_metadata)."""
        found: list[Any] = []
        try:
            collector = Collector()
            query = psrpcore.Command("Get-Command")
            query.add_parameter("Name", names)
            query.add_parameter("ErrorAction", "SilentlyContinue")
            with self.cond:
                engine = self.engine
            engine.invoke([query], collector)
            found = [item for item in collector.output if wanted(item, engine, command_type, namespaces)]
        except Exception:
            log.exception("Get-Command failed while answering GetCommandMetadata")
        with self.cond:
            pipeline = command.pipeline
            if command.finished or pipeline.state != PSInvocationState.Running:
                return
            pipeline.write_output(psrpcore.types.CommandMetadataCount(Count=len(found)))
            for item in found:
                pipeline.write_output(command_metadata(item, engine))
            pipeline.complete()
            command.finished = True
            self.pump(self.fragment_size)
            self.cond.notify_all()

    def _command_by_pipeline(self, pipeline_id: uuid.UUID) -> Command:
        command = self.by_pipeline.get(pipeline_id)
        if command is None:
            raise faults.command_not_found(str(pipeline_id).upper())
        return command

    # -- commands ---------------------------------------------------------------------------

    def create_command(self, command_id: str, arguments: bytes) -> str:
        """WSMan Command: a ServerPipeline for ``command_id``, fed with the first fragments."""
        with self.cond:
            command_id = command_id.upper()
            if command_id in self.commands:
                raise faults.already_exists(f"command {command_id}", "in the shell")
            # The pipeline is known to PSRP by the id inside its messages (usually the CommandId).
            pipeline_id = pipeline_id_of(arguments) or uuid.UUID(command_id)
            pipeline = psrpcore.ServerPipeline(self.pool, pipeline_id)
            command = Command(command_id, pipeline)
            self.commands[command_id] = command
            self.by_pipeline[pipeline_id] = command
        try:
            self.feed(arguments, "stdin", command_id)
        except Exception:
            with self.cond:
                self._drop_command(command_id)
            raise
        return command_id

    def _has_host(self, pipeline: psrpcore.ServerPipeline) -> bool:
        host = getattr(pipeline.metadata, "host", None)
        if host is not None and not getattr(host, "UseRunspaceHost", True):
            return not getattr(host, "IsHostNull", True)
        pool_host = getattr(self.pool, "host", None)
        return pool_host is not None and not getattr(pool_host, "IsHostNull", True)

    def _host_data(self, pipeline: psrpcore.ServerPipeline) -> Any:
        """The HostDefaultData ``$host.UI.RawUI`` reads (the pipeline's own host, else the
        pool's, kept for the pool's life as Windows' ServerRemoteHost keeps it)."""
        host = getattr(pipeline.metadata, "host", None)
        if host is None or getattr(host, "UseRunspaceHost", True):
            host = getattr(self.pool, "host", None)
        return getattr(host, "HostDefaultData", None) if host is not None else None

    def _start_pipeline(self, pipeline_id: uuid.UUID) -> None:
        command = self._command_by_pipeline(pipeline_id)
        pipeline = command.pipeline
        mark_running(pipeline)
        command.io = PipelineIOImpl(self, command, self._has_host(pipeline))
        command.io.host_data = self._host_data(pipeline)
        commands = list(pipeline.metadata.commands) if pipeline.metadata is not None else []
        if pipeline.metadata is not None and pipeline.metadata.no_input:
            command.input_ended = True
        thread = threading.Thread(
            target=self._run_pipeline,
            args=(command, commands),
            name=f"emulator-pipeline-{command.command_id[:8]}",
            daemon=True,
        )
        command.thread = thread
        thread.start()

    def _wait_for_runspace(self, io: Any, nested: bool = False) -> bool:
        """Hold a pipeline until one of the pool's MaxRunspaces runspaces is free, as Windows
        queues them. A nested pipeline (IsNested, MS-PSRP 2.2.3.11) runs in the runspace of the
        pipeline that is running, so it does not wait."""
        with self.cond:
            queued = 0  # counted in Stats.queued_pipelines while it waits
            try:
                while self._running >= max(1, self.pool.max_runspaces) and not (nested and self._running):
                    if io.stopping.is_set() or self.closed:
                        return False
                    if not queued:
                        queued = 1
                        self._stats.pipeline_queued(1)
                    self.cond.wait(1.0)
            finally:
                self._stats.pipeline_queued(-queued)
            if io.stopping.is_set() or self.closed:
                return False
            self._running += 1
            _ = self.engine  # created once per pool, under the lock
            return True

    def _run_pipeline(self, command: Command, commands: list[Any]) -> None:
        from psremoting.emulator.engine.io import InvocationResult, PipelineStopped

        io = command.io
        assert io is not None
        result: Any = None
        metadata = getattr(command.pipeline, "metadata", None)
        if not self._wait_for_runspace(io, bool(getattr(metadata, "is_nested", False))):
            with self.cond:
                self._finish(command, InvocationResult(stopped=True))
            return
        self._stats.pipeline_started()
        try:
            result = self.engine.invoke(commands, io)
            record_history(self.engine, command, commands, result)
        except PipelineStopped:
            result = InvocationResult(stopped=True)
        except Exception as exc:  # the engine promises not to raise; be safe anyway
            log.exception("engine failed on a pipeline")
            from psremoting.emulator.engine.errors import make_error_record

            record = make_error_record(
                f"The emulator's engine failed: {type(exc).__name__}: {exc}",
                "System.Management.Automation.RuntimeException",
                psrpcore.types.ErrorCategory.NotSpecified,
                "EmulatorEngineFailure",
            )
            result = InvocationResult(failed=record)
        finally:
            self._stats.pipeline_ended()
        with self.cond:
            self._running -= 1
            self._finish(command, result)

    def _finish(self, command: Command, result: Any) -> None:
        pipeline = command.pipeline
        if not command.finished and pipeline.state == PSInvocationState.Running:
            if result is None or result.stopped or (command.io is not None and command.io.stopping.is_set()):
                pipeline.stop()
            elif result.failed is not None:
                # Windows still reports ExitCode 0 for a failed PowerShell pipeline.
                meta = getattr(result.failed, "PSObject", None)
                if meta is not None and "\r" in (meta.to_string or ""):
                    meta.to_string = wire_text(meta.to_string)
                pipeline._change_state(PSInvocationState.Failed, error=result.failed)
            else:
                pipeline.complete()
        command.finished = True
        self.pump(self.fragment_size)
        self.cond.notify_all()

    def stop_command(self, command_id: str | None) -> None:
        """Signal ctrl_c: stop the pipeline now; its worker notices ``io.stopping``."""
        with self.cond:
            targets = [self._get_command(command_id)] if command_id else list(self.commands.values())
            for command in targets:
                if command.io is not None:
                    command.io.stopping.set()
                if not command.finished and command.pipeline.state == PSInvocationState.Running:
                    command.pipeline.stop()
                    command.finished = True
                elif not command.finished and command.pipeline.state == PSInvocationState.NotStarted:
                    command.finished = True
            self.pump(self.fragment_size)
            self.cond.notify_all()

    def terminate_command(self, command_id: str) -> None:
        """Signal terminate: the command is closed and forgotten."""
        with self.cond:
            command = self._get_command(command_id)
            if command.io is not None:
                command.io.stopping.set()
            if command.pipeline.state in (PSInvocationState.Running, PSInvocationState.Stopping):
                command.pipeline.stop()
            command.finished = True
            self._drop_command(command.command_id)
            self.cond.notify_all()

    def _drop_command(self, command_id: str) -> None:
        command = self.commands.pop(command_id, None)
        if command is None:
            return
        self.by_pipeline.pop(command.pipeline_id, None)
        self.pool.pipeline_table.pop(command.pipeline_id, None)
        # Anything psrpcore still holds for it goes to its (about to be dropped) queue.
        self.pump(self.fragment_size)
        self.queues.pop(command.pipeline_id, None)
        self.queue_sizes.pop(command.pipeline_id, None)
        self.disconnect_marks.pop(command.pipeline_id, None)

    def _get_command(self, command_id: str | None) -> Command:
        command = self.commands.get((command_id or "").upper())
        if command is None:
            raise faults.command_not_found((command_id or "").upper())
        return command

    def command_ids(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(c.command_id, "Done" if c.finished else "Running") for c in self.commands.values()]

    # -- Receive ----------------------------------------------------------------------------

    def receive(self, command_id: str | None, max_envelope_size: int, timeout: float) -> ReceiveResult:
        """Long-poll: what is queued for the target, waiting up to ``timeout`` seconds."""
        fragment_size = fragment_size_for(max_envelope_size)
        budget = max_envelope_size - RESPONSE_OVERHEAD
        deadline = time.monotonic() + timeout
        with self.cond:
            if self.state == "Disconnected":
                # MS-WSMV 3.1.4.15: nothing more for a client until the shell is reconnected.
                raise faults.shell_in_use(self.shell_id)
            self._active_receives += 1
            try:
                return self._receive_locked(command_id, fragment_size, budget, deadline)
            finally:
                self._active_receives -= 1
                self.cond.notify_all()

    def _receive_locked(
        self, command_id: str | None, fragment_size: int, budget: int, deadline: float
    ) -> ReceiveResult:
        self.fragment_size = fragment_size
        command = None
        if command_id:
            if command_id.upper() not in self.commands:
                raise unknown_command_id()
            command = self._get_command(command_id)
        target = command.pipeline_id if command is not None else None
        if command is None and self._held_state is not None:
            self.queues[None].appendleft(self._held_state)
            self.queue_sizes[None] += len(self._held_state)
            self._held_state = None
        elif command is None and self.opening:
            self._hold_back_open_state(fragment_size)
        while True:
            if self.closed:
                raise faults.shell_not_found(self.shell_id)
            self.pump(fragment_size)
            self._taken = 0  # PSRP data in this response (RECEIVE_DATA_LIMIT)
            chunks = self._take(target, budget, limit=self.disconnect_marks.pop(target, None))
            if chunks and command is not None and not command.finished and not self.queues.get(target):
                # A short pipeline is about to end: wait a moment so that its CommandState Done
                # rides in this response, as Windows batches it (not while output is queued).
                chunks += self._linger(command, target, budget - sum(map(_chunk_cost, chunks)), fragment_size)
            done = command is not None and command.finished and not self.queues.get(target)
            if chunks or done:
                self.cond.notify_all()  # a worker may wait for room
                return ReceiveResult(chunks, done, command.exit_code if command is not None else 0)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.state == "Disconnected":  # (disconnected while it waited)
                raise faults.operation_timed_out()
            self.cond.wait(remaining)
            if self.state != "Disconnected":
                self.touch()

    def _hold_back_open_state(self, fragment_size: int) -> None:
        """Windows answers an open in two Receives: SessionCapability and ApplicationPrivateData
        first, the RunspacePoolState(Opened) in the next one. Keep that rhythm."""
        self.pump(fragment_size)
        queue = self.queues.get(None)
        if not queue:
            return
        messages = split_messages(b"".join(queue))
        types = [t for t, _ in messages]
        if RUNSPACEPOOL_STATE not in types:
            return
        cut = types.index(RUNSPACEPOOL_STATE)
        self.opening = False
        if cut == 0:
            return
        queue.clear()
        first = b"".join(raw for _, raw in messages[:cut])
        queue.append(first)
        self._held_state = b"".join(raw for _, raw in messages[cut:])
        self.queue_sizes[None] = len(first)

    def _linger(
        self, command: Command, target: uuid.UUID | None, budget: int, fragment_size: int
    ) -> list[bytes]:
        more: list[bytes] = []
        until = time.monotonic() + LINGER_SECONDS
        while not command.finished and not command.awaiting_host and budget > 0:
            left = until - time.monotonic()
            if left <= 0:
                break
            self.cond.wait(left)
        self.pump(fragment_size)
        if budget > 0:
            more = self._take(target, budget, at_least_one=False)
        return more

    def _take(
        self, target: uuid.UUID | None, budget: int, *, at_least_one: bool = True, limit: int | None = None
    ) -> list[bytes]:
        queue = self.queues.get(target)
        chunks: list[bytes] = []
        if not queue:
            return chunks
        used = 0
        while queue and self._taken < RECEIVE_DATA_LIMIT and (limit is None or len(chunks) < limit):
            cost = _chunk_cost(queue[0])
            if (chunks or not at_least_one) and used + cost > budget:
                break
            chunk = queue.popleft()
            self.queue_sizes[target] -= len(chunk)
            chunks.append(chunk)
            used += cost
            self._taken += len(chunk)
        return chunks

    def take_pool_output(self) -> bytes:
        """Everything queued for the pool itself (the ConnectResponse's connectResponseXml)."""
        with self.cond:
            self.pump(self.fragment_size)
            queue = self.queues.get(None) or collections.deque()
            data = b"".join(queue)
            queue.clear()
            self.queue_sizes[None] = 0
            return data

    # -- pool life ----------------------------------------------------------------------------

    def close(self) -> None:
        with self.cond:
            if self.closed:
                return
            self.closed = True
            for command in list(self.commands.values()):
                if command.io is not None:
                    command.io.stopping.set()
                if command.pipeline.state == PSInvocationState.Running:
                    command.pipeline.stop()
                command.finished = True
            self.commands.clear()
            self.by_pipeline.clear()
            self.queues.clear()
            self.queue_sizes.clear()
            self.cond.notify_all()
        engine = self._engine
        close = getattr(engine, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing the engine of shell %s failed", self.shell_id)
