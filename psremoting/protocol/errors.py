"""The psremoting error hierarchy, worded as PowerShell words its remoting errors.

Every error the package raises derives from `PSRemotingError`. Connection failures carry
PowerShell's composition ("Connecting to remote server X failed with the following error
message : ... For more information, see the about_Remote_Troubleshooting Help topic.") so
that a user who knows Enter-PSSession recognises them, and they also say what to do.
An error that happened *remotely* (an ErrorRecord from the server) is a `RemoteError`
carrying a `RemoteErrorRecord`.

This module imports nothing heavy: `import psremoting` must stay cheap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PSRemotingError",
    "InvalidOptionError",
    "MalformedAnswerError",
    "ConnectionFailedError",
    "AuthenticationFailedError",
    "CertificateError",
    "HostNotFoundError",
    "InvalidConfigurationNameError",
    "PSRemotingTimeoutError",
    "ConnectTimeoutError",
    "SessionStateError",
    "SessionBrokenError",
    "CommandDisconnectedError",
    "SessionNotFoundError",
    "PipelineStoppedError",
    "RemoteError",
    "RemoteErrorRecord",
    "ERROR_CATEGORIES",
    "TROUBLESHOOTING_SUFFIX",
]

#: Appended by PowerShell to every transport error (`TroubleShootingHelpTopic`).
TROUBLESHOOTING_SUFFIX = "For more information, see the about_Remote_Troubleshooting Help topic."

#: System.Management.Automation.ErrorCategory, by value.
ERROR_CATEGORIES: tuple[str, ...] = (
    "NotSpecified",
    "OpenError",
    "CloseError",
    "DeviceError",
    "DeadlockDetected",
    "InvalidArgument",
    "InvalidData",
    "InvalidOperation",
    "InvalidResult",
    "InvalidType",
    "MetadataError",
    "NotImplemented",
    "NotInstalled",
    "ObjectNotFound",
    "OperationStopped",
    "OperationTimeout",
    "SyntaxError",
    "ParserError",
    "PermissionDenied",
    "ResourceBusy",
    "ResourceExists",
    "ResourceUnavailable",
    "ReadError",
    "WriteError",
    "FromStdErr",
    "SecurityError",
    "ProtocolError",
    "ConnectionError",
    "AuthenticationError",
    "LimitsExceeded",
    "QuotaExceeded",
    "NotEnabled",
)


class PSRemotingError(Exception):
    """Base class of every error psremoting raises.

    `fully_qualified_error_id` is PowerShell's FullyQualifiedErrorId for the same failure
    (for example ``AccessDenied,PSSessionOpenFailed``), `computer_name` the computer the
    error concerns, when there is one.
    """

    fully_qualified_error_id: str = "PSRemotingError"

    def __init__(self, message: str, *, computer_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.computer_name = computer_name

    def __str__(self) -> str:
        return self.message


class MalformedAnswerError(PSRemotingError):
    """What a server sent is not what a WinRM server sends: not well-formed or hostile XML,
    a stream that is not base64, PSRP fragments that do not fit together, an object that
    cannot be read. ``detail`` says what; the layers above add the host's name."""

    fully_qualified_error_id = "MalformedAnswer"

    def __init__(self, detail: str, *, computer_name: str | None = None) -> None:
        super().__init__(f"The server's answer was invalid: {detail}.", computer_name=computer_name)
        self.detail = detail


class InvalidOptionError(PSRemotingError, ValueError):
    """Connection settings that cannot work together (checked before any network traffic)."""

    fully_qualified_error_id = "InvalidArgument"


class ConnectionFailedError(PSRemotingError):
    """A session could not be opened (or a transport failed) on `computer_name`.

    The message is PowerShell's: ``Connecting to remote server X failed with the following
    error message : <reason> For more information, see the about_Remote_Troubleshooting
    Help topic.``; `reason` keeps the inner text alone.
    """

    error_code: str = "CannotConnect"

    def __init__(self, computer_name: str, reason: str, *, error_code: str | None = None) -> None:
        self.reason = reason.strip()
        if error_code is not None:
            self.error_code = error_code
        message = (
            f"Connecting to remote server {computer_name} failed with the following error message : "
            f"{self.reason} {TROUBLESHOOTING_SUFFIX}"
        )
        super().__init__(message, computer_name=computer_name)

    @property
    def fully_qualified_error_id(self) -> str:  # type: ignore[override]
        return f"{self.error_code},PSSessionOpenFailed"


class AuthenticationFailedError(ConnectionFailedError):
    """The server refused the credentials (HTTP 401): wrong user name or password, or a
    method the server does not allow."""

    error_code = "AccessDenied"


class CertificateError(ConnectionFailedError):
    """The server's TLS certificate was not trusted (unknown CA or name mismatch)."""

    error_code = "ServerNotTrusted"


class HostNotFoundError(ConnectionFailedError):
    """The computer name does not resolve."""

    error_code = "ComputerNotFound"


