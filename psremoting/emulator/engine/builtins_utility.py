"""Utility built-ins an admin types first: Get-Random, Group-Object and Get-Help.

Group-Object writes GroupInfo objects (Count, Name, Group, Values) in the order each group
first appeared on 5.1 (sorted by name on 7); Get-Help, with no help files installed (as on a
fresh server), gives the partial help Windows shows: NAME, SYNTAX, ALIASES and REMARKS.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.evaluator import invoke_script_block
from psremoting.pslang.values import ScriptBlock, enumerate_value, get_member, to_number, to_string

from .builtins_commands import _syntax
from .builtins_system import adapted_object
from .commands import ALIASES, CommandContext, builtin, lookup_builtin
from .errors import PSError
from .formatting import format_scalar, register_renderer
from .modules import module_of

__all__: list[str] = []

_INT32_MAX = 2**31 - 1


@builtin(
    CommandSignature(
        "Get-Random",
        (
            Parameter("Maximum", "object", position=0),
            Parameter("Minimum", "object"),
            Parameter("InputObject", "object[]", value_from_pipeline=True),
            Parameter("Count", "int"),
            Parameter("SetSeed", "int"),
        ),
    )
)
def _get_random(ctx: CommandContext) -> Iterable[Any]:
    rng = random.Random(ctx.get("SetSeed")) if ctx.get("SetSeed") is not None else random.SystemRandom()
    pool = list(ctx.input)
    if not pool and ctx.get("InputObject") is not None:
        pool = list(enumerate_value(ctx.get("InputObject")))
    if pool:
        count = int(ctx.get("Count") or 1)
        return rng.sample(pool, min(count, len(pool)))
    low, high = ctx.get("Minimum"), ctx.get("Maximum")
    floats = any(isinstance(v, float) for v in (low, high))
    low_n = to_number(low) if low is not None else 0
    high_n = to_number(high) if high is not None else (float(_INT32_MAX) if floats else _INT32_MAX)
    if low_n >= high_n:
        raise PSError(
            ctx.error(
                f"The Minimum value ({to_string(low)}) cannot be greater than or equal to the Maximum "
                f"value ({to_string(high if high is not None else high_n)}).",
                "System.ArgumentException",
                ErrorCategory.InvalidArgument,
                "MinGreaterThanOrEqualMax",
            ),
            terminating=True,
        )
    count = int(ctx.get("Count") or 1)
    if floats:
        return [rng.uniform(float(low_n), float(high_n)) for _ in range(count)]
    return [rng.randrange(int(low_n), int(high_n)) for _ in range(count)]


def _key(ctx: CommandContext, item: Any, props: list[Any]) -> list[Any]:
    if not props:
        return [item]
    values = []
    for prop in props:
        if isinstance(prop, ScriptBlock):
            values.append(invoke_script_block(ctx.evaluator, prop, [], dollar_under=item, use_under=True))
        else:
            values.append(get_member(item, to_string(prop), None))
    return values


@builtin(
    CommandSignature(
        "Group-Object",
        (
            Parameter("Property", "object[]", position=0),
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("NoElement", "switch"),
            Parameter("AsHashTable", "switch"),
            Parameter("AsString", "switch"),
            Parameter("CaseSensitive", "switch"),
        ),
    ),
    aliases=("group",),
)
def _group_object(ctx: CommandContext) -> Iterable[Any]:
    from psremoting.pslang.values import CaseInsensitiveDict

    props = list(enumerate_value(ctx.get("Property"))) if ctx.get("Property") is not None else []
    groups: dict[str, tuple[list[Any], list[Any]]] = {}
    for item in ctx.input:
        values = _key(ctx, item, props)
        name = ", ".join(to_string(v) for v in values)
        key = name if ctx.switch("CaseSensitive") else name.lower()
        groups.setdefault(key, (values, []))[1].append(item)
    ordered = list(groups.values())
    if ctx.engine.version != "5.1":
        ordered.sort(key=lambda g: ", ".join(to_string(v) for v in g[0]).lower())
    if ctx.switch("AsHashTable"):
        table = CaseInsensitiveDict()
        for values, members in ordered:
            key = (
                ", ".join(to_string(v) for v in values)
                if ctx.switch("AsString") or len(values) > 1
                else values[0]
            )
            table[key] = members
        return [table]
    return [
        adapted_object(
            ["Microsoft.PowerShell.Commands.GroupInfo", "System.Object"],
            {
                "Values": list(values),
                "Count": len(members),
                "Group": [] if ctx.switch("NoElement") else list(members),
                "Name": ", ".join(to_string(v) for v in values),
            },
            "Microsoft.PowerShell.Commands.GroupInfo",
        )
        for values, members in ordered
    ]


def _help_text(name: str, syntax: str, aliases: list[str]) -> str:
    lines = ["", "NAME", f"    {name}", "", "SYNTAX", f"    {syntax}", "", "", "ALIASES"]
    lines += [f"    {a}" for a in aliases] or ["    None"]
    lines += [
        "",
        "",
        "REMARKS",
        "    Get-Help cannot find the Help files for this cmdlet on this computer. It is displaying only partial help.",
        "        -- To download and install Help files for the module that includes this cmdlet, use Update-Help.",
    ]
    return "\r\n".join(lines)


@builtin(
    CommandSignature(
        "Get-Help",
        (
            Parameter("Name", "string", position=0),
            Parameter("Full", "switch"),
            Parameter("Detailed", "switch"),
            Parameter("Examples", "switch"),
            Parameter("Online", "switch"),
            Parameter("Parameter", "string"),
        ),
    ),
    aliases=("help",),
)
def _get_help(ctx: CommandContext) -> Iterable[Any]:
    name = to_string(ctx.get("Name") or "Get-Help")
    command = lookup_builtin(name)
    if command is None:
        raise PSError(
            ctx.error(
                f"Get-Help could not find {name} in a help file in this session. To download updated help "
                'topics type: "Update-Help". To get help online, search for the help topic in the TechNet '
                "library at https:/go.microsoft.com/fwlink/?LinkID=107116.",
                "Microsoft.PowerShell.Commands.HelpNotFoundException",
                ErrorCategory.ResourceUnavailable,
                "HelpNotFound",
                name,
            ),
            terminating=True,
        )
    aliases = sorted(a for a, target in ALIASES.items() if target.lower() == command.name.lower())
    syntax = _syntax(command)
    return [
        adapted_object(
            [
                "MamlCommandHelpInfo#ExtendedCmdletHelpInfo",
                "HelpInfoShort",
                "System.Management.Automation.PSCustomObject",
                "System.Object",
            ],
            {},
            _help_text(command.name, syntax, aliases),
            {
                "Name": command.name,
                "Category": command.command_type,
                "Synopsis": syntax,
                "Component": None,
                "Role": None,
                "Functionality": None,
                "ModuleName": module_of(command.name),
                "aliases": "\r\n".join(aliases) or "None",
                "remarks": "Get-Help cannot find the Help files for "
                "this cmdlet on this computer. It is displaying only partial help.",
            },
        )  # fmt: skip
    ]


def _group_table(groups: list[Any]) -> list[str]:
    """GroupInfo's table view: Count (right, 5), Name (25), Group."""
    lines = ["", "Count Name                      Group", "----- ----                      -----"]
    for group in groups:
        name = to_string(get_member(group, "Name", ""))
        name = name if len(name) <= 25 else name[:22] + "..."
        group_text = format_scalar(get_member(group, "Group", []))
        lines.append(f"{get_member(group, 'Count', 0):>5} {name:<25} {group_text}".rstrip())
    return [*lines, "", ""]


register_renderer("Microsoft.PowerShell.Commands.GroupInfo", _group_table)
