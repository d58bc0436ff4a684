"""TEMPORARY stand-in for the emulator's command engine, for the Invoke-Command tests only.

Used only while `psremoting.emulator.engine.Engine` is not importable (the emulator room is
building it); tests/invoke/conftest.py prefers the real engine as soon as it exists. It runs
just the small PowerShell subset these tests send: statements split on `;` and newlines,
`param($A, $B)` bound from positional arguments, `$x = expr`, `Write-Error 'text'`,
`exit N`, and expressions: '...' and "...$var..." strings, integers, `$var`, `$var + N`,
`$env:COMPUTERNAME`, `$using:name` (from the `--%` parameter), and registered handlers
called as `Name arg ...`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from psrpcore.types import ErrorCategory, HostMethodIdentifier

from psremoting.emulator.engine.errors import command_not_found, make_error_record
from psremoting.emulator.engine.io import InvocationResult, PipelineStopped


@dataclass
class _Ctx:
    args: list[Any]
    params: dict[str, Any]
    input: list[Any]
    io: Any
    engine: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Exit(Exception):
    pass


class StandInEngine:
    def __init__(self, computer_name: str, username: str, root: Any, commands: dict[str, Any], **_: Any) -> None:
        self.computer_name = computer_name
        self.username = username
        self.commands = commands
        self.variables: dict[str, Any] = {}

    def invoke(self, commands: list[Any], io: Any) -> InvocationResult:
        try:
            for cmd in commands:
                args = [v for n, v in cmd.parameters if not n]
                params = {n: v for n, v in cmd.parameters if n}
                if not cmd.is_script:
                    if cmd.command_text in ("Out-Default", "Out-String"):
                        continue
                    self._call(cmd.command_text, args, io)
                    continue
                self._script(cmd.command_text, args, params.get("--%") or {}, io)
            return InvocationResult()
        except _Exit:
            return InvocationResult()
        except _Failed as failed:
            return InvocationResult(failed=failed.record)
        except PipelineStopped:
            return InvocationResult(stopped=True)

    def _script(self, text: str, args: list[Any], using: dict[str, Any], io: Any) -> None:
        text = text.strip()
        match = re.match(r"param\s*\(([^)]*)\)", text, re.IGNORECASE)
        if match:
            names = [n.strip().lstrip("$") for n in match.group(1).split(",") if n.strip()]
            for i, name in enumerate(names):
                self.variables[name.lower()] = args[i] if i < len(args) else None
            text = text[match.end():]
        for statement in re.split(r"[;\n]", text):
            statement = statement.strip()
            if not statement:
                continue
            if io.stopping.is_set():
                raise PipelineStopped()
            assign = re.fullmatch(r"\$(\w+)\s*=\s*(.+)", statement)
            if assign:
                self.variables[assign.group(1).lower()] = self._expr(assign.group(2), using)
                continue
            exit_match = re.fullmatch(r"exit\s+(-?\d+)", statement, re.IGNORECASE)
            if exit_match:
                io.host_call(HostMethodIdentifier.SetShouldExit, [int(exit_match.group(1))])
                raise _Exit()
            error = re.fullmatch(r"Write-Error\s+'([^']*)'", statement, re.IGNORECASE)
            if error:
                io.write_error(make_error_record(error.group(1), "Microsoft.PowerShell.Commands.WriteErrorException",
                                                 ErrorCategory.NotSpecified, "Microsoft.PowerShell.Commands.WriteErrorException",
                                                 command="Write-Error"))
                continue
            call = re.fullmatch(r"([A-Za-z]+-[A-Za-z]+)(.*)", statement)
            if call:
                call_args = [self._expr(a, using) for a in call.group(2).split()]
                self._call(call.group(1), call_args, io)
                continue
            io.write_output(self._expr(statement, using))

    def _call(self, name: str, args: list[Any], io: Any) -> None:
        handler = self.commands.get(name) or next((h for k, h in self.commands.items() if k.lower() == name.lower()), None)
        if handler is None:
            raise _Failed(command_not_found(name))
        for item in handler(_Ctx(args, {}, [], io, self)) or ():
            io.write_output(item)

    def _expr(self, text: str, using: dict[str, Any]) -> Any:
        text = text.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text.startswith("'") and text.endswith("'"):
            return text[1:-1]
        if text.startswith('"') and text.endswith('"'):
            return re.sub(r"\$(\w+)", lambda m: str(self.variables.get(m.group(1).lower(), "")), text[1:-1])
        plus = re.fullmatch(r"(\$\w+)\s*\+\s*(\d+)", text)
        if plus:
            return self._expr(plus.group(1), using) + int(plus.group(2))
        if text.lower() == "$env:computername":
            return self.computer_name.upper()
        using_match = re.fullmatch(r"\$using:(\w+)", text, re.IGNORECASE)
        if using_match:
            key = base64.b64encode(f"$using:{using_match.group(1)}".lower().encode("utf-16-le")).decode()
            return using.get(key)
        if text.startswith("$"):
            return self.variables.get(text[1:].lower())
        return text


class _Failed(Exception):
    def __init__(self, record: Any) -> None:
        self.record = record
