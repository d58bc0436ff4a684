"""Command discovery and completion: Get-Command and TabExpansion2.

``Get-Command -Name Out-Default,Exit-PSSession`` is what Enter-PSSession runs to check a
remote endpoint; TabExpansion2 is what a remote tab press runs, and returns a
CommandCompletion with CompletionResults for command names, parameter names of built-ins,
variables and sandbox paths.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from typing import Any

from psrpcore.types import ErrorCategory, PSEnumBase, PSType

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, to_string

from .commands import ALIASES, BUILTINS, Builtin, CommandContext, builtin, lookup_builtin
from .errors import command_not_found_message
from .filesystem import SandboxEscape
from .modules import module_of
from .objects import make_object

__all__ = ["CompletionResultType", "complete"]


@PSType(["System.Management.Automation.CompletionResultType"])
class CompletionResultType(PSEnumBase):
    """System.Management.Automation.CompletionResultType."""

    Text = 0
    History = 1
    Command = 2
    ProviderItem = 3
    ProviderContainer = 4
    Property = 5
    Method = 6
    ParameterName = 7
    ParameterValue = 8
    Variable = 9
    Namespace = 10
    Type = 11
    Keyword = 12
    DynamicKeyword = 13


@PSType(["System.Management.Automation.CommandTypes"])
class _CommandTypes(PSEnumBase):
    Alias = 1
    Function = 2
    Filter = 4
    Cmdlet = 8
    Application = 32


def _known_commands(ctx: CommandContext) -> dict[str, tuple[str, Builtin | None]]:
    """Every visible command name -> (CommandType, built-in or None)."""
    out: dict[str, tuple[str, Builtin | None]] = {}
    for command in BUILTINS.values():
        out[command.name] = (command.command_type, command)
    for alias, target in ALIASES.items():
        out.setdefault(alias, ("Alias", BUILTINS.get(target.lower())))
    for name in ctx.engine.functions:
        out[name] = ("Function", None)
    for name in ctx.engine.commands:
        out[name] = ("Function", None)
    return out


def _exact_command(ctx: CommandContext, name: str) -> tuple[str, tuple[str, Builtin | None] | None]:
    """``(name, (CommandType, built-in))`` for one exact name (handlers, functions, built-ins, aliases)."""
    if ctx.engine.handler_for(name) is not None:
        return name, ("Function", None)
    if name in ctx.engine.functions:
        return name, ("Function", None)
    command = BUILTINS.get(name.lower())
    if command is not None:
        return command.name, (command.command_type, command)
    target = ALIASES.get(name.lower())
    if target is not None:
        return name.lower(), ("Alias", BUILTINS.get(target.lower()))
    return name, None


def _command_info(name: str, kind: str, command: Builtin | None) -> Any:
    type_name = {
        "Cmdlet": "System.Management.Automation.CmdletInfo",
        "Function": "System.Management.Automation.FunctionInfo",
        "Alias": "System.Management.Automation.AliasInfo",
        "Application": "System.Management.Automation.ApplicationInfo",
    }[kind]
    target = command.name if command is not None else name
    module = "" if kind in ("Function", "Application") and command is None else module_of(target)
    definition = target if kind == "Alias" else (_syntax(command) if command is not None else "")
    shown = f"{name} -> {target}" if kind == "Alias" else name
    if kind == "Application":  # a program in System32, as Windows lists it
        exe = name if name.lower().endswith(".exe") else f"{name}.exe"
        shown, definition, module = exe, f"C:\\Windows\\system32\\{exe}", f"C:\\Windows\\system32\\{exe}"
    return make_object(
        [type_name, "System.Management.Automation.CommandInfo", "System.Object"],
        {
            "CommandType": _CommandTypes[kind],
            "Name": shown,
            "Definition": definition,
            "Version": "3.1.0.0" if module else "",
            "Source": module,
            "ModuleName": module,
            "Visibility": "Public",
            "HelpUri": command.help_uri if command is not None else "",
        },
        shown,
    )


def _syntax(command: Builtin) -> str:
    parts = [command.name]
    for p in command.signature.parameters:
        kind = "switch" if p.is_switch else (p.type if isinstance(p.type, str) else "object")
        text = f"-{p.name}" if p.is_switch else f"-{p.name} <{kind}>"
        if p.position is not None and not p.is_switch:
            text = f"[-{p.name}] <{kind}>"
        parts.append(text if p.mandatory else f"[{text}]")
    if command.signature.common:
        parts.append("[<CommonParameters>]")
    return " ".join(parts)


@builtin(
    CommandSignature(
        "Get-Command",
        (
            Parameter("Name", "string[]", position=0, value_from_pipeline=True),
            Parameter("CommandType", "string[]", ("Type",)),
            Parameter("Module", "string[]"),
            Parameter("Syntax", "switch"),
            Parameter("ListImported", "switch"),
        ),
    ),
    aliases=("gcm",),
)
def _get_command(ctx: CommandContext) -> Iterator[Any]:
    names = [to_string(n) for n in enumerate_value(ctx.get("Name"))]
    types = {t.lower() for t in ctx.get("CommandType") or []}
    if not names:  # without -Name: the aliases, functions and cmdlets, not the programs on the path
        names = ["*"]
        types = types or {"alias", "function", "filter", "cmdlet"}
    known = (
        _known_commands(ctx)
        if any(c in n for n in names for c in "*?[")
        else {k: v for k, v in (_exact_command(ctx, n) for n in names) if v is not None}
    )
    allowed = getattr(ctx.engine, "allowed_commands", None)
    if allowed is not None:  # a JEA endpoint lists what its role allows
        known = {k: v for k, v in known.items() if k.lower() in allowed and v[0] != "Alias"}
    for pattern in names:
        hits = sorted(
            (n for n in known if fnmatch.fnmatchcase(n.lower(), pattern.lower())),
            key=lambda n: (known[n][0] != "Alias", n.lower()),
        )
        if types:
            hits = [h for h in hits if known[h][0].lower() in types]
        if not hits and not any(c in pattern for c in "*?["):
            ctx.write_error(
                ctx.error(
                    command_not_found_message(pattern, ctx.engine.version),
                    "System.Management.Automation.CommandNotFoundException",
                    ErrorCategory.ObjectNotFound,
                    "CommandNotFoundException",
                    pattern,
                )
            )
            continue
        for name in hits:
            kind, command = known[name]
            if ctx.switch("Syntax") and command is not None:
                yield _syntax(command)
            else:
                yield _command_info(name, kind, command)


# -- TabExpansion2 -------------------------------------------------------------------
def _result(text: str, list_text: str, kind: CompletionResultType, tooltip: str) -> Any:
    return make_object(
        ["System.Management.Automation.CompletionResult", "System.Object"],
        {"CompletionText": text, "ListItemText": list_text, "ResultType": kind, "ToolTip": tooltip},
        text,
    )


def _word_start(line: str) -> int:
    i = len(line)
    quote = None
    for j, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            i = j
        elif ch in " \t|;(){}=,":
            i = j + 1
    if quote is None and (i >= len(line) or line[i] not in "'\""):
        last = max((line.rfind(c) for c in " \t|;(){}=,"), default=-1)
        return last + 1
    return i


def _statement_words(line: str) -> list[str]:
    cut = max(line.rfind("|"), line.rfind(";"), line.rfind("("), line.rfind("{"))
    return line[cut + 1 :].split()


def complete(ctx: CommandContext, script: str, cursor: int) -> tuple[int, int, list[Any]]:
    """``(replacement_index, replacement_length, CompletionResults)`` for ``script`` at ``cursor``."""
    line = script[:cursor]
    start = _word_start(line)
    word = line[start:]
    words = _statement_words(line[:start])
    results: list[Any] = []
    if word.lower().startswith("$env:"):
        prefix = word[5:].lower()
        names = sorted((n for n in ctx.engine.scope.env if n.lower().startswith(prefix)), key=str.lower)
        results = [_result("$env:" + n, n, CompletionResultType.Variable, n) for n in names]
    elif word.startswith("$"):
        prefix = word[1:].lower()
        names = sorted({n for n in ctx.engine.scope.names() if n.lower().startswith(prefix)}, key=str.lower)
        results = [_result("$" + n, n, CompletionResultType.Variable, n) for n in names]
    elif word.startswith("-") and words:
        command = _resolve(ctx, words[0])
        if command is not None:
            prefix = word[1:].lower()
            for p in command.signature.all_parameters:
                if p.name.lower().startswith(prefix):
                    kind = "switch" if p.is_switch else (p.type if isinstance(p.type, str) else "object")
                    results.append(
                        _result(
                            "-" + p.name, p.name, CompletionResultType.ParameterName, f"[{kind}] {p.name}"
                        )
                    )
    elif not words:
        known = _known_commands(ctx)
        prefix = word.lower()
        matches = sorted((n for n in known if fnmatch.fnmatchcase(n.lower(), prefix + "*")), key=str.lower)
        for name in matches:
            kind, command = known[name]
            tip = _syntax(command) if command is not None and kind != "Alias" else name
            results.append(_result(name, name, CompletionResultType.Command, tip))
    if not results and not word.startswith(("-", "$")):
        command = _resolve(ctx, words[0]) if words else None
        containers_only = command is not None and command.name in ("Set-Location", "Push-Location")
        results = _complete_path(ctx, word, containers_only)
    return start, len(word), results


def _resolve(ctx: CommandContext, name: str) -> Builtin | None:
    return lookup_builtin(name)


def _complete_path(ctx: CommandContext, word: str, containers_only: bool = False) -> list[Any]:
    bare = word.strip("'\"")
    sep = max(bare.rfind("\\"), bare.rfind("/"))
    folder_part, prefix = (bare[: sep + 1], bare[sep + 1 :]) if sep >= 0 else ("", bare)
    try:
        folder = ctx.engine.sandbox.normalize(folder_part or ".", ctx.engine.location)
        host = ctx.engine.sandbox.host_path(folder)
        entries = sorted(os.scandir(host), key=lambda e: (not e.is_dir(), e.name.lower()))
    except (OSError, SandboxEscape):
        return []
    shown_prefix = folder_part if folder_part else ".\\"
    out = []
    for entry in entries:
        if not entry.name.lower().startswith(prefix.lower()) or (containers_only and not entry.is_dir()):
            continue
        text = shown_prefix + entry.name
        if " " in text:
            text = "'" + text + "'"
        full = folder.rstrip("\\") + "\\" + entry.name
        kind = CompletionResultType.ProviderContainer if entry.is_dir() else CompletionResultType.ProviderItem
        out.append(_result(text, entry.name, kind, full))
    return out


@builtin(
    CommandSignature(
        "TabExpansion2",
        (
            Parameter("inputScript", "string", position=0, mandatory=True, sets=("ScriptInputSet",)),
            Parameter("cursorColumn", "int", position=1, sets=("ScriptInputSet",)),
            Parameter("ast", "object", position=0, mandatory=True, sets=("AstInputSet",)),
            Parameter("tokens", "object", position=1, mandatory=True, sets=("AstInputSet",)),
            Parameter("positionOfCursor", "object", position=2, mandatory=True, sets=("AstInputSet",)),
            Parameter("options", "hashtable", position=3),
        ),
        default_set="ScriptInputSet",
        common=False,
    )
)
def _tab_expansion2(ctx: CommandContext) -> Iterable[Any]:
    script = to_string(ctx.get("inputScript"))
    cursor = ctx.get("cursorColumn")
    cursor = len(script) if cursor is None else max(0, min(int(cursor), len(script)))
    index, length, matches = complete(ctx, script, cursor)
    return [
        make_object(
            ["System.Management.Automation.CommandCompletion", "System.Object"],
            {
                "CurrentMatchIndex": -1,
                "ReplacementIndex": index,
                "ReplacementLength": length,
                "CompletionMatches": matches,
            },
            "System.Management.Automation.CommandCompletion",
        )
    ]
