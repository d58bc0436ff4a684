"""Built-ins for output and the interactive session: Write-*, Out-*, prompt, Exit-PSSession, Get-Date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory, ErrorRecord, HostMethodIdentifier, ProgressRecordType

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.datetimes import format_net_date
from psremoting.pslang.values import enumerate_value, to_string

from .commands import Builtin, CommandContext, builtin, register_builtin
from .formatting import OutputFormatter, error_view, format_all
from .objects import local_datetime, make_object

__all__: list[str] = []


def _flatten(value: Any) -> list[Any]:
    return list(enumerate_value(value))


class _OutDefault(Builtin):
    """Formats objects to text and writes it line by line through host calls (WriteLine2 / WriteErrorLine)."""

    signature = CommandSignature(
        "Out-Default",
        (
            Parameter("Transcript", "switch"),
            Parameter("InputObject", "object", value_from_pipeline=True),
        ),
    )
    fqid_suffix = "Microsoft.PowerShell.Commands.OutDefaultCommand"

    def begin(self, ctx: CommandContext) -> None:
        ctx.state["formatter"] = OutputFormatter()

    def process(self, ctx: CommandContext, item: Any) -> None:
        formatter: OutputFormatter = ctx.state["formatter"]
        if isinstance(item, ErrorRecord):
            self._write(ctx, formatter.flush())
            for line in error_view(item):
                ctx.host_call(HostMethodIdentifier.WriteErrorLine, [line])
            return
        self._write(ctx, formatter.feed(item))

    def end(self, ctx: CommandContext) -> None:
        if ctx.bound is not None and "InputObject" in ctx.bound:
            for item in _flatten(ctx.bound["InputObject"]):
                self.process(ctx, item)
        self._write(ctx, ctx.state["formatter"].flush())

    @staticmethod
    def _write(ctx: CommandContext, lines: list[str]) -> None:
        for line in lines:
            ctx.host_call(HostMethodIdentifier.WriteLine2, [line])


register_builtin(_OutDefault())


class _OutHost(_OutDefault):
    signature = CommandSignature(
        "Out-Host",
        (Parameter("Paging", "switch"), Parameter("InputObject", "object", value_from_pipeline=True)),
    )
    fqid_suffix = "Microsoft.PowerShell.Commands.OutHostCommand"


register_builtin(_OutHost())


@builtin(
    CommandSignature(
        "Out-String",
        (
            Parameter("Stream", "switch"),
            Parameter("Width", "int"),
            Parameter("InputObject", "object", value_from_pipeline=True),
        ),
    )
)
def _out_string(ctx: CommandContext) -> Iterable[Any]:
    items = ctx.input + (_flatten(ctx.get("InputObject")) if "InputObject" in (ctx.bound or {}) else [])
    lines = format_all(items)
    if ctx.switch("Stream"):
        return lines
    return ["\r\n".join(lines) + ("\r\n" if lines else "")]


class _OutNull(Builtin):
    signature = CommandSignature("Out-Null", (Parameter("InputObject", "object", value_from_pipeline=True),))

    def process(self, ctx: CommandContext, item: Any) -> None:
        return None


register_builtin(_OutNull())


class _WriteOutput(Builtin):
    signature = CommandSignature(
        "Write-Output",
        (
            Parameter(
                "InputObject",
                "object",
                position=0,
                mandatory=True,
                value_from_pipeline=True,
                value_from_remaining_arguments=True,
            ),
            Parameter("NoEnumerate", "switch"),
        ),
    )
    aliases = ("echo", "write")

    def process(self, ctx: CommandContext, item: Any) -> None:
        ctx.emit(item)

    def end(self, ctx: CommandContext) -> None:
        if ctx.bound is None or "InputObject" not in ctx.bound:
            return
        value = ctx.bound["InputObject"]
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value = value[0]
        if ctx.switch("NoEnumerate"):
            ctx.emit(value)
            return
        for item in _flatten(value):
            ctx.emit(item)


register_builtin(_WriteOutput())


def _message(ctx: CommandContext, name: str = "Message") -> str:
    value = ctx.get(name)
    if value is None and ctx.input:
        value = ctx.input
    return to_string(value)


_MESSAGE = Parameter("Message", "string", ("Msg",), position=0, mandatory=True, value_from_pipeline=True)


@builtin(CommandSignature("Write-Warning", (_MESSAGE,)))
def _write_warning(ctx: CommandContext) -> None:
    if ctx.stream_enabled(None, "WarningPreference", "WarningAction"):
        ctx.io.write_warning(_message(ctx))


@builtin(CommandSignature("Write-Verbose", (_MESSAGE,)))
def _write_verbose(ctx: CommandContext) -> None:
    if ctx.stream_enabled("Verbose", "VerbosePreference"):
        ctx.io.write_verbose(_message(ctx))


@builtin(CommandSignature("Write-Debug", (_MESSAGE,)))
def _write_debug(ctx: CommandContext) -> None:
    if ctx.stream_enabled("Debug", "DebugPreference"):
        ctx.io.write_debug(_message(ctx))


@builtin(
    CommandSignature(
        "Write-Information",
        (
            Parameter("MessageData", "object", ("Msg", "Message"), position=0, mandatory=True),
            Parameter("Tags", "string[]", position=1),
        ),
    )
)
def _write_information(ctx: CommandContext) -> None:
    data = ctx.get("MessageData")
    action = ctx.preference("InformationAction", "InformationPreference")
    if action == "ignore":
        return
    if action == "continue":  # Windows shows the record through its host, as Write-Host
        ctx.host_call(HostMethodIdentifier.WriteLine2, [to_string(data)])
    ctx.io.write_information(data, "Write-Information")


@builtin(
    CommandSignature(
        "Write-Host",
        (
            Parameter(
                "Object", "object", position=0, value_from_pipeline=True, value_from_remaining_arguments=True
            ),
            Parameter("NoNewline", "switch"),
            Parameter("Separator", "object"),
            Parameter("ForegroundColor", "string"),
            Parameter("BackgroundColor", "string"),
        ),
    )
)
def _write_host(ctx: CommandContext) -> None:
    value = ctx.get("Object")
    if value is None and ctx.input:
        value = ctx.input
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    separator = to_string(ctx.get("Separator", " "))
    text = separator.join(to_string(v) for v in value) if isinstance(value, list) else to_string(value)
    fg, bg = ctx.get("ForegroundColor"), ctx.get("BackgroundColor")
    if fg or bg:
        colors = [_color(fg, 7), _color(bg, 0)]
        method = HostMethodIdentifier.Write2 if ctx.switch("NoNewline") else HostMethodIdentifier.WriteLine3
        ctx.host_call(method, [*colors, text])
    else:
        method = HostMethodIdentifier.Write1 if ctx.switch("NoNewline") else HostMethodIdentifier.WriteLine2
        ctx.host_call(method, [text])
    ctx.io.write_information(_host_message(text, fg, bg, ctx.switch("NoNewline")), "Write-Host")


def _host_message(text: str, fg: Any, bg: Any, no_newline: bool) -> Any:
    """Write-Host's information record data, a HostInformationMessage as Windows sends it
    (its colours only when they were given: the client shows the rest in its own)."""
    return make_object(
        ["System.Management.Automation.HostInformationMessage", "System.Object"],
        {
            "Message": text,
            "NoNewLine": no_newline,
            "ForegroundColor": _color(fg, 7) if fg else None,
            "BackgroundColor": _color(bg, 0) if bg else None,
        },
        text,
    )


def _color(name: Any, default: int) -> Any:
    from psrpcore.types import ConsoleColor

    if not name:
        return ConsoleColor(default)
    for color in ConsoleColor:  # names and order are .NET's System.ConsoleColor
        if color.name.lower() == str(name).lower():
            return color
    return ConsoleColor(default)


@builtin(
    CommandSignature(
        "Write-Progress",
        (
            Parameter("Activity", "string", position=0),
            Parameter("Status", "string", position=1),
            Parameter("Id", "int", position=2),
            Parameter("PercentComplete", "int"),
            Parameter("SecondsRemaining", "int"),
            Parameter("CurrentOperation", "string"),
            Parameter("ParentId", "int"),
            Parameter("Completed", "switch"),
            Parameter("SourceId", "int"),
        ),
    )
)
def _write_progress(ctx: CommandContext) -> None:
    record_type = ProgressRecordType.Completed if ctx.switch("Completed") else ProgressRecordType.Processing
    ctx.io.write_progress(
        ctx.get("Activity") or "Processing",
        ctx.get("Status") or "Processing",
        ctx.get("PercentComplete", -1),
        ctx.get("Id", 0),
        record_type,
        current_operation=ctx.get("CurrentOperation"),
        parent_activity_id=ctx.get("ParentId", -1),
        seconds_remaining=ctx.get("SecondsRemaining", -1),
    )


@builtin(
    CommandSignature(
        "Write-Error",
        (
            Parameter(
                "Message",
                "string",
                ("Msg",),
                position=0,
                mandatory=True,
                value_from_pipeline=True,
                sets=("NoException",),
            ),
            Parameter("ErrorRecord", "object", mandatory=True, sets=("ErrorRecord",)),
            Parameter("Category", "string", sets=("NoException",)),
            Parameter("ErrorId", "string", sets=("NoException",)),
            Parameter("TargetObject", "object", sets=("NoException",)),
            Parameter("RecommendedAction", "string"),
            Parameter("CategoryActivity", "string"),
            Parameter("CategoryReason", "string"),
            Parameter("CategoryTargetName", "string"),
            Parameter("CategoryTargetType", "string"),
        ),
        default_set="NoException",
    )
)
def _write_error(ctx: CommandContext) -> None:
    record = ctx.get("ErrorRecord")
    if not isinstance(record, ErrorRecord):
        category = ErrorCategory.NotSpecified
        name = ctx.get("Category")
        if name:
            for member in ErrorCategory:
                if member.name.lower() == str(name).lower():
                    category = member
        error_id = ctx.get("ErrorId") or "Microsoft.PowerShell.Commands.WriteErrorException"
        from .errors import make_error_record

        record = make_error_record(
            _message(ctx),
            "Microsoft.PowerShell.Commands.WriteErrorException",
            category,
            error_id,
            ctx.get("TargetObject"),
            command="Write-Error",
            line=ctx.line,
            position=ctx.position,
            fqid_suffix="" if not ctx.get("ErrorId") else None,
            # Write-Error reports its caller: at a prompt, the line typed (as Windows shows it).
            my_command=ctx.run_state.script_text or None,
        )
        if not ctx.get("ErrorId"):
            record.FullyQualifiedErrorId = "Microsoft.PowerShell.Commands.WriteErrorException"
    ctx.write_error(record)


class _Prompt(Builtin):
    """The default remote ``prompt`` function: ``PS <location><'>' x (nested level + 1)> ``."""

    signature = CommandSignature("prompt", (), common=False)
    command_type = "Function"

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        level = ctx.engine.scope.lookup("nestedPromptLevel") or 0
        return [f"PS {ctx.engine.location}{'>' * (int(level) + 1)} "]


register_builtin(_Prompt())


@builtin(CommandSignature("Exit-PSSession", ()), aliases=("exsn",))
def _exit_pssession(ctx: CommandContext) -> None:
    """Leaves the session; it takes no pipeline input ("You cannot pipe objects to
    Exit-PSSession"): each input object is an InputObjectNotBound error, and it stays."""
    items = list(ctx.input)
    if items:
        from .errors import input_not_bound

        for item in items:
            ctx.write_error(input_not_bound(item, "Exit-PSSession"))
        return
    ctx.host_call(HostMethodIdentifier.PopRunspace, [])


# -- Get-Date ----------------------------------------------------------------------
_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
)


