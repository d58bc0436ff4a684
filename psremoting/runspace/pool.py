"""The runspace-pool layer: one `RunspacePoolConnection` per PSSession.

It owns the life of a pool (open, close, disconnect, reconnect, connect from another
process, Broken) and keeps its `state` and `availability` true: a pool whose shell the
server lost, or whose connection failed for good, becomes Broken, never stays Opened; one
whose network stayed down for the whole robust-connection retry period becomes Disconnected,
to be connected and received later. Pipelines live in `pipeline.py`; everything below
(HTTP, WSMan, pypsrp's PSRP objects) is behind `psremoting.transport.shell.ShellChannel`.

A pipeline holds the pool's lock from start to close (that is what makes the pool Busy);
Disconnect does not wait for it (Disconnect-PSSession returns at once on a busy session).
Failures are turned into the `psremoting.protocol.errors` types with PowerShell's wording.
pypsrp is imported only when a pool is created, so that `import psremoting` stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from enum import Enum
from typing import TYPE_CHECKING, Any

from psremoting.protocol.errors import (
    ConnectionFailedError,
    InvalidOptionError,
    PSRemotingError,
    SessionBrokenError,
    SessionStateError,
)
from psremoting.protocol.session_texts import (
    INVALID_IDLE_TIMEOUT,
    MINIMUM_IDLE_TIMEOUT_SECONDS,
    RUNSPACE_CANNOT_BE_CONNECTED,
    RUNSPACE_CANNOT_BE_DISCONNECTED,
)
from psremoting.protocol.wsman import OPERATION_TIMED_OUT, SHELL_NOT_FOUND
from psremoting.runspace.host import HostState, host_data_key, make_pshost
from psremoting.runspace.host_ui import HostUI, NonInteractiveHostUI
from psremoting.runspace.reconnect import ReconnectDisplay
from psremoting.transport.failures import map_connection_error
from psremoting.transport.options import ConnectionInfo
from psremoting.transport.shell import ShellChannel, ShellEntry, fault_code

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.pipeline import Pipeline

__all__ = ["SessionState", "Availability", "RunspacePoolConnection", "OUTPUT_BUFFERING_MODES"]

log = logging.getLogger(__name__)

#: OutputBufferingMode values a Disconnect may ask for (None: keep the server's).
OUTPUT_BUFFERING_MODES = ("Block", "Drop")
#: The largest IdleTimeOut Windows allows by default (MaxIdleTimeOut PT2147483.647S).
MAX_IDLE_TIMEOUT_SECONDS = 2147483


class SessionState(str, Enum):
    """RunspaceState values users see (PowerShell's names)."""

    BEFORE_OPEN = "BeforeOpen"
    OPENING = "Opening"
    OPENED = "Opened"
    CLOSED = "Closed"
    CLOSING = "Closing"
    BROKEN = "Broken"
    DISCONNECTING = "Disconnecting"
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"

    def __str__(self) -> str:
        return self.value


class Availability(str, Enum):
    """RunspaceAvailability values: Available (idle), Busy (running a command), None."""

    NONE = "None"
    AVAILABLE = "Available"
    BUSY = "Busy"

    def __str__(self) -> str:
        return self.value


class RunspacePoolConnection:
    """One runspace pool on one server: the connection behind a PSSession.

    `label` names it in errors (``Session1``) and on the server (the shell's Name, which
    Get-PSSession -ComputerName shows). A pipeline holds `lock` from start to close.
    """

    def __init__(
        self,
        info: ConnectionInfo,
        *,
        ui: HostUI | None = None,
        label: str | None = None,
        found: ShellEntry | None = None,
    ) -> None:
        self.info = info
        self.label = label or info.computer_name
        self.lock = threading.RLock()
        self.host_state = HostState()
        self.host = make_pshost(ui if ui is not None else NonInteractiveHostUI(), self.host_state)
        if found is None:
            self.channel = ShellChannel(info, self.host, name=self.label)
        else:
            self.channel = ShellChannel.attach(info, self.host, found)
        #: pypsrp's RunspacePool: the PSRP state of the pool (serializer, pipelines).
        self.pool: Any = self.channel.pool
        self.instance_id = uuid.UUID(self.pool.id)
        self.display = ReconnectDisplay(info.computer_name, lambda: getattr(self.host, "ui_target", None))
        self.channel.set_network_listener(self.display)
        self._state = SessionState.BEFORE_OPEN if found is None else SessionState.DISCONNECTED
        #: From another process (Get-PSSession -ComputerName): connect with WSMan Connect.
        self._attached = found is not None
        #: Server-side state of a found shell: "Disconnected" (connectable) or "Connected"
        #: (some client holds it: Availability Busy).
        self.server_state: str | None = found.state if found is not None else None
        self._busy = False
        self.broken_reason: str | None = None
        self.current: Pipeline | None = None
        self._state_lock = threading.Lock()
        #: Commands the server holds for this pool while it is (or was) Disconnected:
        #: CommandId -> the MessageID of a Receive that was never answered (None if none).
        self.disconnected_commands: dict[str, str | None] = (
            {cid: None for cid, _state in found.commands} if found is not None else {}
        )
        #: Commands of a pool connected as a new client, still to be connected one by one
        #: (WSMan Connect with their CommandId) before they are received.
        self._commands_to_connect: set[str] = set()
        #: `host_data_key` of the host as this client opened the pool with it (None when it
        #: did not open it): pipelines whose host still has that key use the pool's host.
        self.host_key_at_open: tuple[Any, ...] | None = None

    # --- state -------------------------------------------------------------------------
    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def availability(self) -> Availability:
        if self._state == SessionState.DISCONNECTED:
            return (
                Availability.BUSY
                if self.server_state == "Connected" and self._attached
                else Availability.NONE
            )
        if self._state != SessionState.OPENED:
            return Availability.NONE
        return Availability.BUSY if self._busy else Availability.AVAILABLE

    @property
    def max_payload_size(self) -> int:
        return int(self.channel.wsman.max_payload_size)

    def _set_state(self, state: SessionState) -> None:
        with self._state_lock:
            self._state = state

    def set_busy(self, busy: bool) -> None:
        self._busy = busy

    def mark_broken(self, reason: str) -> SessionBrokenError:
        """Record that the pool is Broken and return the error that says so."""
        self.broken_reason = reason
        self._set_state(SessionState.BROKEN)
        self._busy = False
        self.channel.drop_connections()
        return SessionBrokenError(
            f"The session {self.label} to {self.info.computer_name} is Broken: {reason} "
            "Remove it (remove_pssession) and create a new one.",
            computer_name=self.info.computer_name,
            reason=reason,
        )

    def require_opened(self) -> None:
        """Raise SessionStateError unless the pool can run a command."""
        if self._state == SessionState.OPENED:
            return
        detail = (
            f" ({self.broken_reason})" if self._state == SessionState.BROKEN and self.broken_reason else ""
        )
        raise SessionStateError(
            f"Because the session state for session {self.label}, {self.instance_id}, {self.info.computer_name} "
            f"is not equal to Open, you cannot run a command in the session.  The session state is "
            f"{self._state.value}.{detail}",
            computer_name=self.info.computer_name,
            state=self._state.value,
        )

    # --- life --------------------------------------------------------------------------
    def open(self) -> None:
        """Create the shell and negotiate the pool, within the open timeout."""
        if self._state != SessionState.BEFORE_OPEN:
            raise SessionStateError(f"The session {self.label} cannot be opened: it is {self._state.value}.")
        option = self.info.session_option
        deadline = time.monotonic() + option.open_timeout
        self._set_state(SessionState.OPENING)
        with self.lock:
            try:
                host_key = host_data_key(self.pool.host)
                arguments = dict(option.application_arguments) if option.application_arguments else None
                self.channel.open(arguments, deadline, host_key)
                if self.pool.state != 2:  # RunspacePoolState.OPENED
                    raise ConnectionFailedError(
                        self.info.computer_name,
                        f"The server did not open the session (state {self.pool.state}).",
                    )
                self.host_key_at_open = host_key
            except BaseException as exc:
                self._set_state(SessionState.BROKEN)
                with contextlib.suppress(Exception):
                    self.channel.close()
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                error = map_connection_error(exc, self.info)
                self.broken_reason = error.message
                raise error from exc
        self._set_state(SessionState.OPENED)

    def close(self) -> None:
        """Close the pool on the server (WSMan Delete) and locally. Idempotent; a Broken
        pool is only closed locally. A running pipeline is stopped first."""
        current = self.current
        if current is not None:
            current.stop()
        acquired = self.lock.acquire(timeout=self.info.session_option.cancel_timeout)
        try:
            if self._state in (SessionState.CLOSED, SessionState.BEFORE_OPEN):
                self._set_state(SessionState.CLOSED)
                return
            if self._state in (SessionState.OPENED, SessionState.DISCONNECTED) and acquired:
                self._set_state(SessionState.CLOSING)
                try:
                    self.channel.close()
                except Exception as exc:
                    log.debug("closing %s on the server failed: %s", self.label, exc)
            self._set_state(SessionState.CLOSED)
            self._busy = False
            self.channel.drop_connections()
        finally:
            if acquired:
                self.lock.release()

    def check_idle_timeout(self, idle_timeout: float | None) -> None:
        """PowerShell's check of Disconnect-PSSession -IdleTimeoutSec (before any traffic)."""
        if idle_timeout is None:
            return
        if not MINIMUM_IDLE_TIMEOUT_SECONDS <= idle_timeout <= MAX_IDLE_TIMEOUT_SECONDS:
            raise InvalidOptionError(
                INVALID_IDLE_TIMEOUT.format(
                    self.label, int(idle_timeout), MAX_IDLE_TIMEOUT_SECONDS, MINIMUM_IDLE_TIMEOUT_SECONDS
                )
            )

    @property
    def protocol_version(self) -> str | None:
        """The PSRP protocol version the server announced when the session opened
        (``"2.1"`` Windows PowerShell 2.0, ``"2.2"`` 3.0/4.0, ``"2.3"`` 5.1 and later)."""
        return getattr(self.pool, "protocol_version", None)

    def require_protocol(self, needed: str, operation: str) -> None:
        """Refuse `operation` when the server's PSRP protocol is older than `needed`, with a
        message that says so (instead of the WS-Management fault the server would give)."""
        have = self.protocol_version
        if not have:
            return
        try:
            older = tuple(int(p) for p in have.split(".")) < tuple(int(p) for p in needed.split("."))
        except ValueError:
            return
        if older:
            raise SessionStateError(
                f"{operation} is not supported by {self.label}: the server speaks PSRP protocol "
                f"version {have}, and this needs {needed} or later (Windows PowerShell 3.0 or later "
                "on the server).",
                computer_name=self.info.computer_name,
                state=self._state.value,
            )

    def disconnect(self, *, idle_timeout: float | None = None, buffer_mode: str | None = None) -> None:
        """Disconnect (the server keeps the session, and any running command, until its idle
        timeout). Does not wait for a running command: it goes on on the server, and the
        pipeline iterating it here ends with CommandDisconnectedError."""
        if self._state == SessionState.DISCONNECTED:
            return
        if self._state != SessionState.OPENED:
            raise SessionStateError(
                RUNSPACE_CANNOT_BE_DISCONNECTED.format(self.label),
                computer_name=self.info.computer_name,
                state=self._state.value,
            )
        self.check_idle_timeout(idle_timeout)
        self.require_protocol("2.2", "Disconnect-PSSession")
        if buffer_mode is not None and buffer_mode not in OUTPUT_BUFFERING_MODES:
            raise InvalidOptionError(
                f"OutputBufferingMode '{buffer_mode}' is not valid: use Block or Drop (or None to keep the server's)."
            )
        self._set_state(SessionState.DISCONNECTING)
        try:
            self.channel.disconnect(idle_timeout=idle_timeout, buffer_mode=buffer_mode)
        except Exception as exc:
            error = map_connection_error(exc, self.info, opening=False)
            if isinstance(error, SessionBrokenError):
                raise self.mark_broken(error.reason or error.message) from exc
            self._set_state(SessionState.OPENED)
            raise error from exc
        self.server_state = "Disconnected"
        self._set_state(SessionState.DISCONNECTED)

    def auto_disconnect(self) -> None:
        """The network stayed down past the retry period: PowerShell's "Attempting to
        disconnect the session..." (a Disconnect is tried; the server may not be reachable),
        then the session is Disconnected here either way."""
        self.display.auto_disconnecting()
        with contextlib.suppress(Exception):
            self.channel.disconnect(idle_timeout=None, buffer_mode=None, quick=True)
        self.channel.mark_disconnected()
        self._busy = False
        self._set_state(SessionState.DISCONNECTED)
        self.display.auto_disconnected()

    def reconnect(self) -> None:
        """Connect a Disconnected pool again: Reconnect when this client disconnected it,
        Connect (a new client) when it was found on the server."""
        with self.lock:
            if self._state == SessionState.OPENED:
                return
            if self._state != SessionState.DISCONNECTED or (
                self._attached and self.server_state == "Connected"
            ):
                raise SessionStateError(
                    RUNSPACE_CANNOT_BE_CONNECTED.format(self.label),
                    computer_name=self.info.computer_name,
                    state=self._state.value,
                )
            self._set_state(SessionState.CONNECTING)
            try:
                if self._attached:
                    self.channel.connect(time.monotonic() + self.info.session_option.open_timeout)
                    self._attached = False
                    self._commands_to_connect = set(self.disconnected_commands)
                else:
                    self.channel.reconnect(list(self.disconnected_commands))
            except Exception as exc:
                error = map_connection_error(exc, self.info, opening=False)
                if isinstance(error, SessionBrokenError):
                    raise self.mark_broken(error.reason or error.message) from exc
                self._set_state(SessionState.DISCONNECTED)
                raise error from exc
            self.server_state = "Connected"
            self._set_state(SessionState.OPENED)

    def take_needs_command_connect(self, command_id: str) -> bool:
        """Whether `command_id` must be connected (WSMan Connect CommandId) before it is
        received: once, for a pool this client connected to as a new client."""
        if command_id in self._commands_to_connect:
            self._commands_to_connect.discard(command_id)
            return True
        return False

    def check_alive(self, timeout: int = 10) -> bool:
        """Ask the server whether the shell still exists (WSMan Get); a lost shell makes the
        pool Broken. Returns whether it is Opened afterwards."""
        if self._state != SessionState.OPENED:
            return False
        if not self.lock.acquire(timeout=0.5):
            return True  # a pipeline is running: it will notice a broken shell itself
        try:
            self.channel.get_shell(timeout)
        except Exception as exc:
            code = fault_code(exc)
            if code in SHELL_NOT_FOUND:
                self.mark_broken("the server no longer has the shell (it may have restarted or timed out).")
                return False
            if code == OPERATION_TIMED_OUT:
                return True
            error = map_connection_error(exc, self.info, opening=False)
            if code is not None:
                raise error from exc
            self.mark_broken(f"the server could not be reached: {getattr(error, 'reason', error)}")
            return False
        finally:
            self.lock.release()
        return True

    def exchange_keys(self) -> None:
        """Run the session key exchange (needed before sending a SecureString)."""
        with self.lock:
            self.require_opened()
            try:
                self.channel.exchange_keys()
            except PSRemotingError:
                raise
            except Exception as exc:
                raise map_connection_error(exc, self.info, opening=False) from exc

    def start(self, *args: Any, **kwargs: Any) -> Pipeline:
        """Create a pipeline on this pool (see `psremoting.runspace.pipeline.Pipeline`)."""
        from psremoting.runspace.pipeline import Pipeline

        return Pipeline(self, *args, **kwargs)
