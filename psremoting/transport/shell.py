"""One PowerShell shell on one endpoint: the transport's interface to the runspace layer.

`ShellChannel` is all the runspace-pool layer needs below it: create the shell and negotiate
the pool, start a pipeline, Receive (with a MessageID that may be sent again), Signal on
another connection while a Receive long-polls, Disconnect, Reconnect, Connect from another
process, close. It holds pypsrp's ``RunspacePool`` (the PSRP state: serializer, fragmenter,
host calls) and its ``WSMan``, and is the one place that uses their private members; the
contract test (tests/client/test_pypsrp_contract.py) pins what it relies on, so that a pypsrp
release that changes them fails there first.
"""

from __future__ import annotations

import base64
import functools
import logging
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

from psremoting.protocol.clixml import UNREADABLE_DATA
from psremoting.protocol.errors import MalformedAnswerError
from psremoting.protocol.fragments import fragment_messages
from psremoting.protocol.wsman import OPERATION_TIMED_OUT, SIGNAL_PS_STOP, SIGNAL_TERMINATE
from psremoting.transport import wsman as ws
from psremoting.transport.envelope import SendBody
from psremoting.transport.errors import TransportConnectionError
from psremoting.transport.options import ConnectionInfo
from psremoting.transport.pipeline_input import LastInput, estimated_size
from psremoting.transport.robust import NetworkEvent, robust_scope
from psremoting.transport.sending import CreationXml, SendAhead, input_messages, pipeline_key
from psremoting.transport.state_messages import QuickMessages

log = logging.getLogger(__name__)

#: What pypsrp raises on bytes it cannot read (a bad header, CLIXML, a missing property).
_UNREADABLE = (*UNREADABLE_DATA, struct.error)


def _unreadable() -> tuple[type[BaseException], ...]:
    from pypsrp.exceptions import SerializationError

    return (*_UNREADABLE, SerializationError)


def unpack_message(data: bytes, serializer: Any) -> Any:
    """One reassembled PSRP message (pypsrp's ``Message``, its data deserialized);
    `MalformedAnswerError` for bytes that are not one."""
    from pypsrp.messages import Message

    if len(data) < 40:
        raise MalformedAnswerError(f"a PSRP message is {len(data)} bytes, shorter than its 40-byte header")
    try:
        return Message.unpack(data, serializer)
    except MalformedAnswerError:
        raise
    except _unreadable() as exc:
        raise MalformedAnswerError(
            f"a PSRP message could not be read ({type(exc).__name__}: {str(exc)[:100]})"
        ) from None


def parse_pool_answer(pool: Any, data: bytes) -> None:
    """pypsrp's reading of the pool's messages in a Receive, its failures as `MalformedAnswerError`."""
    try:
        pool._parse_responses(data)
    except MalformedAnswerError:
        raise
    except _unreadable() as exc:
        raise MalformedAnswerError(
            f"the session's PSRP messages could not be read ({type(exc).__name__}: {str(exc)[:100]})"
        ) from None


__all__ = [
    "ShellChannel",
    "ShellEntry",
    "enumerate_shells",
    "secure_string_decryptor",
    "is_operation_timeout",
    "fault_code",
]

ShellEntry = ws.ShellEntry

log = logging.getLogger(__name__)


def fault_code(exc: BaseException) -> int | None:
    """The WSMan fault code of `exc`, or None when it is not a WSMan fault."""
    from pypsrp.exceptions import WSManFaultError

    if isinstance(exc, WSManFaultError):
        code = exc.code
        return code if isinstance(code, int) else None
    return None


def is_operation_timeout(exc: BaseException) -> bool:
    """An empty Receive: the long poll ran out (w:TimedOut)."""
    return fault_code(exc) == OPERATION_TIMED_OUT


@functools.cache
def _runspace_host_info_class() -> Any:
    from pypsrp.complex_objects import HostInfo

    class RunspaceHostInfo(HostInfo):
        """HostInfo saying "use the runspace pool's host" (MS-PSRP 2.2.3.14): a host is
        there, and it is the one the pool was opened with."""

        _is_host_null = False
        _is_host_ui_null = False
        _is_host_raw_ui_null = False
        _use_runspace_host = True
        _host_data = None

    return RunspaceHostInfo


@functools.cache
def _no_ui_host_info_class() -> Any:
    from pypsrp.complex_objects import HostInfo

    class NoUIHostInfo(HostInfo):
        """HostInfo of a pipeline without a host UI (MS-PSRP 2.2.3.14): the server gives
        the pipeline a host whose UI is null, so prompts fail there."""

        _is_host_null = True
        _is_host_ui_null = True
        _is_host_raw_ui_null = True
        _use_runspace_host = False
        _host_data = None

    return NoUIHostInfo


