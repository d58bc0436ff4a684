"""WS-Management faults as a Windows WinRM service sends them.

A fault travels as HTTP 500 with a SOAP 1.2 ``s:Fault`` whose ``s:Detail`` holds a
``f:WSManFault`` carrying the numeric Windows error code (what pypsrp's
``WSManFaultError.code`` and PowerShell's FullyQualifiedErrorIds are built from) and the
message text. The element layout, prefixes and texts follow the recordings of real Windows
traffic in ``windows-recordings/`` (the empty-Receive ``w:TimedOut`` fault) and the
``ERROR_WSMAN_*`` codes of the Windows SDK for the rest.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from xml.sax.saxutils import escape

# The codes are the protocol layer's (one definition for the client and the emulator).
from psremoting.protocol.wsman import (
    ERROR_WSMAN_INUSE_CANNOT_RECONNECT,
    ERROR_WSMAN_INVALID_ACTIONURI,
    ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT,
    ERROR_WSMAN_INVALID_RESOURCE_URI,
    ERROR_WSMAN_INVALID_SELECTORS,
    ERROR_WSMAN_INVALID_SOAP_BODY,
    ERROR_WSMAN_INVALID_XML,
    ERROR_WSMAN_OPERATION_TIMEDOUT,
    ERROR_WSMAN_PROVIDER_FAILURE,
    ERROR_WSMAN_QUOTA_MAX_SHELLS,
    ERROR_WSMAN_SERVER_ENVELOPE_LIMIT,
    ERROR_WSMAN_UNEXPECTED_SELECTORS,
)

__all__ = [
    "ERROR_WSMAN_INVALID_ACTIONURI",
    "ERROR_WSMAN_INVALID_RESOURCE_URI",
    "ERROR_WSMAN_INVALID_SELECTORS",
    "ERROR_WSMAN_INVALID_SOAP_BODY",
    "ERROR_WSMAN_INVALID_XML",
    "ERROR_WSMAN_OPERATION_TIMEDOUT",
    "ERROR_WSMAN_QUOTA_MAX_SHELLS",
    "ERROR_WSMAN_SERVER_ENVELOPE_LIMIT",
    "ERROR_WSMAN_UNEXPECTED_SELECTORS",
    "WSManFault",
    "access_denied",
    "action_not_supported",
    "bad_base64",
    "command_not_found",
    "envelope_too_large",
    "invalid_resource_uri",
    "invalid_selectors",
    "malformed_xml",
    "operation_timed_out",
    "quota_max_shells",
    "FaultKnobs",
    "render_fault",
    "shell_not_found",
    "shell_in_use",
    "internal_error",
]

FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ADDRESSING_FAULT_ACTION = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"


class WSManFault(Exception):
    """A WS-Management fault to answer a request with (HTTP 500 unless ``status`` says otherwise).

    ``code`` is the SOAP code (``s:Sender``/``s:Receiver``), ``subcode`` the WS-Management
    subcode (``w:TimedOut``...), ``wsman_code`` the Windows error number and ``message`` the
    text Windows writes in both ``s:Reason`` and ``f:Message``.
    """

    def __init__(
        self,
        wsman_code: int,
        message: str,
        *,
        code: str = "s:Sender",
        subcode: str = "w:InvalidParameter",
        action: str = FAULT_ACTION,
        status: int = 500,
    ) -> None:
        super().__init__(message)
        self.wsman_code = wsman_code
        self.message = message
        self.code = code
        self.subcode = subcode
        self.action = action
        self.status = status
        #: The MessageID and wsa:To of a request whose headers were refused (no Request yet).
        self.relates_to: str | None = None
        self.to: str | None = None

    def __repr__(self) -> str:
        return f"WSManFault({self.wsman_code}, {self.subcode}, {self.message!r})"


_WSMANFAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"


def render_fault(fault: WSManFault, relates_to: str | None, machine: str) -> bytes:
    """The SOAP envelope of ``fault`` as Windows shapes it (prefixes as in the recordings)."""
    relates = f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>" if relates_to else ""
    text = escape(fault.message)
    reason = escape(getattr(fault, "reason", None) or fault.message)
    detail = getattr(fault, "fault_detail", None)
    detail_xml = f"<w:FaultDetail>{escape(detail)}</w:FaultDetail>" if detail else ""
    provider = getattr(fault, "provider", None)
    provider_path = escape(getattr(fault, "provider_path", None) or "")
    machine_attr = escape(machine, {chr(34): "&quot;"})
    inner = text
    if getattr(fault, "provider_nested", False):
        inner = (
            f'<f:WSManFault xmlns:f="{_WSMANFAULT}" Code="{fault.wsman_code}" Machine="{machine_attr}">'
            f"<f:Message>{text}</f:Message></f:WSManFault>"
        )
    message_xml = (
        f'<f:ProviderFault provider="{escape(provider)}" path="{provider_path}">{inner}</f:ProviderFault>'
        if provider
        else text
    )
    activity = str(uuid.uuid4()).upper()
    envelope = (
        '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"'
        ' xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing"'
        ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        f"<s:Header><a:Action>{fault.action}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<p:ActivityId>{activity}</p:ActivityId>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"{relates}</s:Header>"
        "<s:Body><s:Fault>"
        f"<s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        "</s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        f'<s:Detail>{detail_xml}<f:WSManFault xmlns:f="{_WSMANFAULT}"'
        f' Code="{fault.wsman_code}" Machine="{machine_attr}">'
        f"<f:Message>{message_xml}</f:Message></f:WSManFault></s:Detail>"
        "</s:Fault></s:Body></s:Envelope>"
    )
    return envelope.encode("utf-8")


# -- the faults the emulator raises ------------------------------------------------------


def operation_timed_out() -> WSManFault:
    """Nothing to answer within the request's OperationTimeout (an idle Receive)."""
    return WSManFault(
        ERROR_WSMAN_OPERATION_TIMEDOUT,
        "The WS-Management service cannot complete the operation within the time specified in "
        "OperationTimeout.  ",
        code="s:Receiver",
        subcode="w:TimedOut",
    )


