"""The runspace-pool layer: one `RunspacePoolConnection` per PSSession, over pypsrp.

It owns the life of a pool (open, close, disconnect, reconnect, Broken) and keeps its
`state` and `availability` true: a pool whose shell the server lost, or whose connection
failed for good, becomes Broken, never stays Opened. Pipelines live in `pipeline.py`.

pypsrp is not thread-safe: each pool has its own WSMan connection, and every use of it
happens under the pool's lock. Failures are turned into the `psremoting.protocol.errors` types with
PowerShell's wording. pypsrp is imported only when a pool is created, so that
`import psremoting` stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import uuid
from enum import Enum
from typing import TYPE_CHECKING, Any

from psremoting.protocol.errors import (
    AuthenticationFailedError,
    CertificateError,
    ConnectionFailedError,
    ConnectTimeoutError,
    HostNotFoundError,
    InvalidConfigurationNameError,
    InvalidOptionError,
    PSRemotingError,
    SessionBrokenError,
    SessionStateError,
)
from psremoting.runspace.host import HostState, HostUI, NonInteractiveHostUI, make_pshost
from psremoting.transport.guard import ResponseRefusedError, printable, response_guard
from psremoting.transport.options import ConnectionInfo

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.pipeline import Pipeline

__all__ = [
    "SessionState",
    "Availability",
    "RunspacePoolConnection",
    "OPERATION_TIMEOUT_FAULT",
    "SHELL_NOT_FOUND_FAULTS",
    "map_connection_error",
]

log = logging.getLogger(__name__)

#: WSManFault code of an empty Receive (the long poll ran out): just Receive again.
OPERATION_TIMEOUT_FAULT = 2150858793
#: Fault codes saying the shell does not exist (any more) on the server.
SHELL_NOT_FOUND_FAULTS = frozenset({0x8033805B})
#: Fault codes for an unknown resource URI (session configuration).
INVALID_RESOURCE_FAULTS = frozenset({0x80338000, 0x8033803B, 0x80338043})


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


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        nxt = current.__cause__ or current.__context__
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        if nxt is None:
            reason = getattr(current, "reason", None)
            nxt = reason if isinstance(reason, BaseException) else None
        current = nxt
    return seen


_KERBEROS_MODULES = frozenset({"spnego", "krb5", "gssapi"})


def map_connection_error(
    exc: BaseException, info: ConnectionInfo, *, opening: bool = True
) -> PSRemotingError:
    """Turn a pypsrp / requests / spnego failure into a psremoting error with PowerShell's
    wording and a hint of what to do."""
    from xml.etree.ElementTree import ParseError

    import requests
    from pypsrp.exceptions import (
        AuthenticationError,
        InvalidPSRPOperation,
        WinRMError,
        WinRMTransportError,
        WSManFaultError,
    )

    name = info.computer_name
    if isinstance(exc, PSRemotingError):
        return exc
    if isinstance(exc, ResponseRefusedError):
        if exc.timed_out:
            return ConnectTimeoutError(
                name,
                f"The WinRM client cannot complete the operation within the time specified: {exc.reason}. "
                "Check the network to the server, or raise SessionOption(operation_timeout=...) for a slow link.",
            )
        return ConnectionFailedError(
            name,
            f"The WinRM client refused the server's answer: {exc.reason}. Check that {info.url} is a WinRM "
            "endpoint.",
        )
    if isinstance(exc, AuthenticationError) or type(exc).__module__.split(".")[0] in _KERBEROS_MODULES:
        user = info.credential.username if info.credential else "(no user name)"
        detail = "" if isinstance(exc, AuthenticationError) else f" ({exc})"
        return AuthenticationFailedError(
            name,
            f"Access is denied. The server did not accept the credentials of {user} with "
            f"{info.authentication} authentication{detail}; check the user name and password, and that the "
            "server allows this authentication method.",
        )
    chain = _chain(exc)
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(e, ssl.SSLError) for e in chain):
        text = " ".join(str(e) for e in chain)
        where = f"{name}:{info.port}"
        if "mismatch" in text or "doesn't match" in text or "not valid for" in text:
            reason = (
                f"The server certificate on the destination computer ({where}) has the following errors: "
                "The SSL certificate contains a common name (CN) that does not match the hostname. "
                "Connect with the name in the certificate, or, if you trust this server, use "
                "SessionOption(skip_cn_check=True)."
            )
        else:
            reason = (
                f"The server certificate on the destination computer ({where}) has the following errors: "
                "The SSL certificate is signed by an unknown certificate authority. Trust the CA that signed it "
                "(REQUESTS_CA_BUNDLE), or, if you trust this server, use SessionOption(skip_ca_check=True)."
            )
        return CertificateError(name, reason)
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout, TimeoutError)):
        return ConnectTimeoutError(
            name,
            "The WinRM client cannot complete the operation within the time specified. Check if the machine "
            "name is valid and is reachable over the network and firewall exception for Windows Remote "
            "Management service is enabled.",
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        if any(isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError" for e in chain):
            return HostNotFoundError(
                name,
                f"WinRM cannot process the request because the computer {name} could not be found: the name "
                "does not resolve. Verify that the computer exists on the network and that the name provided "
                "is spelled correctly.",
            )
        return ConnectionFailedError(
            name,
            "WinRM cannot complete the operation. Verify that the specified computer name is valid, that the "
            "computer is accessible over the network, and that a firewall exception for the WinRM service is "
            f"enabled and allows access from this computer. (No WinRM answer at {info.url}.)",
        )
    if isinstance(exc, WSManFaultError):
        reason = printable(str(exc.reason or exc.message or exc), 1000)
        code = exc.code or 0
        if opening and (code in INVALID_RESOURCE_FAULTS or "session configuration" in reason.lower()):
            return InvalidConfigurationNameError(name, info.configuration_name)
        if code in SHELL_NOT_FOUND_FAULTS:
            return SessionBrokenError(
                f"The session to {name} is Broken: the server no longer has its shell ({reason.strip()})",
                computer_name=name,
                reason=reason,
            )
        return ConnectionFailedError(name, reason, error_code=str(code) if code else "CannotConnect")
    if isinstance(exc, WinRMTransportError):
        text = printable((exc.response_text or "").strip(), 200)
        return ConnectionFailedError(
            name, f"The WinRM service answered with HTTP {exc.code}{': ' + text if text else ''}."
        )
    if isinstance(exc, InvalidPSRPOperation):
        return ConnectionFailedError(name, f"The server refused the session: {exc}")
    if isinstance(exc, ParseError) or (
        isinstance(exc, WinRMError) and "related id does not match" in str(exc).lower()
    ):
        what = (
            "is not an answer to the request that was sent"
            if isinstance(exc, WinRMError)
            else "is not valid WS-Management XML"
        )
        return ConnectionFailedError(
            name,
            f"The server's answer {what} ({printable(str(exc), 200)}). Check that {info.url} is a WinRM "
            "endpoint, and that no proxy or load balancer in between rewrites its answers.",
        )
    if isinstance(exc, ValueError):
        return InvalidOptionError(printable(str(exc), 500))
    return ConnectionFailedError(name, f"{type(exc).__name__}: {printable(str(exc), 500)}")


def _make_wsman(info: ConnectionInfo) -> Any:
    """pypsrp WSMan for `info`, with Receive retries bounded and skip_cn_check honoured."""
    from pypsrp.wsman import WSMan

    class _WSMan(WSMan):
        def receive(
            self,
            resource_uri: str,
            resource: Any,
            option_set: Any = None,
            selector_set: Any = None,
            timeout: Any = None,
        ) -> Any:
            # pypsrp retries a Receive 5 times with backoff (about 5 minutes) on a read
            # timeout; one retry is enough to ride out a blip, the rest hides a dead host.
            res = self.invoke(
                "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
                resource_uri,
                resource,
                option_set,
                selector_set,
                timeout,
                retries_on_read_timeout=1,
            )
            return res.find("s:Body", namespaces={"s": "http://www.w3.org/2003/05/soap-envelope"})

    wsman = _WSMan(**info.wsman_kwargs())
    transport = wsman.transport
    original = transport._build_session
    skip_cn_only = info.session_option.skip_cn_check and not info.session_option.skip_ca_check
    guard = response_guard(wsman)

    def build_session() -> Any:
        session = original()
        # pypsrp has copied the environment's proxy and CA settings into the session by
        # now; leaving trust_env on makes requests read them again on every request
        # (about 0.6 ms each, three requests a command).
        session.trust_env = False
        session.hooks["response"].append(guard)
        if skip_cn_only:
            for adapter in list(session.adapters.values()):
                pooled: Any = adapter
                pooled.init_poolmanager(
                    pooled._pool_connections,
                    pooled._pool_maxsize,
                    block=pooled._pool_block,
                    assert_hostname=False,
                )
        return session

    setattr(transport, "_build_session", build_session)  # noqa: B010
    return wsman


_RAW_UI_FIELDS = (
    "foreground_color",
    "background_color",
    "cursor_position",
    "window_position",
    "cursor_size",
    "buffer_size",
    "window_size",
    "max_window_size",
    "max_physical_window_size",
    "window_title",
)


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, str)):
        return value
    if hasattr(value, "width"):
        return ("size", value.width, value.height)
    if hasattr(value, "x"):
        return ("xy", value.x, value.y)
    return ("value", getattr(value, "value", repr(value)))


def host_data_key(host: Any) -> tuple[Any, ...]:
    """What of a pypsrp PSHost goes into a HostInfo (null or not, the raw UI's default
    data), as a tuple to compare: equal keys give the same HostInfo on the wire."""
    ui = getattr(host, "ui", None) if host is not None else None
    raw_ui = getattr(ui, "raw_ui", None) if ui is not None else None
    head = (host is None, ui is None, raw_ui is None)
    if raw_ui is None:
        return head
    return head + tuple(_plain_value(getattr(raw_ui, name, None)) for name in _RAW_UI_FIELDS)


class RunspacePoolConnection:
    """One runspace pool on one server: the connection behind a PSSession.

    `label` names it in errors (``Session1``). All pypsrp calls happen under `lock`; a
    pipeline holds it from start to close, which is what makes the pool Busy.
    """

    def __init__(self, info: ConnectionInfo, *, ui: HostUI | None = None, label: str | None = None) -> None:
        from pypsrp.powershell import RunspacePool

        self.info = info
        self.label = label or info.computer_name
        self.lock = threading.RLock()
        self.host_state = HostState()
        self.host = make_pshost(ui if ui is not None else NonInteractiveHostUI(), self.host_state)
        self.wsman = _make_wsman(info)
        option = info.session_option
        self.pool = RunspacePool(
            self.wsman,
            host=self.host,
            configuration_name=info.configuration_name,
            no_profile=option.no_machine_profile,
            idle_timeout=int(option.idle_timeout) if option.idle_timeout else None,
        )
        self.pool.shell.resource_uri = info.shell_uri
        self.instance_id = uuid.UUID(self.pool.id)
        self._state = SessionState.BEFORE_OPEN
        self._busy = False
        self.broken_reason: str | None = None
        self.current: Pipeline | None = None
        self._state_lock = threading.Lock()
        #: `host_data_key` of the host as this client opened the pool with it (None when it
        #: did not open it): pipelines whose host still has that key use the pool's host.
        self.host_key_at_open: tuple[Any, ...] | None = None

    # --- state -------------------------------------------------------------------------
    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def availability(self) -> Availability:
        if self._state != SessionState.OPENED:
            return Availability.NONE
        return Availability.BUSY if self._busy else Availability.AVAILABLE

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
        with contextlib.suppress(Exception):
            self.wsman.transport.close()
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
        import base64
        import xml.etree.ElementTree as ET

        from pypsrp.complex_objects import ApartmentState, HostInfo, PSThreadOptions, RunspacePoolState
        from pypsrp.exceptions import WSManFaultError
        from pypsrp.messages import InitRunspacePool, SessionCapability
        from pypsrp.powershell import PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION
        from pypsrp.wsman import OptionSet

        if self._state != SessionState.BEFORE_OPEN:
            raise SessionStateError(f"The session {self.label} cannot be opened: it is {self._state.value}.")
        option = self.info.session_option
        deadline = time.monotonic() + option.open_timeout
        self._set_state(SessionState.OPENING)
        pool = self.pool
        transport = self.wsman.transport
        saved_read_timeout = transport.read_timeout
        # The Create itself must not outlast the open timeout either.
        transport.read_timeout = max(1, min(saved_read_timeout, option.open_timeout))
        with self.lock:
            try:
                messages = [
                    SessionCapability(PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION),
                    InitRunspacePool(
                        pool.min_runspaces,
                        pool.max_runspaces,
                        PSThreadOptions(value=pool.thread_options),
                        ApartmentState(value=pool.apartment_state),
                        HostInfo(host=pool.host),
                        dict(option.application_arguments) if option.application_arguments else None,
                    ),
                ]
                host_key = host_data_key(pool.host)
                fragments = pool._fragmenter.fragment_multiple(messages, pool.id)
                content = ET.Element("creationXml", xmlns="http://schemas.microsoft.com/powershell")
                content.text = base64.b64encode(fragments.pop(0)).decode()
                options = OptionSet()
                options.add_option("protocolversion", PROTOCOL_VERSION, {"MustComply": "true"})
                pool.shell.open(options, content)
                # pypsrp sends only the first fragment of a large open; send the rest.
                for fragment in fragments:
                    pool.shell.send("stdin", fragment)
                pool.state = RunspacePoolState.NEGOTIATION_SENT
                while pool.state == RunspacePoolState.NEGOTIATION_SENT:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("open timed out")
                    try:
                        pool._receive(timeout=max(1, min(int(remaining), 5)))
                    except WSManFaultError as fault:
                        if fault.code != OPERATION_TIMEOUT_FAULT:
                            raise
                if pool.state != RunspacePoolState.OPENED:
                    raise ConnectionFailedError(
                        self.info.computer_name, f"The server did not open the session (state {pool.state})."
                    )
                self.host_key_at_open = host_key
            except BaseException as exc:
                self._set_state(SessionState.BROKEN)
                self._cleanup_failed_open()
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                error = map_connection_error(exc, self.info)
                self.broken_reason = error.message
                raise error from exc
            finally:
                transport.read_timeout = saved_read_timeout
        self._set_state(SessionState.OPENED)

    def _cleanup_failed_open(self) -> None:
        try:
            if self.pool.shell.id:
                self.pool.shell.close()
        except Exception:  # noqa: BLE001 - the open already failed; this is best effort
            pass
        with contextlib.suppress(Exception):
            self.wsman.transport.close()

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
                    if self.pool.shell.opened or self.pool.shell.id:
                        self.pool.shell.close()
                except Exception as exc:  # noqa: BLE001 - the session is gone either way
                    log.debug("closing %s on the server failed: %s", self.label, exc)
            self._set_state(SessionState.CLOSED)
            self._busy = False
            with contextlib.suppress(Exception):
                self.wsman.transport.close()
        finally:
            if acquired:
                self.lock.release()

    def disconnect(self) -> None:
        """Disconnect (the server keeps the session until its idle timeout)."""
        with self.lock:
            if self._state == SessionState.DISCONNECTED:
                return
            self.require_opened()
            self._set_state(SessionState.DISCONNECTING)
            try:
                self.pool.disconnect()
            except Exception as exc:
                error = map_connection_error(exc, self.info, opening=False)
                if isinstance(error, SessionBrokenError):
                    raise self.mark_broken(error.reason or error.message) from exc
                self._set_state(SessionState.OPENED)
                raise error from exc
            self._set_state(SessionState.DISCONNECTED)

    def reconnect(self) -> None:
        """Reconnect a Disconnected pool (same client)."""
        with self.lock:
            if self._state == SessionState.OPENED:
                return
            if self._state != SessionState.DISCONNECTED:
                raise SessionStateError(
                    f'Cannot connect PSSession "{self.label}", either because it is not in the Disconnected '
                    "state, or it is not available for connection.",
                    computer_name=self.info.computer_name,
                    state=self._state.value,
                )
            self._set_state(SessionState.CONNECTING)
            try:
                self.pool.connect()
            except Exception as exc:
                error = map_connection_error(exc, self.info, opening=False)
                if isinstance(error, SessionBrokenError):
                    raise self.mark_broken(error.reason or error.message) from exc
                self._set_state(SessionState.DISCONNECTED)
                raise error from exc
            self._set_state(SessionState.OPENED)

    def check_alive(self, timeout: int = 10) -> bool:
        """Ask the server whether the shell still exists (WSMan Get); a lost shell makes the
        pool Broken. Returns whether it is Opened afterwards."""
        from pypsrp.exceptions import WSManFaultError

        if self._state != SessionState.OPENED:
            return False
        if not self.lock.acquire(timeout=0.5):
            return True  # a pipeline is running: it will notice a broken shell itself
        try:
            self.pool.shell._get_shell(timeout=timeout)
        except WSManFaultError as fault:
            if fault.code in SHELL_NOT_FOUND_FAULTS:
                self.mark_broken("the server no longer has the shell (it may have restarted or timed out).")
                return False
            if fault.code == OPERATION_TIMEOUT_FAULT:
                return True
            raise map_connection_error(fault, self.info, opening=False) from fault
        except Exception as exc:  # noqa: BLE001
            error = map_connection_error(exc, self.info, opening=False)
            self.mark_broken(
                f"the server could not be reached: {error.reason if hasattr(error, 'reason') else error}"
            )
            return False
        finally:
            self.lock.release()
        return True

    def exchange_keys(self) -> None:
        """Run the session key exchange (needed before sending a SecureString)."""
        with self.lock:
            self.require_opened()
            self.pool.exchange_keys()

    def start(self, *args: Any, **kwargs: Any) -> Pipeline:
        """Create a pipeline on this pool (see `psremoting.runspace.pipeline.Pipeline`)."""
        from psremoting.runspace.pipeline import Pipeline

        return Pipeline(self, *args, **kwargs)
