"""WS-Management facts: the fault codes a WinRM service answers with, and the signal codes.

One definition for the client (which decides from a fault code what a failure means: ask
again, the shell is gone, the configuration does not exist) and for the emulator (which
answers with them as Windows does). The numbers are the ``ERROR_WSMAN_*`` codes of the Windows SDK (winerror.h)
as they appear in ``f:WSManFault/@Code`` of the recordings in ``windows-recordings/``.
"""

from __future__ import annotations

__all__ = [
    "ERROR_WSMAN_INVALID_ACTIONURI",
    "ERROR_WSMAN_PROVIDER_FAILURE",
    "ERROR_WSMAN_INVALID_SOAP_BODY",
    "ERROR_WSMAN_OPERATION_TIMEDOUT",
    "ERROR_WSMAN_INVALID_RESOURCE_URI",
    "ERROR_WSMAN_INVALID_SELECTORS",
    "ERROR_WSMAN_INVALID_XML",
    "ERROR_WSMAN_SERVER_ENVELOPE_LIMIT",
    "ERROR_WSMAN_UNEXPECTED_SELECTORS",
    "ERROR_WSMAN_RESOURCE_NOT_FOUND",
    "ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT",
    "ERROR_WSMAN_QUOTA_MAX_SHELLS",
    "ERROR_WSMAN_INUSE_CANNOT_RECONNECT",
    "OPERATION_TIMED_OUT",
    "SHELL_NOT_FOUND",
    "COMMAND_GONE",
    "INVALID_RESOURCE",
    "SIGNAL_PS_STOP",
    "SIGNAL_TERMINATE",
    "SIGNAL_CTRL_C",
    "SIGNAL_PS_CTRL_C",
]

ERROR_WSMAN_RESOURCE_NOT_FOUND = 0x80338000  # 2150858752
ERROR_WSMAN_INVALID_ACTIONURI = 0x80338001  # 2150858753
ERROR_WSMAN_PROVIDER_FAILURE = 0x80338003  # 2150858755
ERROR_WSMAN_INVALID_SOAP_BODY = 0x80338027  # 2150858791
ERROR_WSMAN_OPERATION_TIMEDOUT = 0x80338029  # 2150858793: an empty Receive, "ask again"
ERROR_WSMAN_INVALID_RESOURCE_URI = 0x8033803B  # 2150858811
ERROR_WSMAN_INVALID_SELECTORS = 0x8033803D  # 2150858813
ERROR_WSMAN_INVALID_XML = 0x80338043  # 2150858819
ERROR_WSMAN_SERVER_ENVELOPE_LIMIT = 0x80338049  # 2150858825
ERROR_WSMAN_UNEXPECTED_SELECTORS = 0x8033805B  # 2150858843: no such shell (or command)
ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT = 0x803380F1  # 2150858993
ERROR_WSMAN_QUOTA_MAX_SHELLS = 0x803381A5  # 2150859173
#: "The WinRM service cannot re-connect the session because the session is no longer
#: associated with this transportmanager object": a Connect to a shell another client is
#: connected to, or a request on a shell that is disconnected (PowerShell's
#: ``CannotConnectAlreadyConnected``).
ERROR_WSMAN_INUSE_CANNOT_RECONNECT = 0x803381CD  # 2150859213

#: The long poll ran out with nothing to say: Receive again.
OPERATION_TIMED_OUT = ERROR_WSMAN_OPERATION_TIMEDOUT
#: The shell does not exist (any more) on the server: the session is Broken.
SHELL_NOT_FOUND = frozenset({ERROR_WSMAN_UNEXPECTED_SELECTORS})
#: A Receive or Signal for a command the server no longer has (after a stop it is over).
COMMAND_GONE = frozenset({ERROR_WSMAN_UNEXPECTED_SELECTORS, ERROR_WSMAN_INVALID_SELECTORS})
#: The resource URI (the session configuration) is not there.
INVALID_RESOURCE = frozenset(
    {ERROR_WSMAN_RESOURCE_NOT_FOUND, ERROR_WSMAN_INVALID_RESOURCE_URI, ERROR_WSMAN_INVALID_XML}
)

#: The signal that stops a PowerShell pipeline (MS-PSRP 3.1.5.3.9: "The value MUST be
#: powershell/signal/crtl_c", misspelt on purpose). Windows' PowerShell plugin compares it
#: ordinally: any other code on a command closes the command, as Terminate does.
SIGNAL_PS_STOP = "powershell/signal/crtl_c"
#: Close a command (its output is discarded); the client sends it when a pipeline is done.
SIGNAL_TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
#: The cmd shell's Ctrl+C, and pypsrp's ``PS_CTRL_C``: on a PowerShell command, a close.
SIGNAL_CTRL_C = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
SIGNAL_PS_CTRL_C = "powershell/signal/ctrl_c"
