"""How the local shell shows values, as PowerShell's Out-Default would.

PSSessions are grouped into PowerShell's PSSession table (`psremoting.format_table`);
scalars print as text (`True`/`False` for booleans); lists print one item a line; remote
objects and dictionaries are laid out by PowerShell's formatting rules
(`psremoting.cmdlets.formatting`, streamed by its `OutDefault`); the client's own records (a
credential, a session option) print as `Name : Value` lists. Consecutive values of one kind
share one table, as in PowerShell.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Iterator
from typing import Any


def is_session(value: Any) -> bool:
    """A PSSession (duck-typed: the client's class has these attributes)."""
    return all(hasattr(value, a) for a in ("computer_name", "state", "instance_id", "availability"))


def is_job(value: Any) -> bool:
    """A background job (psremoting.cmdlets.jobs.Job, duck-typed)."""
    return all(hasattr(value, a) for a in ("child_jobs", "ps_job_type_name", "has_more_data"))


def is_module(value: Any) -> bool:
    """A module of imported commands (Import-PSSession's PSModuleInfo, duck-typed)."""
    return all(hasattr(value, a) for a in ("exported_commands", "module_type", "version", "name"))


def module_table(modules: list[Any], header: bool = True) -> str:
    """PowerShell's Module view: ModuleType 10, Version 10, PreRelease 10, Name 35, ExportedCommands."""

    def cell(text: str, width: int) -> str:
        return (text[: width - 1] + "…" if len(text) > width else text).ljust(width)

    lines = []
    if header:
        lines = [
            " ".join(
                cell(h, w) for h, w in (("ModuleType", 10), ("Version", 10), ("PreRelease", 10), ("Name", 35))
            )
            + " ExportedCommands",
            " ".join(
                cell(h, w) for h, w in (("----------", 10), ("-------", 10), ("----------", 10), ("----", 35))
            )
            + " ----------------",
        ]
    for m in modules:
        commands = "{" + ", ".join(m.exported_commands) + "}"
        row = [cell(str(m.module_type), 10), cell(str(m.version), 10), cell("", 10), cell(str(m.name), 35)]
        lines.append(" ".join(row) + " " + commands)
    return "\n".join(line.rstrip() for line in lines)


def flatten(values: Iterable[Any]) -> Iterator[Any]:
    """Items of lists and tuples one by one, as the pipeline unrolls them."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from flatten(value)
        elif value is not None:
            yield value


def scalar_text(value: Any) -> str:
    """A value as PowerShell prints it on its own: booleans `True`/`False`, enums by name."""
    import enum

    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return str(value.value) if isinstance(value.value, str) else value.name
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        # PowerShell's default DateTime view (en-US): Tuesday, November 24, 2026 11:58:53 PM
        hour = value.hour % 12 or 12
        half = "AM" if value.hour < 12 else "PM"
        return f"{value:%A, %B} {value.day}, {value.year} {hour}:{value:%M:%S} {half}"
    return str(value)


def _properties(value: Any) -> list[tuple[str, Any]] | None:
    """The (name, value) pairs of a record-like value, or None for plain values."""
    listed = getattr(value, "ps_properties", None)
    if callable(listed) and not isinstance(value, type):
        return list(listed())  # the object says what Format-List * shows (secrets stay hidden)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(_pascal(f.name), getattr(value, f.name)) for f in dataclasses.fields(value)]
    props = getattr(value, "properties", None)
    if isinstance(props, dict):
        return [(k, v) for k, v in props.items() if k != "PSShowComputerName"]
    if callable(getattr(value, "items", None)) and isinstance(value, dict):
        return list(value.items())
    return None


def _pascal(name: str) -> str:
    special = {"ca": "CA", "cn": "CN", "id": "Id", "ui": "UI", "ssl": "SSL"}
    return "".join(special.get(p, p[:1].upper() + p[1:]) for p in name.split("_"))


def format_list(value: Any) -> str:
    """`Name : Value` lines for a record, names padded as Format-List pads them."""
    props = _properties(value) or []
    if not props:
        return scalar_text(value)
    width = max(len(str(k)) for k, _ in props)
    lines = [f"{str(k).ljust(width)} : {_cell(v)}" for k, v in props]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_cell(v) for v in value) + "}"
    return scalar_text(value)


#: Default table views of the credential types: their columns, as PowerShell shows them.
_CREDENTIAL_COLUMNS = {"PSCredential": ("UserName", "Password"), "NetworkCredential": ("UserName", "Domain")}


def credential_table(credentials: list[Any]) -> str:
    """PSCredential (UserName, Password) or NetworkCredential (UserName, Domain) objects as
    PowerShell's default views show them: the password column is the SecureString's type name."""
    columns = _CREDENTIAL_COLUMNS.get(type(credentials[0]).__name__, ("UserName", "Password"))
    rows = [[scalar_text(dict(c.ps_properties()).get(col, "")) for col in columns] for c in credentials]
    widths = [max([len(col), *(len(row[i]) for row in rows)]) for i, col in enumerate(columns)]
    last = len(columns) - 1

    def line(cells: list[str]) -> str:
        return " ".join(cell if i == last else cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = [line(list(columns)), line(["-" * len(col) for col in columns])]
    return "\n".join(out + [line(row) for row in rows])


def _kind(value: Any) -> str:
    if is_session(value):
        return "session"
    if is_job(value):
        return "job"
    if is_module(value):
        return "module"
    if type(value).__name__ in _CREDENTIAL_COLUMNS:
        return "credential" + type(value).__name__
    if _formatted(value):
        return "formatted"
    if _properties(value) is not None:
        return "record"
    return "scalar"


def _formatted(value: Any) -> bool:
    """Output that PowerShell's formatting rules lay out: remote objects and dictionaries."""
    from psremoting.cmdlets.formatting import view_for
    from psremoting.cmdlets.formatting.values import type_names_of
    from psremoting.protocol.psobject import PSObject, PSVersion

    if isinstance(value, (PSObject, dict, datetime.timedelta, PSVersion)):
        return True
    return not isinstance(value, str) and view_for(type_names_of(value)) is not None and not is_session(value)


#: The view source of the last Invoke-Command that ran on temporary sessions (-ComputerName).
_temporary_views: Any = None


def views_of_temporary_sessions(views: Any) -> None:
    """Ask `views` (a `cmdlets.invoke.views.FanOutViews`) for objects whose session is gone:
    those of the Invoke-Command -ComputerName that is starting."""
    global _temporary_views
    _temporary_views = views


def server_views(obj: Any) -> list[Any]:
    """The views the session `obj` came from (its RunspaceId) has for its type: Get-FormatData
    asked once per type and session (`psremoting.cmdlets.formatting.server_views`); for an
    object of a temporary session, its computer's, asked on a session of its own."""
    from psremoting.cmdlets.formatting.server_views import session_views
    from psremoting.cmdlets.formatting.values import prop
    from psremoting.cmdlets.sessions import all_sessions

    runspace = prop(obj, "RunspaceId")
    if runspace is None:
        return []
    for session in all_sessions():
        if str(session.instance_id) == str(runspace) and session.state.value == "Opened":
            return list(session_views(session).views(obj))
    computer = prop(obj, "PSComputerName")
    if _temporary_views is None or not computer:
        return []
    _temporary_views.host = str(computer)
    return list(_temporary_views(obj))


def console_width() -> int:
    """The width Out-Default formats for: the terminal's, less one column (120 - 1 when unknown)."""
    import shutil

    return max(shutil.get_terminal_size((120, 24)).columns - 1, 40)


class StreamingDisplay:
    """Out-Default for values arriving one by one (Invoke-Command output as it comes).

    Consecutive values of one kind share one table, as in PowerShell: the PSSession table's
    header is printed with the first session, then a row per session; lists of properties
    are separated by blank lines; a table or list is surrounded by blank lines.
    """

    def __init__(self, write_line: Any) -> None:
        self._write_line = write_line
        self._kind = ""
        self._out: Any = None  # Out-Default for remote objects: tables stream once laid out

    def add(self, value: Any) -> None:
        for item in flatten([value]):
            kind = _kind(item)
            first = kind != self._kind
            if first:
                self.close()
                self._kind = kind
            if kind == "formatted":
                if self._out is None:
                    from psremoting.cmdlets.formatting import FormatRequest
                    from psremoting.cmdlets.formatting.stream import OutDefault

                    # laid out from the first 50 objects, or from those that came in the
                    # first 2 s of a slow command (PowerShell waits 300 ms)
                    request = FormatRequest(view_source=server_views)
                    self._out = OutDefault(console_width(), hold=2.0, request=request)
                for line in self._out.add(item):
                    self._write_line(line)
                continue
            if kind != "scalar" and (first or kind == "record"):
                self._write_line("")
            self._write_line(self._text(item, kind, first))

    @staticmethod
    def _text(item: Any, kind: str, first: bool) -> str:
        if kind == "session":
            from psremoting.cmdlets.formatting import format_table

            lines = format_table([item]).rstrip("\n").split("\n")
            return "\n".join(lines if first else lines[2:])
        if kind == "module":
            return module_table([item], header=first)
        if kind == "job":
            from psremoting.cmdlets.formatting import format_job_table

            lines = format_job_table([item]).rstrip("\n").split("\n")
            return "\n".join(lines if first else lines[2:])
        if kind.startswith("credential"):
            lines = credential_table([item]).split("\n")
            return "\n".join(lines if first else lines[2:])
        if kind == "record":
            return format_list(item)
        return scalar_text(item)

    def close(self) -> None:
        """End the current group (a table or list is followed by a blank line)."""
        if self._kind == "formatted":
            out, self._out = self._out, None
            self._kind = ""
            lines = out.close() if out is not None else []
            while len(lines) > 1 and lines[-1] == lines[-2] == "":
                lines.pop()  # the shell ends a table with one blank line
            for line in lines:
                self._write_line(line)
            return
        if self._kind and self._kind != "scalar":
            self._write_line("")
        self._kind = ""