def shell_not_found(shell_id: str) -> WSManFault:
    """The ShellId selector names no shell of this user (gone, reaped, or never existed)."""
    return WSManFault(
        ERROR_WSMAN_UNEXPECTED_SELECTORS,
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell "
        "was not found on the server. Possible causes are: the specified ShellId is incorrect or "
        "the shell no longer exists on the server. Provide the correct ShellId or create a new "
        "shell and try the operation again. ",
        subcode="w:InvalidSelectors",
    )


def command_not_found(command_id: str) -> WSManFault:
    """The CommandId names no command of the shell."""
    return WSManFault(
        ERROR_WSMAN_UNEXPECTED_SELECTORS,
        f"The request for the Windows Remote Shell with CommandId {command_id} failed because the "
        "command was not found on the server. Possible causes are: the specified CommandId is "
        "incorrect or the command no longer exists on the server. Provide the correct CommandId "
        "or run the command again. ",
        subcode="w:InvalidSelectors",
    )


def shell_in_use(shell_id: str) -> WSManFault:
    """A Connect to a shell some client is connected to, a Reconnect from a client other
    than the one that disconnected it, or a request on a disconnected shell (MS-WSMV 3.1.4.16/17:
    wsman:InternalError)."""
    return WSManFault(
        ERROR_WSMAN_INUSE_CANNOT_RECONNECT,
        f"The WinRM service cannot re-connect the session because the session is no longer associated "
        f"with this transportmanager object. The shell {shell_id} is in use by another client or is "
        "disconnected. ",
        code="s:Receiver",
        subcode="w:InternalError",
    )


def invalid_selectors() -> WSManFault:
    """A shell operation without the ShellId selector."""
    return WSManFault(
        ERROR_WSMAN_INVALID_SELECTORS,
        "The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        subcode="w:InvalidSelectors",
    )


def already_exists(what: str, where: str) -> WSManFault:
    """A Create or Command whose ShellId/CommandId is already taken."""
    return WSManFault(
        ERROR_WSMAN_INVALID_SELECTORS,
        f"The {what} already exists {where}.",
        subcode="w:AlreadyExists",
    )


