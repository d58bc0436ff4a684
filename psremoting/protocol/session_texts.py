"""PowerShell's words for robust connections and disconnected sessions.

The English texts of PowerShell's RemotingErrorIdStrings, RunspaceStrings and PowerShellStrings
resources that a user meets when a network drops under a session, and when sessions are
disconnected, listed, connected and received (notes: issue 11's research; each name below is
the resource name). Kept together so that the client's texts are PowerShell's, word for word
(double spaces included), in one place.
"""

from __future__ import annotations

__all__ = [
    "RC_NETWORK_FAILURE_DETECTED",
    "RC_CONNECTION_RETRY_ATTEMPT",
    "RC_RECONNECT_SUCCEEDED",
    "RC_AUTO_DISCONNECTING_WARNING",
    "RC_AUTO_DISCONNECTED",
    "RC_AUTO_DISCONNECTING_ERROR",
    "RC_PROGRESS_ACTIVITY",
    "RC_PROGRESS_STATUS",
    "RC_DISCONNECT_SESSION",
    "RC_DISCONNECT_SESSION_CREATED",
    "STOP_COMMAND_ON_RETRY",
    "DISCONNECTED_ON_SYNC_COMMAND",
    "RUNSPACE_CANNOT_BE_CONNECTED",
    "RUNSPACE_CANNOT_BE_DISCONNECTED",
    "INVALID_IDLE_TIMEOUT",
    "RUNSPACE_CONNECT_FAILED_WITH_MESSAGE",
    "RECONNECT_FAILED",
    "SESSION_NAME_MATCH_FAILED",
    "SESSION_ID_MATCH_FAILED",
    "QUERY_FOR_RUNSPACES_FAILED",
    "DISCONNECT_FAILED_WITH_REASON",
    "PIPELINE_FAILED_WITH_REASON",
    "POOL_CONNECTED_TO_ANOTHER_CLIENT",
    "MINIMUM_IDLE_TIMEOUT_SECONDS",
    "DEFAULT_MAX_RETRY_CONNECTION_SECONDS",
    "INPUT_OBJECT_NOT_BOUND",
]

#: ParameterBinderStrings.InputObjectNotBound: pipeline input no parameter takes
#: (``$s | Exit-PSSession``); FullyQualifiedErrorId ``InputObjectNotBound,<cmdlet class>``.
INPUT_OBJECT_NOT_BOUND = (
    "The input object cannot be bound to any parameters for the command either because the command "
    "does not take pipeline input or the input and its properties do not match any of the parameters "
    "that take pipeline input."
)

# -- robust connections (the network drops under a running command) ------------------------
#: RCNetworkFailureDetected: {0} computer, {1} whole minutes of the retry period.
RC_NETWORK_FAILURE_DETECTED = (
    "The network connection to {0} has been interrupted. Attempting to reconnect for up to {1} minutes..."
)
#: RCConnectionRetryAttempt, also RCProgressStatus (the progress bar's status line).
RC_CONNECTION_RETRY_ATTEMPT = "Attempting to reconnect to {0} ..."
RC_RECONNECT_SUCCEEDED = "The network connection to {0} has been restored."
RC_AUTO_DISCONNECTING_WARNING = (
    "The reconnection attempt to {0} failed. Attempting to disconnect the session..."
)
RC_AUTO_DISCONNECTED = "Computer {0} has been successfully disconnected."
#: RCAutoDisconnectingError: what Invoke-Command and the interactive session write at the end.
RC_AUTO_DISCONNECTING_ERROR = (
    "Network connectivity to {0} has been lost and the reconnection attempt failed. Please repair the "
    "network connection and reconnect using Connect-PSSession or Receive-PSSession."
)
RC_PROGRESS_ACTIVITY = "Network connection interrupted"
RC_PROGRESS_STATUS = "Attempting to reconnect to {0} ..."
RC_DISCONNECT_SESSION = "Session {0} with instance ID {1} on computer {2} has been successfully disconnected."
RC_DISCONNECT_SESSION_CREATED = "Session {0} with instance ID {1} has been created for reconnection."
STOP_COMMAND_ON_RETRY = (
    "Reconnection attempt canceled. Please repair the network connection and reconnect using "
    "Connect-PSSession or Receive-PSSession."
)
#: PowerShellStrings.DiscOnSyncCommand (two spaces after "server.").
DISCONNECTED_ON_SYNC_COMMAND = (
    "The running command has been disconnected but is still running on the remote server.  Reconnect to "
    "get command operation status and output data."
)

# -- disconnected sessions -----------------------------------------------------------------
RUNSPACE_CANNOT_BE_CONNECTED = (
    'Cannot connect PSSession "{0}", either because it is not in the Disconnected state, or it is not '
    "available for connection."
)
RUNSPACE_CANNOT_BE_DISCONNECTED = 'Cannot disconnect PSSession "{0}" because it is not in the Opened state.'
INVALID_IDLE_TIMEOUT = (
    "The session {0} cannot be disconnected because the specified idle time-out value {1} (seconds) is "
    "either greater than the server maximum allowed {2} (seconds), or less than the minimum allowed {3} "
    "(seconds).  Specify an idle time-out value that is within the allowed range, and try again."
)
RUNSPACE_CONNECT_FAILED_WITH_MESSAGE = (
    "The connect operation failed for session {0} with the following error message: {1}"
)
RECONNECT_FAILED = "Reconnecting to the remote server {0} failed with the following error message : {1}"
SESSION_NAME_MATCH_FAILED = 'The command cannot find a PSSession that has the name "{0}".'
SESSION_ID_MATCH_FAILED = 'The command cannot find a PSSession with an InstanceId value of "{0}".'
QUERY_FOR_RUNSPACES_FAILED = "The remote session query failed for {0} with the following error message: {1}"
DISCONNECT_FAILED_WITH_REASON = (
    "Disconnect-PSSession operation failed for runspace Id = {0} for the following reason: {1}"
)
PIPELINE_FAILED_WITH_REASON = "The remote pipeline failed for the following reason: {0}"
POOL_CONNECTED_TO_ANOTHER_CLIENT = (
    "This runspace pool cannot be connected because the corresponding server side runspace pool is "
    "connected to another client."
)

#: BaseTransportManager.MinimumIdleTimeout: a disconnected session lives at least a minute.
MINIMUM_IDLE_TIMEOUT_SECONDS = 60
#: The WinRM client's robust-connection retry period (WSMAN_OPTION_MAX_RETRY_TIME): 4 minutes.
DEFAULT_MAX_RETRY_CONNECTION_SECONDS = 240.0
