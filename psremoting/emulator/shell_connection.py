"""A PowerShell shell's client connection: disconnect, reconnect, connect, and the output
kept meanwhile.

`ClientConnection` is the part of `psrp_shell.PSRPShell` that follows MS-WSMV 3.1.4.15-17
and MS-PSRP 3.1.5.3.14-18: a Disconnect lets a pending Receive answer first, then refuses
Receives until a client comes back, and starts the IdleTimeOut clock; a Reconnect must come
from the client that disconnected (its wsmv:SessionId) and is ignored on a connected shell;
a Connect (a new client) is refused while some client is connected. While no client is
connected, each pipeline keeps up to `DISCONNECTED_BUFFER_BYTES` of output: in Block mode
its writer then waits until a client connects, in Drop mode the oldest whole PSRP messages
are discarded.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from psrpcore.types import RunspacePoolState

from psremoting.emulator import faults
from psremoting.emulator.pipelines import MAX_QUEUED_BYTES, split_messages

__all__ = ["ClientConnection", "DISCONNECTED_BUFFER_BYTES", "DISCONNECT_DRAIN_SECONDS"]

#: Output a pipeline keeps for a disconnected client. Block: the pipeline waits when it is
#: full, until a client connects; Drop: the oldest whole PSRP messages are discarded.
#: (WinRM's buffer size is not documented; this is the emulator's, see docs/emulator.md.)
DISCONNECTED_BUFFER_BYTES = 1024 * 1024
#: How long a Disconnect waits for a pending Receive to take what is queued and answer.
DISCONNECT_DRAIN_SECONDS = 5.0


class ClientConnection:
    """Disconnect, Reconnect and Connect of a PSRP shell (mixed into `PSRPShell`)."""

    # Provided by PSRPShell / Shell.
    shell_id: str
    state: str
    buffer_mode: str
    idle_timeout: float
    last_activity: float
    client_session: str | None
    cond: threading.Condition
    pool: Any
    fragment_size: int
    queues: dict[uuid.UUID | None, collections.deque[bytes]]
    queue_sizes: dict[uuid.UUID | None, int]
    disconnect_marks: dict[uuid.UUID | None, int]
    _active_receives: int

    if TYPE_CHECKING:  # what PSRPShell and Shell provide

        def pump(self, fragment_size: int) -> None: ...

        def touch(self) -> None: ...

        def feed(self, data: bytes, stream: str = "stdin", command_id: str | None = None) -> None: ...

        def take_pool_output(self) -> bytes: ...

        def _get_command(self, command_id: str | None) -> Any: ...

    def room_for(self, target: uuid.UUID | None) -> tuple[int, bool]:
        """The output budget of a pipeline: ``(bytes, blocking)``; blocking while the shell
        is disconnected in Block mode (the writer then waits until a client connects)."""
        if self.state == "Disconnected" and self.buffer_mode == "Block":
            return DISCONNECTED_BUFFER_BYTES, True
        return MAX_QUEUED_BYTES, False

    def _drop_oldest(self, budget: int) -> None:
        """Drop mode: discard the oldest whole PSRP messages of each pipeline's queue until it
        fits `budget` (a message a Receive already took part of, and the newest, are kept)."""
        for target, size in list(self.queue_sizes.items()):
            if target is None or size <= budget:
                continue
            queue = self.queues[target]
            data = b"".join(queue)
            messages = split_messages(data)
            keep_first = bool(messages) and not data[16] & 0x1  # the rest of a message begun
            head = [messages[0][1]] if keep_first else []
            rest = [raw for _type, raw in (messages[1:] if keep_first else messages)]
            total = len(data)
            while len(rest) > 1 and total > budget:
                total -= len(rest.pop(0))
            remaining = b"".join(head + rest)
            queue.clear()
            queue.extend(_repack(remaining, self.fragment_size))
            self.queue_sizes[target] = len(remaining)

    def disconnect(self, idle_timeout: float | None = None, buffer_mode: str | None = None) -> None:
        """WSMan Disconnect: the shell and its commands live on without a client. A pending
        Receive first answers with what is queued (MS-WSMV 3.1.4.15); the IdleTimeOut clock
        starts now, even while a command runs."""
        with self.cond:
            if idle_timeout is not None:
                self.idle_timeout = idle_timeout
            if buffer_mode is not None:
                self.buffer_mode = buffer_mode
            if self.state == "Disconnected":
                return
            if self.pool.state == RunspacePoolState.Opened:
                self.pool.disconnect()
            self.state = "Disconnected"
            self.last_activity = time.monotonic()
            self.cond.notify_all()
            until = time.monotonic() + DISCONNECT_DRAIN_SECONDS
            while self._active_receives and time.monotonic() < until:
                self.cond.wait(0.05)
            self.pump(self.fragment_size)
            if self.buffer_mode == "Drop":
                self._drop_oldest(DISCONNECTED_BUFFER_BYTES)
            # What WinRM holds now is what the next client's first Receive gets (the rest of
            # the output, written while no client was there, comes in the Receive after it),
            # as Windows answers in test_psrp_disconnected_commands.
            self.disconnect_marks = {
                target: len(queue) for target, queue in self.queues.items() if target is not None and queue
            }

    def reconnect(self, session_id: str | None = None, command_id: str | None = None) -> None:
        """WSMan Reconnect from the client that disconnected the shell (MS-WSMV 3.1.4.16):
        ignored when it is connected already; from another client, a fault."""
        with self.cond:
            if command_id:
                self._get_command(command_id)
            if session_id and self.client_session and session_id.upper() != self.client_session.upper():
                raise faults.shell_in_use(self.shell_id)
            if self.state != "Disconnected":
                return
            if self.pool.state == RunspacePoolState.Disconnected:
                self.pool.reconnect()
            self.state = "Connected"
            self.touch()
            self.cond.notify_all()

    def connect(self, connect_xml: bytes, session_id: str | None = None) -> bytes:
        """WSMan Connect from a new client: feed connectXml, answer as Windows does.

        The ConnectResponse carries SessionCapability and RunspacePoolInitData; the
        ApplicationPrivateData and RunspacePoolState(Opened) wait for the next Receive (the
        recordings show either one there, depending on the Windows version; both are sent).
        """
        with self.cond:
            if self.state != "Disconnected":
                raise faults.shell_in_use(self.shell_id)  # MS-WSMV 3.1.4.17: connected: InternalError
            self.client_session = session_id
            if self.pool.state == RunspacePoolState.Disconnected:
                self.pool.connect()
                # psrpcore answers a reconnecting client's SessionCapability with nothing; Windows
                # answers with its own, first.
                self.take_pool_output()
                self.pool.prepare_message(self.pool.our_capability)
            self.state = "Connected"
            self.touch()
            self.cond.notify_all()
        self.feed(connect_xml, "stdin")
        with self.cond:
            data = self.take_pool_output()
            messages = split_messages(data)
            answer = b"".join(raw for _type, raw in messages[:2])
            rest = [raw for _type, raw in messages[2:]]
            if rest:
                blob = b"".join(rest)
                self.queues[None].appendleft(blob)
                self.queue_sizes[None] += len(blob)
            return answer


def _repack(data: bytes, size: int) -> list[bytes]:
    """Whole PSRP fragments of `data` packed into chunks of at most `size` bytes (a chunk is
    what one Receive stream element carries)."""
    chunks: list[bytes] = []
    start = offset = 0
    while offset + 21 <= len(data):
        end = offset + 21 + int.from_bytes(data[offset + 17 : offset + 21], "big")
        if end - start > size and offset > start:
            chunks.append(data[start:offset])
            start = offset
        offset = end
    if start < len(data):
        chunks.append(data[start:])
    return chunks