class ShellChannel:
    """The shell (runspace pool) behind one PSSession (see the module docstring)."""

    def __init__(self, info: ConnectionInfo, host: Any, *, name: str | None = None) -> None:
        from pypsrp.powershell import RunspacePool

        self.info = info
        self.wsman, self.transport = ws.make_wsman(info)
        option = info.session_option
        self.pool = RunspacePool(
            self.wsman,
            host=host,
            configuration_name=info.configuration_name,
            no_profile=option.no_machine_profile,
            idle_timeout=int(option.idle_timeout) if option.idle_timeout else None,
        )
        self.pool.shell.resource_uri = info.shell_uri
        # Cached XML for what every session sends alike; a fast path for the small state messages
        # every session receives (pypsrp's pool and its fragmenter share one serializer).
        self._quick = QuickMessages(self.pool._serializer)
        self._xml = CreationXml(self._quick)
        self.pool._fragmenter.serializer = self._xml  # type: ignore[assignment]
        self.pool.shell.name = name
        self._robust = False
        self._listener: Callable[[NetworkEvent], None] | None = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        return str(self.pool.id)

    @property
    def serializer(self) -> Any:
        return self.pool._serializer

    def scope(self, abort: threading.Event | None = None, deadline: float | None = None) -> Any:
        """The robust-connection scope for a running command's requests (Command, Send,
        Receive, host-call answers) once the session is open; other requests (open, close,
        disconnect, queries) fail at once, as PowerShell's do."""
        seconds = self.info.session_option.max_retry_connection_time if self._robust else 0.0
        return robust_scope(max_retry=seconds, abort=abort, listener=self._listener, deadline=deadline)

    def set_network_listener(self, listener: Callable[[NetworkEvent], None] | None) -> None:
        self._listener = listener

    # -- open, close -------------------------------------------------------------------------
    def open(
        self, application_arguments: dict[str, Any] | None, deadline: float, host_key: Any = None
    ) -> None:
        """WSMan Create with the pool's creation messages, then Receive until the pool is
        Opened (or the deadline passes: TimeoutError).

        `host_key` (what of the host goes on the wire, `runspace.host.host_data_key`) lets the
        serialized creation messages be reused by the next session with the same settings:
        their XML carries no identifier (those are in the message headers)."""
        from pypsrp.complex_objects import ApartmentState, HostInfo, PSThreadOptions, RunspacePoolState
        from pypsrp.messages import InitRunspacePool, SessionCapability
        from pypsrp.powershell import PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION
        from pypsrp.wsman import OptionSet

        pool = self.pool
        messages = [
            SessionCapability(PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION),
            InitRunspacePool(
                pool.min_runspaces,
                pool.max_runspaces,
                PSThreadOptions(value=pool.thread_options),
                ApartmentState(value=pool.apartment_state),
                HostInfo(host=pool.host),
                application_arguments,
            ),
        ]
        fragmenter: Any = pool._fragmenter
        keys: dict[int, tuple[Any, ...]] = {}
        if host_key is not None:
            key = (
                host_key,
                repr(application_arguments),
                pool.min_runspaces,
                pool.max_runspaces,
                pool.thread_options,
                pool.apartment_state,
            )
            keys = {id(m): (*key, type(m).__name__) for m in messages}
        with self._xml.expect(keys):
            fragments = fragmenter.fragment_multiple(messages, pool.id)
        content = ET.Element("creationXml", xmlns="http://schemas.microsoft.com/powershell")
        content.text = base64.b64encode(fragments.pop(0)).decode()
        options = OptionSet()
        options.add_option("protocolversion", PROTOCOL_VERSION, {"MustComply": "true"})
        saved = self.transport.read_timeout
        # The Create itself must not outlast the open timeout either.
        self.transport.read_timeout = max(1.0, min(saved, self.info.session_option.open_timeout))
        try:
            pool.shell.open(options, content)
        except TransportConnectionError:
            # The Create may have run with its answer lost (the connection died under it): the
            # shell has the id this client proposed, so delete it rather than leave it to idle out.
            self._delete_unanswered_shell()
            raise
        finally:
            self.transport.read_timeout = saved
        for fragment in fragments:  # pypsrp sends only the first fragment of a large open
            pool.shell.send("stdin", fragment)
        pool.state = RunspacePoolState.NEGOTIATION_SENT
        self._receive_pool_until_opened(deadline)
        self._robust = True

    def _delete_unanswered_shell(self) -> None:
        from pypsrp.wsman import SelectorSet

        shell = self.pool.shell
        if not shell.id:
            return
        selectors = SelectorSet()
        selectors.add_option("ShellId", str(shell.id).upper())
        try:
            self.wsman.delete(shell.resource_uri, selector_set=selectors)
        except Exception as exc:  # not found (the Create never ran), or the server is gone
            log.debug("deleting the shell of an unanswered Create failed: %s", exc)

    def _receive_pool_until_opened(self, deadline: float) -> None:
        from pypsrp.complex_objects import RunspacePoolState

        pool = self.pool
        while pool.state == RunspacePoolState.NEGOTIATION_SENT:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("open timed out")
            try:
                result = ws.receive(
                    self.wsman,
                    pool.shell,
                    None,
                    max(1, min(int(remaining), 5)),
                    message_id=ws.new_message_id(),
                    deadline=deadline,  # an answer later than open_timeout is a timeout
                )
            except Exception as exc:
                if is_operation_timeout(exc):
                    continue
                raise
            parse_pool_answer(pool, result.data)

    def close(self) -> None:
        """Delete the shell on the server (best effort) and close the connections."""
        try:
            if self.pool.shell.opened or self.pool.shell.id:
                self.pool.shell.close()
        finally:
            self.transport.close()

    def drop_connections(self) -> None:
        self.transport.close()

    def get_shell(self, timeout: int) -> dict[str, Any]:
        """WSMan Get of the shell (its State, IdleTimeOut...)."""
        return dict(self.pool.shell._get_shell(timeout=timeout))

    def exchange_keys(self) -> None:
        self.pool.exchange_keys()

    # -- pipelines -----------------------------------------------------------------------------
    def new_powershell(self) -> Any:
        from pypsrp.powershell import PowerShell

        return PowerShell(self.pool)

    def command_metadata(
        self, names: list[str], command_type: int, namespace: list[str] | None
    ) -> tuple[list[Any], list[Any]]:
        """A GetCommandMetadata pipeline (MS-PSRP 2.2.2.14; Import-PSSession's first call) run
        to its end: its output and, when it failed without output, its error records (both
        as pypsrp deserialized them). The command is then terminated on the server, as every
        pipeline of the session is."""
        from pypsrp.messages import GetCommandMetadata

        ps = self.new_powershell()
        try:
            ps._invoke(GetCommandMetadata(names, command_type, namespace, None))
            output: list[Any] = ps.end_invoke()
            errors = list(getattr(ps.streams, "error", None) or []) if ps.had_errors and not output else []
            return output, errors
        finally:
            try:
                # pypsrp sends the client's id as the command id (upper case, as Windows shows it)
                self.pool.shell.signal(SIGNAL_TERMINATE, str(ps.id).upper())
            except Exception as exc:
                log.debug("terminate signal after GetCommandMetadata: %s", exc)
            self.forget(ps)

    def start_pipeline(
        self, ps: Any, input: Iterator[Any] | None, *, add_to_history: bool, use_pool_host: bool
    ) -> None:
        """Start `ps` on the server (WSMan Command, then Sends for more fragments and input),
        as pypsrp's ``PowerShell.begin_invoke`` does, except for the host: with
        `use_pool_host` the pipeline asks for the pool's host (``_useRunspaceHost``,
        MS-PSRP 2.2.3.14) instead of sending the whole host data again. That is the same
        host on the server, and it spares a server ~8 ms of deserializing (the client 2 ms of
        serializing) on every command."""
        from pypsrp.complex_objects import ApartmentState, HostInfo, RemoteStreamOptions
        from pypsrp.complex_objects import Pipeline as PipelineObject
        from pypsrp.messages import CreatePipeline

        rpool = self.pool
        host_info: Any
        if getattr(getattr(rpool.host, "ui_target", None), "interactive", True) is False:
            # Nobody can answer a prompt: the server gets no host UI and fails prompts itself,
            # with PowerShell's error, as it does for any client without one.
            host_info = _no_ui_host_info_class()()
        elif use_pool_host:
            host_info = _runspace_host_info_class()(host=rpool.host)
        else:
            host_info = HostInfo(host=rpool.host)
        create = CreatePipeline(
            input is None,
            ApartmentState(value=rpool.apartment_state),
            RemoteStreamOptions(value=RemoteStreamOptions.ADD_INVOCATION_INFO),
            add_to_history,
            host_info,
            PipelineObject(
                is_nested=ps.is_nested, cmds=ps.commands, history=ps.history_string, redirect_err_to_out=False
            ),
            ps.is_nested,
        )
        # The same command to many hosts (a fleet): its XML is serialized once per process.
        key = pipeline_key(create, (_no_ui_host_info_class(), _runspace_host_info_class()))
        with self.scope():
            with self._xml.expect({id(create): key} if key is not None else {}):
                ps._invoke(create)
            if input is not None:
                self._send_input(ps, input)

    def _send_input(self, ps: Any, input: Iterator[Any]) -> None:
        """Send the pipeline's input, read from `input` one object at a time, as it comes
        (see `psremoting.transport.pipeline_input`); only about one Send's worth is held."""
        rpool = self.pool
        fragmenter = rpool._fragmenter
        budget = max(1024, int(fragmenter.max_size))
        packable = bool(getattr(input, "packable", False))
        batch: list[Any] = []
        size = 0
        shell = rpool.shell
        wsman: Any = shell.wsman  # the template WSMan (`transport.envelope`): it takes a SendBody

        def send(fragment: bytes) -> None:
            body = SendBody("stdin", fragment, ps._command_id)
            wsman.send(shell.resource_uri, body, selector_set=shell._selector_set)

        # Input as it comes (a file being uploaded): the next object is read, serialized and
        # fragmented while the previous Send is in flight (one Send ahead, in order).
        ahead = SendAhead(send) if not packable else None

        def flush(values: list[Any], *, end: bool = False) -> None:
            messages = input_messages(values, rpool.id, ps.id, fragmenter.serializer, end=end)
            first = fragmenter.outgoing_counter  # the pool's object ids, shared with pypsrp
            fragmenter.outgoing_counter += len(messages)
            for fragment in fragment_messages(messages, first, fragmenter.max_size):
                if ahead is not None:
                    ahead.put(fragment)
                else:
                    send(fragment)

        try:
            for value in input:
                if isinstance(value, LastInput):  # the source knows it is the last: one Send spared
                    batch.append(value.value)
                    break
                cost = estimated_size(value)
                if batch and (not packable or size + cost > budget):
                    flush(batch)
                    batch, size = [], 0
                batch.append(value)
                size += cost
                if not packable:
                    flush(batch)
                    batch, size = [], 0
            flush(batch, end=True)
            if ahead is not None:
                ahead.finish()
        finally:
            if ahead is not None:
                ahead.abandon()

    @staticmethod
    def command_id(ps: Any) -> str | None:
        """The CommandId of a started pipeline (pypsrp's, which is the pipeline id)."""
        return ps._command_id or None

    @staticmethod
    def adopt_command(ps: Any, command_id: str) -> None:
        """Make `ps` stand for a command already on the server (a disconnected one)."""
        from pypsrp.complex_objects import PSInvocationState

        ps.id = command_id
        ps._command_id = command_id
        ps.state = PSInvocationState.RUNNING

    def receive(self, command_id: str | None, timeout: float, *, message_id: str) -> ws.ReceiveResult:
        return ws.receive(self.wsman, self.pool.shell, command_id, timeout, message_id=message_id)

    @property
    def network_down(self) -> bool:
        """Whether a request is riding out a network failure now."""
        return self.transport.outages > 0

    def stop(self, command_id: str) -> None:
        """Ctrl+C: ``powershell/signal/crtl_c`` (on another connection when one long-polls)."""
        self.pool.shell.signal(SIGNAL_PS_STOP, command_id)

    def terminate(self, ps: Any) -> None:
        """Close the command on the server (Signal terminate) and forget it here."""
        try:
            self.pool.shell.signal(SIGNAL_TERMINATE, ps._command_id or ps.id)
        finally:
            self.pool.pipelines.pop(ps.id, None)

    def forget(self, ps: Any) -> None:
        self.pool.pipelines.pop(ps.id, None)

    # -- messages ------------------------------------------------------------------------------
    def unpack(self, data: bytes) -> Any:
        """One reassembled PSRP message (pypsrp's ``Message``, its data deserialized)."""
        return unpack_message(data, self._quick)

    def answer_host_call(self, message: Any, ps: Any | None) -> None:
        """Run a host call through the pool's host and send its answer (as pypsrp does)."""
        from pypsrp.messages import PipelineHostResponse, RunspacePoolHostResponse

        if ps is not None:
            self.pool._process_host_call(message, PipelineHostResponse, ps)
        else:
            self.pool._process_host_call(message, RunspacePoolHostResponse)

    def decrypt(self, text: str) -> str:
        """A SecureString's text decrypted with the session key (ValueError without one)."""
        return secure_string_decryptor(self.pool._serializer)(text)

    def parse_pool_messages(self, data: bytes) -> None:
        parse_pool_answer(self.pool, data)

    # -- disconnected sessions -----------------------------------------------------------------
    def disconnect(self, *, idle_timeout: float | None, buffer_mode: str | None, quick: bool = False) -> None:
        """WSMan Disconnect on its own connection (a Receive may be long-polling on another).
        `quick`: give up after a few seconds (the network is known to be down)."""
        from pypsrp.complex_objects import RunspacePoolState

        transport = self.transport
        saved = transport.connection_timeout, transport.read_timeout
        if quick:
            transport.connection_timeout, transport.read_timeout = 5.0, 5.0
        try:
            with robust_scope(max_retry=0):
                ws.disconnect(self.wsman, self.pool.shell, idle_timeout=idle_timeout, buffer_mode=buffer_mode)
        finally:
            if quick:
                transport.connection_timeout, transport.read_timeout = saved
        self.pool.state = RunspacePoolState.DISCONNECTED
        self.transport.close()

    def mark_disconnected(self) -> None:
        from pypsrp.complex_objects import RunspacePoolState

        self.pool.state = RunspacePoolState.DISCONNECTED
        self.transport.close()

    def reconnect(self, command_ids: list[str]) -> None:
        """Reconnect the shell this client disconnected, then each of its commands."""
        from pypsrp.complex_objects import RunspacePoolState

        ws.reconnect(self.wsman, self.pool.shell)
        for command_id in command_ids:
            ws.reconnect(self.wsman, self.pool.shell, command_id)
        self.pool.state = RunspacePoolState.OPENED

    @classmethod
    def attach(cls, info: ConnectionInfo, host: Any, entry: ws.ShellEntry) -> ShellChannel:
        """A channel for a shell found on the server (Enumerate), not yet connected."""
        from pypsrp.complex_objects import RunspacePoolState
        from pypsrp.wsman import SelectorSet

        channel = cls(info, host, name=entry.name or None)
        pool = channel.pool
        pool.id = entry.shell_id.upper()
        pool.shell.id = pool.id
        pool.shell.opened = True
        pool.shell.resource_uri = entry.resource_uri
        selectors = SelectorSet()
        selectors.add_option("ShellId", pool.id)
        pool.shell._selector_set = selectors
        pool.state = RunspacePoolState.DISCONNECTED
        return channel

    def connect(self, deadline: float) -> None:
        """Connect to a disconnected shell as a new client (WSMan Connect with connectXml:
        SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL), then Receive until it is Opened."""
        from pypsrp.complex_objects import RunspacePoolState
        from pypsrp.messages import ConnectRunspacePool, SessionCapability
        from pypsrp.powershell import PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION

        pool = self.pool
        data = pool._fragmenter.fragment(
            SessionCapability(PROTOCOL_VERSION, PS_VERSION, SERIALIZATION_VERSION), pool.id
        )[0]
        data += pool._fragmenter.fragment(ConnectRunspacePool(), pool.id)[0]
        with robust_scope(max_retry=0):
            answer = ws.connect_pool(self.wsman, pool.shell, data)
        parse_pool_answer(pool, answer)
        # Windows queues the ApplicationPrivateData (and, some versions, the pool state) for
        # the next Receive; an empty one (w:TimedOut) is fine too.
        try:
            result = ws.receive(
                self.wsman,
                pool.shell,
                None,
                max(1, min(5, int(deadline - time.monotonic()))),
                message_id=ws.new_message_id(),
            )
            parse_pool_answer(pool, result.data)
        except Exception as exc:
            if not is_operation_timeout(exc):
                raise
        pool.state = RunspacePoolState.OPENED
        self._robust = True

    def connect_command(self, command_id: str) -> None:
        ws.connect_command(self.wsman, self.pool.shell, command_id)


def error_record_text(record: Any) -> str | None:
    """The ToString of a deserialized ErrorRecord (pypsrp keeps it in a private member)."""
    value = getattr(record, "_to_string", None)
    return value if isinstance(value, str) else None


def secure_string_decryptor(serializer: Any) -> Callable[[str], str]:
    """Decrypts SecureString text with the session key of pypsrp's `serializer`; the key may
    arrive mid-pipeline (a host call that needed it), so it is looked up at each call."""

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


def enumerate_shells(info: ConnectionInfo) -> list[ws.ShellEntry]:
    """The PowerShell shells this user has on the server (WSMan Enumerate)."""
    wsman, transport = ws.make_wsman(info)
    try:
        with robust_scope(max_retry=0):
            return ws.enumerate_shells(wsman)
    finally:
        transport.close()