def invalid_enumeration_context() -> WSManFault:
    """A Pull whose EnumerationContext is unknown or was already used up."""
    return WSManFault(
        ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT,
        "The WS-Management service cannot process the request because the enumeration context "
        "is not valid or has expired. ",
        subcode="n:InvalidEnumerationContext",
    )


def invalid_resource_uri(resource_uri: str) -> WSManFault:
    """A ResourceURI with no plugin behind it, e.g. a session configuration that does not exist."""
    return WSManFault(
        ERROR_WSMAN_INVALID_RESOURCE_URI,
        f"The WS-Management service cannot process the request. The resource URI ({resource_uri}) "
        "was not found in the WS-Management catalog. The catalog contains the metadata that "
        "describes resources, or logical endpoints. ",
        subcode="w:DestinationUnreachable",
    )


def access_denied() -> WSManFault:
    """The user may not use this endpoint (not in the configuration's SDDL): Windows' code 5."""
    return WSManFault(
        5,
        "Access is denied. ",
        subcode="w:AccessDenied",
    )


def quota_max_shells(username: str, limit: int) -> WSManFault:
    """MaxShellsPerUser reached."""
    return WSManFault(
        ERROR_WSMAN_QUOTA_MAX_SHELLS,
        f"The WS-Management service cannot process the request. This user is allowed a maximum "
        f"number of {limit} concurrent shells, which has been exceeded. Close existing shells or "
        "raise the quota for this user. ",
        code="s:Receiver",
        subcode="w:QuotaLimit",
    )


def envelope_too_large(size: int, limit: int) -> WSManFault:
    """A request bigger than the service's MaxEnvelopeSize."""
    return WSManFault(
        ERROR_WSMAN_SERVER_ENVELOPE_LIMIT,
        f"The WS-Management service cannot process the request because the envelope size of the "
        f"request ({size} bytes) exceeds the maximum envelope size of the service ({limit} bytes). "
        "Reduce the size of the request or raise MaxEnvelopeSizekb. ",
        subcode="w:EncodingLimit",
    )


def malformed_xml(detail: str) -> WSManFault:
    """The body is not well-formed XML, or carries a DTD (refused as hostile)."""
    return WSManFault(
        ERROR_WSMAN_INVALID_XML,
        f"The WS-Management service cannot process the request because the XML is invalid. {detail} ",
        subcode="w:SchemaValidationError",
    )


def bad_body(detail: str) -> WSManFault:
    """Well-formed XML that is not the SOAP body the action requires."""
    return WSManFault(
        ERROR_WSMAN_INVALID_SOAP_BODY,
        f"The WS-Management service cannot process the request because the SOAP body is invalid. {detail} ",
        subcode="w:SchemaValidationError",
    )


def bad_base64(where: str) -> WSManFault:
    """A stream or creationXml whose content is not base64 (or not PSRP fragments)."""
    return WSManFault(
        ERROR_WSMAN_INVALID_XML,
        f"The WS-Management service cannot process the request because the data in {where} is "
        "not valid base64-encoded PowerShell remoting data. ",
        subcode="w:SchemaValidationError",
    )


def action_not_supported(action: str) -> WSManFault:
    """An Action URI the service does not implement for this resource."""
    return WSManFault(
        ERROR_WSMAN_INVALID_ACTIONURI,
        f"The action requested is not supported by the service. The action URI ({action}) is "
        "invalid or the resource does not support it. ",
        subcode="w:ActionNotSupported",
        action=ADDRESSING_FAULT_ACTION,
    )


def internal_error(detail: str) -> WSManFault:
    """An unexpected failure inside the emulator (logged with its traceback)."""
    return WSManFault(
        ERROR_WSMAN_PROVIDER_FAILURE,
        f"The WS-Management service cannot process the request. The service encountered an "
        f"internal error: {detail} ",
        code="s:Receiver",
        subcode="w:InternalError",
    )


# -- fault injection ------------------------------------------------------------------


