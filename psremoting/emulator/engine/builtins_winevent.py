"""Get-WinEvent over the emulated host's event log (the entries Get-EventLog reads, and the
emulator config's ``events``).

Each entry is an EventLogRecord as Windows serializes it: type names
``System.Diagnostics.Eventing.Reader.EventLogRecord``/``EventRecord``, the adapted properties
(Id, Level, LevelDisplayName, RecordId, ProviderName, LogName, MachineName, TimeCreated...) and
Message (types.ps1xml's script property, a note when serialized). ``-LogName``, ``-MaxEvents``,
``-Oldest`` and ``-FilterHashtable @{LogName=..; Id=..; Level=..; ProviderName=..;
StartTime=..; EndTime=..}``; newest first. Out-Default shows Event.format.ps1xml's table,
grouped by ProviderName. Windows' errors for an unknown log (NoMatchingLogsFound) and a
filter that matches nothing (NoMatchingEventsFound).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .builtins_hostdata import event_log
from .builtins_system import adapted_object
from .commands import CommandContext, builtin
from .errors import PSError
from .formatting import format_scalar, register_renderer, short_datetime

__all__ = ["event_records"]

_RECORD_TYPES = ["System.Diagnostics.Eventing.Reader.EventLogRecord",
                 "System.Diagnostics.Eventing.Reader.EventRecord", "System.Object"]  # fmt: skip
_LEVELS = {"critical": 1, "error": 2, "warning": 3, "information": 4, "verbose": 5}
_LOG_NAMES = ("System", "Application")


def _record(entry: Any, log: str, computer: str) -> Any:
    kind = to_string(entry.EntryType)
    level = _LEVELS.get(kind.lower(), 4)
    adapted = {
        "Id": entry.EventID, "Version": 0, "Qualifiers": None, "Level": level, "Task": 0, "Opcode": 0,
        "Keywords": -9187343239835811840, "RecordId": entry.Index, "ProviderName": entry.Source,
        "ProviderId": None, "LogName": log, "ProcessId": 0, "ThreadId": 0, "MachineName": computer,
        "UserId": None, "TimeCreated": entry.TimeGenerated, "ActivityId": None, "RelatedActivityId": None,
        "ContainerLog": log, "MatchedQueryIds": [], "Bookmark": None, "LevelDisplayName": kind,
        "OpcodeDisplayName": "Info", "TaskDisplayName": None, "KeywordsDisplayNames": ["Classic"],
        "Properties": [],
    }  # fmt: skip
    return adapted_object(_RECORD_TYPES, adapted, "System.Diagnostics.Eventing.Reader.EventLogRecord",
                          {"Message": entry.Message})  # fmt: skip


def event_records(ctx: CommandContext, log_pattern: str) -> list[Any] | None:
    """The records of the logs matching ``log_pattern``, newest first; None if none matches."""
    logs = [n for n in _LOG_NAMES if fnmatch.fnmatchcase(n.lower(), log_pattern.lower())]
    if not logs:
        return None
    computer = f"{ctx.engine.computer_name.upper()}"
    records: list[Any] = []
    for log in logs:
        entries = event_log(log, computer, extra=getattr(ctx.engine, "events", ())) or []
        records.extend(_record(e, log, computer) for e in entries)
    records.sort(key=lambda r: r.TimeCreated, reverse=True)
    return records


def _no_log(ctx: CommandContext, name: str) -> PSError:
    return PSError(
        ctx.error(
            f'There is not an event log on the localhost computer that matches "{name}".',
            "System.Exception",
            ErrorCategory.ObjectNotFound,
            "NoMatchingLogsFound",
        ),
        terminating=False,
    )


def _matches(record: Any, key: str, wanted: Any) -> bool:
    values = list(enumerate_value(wanted))
    if key == "id":
        return any(int(record.Id) == int(v) for v in values)
    if key == "level":
        return any(int(record.Level) == int(v) for v in values)
    if key == "providername":
        return any(
            fnmatch.fnmatchcase(str(record.ProviderName).lower(), to_string(v).lower()) for v in values
        )
    when = record.TimeCreated
    bound = values[0] if values else None
    if not isinstance(bound, dt.datetime):
        return True
    stamp, limit = when.replace(tzinfo=None), bound.replace(tzinfo=None)
    return bool(stamp >= limit if key == "starttime" else stamp <= limit)


def _filtered(ctx: CommandContext, table: Any) -> list[Any] | None:
    keys = {str(k).lower(): v for k, v in dict(table).items()}
    logs = [to_string(n) for n in enumerate_value(keys.pop("logname", "*"))]
    records: list[Any] = []
    for name in logs:
        found = event_records(ctx, name)
        if found is None:
            ctx.write_error(_no_log(ctx, name).record)
            continue
        records.extend(found)
    for key, wanted in keys.items():
        if key in ("id", "level", "providername", "starttime", "endtime"):
            records = [r for r in records if _matches(r, key, wanted)]
    return records


@builtin(
    CommandSignature(
        "Get-WinEvent",
        (
            Parameter("LogName", "string[]", position=0, sets=("GetLogSet",)),
            Parameter("ListLog", "string[]", position=0, sets=("ListLogSet",)),
            Parameter("ProviderName", "string[]", position=0, sets=("GetProviderSet",)),
            Parameter("FilterHashtable", "object[]", position=0, sets=("HashQuerySet",)),
            Parameter("MaxEvents", "int", sets=("GetLogSet", "GetProviderSet", "HashQuerySet")),
            Parameter("Oldest", "switch"),
            Parameter("ComputerName", "string", ("Cn",)),
            Parameter("Credential", "pscredential"),
            Parameter("FilterXPath", "string"),
            Parameter("Force", "switch"),
        ),
        default_set="GetLogSet",
    )
)
def _get_win_event(ctx: CommandContext) -> Iterable[Any]:
    records: list[Any] = []
    tables = ctx.get("FilterHashtable")
    if tables is not None:
        for table in enumerate_value(tables):
            records.extend(_filtered(ctx, table) or [])
    elif ctx.get("ProviderName") is not None:
        providers = [to_string(p).lower() for p in enumerate_value(ctx.get("ProviderName"))]
        records = [
            r
            for r in event_records(ctx, "*") or []
            if any(fnmatch.fnmatchcase(str(r.ProviderName).lower(), p) for p in providers)
        ]
    else:
        for name in (to_string(n) for n in enumerate_value(ctx.get("LogName") or ["*"])):
            found = event_records(ctx, name)
            if found is None:
                ctx.write_error(_no_log(ctx, name).record)
                continue
            records.extend(found)
    if ctx.switch("Oldest"):
        records.reverse()
    if ctx.get("MaxEvents") is not None:
        records = records[: int(ctx.get("MaxEvents"))]
    if not records and (tables is not None or ctx.get("ProviderName") is not None):
        ctx.write_error(
            ctx.error(
                "No events were found that match the specified selection criteria.",
                "System.Exception",
                ErrorCategory.ObjectNotFound,
                "NoMatchingEventsFound",
            )
        )
    return records


def _record_table(records: list[Any]) -> list[str]:
    """Event.format.ps1xml's table: grouped by ProviderName; TimeCreated (25), Id (8, right),
    LevelDisplayName (16), Message."""
    lines: list[str] = []
    current = None
    for r in records:
        provider = to_string(get_member(r, "ProviderName", ""))
        if provider != current:
            if current is not None:
                lines.append("")
            lines += ["", "", f"   ProviderName: {provider}", "",
                      "TimeCreated                     Id LevelDisplayName Message",
                      "-----------                     -- ---------------- -------"]  # fmt: skip
            current = provider
        when = r.TimeCreated
        created = short_datetime(when) if isinstance(when, dt.datetime) else format_scalar(when)
        message = format_scalar(get_member(r, "Message", "")).replace("\r\n", " ").replace("\n", " ")
        level = to_string(r.LevelDisplayName)
        lines.append(f"{created:<25} {r.Id:>8} {level:<16} {message}".rstrip())
    return [*lines, "", ""]


register_renderer(_RECORD_TYPES[0], _record_table)
