"""ErrorRecords that look like Windows PowerShell's, and the exception the engine uses for them.

Every error a client sees from the emulator is a psrpcore :class:`ErrorRecord` whose message,
category, reason (the .NET exception's short name), target and FullyQualifiedErrorId match
what PowerShell writes for the same mistake, so that client code parsing them behaves the same
against the emulator and against Windows.
"""

from __future__ import annotations

from typing import Any

from psrpcore.types import (
    CommandOrigin,
    CommandTypes,
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    InvocationInfo,
    NETException,
    PSDict,
    PSList,
)
from psrpcore.types._complex import RemoteCommandInfo, SessionStateEntryVisibility

__all__ = [
    "PSError",
    "command_not_found",
    "make_error_record",
    "path_not_found",
    "position_message",
]

_EXCEPTION_BASES: dict[str, list[str]] = {
    "System.Management.Automation.CommandNotFoundException": [
        "System.Management.Automation.RuntimeException",
        "System.SystemException",
    ],
    "System.Management.Automation.ItemNotFoundException": [
        "System.Management.Automation.SessionStateException",
        "System.Management.Automation.RuntimeException",
        "System.SystemException",
    ],
    "System.Management.Automation.ParameterBindingException": [
        "System.Management.Automation.RuntimeException",
        "System.SystemException",
    ],
    "Microsoft.PowerShell.Commands.WriteErrorException": ["System.SystemException"],
    "Microsoft.PowerShell.Commands.ServiceCommandException": ["System.SystemException"],
    "System.Management.Automation.RuntimeException": ["System.SystemException"],
}


class _CategoryInfo(ErrorCategoryInfo):
    """ErrorCategoryInfo whose text is PowerShell's ``Category: (Target:Type) [Activity], Reason``."""

    def __str__(self) -> str:
        return (
            f"{self.Category.name}: ({self.TargetName or ''}:{self.TargetType or ''}) "
            f"[{self.Activity or ''}], {self.Reason or ''}"
        )


def _exception(type_name: str, message: str) -> NETException:
    exc = NETException(Message=message, HResult=-2146233087)
    names = [type_name, *_EXCEPTION_BASES.get(type_name, []), "System.Exception", "System.Object"]
    exc.PSObject.type_names = list(dict.fromkeys(names))
    exc.PSObject.to_string = f"{type_name}: {message}"
    return exc


def _type_name_of(target: Any) -> str:
    if target is None:
        return ""
    if isinstance(target, str):
        return "String"
    if isinstance(target, bool):
        return "Boolean"
    if isinstance(target, int):
        return "Int32"
    names = getattr(getattr(target, "PSObject", None), "type_names", None)
    if names:
        return str(names[0]).rsplit(".", 1)[-1]
    return type(target).__name__


def make_error_record(
    message: str,
    exception_type: str,
    category: ErrorCategory,
    error_id: str,
    target: Any = None,
    *,
    command: str | None = None,
    command_type: str = "Microsoft.PowerShell.Commands",
    line: str | None = None,
    target_name: str | None = None,
    position: str | None = None,
    invocation_name: str | None = None,
    fqid_suffix: str | None = None,
    my_command: str | None = None,
) -> ErrorRecord:
    """Build an ErrorRecord as PowerShell would.

    ``error_id`` is the bare id; for a cmdlet (``command`` given) the FullyQualifiedErrorId
    becomes ``<id>,<Namespace>.<Verb><Noun>Command`` as PowerShell composes it.
    """
    reason = exception_type.rsplit(".", 1)[-1]
    fqid = error_id
    if fqid_suffix:
        fqid = f"{error_id},{fqid_suffix}"
    elif command and "-" in command and command_type:
        fqid = f"{error_id},{command_type}.{command.replace('-', '')}Command"
    info = _CategoryInfo(
        Category=category,
        Activity=command or "",
        Reason=reason,
        TargetName=target_name if target_name is not None else ("" if target is None else str(target)),
        TargetType=_type_name_of(target),
    )
    invocation = None
    if command or position or invocation_name:
        invocation = InvocationInfo(
            BoundParameters=PSDict(),
            CommandOrigin=CommandOrigin.Runspace,
            ExpectingInput=False,
            HistoryId=1,
            InvocationName=invocation_name or command or "",
            Line=line or "",
            MyCommand=RemoteCommandInfo(
                CommandType=CommandTypes.Script if my_command else CommandTypes.Cmdlet,
                Name=my_command or command,
                Definition=my_command or command,
                Visibility=SessionStateEntryVisibility.Public,
            )
            if command or my_command
            else None,
            OffsetInLine=0,
            PipelineLength=1,
            PipelinePosition=1,
            PositionMessage=position or "",
            PSCommandPath="",
            PSScriptRoot="",
            ScriptLineNumber=1,
            ScriptName="",
            UnboundArguments=PSList(),
        )
    record = ErrorRecord(
        Exception=_exception(exception_type, message),
        CategoryInfo=info,
        TargetObject=target,
        FullyQualifiedErrorId=fqid,
        InvocationInfo=invocation,
    )
    if position:
        line_no = position.split(" char:", 1)[0].removeprefix("At line:")
        record.ScriptStackTrace = f"at <ScriptBlock>, <No file>: line {line_no}"
    if invocation is not None:
        record.serialize_extended_info = True
        record.PipelineIterationInfo = PSList([0, 0])
    return record


