"""Start-Service, Stop-Service and Restart-Service over the emulated host's services.

As Windows PowerShell's ServiceOperationBaseCommand: the services are chosen by ``-Name``
(wildcards; an exact name may also be a display name), ``-DisplayName``, or ServiceController
objects from the pipeline (``Get-Service W3SVC | Restart-Service``), then ``-Include`` /
``-Exclude``, sorted by name. Each one goes through ShouldProcess with the target
``DisplayName (Name)`` (``-WhatIf``, ``-Confirm``), then its ``Status`` changes in the
emulator's data, so every session of the host sees it. ``-PassThru`` writes the
ServiceController. A name that matches nothing is Windows' NoServiceFoundForGivenName error; a
Disabled service cannot be started (CouldNotStartService).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, MutableMapping
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .builtins_system import service_object
from .commands import Builtin, CommandContext, register_builtin
from .errors import input_not_bound, make_error_record
from .objects import type_names
from .should_process import SHOULD_PROCESS_PARAMETERS, should_process

__all__ = ["matching_services"]

_EXCEPTION = "Microsoft.PowerShell.Commands.ServiceCommandException"
_SERVICE_TYPE = "System.ServiceProcess.ServiceController"


def _wild(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _like(text: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(text.lower(), pattern.lower())


def _not_found(ctx: CommandContext, pattern: str, display: bool) -> None:
    kind, error_id = (
        ("display", "NoServiceFoundForGivenDisplayName")
        if display
        else ("service", "NoServiceFoundForGivenName")
    )
    ctx.write_error(
        ctx.error(
            f"Cannot find any service with {kind} name '{pattern}'.",
            _EXCEPTION,
            ErrorCategory.ObjectNotFound,
            error_id,
            pattern,
        )
    )


def _names_from_input(ctx: CommandContext) -> list[str]:
    """Service names of the pipeline's ServiceControllers (or objects with a Name/ServiceName)."""
    names: list[str] = []
    for item in ctx.input:
        if _SERVICE_TYPE in type_names(item):
            names.append(to_string(get_member(item, "ServiceName")))
            continue
        name = get_member(item, "ServiceName", None) if not isinstance(item, str) else None
        if name is None and not isinstance(item, str):
            name = get_member(item, "Name", None)
        if name is None:
            ctx.write_error(input_not_bound(item, ctx.name))
            continue
        names.extend(to_string(n) for n in enumerate_value(name))
    return names


def matching_services(ctx: CommandContext) -> list[MutableMapping[str, Any]]:
    """The declared services the invocation names, as ServiceOperationBaseCommand selects them."""
    services = [s for s in ctx.engine.services if isinstance(s, MutableMapping)]
    chosen: list[MutableMapping[str, Any]] = []

    def add(service: MutableMapping[str, Any]) -> None:
        if all(s is not service for s in chosen):
            chosen.append(service)

    display = ctx.get("DisplayName")
    if display is not None:
        for pattern in (to_string(p) for p in enumerate_value(display)):
            found = [s for s in services if _like(str(s.get("DisplayName", s["Name"])), pattern)]
            if not found and not _wild(pattern):
                _not_found(ctx, pattern, display=True)
            for service in found:
                add(service)
    else:
        given = ctx.get("Name")
        patterns = [to_string(n) for n in enumerate_value(given)] if given is not None else []
        patterns += _names_from_input(ctx)
        for pattern in patterns:
            if _wild(pattern):
                found = [s for s in services if _like(str(s["Name"]), pattern)]
            else:
                lower = pattern.lower()
                found = [s for s in services if str(s["Name"]).lower() == lower]
                found = found or [s for s in services if str(s.get("DisplayName", "")).lower() == lower]
                if not found:
                    _not_found(ctx, pattern, display=False)
            for service in found:
                add(service)
    include = [to_string(p) for p in enumerate_value(ctx.get("Include"))] if ctx.get("Include") else None
    exclude = [to_string(p) for p in enumerate_value(ctx.get("Exclude"))] if ctx.get("Exclude") else []
    key = "DisplayName" if display is not None else "Name"

    def keep(service: MutableMapping[str, Any]) -> bool:
        text = str(service.get(key, service["Name"]))
        if include is not None and not any(_like(text, p) for p in include):
            return False
        return not any(_like(text, p) for p in exclude)

    return sorted((s for s in chosen if keep(s)), key=lambda s: str(s["Name"]).lower())


