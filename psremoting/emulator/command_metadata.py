"""The GetCommandMetadata answer as Windows gives it (windows-recordings/test_psrp_get_command_metadata.yml).

Each command is a ``Selected.System.Management.Automation.CmdletInfo`` (or ``FunctionInfo``)
custom object with Name, Namespace, HelpUri, CommandType, ResolvedCommandName, OutputType
and Parameters: a ``Dictionary`2[String, ParameterMetadata]`` whose values carry, as adapted
properties, Name, ParameterType (the .NET type name), Aliases (a ``Collection`1[String]``),
IsDynamic and SwitchParameter. The parameters are the command's own, in declaration order,
then (for cmdlets and advanced functions) the common parameters, as Windows lists them.

A handler registered with ``Emulator.register`` describes itself with attributes, when it
wants to look like a real cmdlet to implicit remoting: ``handler.signature`` (a pslang
``CommandSignature``), ``handler.module`` (its module, e.g. Microsoft.PowerShell.Management)
and ``handler.command_type`` ("Cmdlet" or "Function").
"""

from __future__ import annotations

import fnmatch
from typing import Any

from psrpcore.types import (
    CommandTypes,
    PSDictBase,
    PSListBase,
    PSNoteProperty,
    PSObject,
    PSType,
    add_note_property,
)

from psremoting.pslang.binder import CommandSignature

__all__ = ["command_metadata", "describe", "wanted"]

_STRING = "System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"
_AUTOMATION = (
    "System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35"
)


@PSType([f"System.Collections.ObjectModel.Collection`1[[{_STRING}]]"], tag="LST")
class _StringCollection(PSListBase):
    """Collection<string>: a parameter's aliases."""


@PSType(
    [
        f"System.Collections.Generic.Dictionary`2[[{_STRING}],"
        f"[System.Management.Automation.ParameterMetadata, {_AUTOMATION}]]",
    ],
    tag="DCT",
)
class _ParameterDictionary(PSDictBase):
    """Dictionary<string, ParameterMetadata>: a command's parameters."""


@PSType(
    [
        f"System.Collections.ObjectModel.ReadOnlyCollection`1[[System.Management.Automation.PSTypeName, {_AUTOMATION}]]",
        "System.Object",
    ],
    tag="LST",
)
class _OutputTypes(PSListBase):
    """ReadOnlyCollection<PSTypeName>: a command's output types."""


#: The common parameters, with their aliases and types, in the order Windows lists them.
COMMON = (
    ("Verbose", "System.Management.Automation.SwitchParameter", ("vb",)),
    ("Debug", "System.Management.Automation.SwitchParameter", ("db",)),
    ("ErrorAction", "System.Management.Automation.ActionPreference", ("ea",)),
    ("WarningAction", "System.Management.Automation.ActionPreference", ("wa",)),
    ("InformationAction", "System.Management.Automation.ActionPreference", ("infa",)),
    ("ProgressAction", "System.Management.Automation.ActionPreference", ("proga",)),
    ("ErrorVariable", "System.String", ("ev",)),
    ("WarningVariable", "System.String", ("wv",)),
    ("InformationVariable", "System.String", ("iv",)),
    ("OutVariable", "System.String", ("ov",)),
    ("OutBuffer", "System.Int32", ("ob",)),
    ("PipelineVariable", "System.String", ("pv",)),
)

_TYPES = {
    "string": "System.String",
    "string[]": "System.String[]",
    "int": "System.Int32",
    "int[]": "System.Int32[]",
    "long": "System.Int64",
    "double": "System.Double",
    "bool": "System.Boolean",
    "switch": "System.Management.Automation.SwitchParameter",
    "object": "System.Object",
    "object[]": "System.Object[]",
    "scriptblock": "System.Management.Automation.ScriptBlock",
    "pscredential": "System.Management.Automation.PSCredential",
    "hashtable": "System.Collections.Hashtable",
    "datetime": "System.DateTime",
}


def _type_name(kind: Any) -> str:
    if isinstance(kind, str):
        return _TYPES.get(kind.lower(), kind if "." in kind else "System.Object")
    display = getattr(kind, "type_display", None)
    return str(display) if display else "System.Object"


def _parameter(name: str, type_name: str, aliases: tuple[str, ...], switch: bool) -> PSObject:
    obj = PSObject()
    meta = obj.PSObject
    meta.type_names = ["System.Management.Automation.ParameterMetadata", "System.Object"]
    meta.to_string = "System.Management.Automation.ParameterMetadata"
    meta.adapted_properties.extend(
        [
            PSNoteProperty("Name", name),
            PSNoteProperty("ParameterType", type_name),
            PSNoteProperty("Aliases", _StringCollection(aliases)),
            PSNoteProperty("IsDynamic", False),
            PSNoteProperty("SwitchParameter", switch),
        ]
    )
    return obj


