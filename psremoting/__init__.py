"""psremoting: PowerShell Remoting (PSRP over WinRM) for Python, with the PSSession cmdlets.

    >>> import psremoting
    >>> s = psremoting.new_pssession("server01", credential=("user", "password"))
    >>> psremoting.invoke_command("Get-Date", session=s)
    >>> print(psremoting.format_table(psremoting.get_pssession()))
    >>> psremoting.remove_pssession(s)

Names are imported on first use, so that ``import psremoting`` stays cheap (the command
line's ``--version`` must not load pypsrp).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from psremoting._version import __version__
from psremoting.transport import redaction as log_redaction

log_redaction.install()  # before pypsrp can log a message body (cheap: no pypsrp import)

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.cmdlets.disconnected import (
        connect_pssession,
        disconnect_pssession,
        get_pssession,
        receive_pssession,
    )
    from psremoting.cmdlets.formatting import format_job_table, format_table, out_string
    from psremoting.cmdlets.implicit import ImplicitModule, import_pssession
    from psremoting.cmdlets.implicit_module import export_pssession, import_module
    from psremoting.cmdlets.interactive import InteractiveSession, enter_pssession, exit_pssession
    from psremoting.cmdlets.invoke.command import invoke_command
    from psremoting.cmdlets.job_table import get_job, receive_job, remove_job, stop_job, wait_job
    from psremoting.cmdlets.jobs import Job, JobOutput, JobState, RemotingJob
    from psremoting.cmdlets.sessions import PSSession, PSSessionList, new_pssession, remove_pssession
    from psremoting.protocol.errors import (
        AuthenticationFailedError,
        CertificateError,
        CommandDisconnectedError,
        ConnectionFailedError,
        ConnectTimeoutError,
        HostNotFoundError,
        InvalidConfigurationNameError,
        InvalidOptionError,
        PipelineStoppedError,
        PSRemotingError,
        PSRemotingTimeoutError,
        RemoteError,
        RemoteErrorRecord,
        SessionBrokenError,
        SessionNotFoundError,
        SessionStateError,
    )
    from psremoting.protocol.objects import PSObject
    from psremoting.protocol.secrets import PSCredential, SecureString
    from psremoting.runspace.host_ui import BufferedHostUI, HostUI
    from psremoting.runspace.pipeline import Pipeline, PipelineResult, StreamItem
    from psremoting.runspace.pool import Availability, SessionState
    from psremoting.transport.options import SessionOption, set_endpoint_override

_EXPORTS: dict[str, str] = {
    # cmdlets
    "new_pssession": "psremoting.cmdlets.sessions",
    "get_pssession": "psremoting.cmdlets.disconnected",
    "remove_pssession": "psremoting.cmdlets.sessions",
    "disconnect_pssession": "psremoting.cmdlets.disconnected",
    "connect_pssession": "psremoting.cmdlets.disconnected",
    "receive_pssession": "psremoting.cmdlets.disconnected",
    "enter_pssession": "psremoting.cmdlets.interactive",
    "exit_pssession": "psremoting.cmdlets.interactive",
    "invoke_command": "psremoting.cmdlets.invoke.command",
    "copy_item": "psremoting.cmdlets.transfer",
    "format_table": "psremoting.cmdlets.formatting",
    "format_job_table": "psremoting.cmdlets.formatting",
    "out_string": "psremoting.cmdlets.formatting",
    "get_job": "psremoting.cmdlets.job_table",
    "receive_job": "psremoting.cmdlets.job_table",
    "wait_job": "psremoting.cmdlets.job_table",
    "stop_job": "psremoting.cmdlets.job_table",
    "remove_job": "psremoting.cmdlets.job_table",
    "import_pssession": "psremoting.cmdlets.implicit",
    "export_pssession": "psremoting.cmdlets.implicit_module",
    "import_module": "psremoting.cmdlets.implicit_module",
    # types
    "Job": "psremoting.cmdlets.jobs",
    "JobOutput": "psremoting.cmdlets.jobs",
    "JobState": "psremoting.cmdlets.jobs",
    "RemotingJob": "psremoting.cmdlets.jobs",
    "ImplicitModule": "psremoting.cmdlets.implicit",
    "PSSession": "psremoting.cmdlets.sessions",
    "PSSessionList": "psremoting.cmdlets.sessions",
    "SessionState": "psremoting.runspace.pool",
    "Availability": "psremoting.runspace.pool",
    "InteractiveSession": "psremoting.cmdlets.interactive",
    "Pipeline": "psremoting.runspace.pipeline",
    "PipelineResult": "psremoting.runspace.pipeline",
    "StreamItem": "psremoting.runspace.pipeline",
    "SessionOption": "psremoting.transport.options",
    "PSCredential": "psremoting.protocol.secrets",
    "SecureString": "psremoting.protocol.secrets",
    "set_endpoint_override": "psremoting.transport.options",
    "PSObject": "psremoting.protocol.objects",
    "HostUI": "psremoting.runspace.host_ui",
    "BufferedHostUI": "psremoting.runspace.host_ui",
    # errors
    "PSRemotingError": "psremoting.protocol.errors",
    "InvalidOptionError": "psremoting.protocol.errors",
    "ConnectionFailedError": "psremoting.protocol.errors",
    "AuthenticationFailedError": "psremoting.protocol.errors",
    "CertificateError": "psremoting.protocol.errors",
    "HostNotFoundError": "psremoting.protocol.errors",
    "InvalidConfigurationNameError": "psremoting.protocol.errors",
    "PSRemotingTimeoutError": "psremoting.protocol.errors",
    "ConnectTimeoutError": "psremoting.protocol.errors",
    "SessionStateError": "psremoting.protocol.errors",
    "SessionBrokenError": "psremoting.protocol.errors",
    "CommandDisconnectedError": "psremoting.protocol.errors",
    "SessionNotFoundError": "psremoting.protocol.errors",
    "PipelineStoppedError": "psremoting.protocol.errors",
    "RemoteError": "psremoting.protocol.errors",
    "RemoteErrorRecord": "psremoting.protocol.errors",
}

# Listed literally for static tools; tests/client/test_public_api.py checks it against _EXPORTS.
__all__ = [
    "__version__",
    "AuthenticationFailedError",
    "Availability",
    "BufferedHostUI",
    "CertificateError",
    "ConnectTimeoutError",
    "ConnectionFailedError",
    "HostNotFoundError",
    "HostUI",
    "ImplicitModule",
    "InteractiveSession",
    "InvalidConfigurationNameError",
    "InvalidOptionError",
    "Job",
    "JobOutput",
    "JobState",
    "PSCredential",
    "PSObject",
    "PSRemotingError",
    "PSRemotingTimeoutError",
    "PSSession",
    "PSSessionList",
    "Pipeline",
    "PipelineResult",
    "PipelineStoppedError",
    "RemoteError",
    "RemoteErrorRecord",
    "RemotingJob",
    "SecureString",
    "SessionBrokenError",
    "CommandDisconnectedError",
    "SessionNotFoundError",
    "SessionOption",
    "SessionState",
    "SessionStateError",
    "StreamItem",
    "connect_pssession",
    "copy_item",
    "disconnect_pssession",
    "enter_pssession",
    "exit_pssession",
    "export_pssession",
    "format_job_table",
    "out_string",
    "format_table",
    "get_job",
    "get_pssession",
    "import_module",
    "import_pssession",
    "invoke_command",
    "new_pssession",
    "receive_pssession",
    "receive_job",
    "remove_job",
    "remove_pssession",
    "set_endpoint_override",
    "stop_job",
    "wait_job",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'psremoting' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
