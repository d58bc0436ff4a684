"""Command metadata of a session's server: the GetCommandMetadata pipeline (MS-PSRP 2.2.2.29).

Import-PSSession asks the server for the commands it may proxy with this special pipeline
instead of running Get-Command (ImplicitRemotingCommands.cs sets
IsGetCommandMetadataSpecialPipeline): the server answers a CommandMetadataCount, then one
CommandMetadata per command (Name, Namespace, HelpUri, CommandType, OutputType, and
Parameters, a dictionary of ParameterMetadata: Name, ParameterType, Aliases, IsDynamic,
SwitchParameter). `get_command_metadata` returns them as `RemoteCommand`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psremoting.protocol.errors import PSRemotingError, RemoteError
from psremoting.protocol.objects import from_clixml
from psremoting.runspace.streams import error_record_from
from psremoting.transport.failures import map_connection_error
from psremoting.transport.pypsrp_values import from_pypsrp

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.pool import RunspacePoolConnection

__all__ = ["COMMAND_TYPES", "RemoteCommand", "RemoteParameter", "get_command_metadata"]


#: System.Management.Automation.CommandTypes flags.
COMMAND_TYPES = {
    "Alias": 1,
    "Function": 2,
    "Filter": 4,
    "Cmdlet": 8,
    "ExternalScript": 16,
    "Application": 32,
    "Script": 64,
    "Configuration": 256,
}
#: Import-PSSession's default -CommandType: All (511) minus Application, Script, ExternalScript?
#: No: its default is "All" but it skips applications and scripts unless asked; what it asks the
#: server for is Alias, Function, Filter and Cmdlet.
DEFAULT_COMMAND_TYPE = (
    COMMAND_TYPES["Alias"] | COMMAND_TYPES["Function"] | COMMAND_TYPES["Filter"] | COMMAND_TYPES["Cmdlet"]
)


@dataclass(frozen=True)
class RemoteParameter:
    """One parameter of a remote command (ParameterMetadata)."""

    name: str
    parameter_type: str = "System.Object"
    aliases: tuple[str, ...] = ()
    is_switch: bool = False
    is_dynamic: bool = False


@dataclass(frozen=True)
class RemoteCommand:
    """One command of the server (CommandMetadata): its parameters in the server's order."""

    name: str
    command_type: str = "Cmdlet"
    namespace: str = ""
    help_uri: str = ""
    output_type: tuple[str, ...] = ()
    parameters: tuple[RemoteParameter, ...] = field(default=())

    def parameter(self, name: str) -> RemoteParameter | None:
        wanted = name.lower()
        return next((p for p in self.parameters if p.name.lower() == wanted), None)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    getter = getattr(obj, "get", None)
    if callable(getter) and not isinstance(obj, type):
        try:
            return getter(name, default)
        except TypeError:
            pass
    return getattr(obj, name, default)


def _text(value: Any) -> str:
    return "" if value is None else str(getattr(value, "value", value) if isinstance(value, bool) else value)


def _command_type(value: Any) -> str:
    shown = str(value) if value is not None else ""
    if shown in COMMAND_TYPES:
        return shown
    try:
        number = int(value)
    except (TypeError, ValueError):
        return shown or "Cmdlet"
    for name, flag in COMMAND_TYPES.items():
        if number == flag:
            return name
    return str(number)


def _parameter(value: Any) -> RemoteParameter:
    aliases = _get(value, "Aliases") or []
    return RemoteParameter(
        name=_text(_get(value, "Name", "")),
        parameter_type=_text(_get(value, "ParameterType", "")) or "System.Object",
        aliases=tuple(str(a) for a in aliases if a is not None),
        is_switch=bool(_get(value, "SwitchParameter", False)),
        is_dynamic=bool(_get(value, "IsDynamic", False)),
    )


def _command(value: Any) -> RemoteCommand:
    """A CommandMetadata object (deserialized as our PSObject) as a RemoteCommand."""
    parameters = _get(value, "Parameters") or {}
    items = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
    output_type = _get(value, "OutputType") or []
    return RemoteCommand(
        name=_text(_get(value, "Name", "")),
        command_type=_command_type(_get(value, "CommandType")),
        namespace=_text(_get(value, "Namespace", "")),
        help_uri=_text(_get(value, "HelpUri", "")),
        output_type=tuple(str(t) for t in output_type if t is not None),
        parameters=tuple(_parameter(p) for p in items if p is not None),
    )


def _decoded(item: Any) -> Any:
    """Our PSObject for one answer object (pypsrp leaves the custom objects undecoded)."""
    raw = getattr(item, "_xml", None)
    if raw is not None:
        return from_clixml(raw)
    return from_pypsrp(item)


def get_command_metadata(
    conn: RunspacePoolConnection,
    names: Sequence[str] = ("*",),
    *,
    command_type: int = DEFAULT_COMMAND_TYPE,
    namespace: Sequence[str] | None = None,
) -> list[RemoteCommand]:
    """The server's commands matching `names` (wildcards), of `command_type` (CommandTypes
    flags), in the modules `namespace` (wildcards; None: any), in the server's order."""
    info = conn.info
    if not conn.lock.acquire(timeout=info.session_option.operation_timeout):
        raise PSRemotingError(
            f"The session {conn.label} stayed busy; the command metadata was not requested."
        )
    try:
        conn.require_opened()
        conn.set_busy(True)
        try:
            output, errors = conn.channel.command_metadata(
                list(names), command_type, list(namespace) if namespace else None
            )
        except Exception as exc:
            raise map_connection_error(exc, info, opening=False) from exc
        if errors:
            raise RemoteError(error_record_from(errors[0], info.computer_name, conn.instance_id))
        # The first object is the count (CommandMetadataCount), then one object per command.
        return [_command(_decoded(item)) for item in output[1:]]
    finally:
        conn.set_busy(False)
        conn.lock.release()