class InvalidConfigurationNameError(ConnectionFailedError):
    """The server has no session configuration (endpoint) of that name."""

    error_code = "InvalidResourceUri"

    def __init__(self, computer_name: str, configuration_name: str) -> None:
        self.configuration_name = configuration_name
        reason = (
            "The WS-Management service cannot process the request. Cannot find the "
            f"{configuration_name} session configuration in the WSMan: drive on the {computer_name} computer."
        )
        super().__init__(computer_name, reason)


class PSRemotingTimeoutError(PSRemotingError, TimeoutError):
    """An operation did not finish in time (for example a command's deadline); the command
    was stopped."""

    fully_qualified_error_id = "OperationTimeout"


class ConnectTimeoutError(ConnectionFailedError, TimeoutError):
    """Connecting or opening the session took longer than the open/operation timeout.

    Like `PSRemotingTimeoutError` it is a TimeoutError: ``except TimeoutError`` catches both."""

    error_code = "WinRMOperationTimeout"


class SessionStateError(PSRemotingError):
    """The session is not in a state that allows the operation (for example not Opened)."""

    fully_qualified_error_id = "InvokeCommandCommandInvalidSessionState"

    def __init__(self, message: str, *, computer_name: str | None = None, state: str | None = None) -> None:
        super().__init__(message, computer_name=computer_name)
        self.state = state


class SessionBrokenError(SessionStateError):
    """The session became Broken: the server lost its shell, or the connection failed for good."""

    fully_qualified_error_id = "PSSessionStateBroken"

    def __init__(self, message: str, *, computer_name: str | None = None, reason: str | None = None) -> None:
        super().__init__(message, computer_name=computer_name, state="Broken")
        self.reason = reason


class CommandDisconnectedError(SessionStateError):
    """The session became Disconnected while its command ran: the command goes on on the
    server, and `receive_pssession` (Receive-PSSession) gets the rest of its output later.

    Raised when the client disconnected it (`disconnect_pssession` from another thread: the
    text of PowerShell's DiscOnSyncCommand) or when the network stayed down for the whole
    robust-connection retry period (PowerShell's RCAutoDisconnectingError text); `session`
    is the PSSession when known."""

    fully_qualified_error_id = "PowerShellNetworkFailedStartDisconnect"

    def __init__(self, message: str, *, computer_name: str | None = None, session: Any = None) -> None:
        super().__init__(message, computer_name=computer_name, state="Disconnected")
        self.session = session


class SessionNotFoundError(PSRemotingError, LookupError):
    """Get/Remove/Enter-PSSession found no session for an id, name or instance id.

    `sessions` holds what *was* found for the other identifiers of the same call.
    """

    fully_qualified_error_id = "RemoteRunspaceNotAvailableForSpecifiedSessionId"

    def __init__(self, message: str, *, sessions: list[Any] | None = None) -> None:
        super().__init__(message)
        self.sessions: list[Any] = list(sessions or [])


class PipelineStoppedError(PSRemotingError):
    """The command was stopped (Ctrl+C / `stop()`) before it finished."""

    fully_qualified_error_id = "PipelineStopped"


@dataclass
class RemoteErrorRecord:
    """An ErrorRecord produced on the remote computer, as PowerShell shows it.

    `str(record)` is the error message; `format()` gives PowerShell's NormalView block
    (message, position, CategoryInfo, FullyQualifiedErrorId, PSComputerName).
    """

    message: str
    category: str = "NotSpecified"
    activity: str | None = None
    reason: str | None = None
    target_name: str | None = None
    target_type: str | None = None
    fully_qualified_error_id: str = ""
    target_object: Any = None
    exception_type: str | None = None
    script_stack_trace: str | None = None
    position_message: str | None = None
    computer_name: str | None = None
    runspace_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def category_info(self) -> str:
        """PowerShell's CategoryInfo text: ``Category: (target:type) [activity], reason``."""
        return (
            f"{self.category}: ({self.target_name or ''}:{self.target_type or ''}) "
            f"[{self.activity or ''}], {self.reason or ''}"
        )

    def __str__(self) -> str:
        return self.message

    def format(self) -> str:
        """The record as PowerShell's console shows a remote error: the message, CategoryInfo,
        FullyQualifiedErrorId and PSComputerName. The 5.1 console shows no position for an
        error that came from a remote computer (Receive-Job's and about_Language_Modes'
        examples); a record without a computer keeps its "At line:..." lines."""
        lines = [self.message]
        if self.position_message and not self.computer_name:
            lines.append(self.position_message)
        lines.append(f"    + CategoryInfo          : {self.category_info}")
        lines.append(f"    + FullyQualifiedErrorId : {self.fully_qualified_error_id}")
        if self.computer_name:
            lines.append(f"    + PSComputerName        : {self.computer_name}")
        return "\n".join(lines)


class RemoteError(PSRemotingError):
    """A remote command failed; `record` is the server's ErrorRecord.

    Raised for a terminating error, or for the first error with ``error_action="stop"``.
    """

    def __init__(self, record: RemoteErrorRecord) -> None:
        super().__init__(record.message, computer_name=record.computer_name)
        self.record = record

    @property
    def fully_qualified_error_id(self) -> str:  # type: ignore[override]
        return self.record.fully_qualified_error_id
