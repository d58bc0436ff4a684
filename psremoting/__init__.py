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

from psremoting import log_redaction
from psremoting._version import __version__

log_redaction.install()  # before pypsrp can log a message body (cheap: no pypsrp import)

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.errors import (
        AuthenticationFailedError,
        CertificateError,
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
    from psremoting.formatting import format_table
    from psremoting.host import BufferedHostUI, HostUI
    from psremoting.interactive import InteractiveSession, enter_pssession, exit_pssession
    from psremoting.invoke import invoke_command
    from psremoting.objects import PSObject
    from psremoting.options import PSCredential, SessionOption, set_endpoint_override
    from psremoting.pipeline import Pipeline, PipelineResult, StreamItem
    from psremoting.runspace import Availability, SessionState
    from psremoting.session import (
        PSSession,
        PSSessionList,
        connect_pssession,
        disconnect_pssession,
        get_pssession,
        new_pssession,
        remove_pssession,
    )

_EXPORTS: dict[str, str] = {
    # cmdlets
    "new_pssession": "psremoting.session",
    "get_pssession": "psremoting.session",
    "remove_pssession": "psremoting.session",
    "disconnect_pssession": "psremoting.session",
    "connect_pssession": "psremoting.session",
    "enter_pssession": "psremoting.interactive",
    "exit_pssession": "psremoting.interactive",
    "invoke_command": "psremoting.invoke",
    "copy_item": "psremoting.transfer",
    "format_table": "psremoting.formatting",
    # types
    "PSSession": "psremoting.session",
    "PSSessionList": "psremoting.session",
    "SessionState": "psremoting.runspace",
    "Availability": "psremoting.runspace",
    "InteractiveSession": "psremoting.interactive",
    "Pipeline": "psremoting.pipeline",
    "PipelineResult": "psremoting.pipeline",
    "StreamItem": "psremoting.pipeline",
    "SessionOption": "psremoting.options",
    "PSCredential": "psremoting.options",
    "set_endpoint_override": "psremoting.options",
    "PSObject": "psremoting.objects",
    "HostUI": "psremoting.host",
    "BufferedHostUI": "psremoting.host",
    # errors
    "PSRemotingError": "psremoting.errors",
    "InvalidOptionError": "psremoting.errors",
    "ConnectionFailedError": "psremoting.errors",
    "AuthenticationFailedError": "psremoting.errors",
    "CertificateError": "psremoting.errors",
    "HostNotFoundError": "psremoting.errors",
    "InvalidConfigurationNameError": "psremoting.errors",
    "PSRemotingTimeoutError": "psremoting.errors",
    "ConnectTimeoutError": "psremoting.errors",
    "SessionStateError": "psremoting.errors",
    "SessionBrokenError": "psremoting.errors",
    "SessionNotFoundError": "psremoting.errors",
    "PipelineStoppedError": "psremoting.errors",
    "RemoteError": "psremoting.errors",
    "RemoteErrorRecord": "psremoting.errors",
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
    "InteractiveSession",
    "InvalidConfigurationNameError",
    "InvalidOptionError",
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
    "SessionBrokenError",
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
    "format_table",
    "get_pssession",
    "invoke_command",
    "new_pssession",
    "remove_pssession",
    "set_endpoint_override",
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