def describe(engine: Any, name: str) -> tuple[CommandSignature | None, str, str]:
    """(signature, module, command type) of the command ``name`` in ``engine``."""
    from psremoting.emulator.engine.commands import lookup_builtin
    from psremoting.emulator.engine.modules import module_of

    handler = engine.handler_for(name)
    if handler is not None:
        return (
            getattr(handler, "signature", None),
            str(getattr(handler, "module", "") or ""),
            str(getattr(handler, "command_type", "Function") or "Function"),
        )
    builtin = lookup_builtin(name)
    if builtin is not None:
        return builtin.signature, module_of(builtin.name), builtin.command_type
    return None, "", "Function"


def _parameters(
    signature: CommandSignature | None, command_type: str, version: str = "5.1"
) -> _ParameterDictionary:
    table = _ParameterDictionary()
    # WhatIf and Confirm (SupportsShouldProcess) come after the common parameters, as Windows lists them.
    own = list(signature.parameters) if signature is not None else []
    should_process = [p for p in own if p.name in ("WhatIf", "Confirm")]
    for p in own:
        if p not in should_process:
            table[p.name] = _parameter(p.name, _type_name(p.type), tuple(p.aliases), p.is_switch)
    if signature is not None and (signature.common or command_type == "Cmdlet"):
        for name, type_name, aliases in COMMON:
            # ProgressAction is PowerShell 7.4's; Windows PowerShell 5.1 lists no such parameter.
            if name == "ProgressAction" and not version.startswith("7"):
                continue
            if name not in table:
                table[name] = _parameter(name, type_name, aliases, type_name.endswith("SwitchParameter"))
    for p in should_process:
        table[p.name] = _parameter(p.name, _type_name(p.type), tuple(p.aliases), p.is_switch)
    return table


def command_metadata(info: Any, engine: Any = None) -> PSObject:
    """One command of the answer, from a Get-Command CommandInfo (and the engine that has it)."""

    def prop(name: str, default: Any = None) -> Any:
        value = getattr(info, name, default)
        return default if value is None else value

    name = str(prop("Name", ""))
    signature, module, kind = describe(engine, name) if engine is not None else (None, "", "")
    command_type = prop("CommandType", CommandTypes.Cmdlet)
    if kind == "Cmdlet":
        command_type = CommandTypes.Cmdlet
    kind = str(getattr(command_type, "name", command_type))
    obj = PSObject()
    obj.PSObject.type_names = [
        f"Selected.System.Management.Automation.{'Function' if kind == 'Function' else 'Cmdlet'}Info",
        "System.Management.Automation.PSCustomObject",
        "System.Object",
    ]
    add_note_property(obj, "Name", name)
    add_note_property(obj, "Namespace", module or str(prop("ModuleName", prop("Source", ""))))
    add_note_property(obj, "HelpUri", str(prop("HelpUri", "")))
    add_note_property(obj, "CommandType", command_type)
    add_note_property(obj, "ResolvedCommandName", None)
    add_note_property(obj, "OutputType", _OutputTypes())
    version = str(getattr(engine, "version", "5.1") or "5.1")
    add_note_property(obj, "Parameters", _parameters(signature, kind, version))
    return obj


def wanted(info: Any, engine: Any, command_type: Any, namespaces: Any) -> bool:
    """Whether a command passes the request's CommandType flags and Namespace patterns."""
    name = str(getattr(info, "Name", "") or "")
    _signature, module, kind = describe(engine, name)
    raw_type = getattr(info, "CommandType", None)
    type_name = kind if kind == "Cmdlet" else str(getattr(raw_type, "name", raw_type) or kind)
    flags = {"Alias": 1, "Function": 2, "Filter": 4, "Cmdlet": 8}
    try:
        mask = int(getattr(command_type, "value", command_type)) if command_type is not None else 511
    except (TypeError, ValueError):
        mask = 511
    if not mask & flags.get(type_name, 2):
        return False
    patterns = [str(n) for n in (namespaces or []) if n is not None]
    if not patterns:
        return True
    module = module or str(getattr(info, "ModuleName", "") or getattr(info, "Source", "") or "")
    return any(fnmatch.fnmatchcase(module.lower(), p.lower()) for p in patterns)