class FaultKnobs:
    """What a test can break on purpose: ``Emulator.faults``.

    - :meth:`drop_connection` closes the TCP connection instead of answering, after
      ``after`` more requests have been answered normally (a network cut or a crashed proxy);
    - :meth:`inject` answers the next ``count`` requests of an action (``"Receive"``,
      ``"Command"``... or the full Action URI) with a WSMan fault as HTTP 500;
    - :meth:`lose_answer` runs a request but drops its answer (the connection is closed
      instead): what a network failure after the server acted looks like;
    - :meth:`reject_logons` answers requests of authenticated connections with 401, as a
      server that forgot the connection's security context;
    - :meth:`delay` holds responses for ``seconds`` (a slow network or server);
    - :meth:`lose_shells` (wired by the Emulator) forgets every shell as a WinRM service
      restart does, so the next request on a shell gets the shell-not-found fault;
    - :meth:`cut_network` (``Emulator.cut_network``) resets every open connection and every
      new one, unanswered, for ``seconds`` (or until :meth:`restore_network`): a network outage,
      a stopped WinRM service, a server reboot as the client sees them. Shells live on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drops: list[int] = []
        self._injections: list[list[object]] = []
        self._delay: float = 0.0
        self._delay_action: str | None = None
        self._delay_count: int | None = None
        self._cut_until: float | None = None
        self._lost_answers: list[list[object]] = []
        self._rejected_logons = 0
        self._cuts: list[list[object]] = []
        self._rewrites: list[list[object]] = []
        self.lose_shells_hook: object = None
        self.cut_network_hook: object = None

    def drop_connection(self, after: int = 0, count: int = 1) -> None:
        """Drop the connection of the request that arrives after ``after`` more requests (``count`` times)."""
        with self._lock:
            self._drops = [after] * count if not self._drops else self._drops + [after] * count

    def lose_answer(self, action: str, count: int = 1) -> None:
        """Run the next ``count`` requests of ``action`` but drop their connection instead of
        answering: the answer is lost in flight (a network failure after the server acted)."""
        with self._lock:
            self._lost_answers.append([action, count])

    def reset_connection(self, action: str, when: str, count: int = 1) -> None:
        """Reset the TCP connection of the next ``count`` requests of ``action``: ``"before"``
        it runs (the request is lost on its way), ``"during"`` its answer (the request ran; half
        of the answer arrives, then a reset: a server closing mid-response), or ``"after"`` it
        (the whole answer arrives, then the connection is reset under the client)."""
        if when not in ("before", "during", "after"):
            raise ValueError(f"when must be 'before', 'during' or 'after', not {when!r}")
        with self._lock:
            self._cuts.append([action, when, count])

    def rewrite_answer(self, action: str, rewrite: Callable[[bytes], bytes], count: int = 1) -> None:
        """Pass the next ``count`` answers to ``action`` through ``rewrite`` (their SOAP bytes,
        before encryption): a server or a proxy sending what no WinRM service sends."""
        with self._lock:
            self._rewrites.append([action, rewrite, count])

    @property
    def armed(self) -> bool:
        """Whether any :meth:`reset_connection` is pending (the server reads the action early)."""
        with self._lock:
            return bool(self._cuts)

    def pending(self) -> int:
        """How many armed knobs (resets, rewrites, injections, counted delays) are not used up
        yet: a test can check that the fault it armed did strike."""
        with self._lock:
            delays = 1 if self._delay > 0 and self._delay_count is not None else 0
            return len(self._cuts) + len(self._rewrites) + len(self._injections) + delays

    def take_cut(self, action: str, when: str) -> bool:
        """Called by the server: True means reset this connection at ``when``."""
        with self._lock:
            for entry in self._cuts:
                if entry[1] == when and _matches(action, str(entry[0])):
                    _use(self._cuts, entry, 2)
                    return True
        return False

    def rewritten(self, action: str | None, body: bytes) -> bytes:
        """Called by the server with each answer: the answer, rewritten if a test asked."""
        if action is None:
            return body
        with self._lock:
            for entry in self._rewrites:
                if _matches(action, str(entry[0])):
                    _use(self._rewrites, entry, 2)
                    rewrite = entry[1]
                    break
            else:
                return body
        assert callable(rewrite)
        return bytes(rewrite(body))

    def reject_logons(self, count: int = 1) -> None:
        """Answer the next ``count`` requests that arrive on an authenticated connection with
        HTTP 401, forgetting that connection's logon (a server that dropped the security
        context): the client must authenticate again."""
        with self._lock:
            self._rejected_logons += count

    def should_reject_logon(self) -> bool:
        with self._lock:
            if self._rejected_logons <= 0:
                return False
            self._rejected_logons -= 1
            return True

    def should_lose_answer(self, action: str | None) -> bool:
        """Called once per answered request: True means drop the connection, unanswered."""
        if action is None:
            return False
        with self._lock:
            for entry in self._lost_answers:
                name = str(entry[0])
                if action == name or action.rsplit("/", 1)[-1].lower() == name.lower():
                    entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
                    if int(entry[1]) <= 0:  # type: ignore[call-overload]
                        self._lost_answers.remove(entry)
                    return True
        return False

    def inject(self, action: str, fault: WSManFault | None = None, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``action`` with ``fault`` (default: an internal error)."""
        with self._lock:
            self._injections.append([action, fault or internal_error("fault injected by the test"), count])

    def delay(self, seconds: float, action: str | None = None, count: int | None = None) -> None:
        """Hold responses (to ``action`` only, if given) for ``seconds``; ``count`` bounds how many."""
        with self._lock:
            self._delay = seconds
            self._delay_action = action
            self._delay_count = count

    def lose_shells(self) -> None:
        """Forget every shell, as a restart of the WinRM service does."""
        hook = self.lose_shells_hook
        if callable(hook):
            hook()

    def cut_network(self, seconds: float | None = None) -> None:
        """Reset every connection, open or new, for ``seconds`` (None: until restored)."""
        with self._lock:
            self._cut_until = float("inf") if seconds is None else time.monotonic() + seconds
        hook = self.cut_network_hook
        if callable(hook):
            hook()

    def restore_network(self) -> None:
        """End a :meth:`cut_network` early."""
        with self._lock:
            self._cut_until = None

    def network_is_cut(self) -> bool:
        """Whether connections are being reset now (checked at accept and at each request)."""
        with self._lock:
            if self._cut_until is None:
                return False
            if time.monotonic() < self._cut_until:
                return True
            self._cut_until = None
            return False

    def reset(self) -> None:
        """Back to a healthy server."""
        with self._lock:
            self._cut_until = None
            self._drops = []
            self._lost_answers = []
            self._rejected_logons = 0
            self._cuts = []
            self._rewrites = []
            self._injections = []
            self._delay = 0.0
            self._delay_action = None
            self._delay_count = None

    # -- used by the server ---------------------------------------------------------------

    def should_drop(self) -> bool:
        """Called once per request received: True means close the connection unanswered."""
        with self._lock:
            if not self._drops:
                return False
            if self._drops[0] > 0:
                self._drops[0] -= 1
                return False
            self._drops.pop(0)
            return True

    def take_injected(self, action: str) -> WSManFault | None:
        with self._lock:
            for entry in self._injections:
                name = str(entry[0])
                if action == name or action.rsplit("/", 1)[-1].lower() == name.lower():
                    entry[2] = int(entry[2]) - 1  # type: ignore[call-overload]
                    if int(entry[2]) <= 0:  # type: ignore[call-overload]
                        self._injections.remove(entry)
                    fault = entry[1]
                    assert isinstance(fault, WSManFault)
                    return fault
        return None

    def delay_for(self, action: str | None) -> float:
        with self._lock:
            if self._delay <= 0:
                return 0.0
            if self._delay_action is not None and (
                action is None or action.rsplit("/", 1)[-1].lower() != self._delay_action.lower()
            ):
                return 0.0
            if self._delay_count is not None:
                self._delay_count -= 1
                if self._delay_count <= 0:
                    delay = self._delay
                    self._delay = 0.0
                    return delay
            return self._delay


def _matches(action: str, name: str) -> bool:
    """``name`` (``"Receive"`` or a full Action URI) names ``action``."""
    return action == name or action.rsplit("/", 1)[-1].lower() == name.lower()


def _use(entries: list[list[object]], entry: list[object], index: int) -> None:
    """One use of a counted knob: drop it once its count is spent (callers hold the lock)."""
    entry[index] = int(entry[index]) - 1  # type: ignore[call-overload]
    if int(entry[index]) <= 0:  # type: ignore[call-overload]
        entries.remove(entry)