class PSError(Exception):
    """A PowerShell error raised inside the engine; carries its ErrorRecord.

    ``terminating`` True ends the statement (in a script, the next statement runs; a command
    invoked directly fails the pipeline); ``script_terminating`` ends the whole pipeline.
    """

    def __init__(
        self, record: ErrorRecord, terminating: bool = True, script_terminating: bool = False
    ) -> None:
        super().__init__(str(record))
        self.record = record
        self.terminating = terminating
        #: True for ``throw`` and ``-ErrorAction Stop``: ends the whole pipeline, not one statement.
        self.script_terminating = script_terminating


def position_message(text: str, start: int, end: int) -> str:
    """PowerShell's ``At line:N char:M`` block underlining ``text[start:end]``."""
    start = max(0, min(start, len(text)))
    end = max(start + 1, min(end, len(text)))
    line_no = text.count("\n", 0, start) + 1
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end < 0:
        line_end = len(text)
    line = text[line_start:line_end].rstrip("\r")
    col = start - line_start
    width = max(1, min(end, line_end) - start)
    # Windows builds this text with Environment.NewLine.
    return f"At line:{line_no} char:{col + 1}\r\n+ {line}\r\n+ {' ' * col}{'~' * width}"


def command_not_found_message(name: str, version: str = "5.1") -> str:
    """PowerShell's text for an unknown command: Windows PowerShell 5.1 and PowerShell 7 word
    it differently."""
    if version.startswith("5"):
        return (
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program. Check the spelling of the name, or if a path was included, "
            "verify that the path is correct and try again."
        )
    return (
        f"The term '{name}' is not recognized as a name of a cmdlet, function, script file, "
        "or executable program.\nCheck the spelling of the name, or if a path was included, "
        "verify that the path is correct and try again."
    )


def command_not_found(
    name: str, line: str | None = None, position: str | None = None, version: str = "5.1"
) -> ErrorRecord:
    """The error for an unknown command, as the engine's PowerShell version words it."""
    message = command_not_found_message(name, version)
    return make_error_record(
        message,
        "System.Management.Automation.CommandNotFoundException",
        ErrorCategory.ObjectNotFound,
        "CommandNotFoundException",
        name,
        line=line,
        position=position,
        invocation_name=name if position else None,
    )


def path_not_found(path: str, command: str) -> ErrorRecord:
    """``Cannot find path 'C:\\x' because it does not exist.`` for a provider cmdlet."""
    return make_error_record(
        f"Cannot find path '{path}' because it does not exist.",
        "System.Management.Automation.ItemNotFoundException",
        ErrorCategory.ObjectNotFound,
        "PathNotFound",
        path,
        command=command,
    )


def input_not_bound(target: Any, command: str) -> ErrorRecord:
    """Pipeline input that no parameter of `command` takes (``$s | Exit-PSSession``)."""
    from psremoting.protocol.session_texts import INPUT_OBJECT_NOT_BOUND

    return make_error_record(
        INPUT_OBJECT_NOT_BOUND,
        "System.Management.Automation.ParameterBindingException",
        ErrorCategory.InvalidArgument,
        "InputObjectNotBound",
        target,
        command=command,
    )