def _label(service: MutableMapping[str, Any]) -> str:
    """``DisplayName (Name)``: ServiceResources.ServiceNameForConfirmation."""
    name = str(service["Name"])
    return f"{service.get('DisplayName', name)} ({name})"


def _start(ctx: CommandContext, service: MutableMapping[str, Any]) -> bool:
    if str(service.get("StartType", "Automatic")).lower() == "disabled":
        name = str(service["Name"])
        ctx.write_error(
            make_error_record(
                f"Service '{_label(service)}' cannot be started due to the following error: "
                f"Cannot start service {name} on computer '.'.",
                _EXCEPTION,
                ErrorCategory.OpenError,
                "CouldNotStartService",
                service_object(service),
                command=ctx.name,
                line=ctx.line,
                position=ctx.position,
                target_name=_SERVICE_TYPE,
            )
        )
        return False
    service["Status"] = "Running"
    return True


def _stop(service: MutableMapping[str, Any]) -> bool:
    service["Status"] = "Stopped"  # stopping a stopped service is no error (ERROR_SERVICE_NOT_ACTIVE)
    return True


class _ServiceOperation(Builtin):
    """The parameters and the loop the three commands share; ``operate`` does one service."""

    extra: tuple[Parameter, ...] = ()

    def __init__(self, name: str, aliases: tuple[str, ...] = ()) -> None:
        self.aliases = aliases
        self.signature = CommandSignature(
            name,
            (
                Parameter("Name", "string[]", ("ServiceName",), position=0, mandatory=True, sets=("Default",),
                          value_from_pipeline_by_property_name=True),
                Parameter("DisplayName", "string[]", mandatory=True, sets=("DisplayName",)),
                Parameter("InputObject", "object[]", mandatory=True, sets=("InputObject",), value_from_pipeline=True),
                Parameter("Include", "string[]"),
                Parameter("Exclude", "string[]"),
                Parameter("PassThru", "switch"),
                *self.extra,
                *SHOULD_PROCESS_PARAMETERS,
            ),
            default_set="InputObject",
        )  # fmt: skip

    def operate(self, ctx: CommandContext, service: MutableMapping[str, Any]) -> bool:
        raise NotImplementedError

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        items = ctx.get("InputObject")
        if items is not None and ctx.get("Name") is None:
            ctx.input = [*enumerate_value(items), *ctx.input]
        out: list[Any] = []
        for service in matching_services(ctx):
            if not should_process(ctx, _label(service)):
                continue
            if self.operate(ctx, service) and ctx.switch("PassThru"):
                out.append(service_object(service))
        return out


class _StartService(_ServiceOperation):
    def operate(self, ctx: CommandContext, service: MutableMapping[str, Any]) -> bool:
        return _start(ctx, service)


class _StopService(_ServiceOperation):
    extra = (Parameter("Force", "switch"), Parameter("NoWait", "switch"))

    def operate(self, ctx: CommandContext, service: MutableMapping[str, Any]) -> bool:
        return _stop(service)


class _RestartService(_ServiceOperation):
    extra = (Parameter("Force", "switch"),)

    def operate(self, ctx: CommandContext, service: MutableMapping[str, Any]) -> bool:
        return _stop(service) and _start(ctx, service)


register_builtin(_StartService("Start-Service", ("sasv",)))
register_builtin(_StopService("Stop-Service", ("spsv",)))
register_builtin(_RestartService("Restart-Service"))