def _to_datetime(value: Any) -> dt.datetime:
    """A [DateTime] parameter: a datetime, or a date string in ISO or en-US form."""
    if isinstance(value, dt.datetime):
        return value
    text = to_string(value).strip()
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"String '{text}' was not recognized as a valid DateTime.")


_to_datetime.type_display = "System.DateTime"  # type: ignore[attr-defined]


@builtin(
    CommandSignature(
        "Get-Date",
        (
            Parameter("Date", _to_datetime, ("LastWriteTime",), position=0, value_from_pipeline=True),
            Parameter("Format", "string", sets=("net",)),
            Parameter("UFormat", "string", sets=("UFormat",)),
            Parameter("Year", "int"),
            Parameter("Month", "int"),
            Parameter("Day", "int"),
            Parameter("Hour", "int"),
            Parameter("Minute", "int"),
            Parameter("Second", "int"),
            Parameter("DisplayHint", "string", choices=("Date", "Time", "DateTime")),
        ),
        default_set="net",
    )
)
def _get_date(ctx: CommandContext) -> Iterable[Any]:
    value = ctx.get("Date")
    now = value if isinstance(value, dt.datetime) else dt.datetime.now()
    changes = {
        k.lower(): ctx.get(k)
        for k in ("Year", "Month", "Day", "Hour", "Minute", "Second")
        if ctx.get(k) is not None
    }
    if changes:
        now = now.replace(**changes)
    fmt = ctx.get("Format")
    if fmt:
        return [format_net_date(now, fmt)]
    ufmt = ctx.get("UFormat")
    if ufmt:
        return [now.strftime(ufmt)]
    return [local_datetime(now)]


