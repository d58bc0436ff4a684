"""System built-ins over the emulated host's declared data: Get-Service (the services of the
emulator's config), Get-Variable, Get-History (pipelines the client ran with AddToHistory),
ConvertTo-SecureString.

Objects carry Windows' type names and, where Windows serializes them as adapted properties
(ServiceController, HistoryInfo), adapted properties, so a client sees the same shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from psrpcore.types import ErrorCategory, PSNoteProperty, PSObject

from psremoting.protocol.secrets import SecureString
from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .commands import CommandContext, builtin
from .errors import PSError
from .formatting import register_renderer
from .host_ui import new_host_value

__all__ = ["adapted_object", "service_object"]

SERVICE_TYPES = ["System.ServiceProcess.ServiceController", "System.ComponentModel.Component",
                 "System.MarshalByRefObject", "System.Object"]  # fmt: skip


def adapted_object(
    type_names: list[str],
    adapted: dict[str, Any],
    to_string_text: str,
    extended: dict[str, Any] | None = None,
    cls: type[PSObject] = PSObject,
) -> PSObject:
    """A PSObject with adapted (<Props>) and note (<MS>) properties, as a .NET object serializes."""
    obj = cls()
    meta = obj.PSObject
    meta.type_names = list(type_names)
    meta.adapted_properties.extend(PSNoteProperty(k, v) for k, v in adapted.items())
    meta.extended_properties.extend(PSNoteProperty(k, v) for k, v in (extended or {}).items())
    meta.to_string = to_string_text
    return obj


def service_object(service: Mapping[str, Any]) -> PSObject:
    """A ServiceController as Get-Service returns it (Name also as the alias property)."""
    name = str(service["Name"])
    adapted = {
        "CanPauseAndContinue": False,
        "CanShutdown": service.get("Status", "Running") == "Running",
        "CanStop": service.get("Status", "Running") == "Running",
        "DisplayName": service.get("DisplayName", name),
        "DependentServices": [],
        "MachineName": ".",
        "ServiceName": name,
        "ServicesDependedOn": [],
        "ServiceHandle": None,
        "Status": service.get("Status", "Running"),
        "ServiceType": service.get("ServiceType", "Win32OwnProcess"),
        "StartType": service.get("StartType", "Automatic"),
        "Site": None,
        "Container": None,
    }
    return adapted_object(SERVICE_TYPES, adapted, name, {"Name": name, "RequiredServices": []})


@builtin(
    CommandSignature(
        "Get-Service",
        (
            Parameter("Name", "string[]", position=0, value_from_pipeline=True),
            Parameter("DisplayName", "string[]"),
        ),
    ),
    aliases=("gsv",),
)
def _get_service(ctx: CommandContext) -> Iterable[Any]:
    import fnmatch

    services: list[dict[str, Any]] = list(getattr(ctx.engine, "services", []) or [])
    names = [to_string(n) for n in enumerate_value(ctx.get("Name"))] if ctx.get("Name") is not None else ["*"]
    found: list[Any] = []
    for pattern in names:
        matches = [s for s in services if fnmatch.fnmatch(str(s["Name"]).lower(), pattern.lower())]
        if not matches and not any(ch in pattern for ch in "*?["):
            ctx.write_error(
                ctx.error(
                    f"Cannot find any service with service name '{pattern}'.",
                    "Microsoft.PowerShell.Commands.ServiceCommandException",
                    ErrorCategory.ObjectNotFound,
                    "NoServiceFoundForGivenName",
                    pattern,
                )
            )
        found.extend(service_object(s) for s in sorted(matches, key=lambda s: str(s["Name"]).lower()))
    return found


@builtin(
    CommandSignature(
        "Get-History",
        (Parameter("Id", "long[]", position=0), Parameter("Count", "int", position=1)),
    ),
    aliases=("h", "history", "ghy"),
)
def _get_history(ctx: CommandContext) -> Iterable[Any]:
    entries: list[dict[str, Any]] = list(getattr(ctx.engine, "history", []) or [])
    count = ctx.get("Count")
    if count is not None:
        entries = entries[-int(count) :]
    return [
        adapted_object(
            ["Microsoft.PowerShell.Commands.HistoryInfo", "System.Object"],
            {
                "Id": entry["Id"],
                "CommandLine": entry["CommandLine"],
                "ExecutionStatus": entry["ExecutionStatus"],
                "StartExecutionTime": entry["StartExecutionTime"],
                "EndExecutionTime": entry["EndExecutionTime"],
            },
            entry["CommandLine"],
        )
        for entry in entries
    ]


@builtin(
    CommandSignature(
        "ConvertTo-SecureString",
        (
            Parameter("String", "string", position=0, mandatory=True, value_from_pipeline=True),
            Parameter("AsPlainText", "switch"),
            Parameter("Force", "switch"),
            Parameter("Key", "object"),
            Parameter("SecureKey", "object"),
        ),
    )
)
def _convert_to_secure_string(ctx: CommandContext) -> Iterable[Any]:
    text = to_string(ctx.get("String"))
    if not ctx.switch("AsPlainText"):
        # An encrypted standard string needs DPAPI of the user who wrote it: not emulated.
        raise PSError(
            ctx.error(
                "Input string was not in a correct format.",
                "System.FormatException",
                ErrorCategory.InvalidArgument,
                "ImportSecureString_InvalidArgument",
            ),
            terminating=True,
        )
    return [SecureString(text)]


def _new_object_value(type_name: str, args: list[Any]) -> Any:
    """An instance of ``type_name`` built from ``args`` (the types scripts create over PSRP)."""
    from psrpcore.types import ChoiceDescription, FieldDescription, ProgressRecord

    from psremoting.protocol.secrets import PSCredential
    from psremoting.pslang.values import CaseInsensitiveDict, PSCustom

    name = type_name.lower().removeprefix("system.")
    text = [to_string(a) for a in args]
    if name in ("management.automation.host.fielddescription", "fielddescription"):
        return FieldDescription(Name=text[0] if text else "")
    if name in ("management.automation.host.choicedescription", "choicedescription"):
        return ChoiceDescription(Label=text[0] if text else "", HelpMessage=text[1] if len(text) > 1 else "")
    if name in ("management.automation.progressrecord", "progressrecord"):
        return ProgressRecord(
            ActivityId=int(args[0]) if args else 0,
            Activity=text[1] if len(text) > 1 else "",
            StatusDescription=text[2] if len(text) > 2 else "",
        )
    host_value = new_host_value(type_name, args)
    if host_value is not None:
        return host_value
    if name in ("management.automation.pscredential", "pscredential") and len(args) == 2:
        return PSCredential(text[0], args[1] if isinstance(args[1], SecureString) else SecureString(text[1]))
    if name in (
        "collections.arraylist",
        "collections.generic.list[object]",
        "collections.generic.list[string]",
    ):
        return list(args[0]) if args and isinstance(args[0], list) else []
    if name in ("collections.hashtable", "hashtable"):
        return CaseInsensitiveDict()
    if name in ("management.automation.psobject", "psobject", "object"):
        return PSCustom()
    if name in ("string",) and args:
        return "".join(text)
    return None


@builtin(
    CommandSignature(
        "New-Object",
        (
            Parameter("TypeName", "string", position=0, mandatory=True),
            Parameter("ArgumentList", "object[]", ("Args",), position=1),
            Parameter("Property", "object"),
        ),
    )
)
def _new_object(ctx: CommandContext) -> Iterable[Any]:
    type_name = to_string(ctx.get("TypeName"))
    args = list(enumerate_value(ctx.get("ArgumentList"))) if ctx.get("ArgumentList") is not None else []
    value = _new_object_value(type_name, args)
    if value is None:
        raise PSError(
            ctx.error(
                f"Cannot find type [{type_name}]: verify that the assembly containing this type is loaded.",
                "System.Management.Automation.PSArgumentException",
                ErrorCategory.InvalidType,
                "TypeNotFound",
                type_name,
            ),
            terminating=True,
        )
    properties = ctx.get("Property")
    if isinstance(properties, dict):
        for key, item in properties.items():
            if isinstance(value, dict):
                value[str(key)] = item
            else:
                setattr(value, str(key), item)
    return [value]


@builtin(
    CommandSignature(
        "Get-Variable",
        (Parameter("Name", "string[]", position=0), Parameter("ValueOnly", "switch")),
    ),
    aliases=("gv",),
)
def _get_variable(ctx: CommandContext) -> Iterator[Any]:
    import fnmatch

    patterns = [p.lower() for p in ctx.get("Name") or ["*"]]
    scope = ctx.evaluator.scope
    for name in sorted(scope.names(), key=str.lower):
        if any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns):
            value = scope.lookup(name)
            if ctx.switch("ValueOnly"):
                yield value
            else:
                # A PSVariable serializes its members as adapted properties, as on Windows.
                yield adapted_object(
                    ["System.Management.Automation.PSVariable", "System.Object"],
                    {"Name": name, "Description": "", "Value": value, "Visibility": "Public",
                     "Module": None, "ModuleName": "", "Options": "None", "Attributes": []},
                    name,
                )  # fmt: skip


def _history_table(entries: list[Any]) -> list[str]:
    """HistoryInfo's table view (PowerShellCore.format.ps1xml): Id right-aligned in 4, CommandLine."""
    rows = [f"{get_member(e, 'Id', ''):>4} {get_member(e, 'CommandLine', '')}" for e in entries]
    return ["", "  Id CommandLine", "  -- -----------", *rows, "", ""]


register_renderer("Microsoft.PowerShell.Commands.HistoryInfo", _history_table)