class _Application(Builtin):
    """A native program of a Windows host (``hostname.exe``...): text lines out."""

    command_type = "Application"

    def __init__(self, name: str, output: Any) -> None:
        self.signature = CommandSignature(
            name,
            (Parameter("Args", "object[]", position=0, value_from_remaining_arguments=True),),
            common=False,
        )
        self._output = output

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        return [self._output(ctx)]


register_builtin(_Application("hostname", lambda ctx: ctx.engine.computer_name))
register_builtin(
    _Application("whoami", lambda ctx: f"{ctx.engine.computer_name.lower()}\\{ctx.engine.username.lower()}")
)


@builtin(
    CommandSignature(
        "Invoke-Expression",
        (Parameter("Command", "string", position=0, mandatory=True, value_from_pipeline=True),),
    ),
    aliases=("iex",),
)
def _invoke_expression(ctx: CommandContext) -> Iterable[Any]:
    from psremoting.pslang.parser import ParseError, parse

    from .errors import PSError

    try:
        script = parse(to_string(ctx.get("Command")))
    except ParseError as exc:
        raise PSError(ctx.run_state.parse_error(exc), terminating=True) from exc
    run = ctx.run_state
    run.in_expression += 1
    try:
        return ctx.evaluator.collect(script)
    finally:
        run.in_expression -= 1


@builtin(
    CommandSignature(
        "Set-Variable",
        (Parameter("Name", "string[]", position=0, mandatory=True), Parameter("Value", "object", position=1)),
    ),
    aliases=("set", "sv"),
)
def _set_variable(ctx: CommandContext) -> None:
    for name in ctx.get("Name"):
        ctx.evaluator.scope.assign(name, ctx.get("Value"))


@builtin(
    CommandSignature("Remove-Variable", (Parameter("Name", "string[]", position=0, mandatory=True),)),
    aliases=("rv",),
)
def _remove_variable(ctx: CommandContext) -> None:
    for name in ctx.get("Name"):
        ctx.evaluator.scope.remove(name)
