"""PowerShell's table view of PSSessions (what ``$s`` or Get-PSSession shows).

Columns, widths and alignment are those of PowerShell 7's default view
(PowerShellCore_format_ps1xml.cs): Id right-aligned in 3, Name 15, Transport 9,
ComputerName 15, ComputerType 15, State 13, ConfigurationName 20, Availability
right-aligned in 13; one space between columns; a value too wide is cut with "…".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["format_job_table", "format_table", "JOB_COLUMNS", "SESSION_COLUMNS"]

#: (header, attribute, width, right-aligned)
SESSION_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("Id", "id", 3, True),
    ("Name", "name", 15, False),
    ("Transport", "transport", 9, False),
    ("ComputerName", "computer_name", 15, False),
    ("ComputerType", "computer_type", 15, False),
    ("State", "state", 13, False),
    ("ConfigurationName", "configuration_name", 20, False),
    ("Availability", "availability", 13, True),
)


def _cell(text: str, width: int, right: bool) -> str:
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def _value(session: Any, attribute: str) -> str:
    value = getattr(session, attribute, "")
    value = getattr(value, "value", value)  # enums print their PowerShell name
    return "" if value is None else str(value)


def format_table(sessions: Any) -> str:
    """The PSSession table for `sessions` (one PSSession or an iterable of them).

    Three or more lines (header, dashes, one row per session), each ending in a newline,
    without the blank lines PowerShell's console adds around a table; an empty input
    gives an empty string. Trailing spaces are trimmed.
    """
    if sessions is None:
        return ""
    items: list[Any] = [sessions] if hasattr(sessions, "instance_id") else list(_iter(sessions))
    if not items:
        return ""
    lines = [
        " ".join(_cell(header, width, right) for header, _a, width, right in SESSION_COLUMNS),
        " ".join(_cell("-" * len(header), width, right) for header, _a, width, right in SESSION_COLUMNS),
    ]
    for session in items:
        lines.append(
            " ".join(_cell(_value(session, attr), width, right) for _h, attr, width, right in SESSION_COLUMNS)
        )
    return "".join(line.rstrip() + "\n" for line in lines)


def _iter(value: Iterable[Any]) -> Iterable[Any]:
    return value


#: PowerShell 7's Job view: Id 6, Name 15, PSJobTypeName 15, State 13, HasMoreData 15,
#: Location 20, Command 25, all left-aligned.
JOB_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("Id", "id", 6, False),
    ("Name", "name", 15, False),
    ("PSJobTypeName", "ps_job_type_name", 15, False),
    ("State", "state", 13, False),
    ("HasMoreData", "has_more_data", 15, False),
    ("Location", "location", 20, False),
    ("Command", "command", 25, False),
)


def _job_value(job: Any, attribute: str) -> str:
    value = getattr(job, attribute, "")
    if isinstance(value, bool):
        return "True" if value else "False"
    value = getattr(value, "value", value)
    text = "" if value is None else str(value)
    return " ".join(text.split("\n")) if attribute == "command" else text


def format_job_table(jobs: Any) -> str:
    """Get-Job's table for `jobs` (one job or an iterable of them): header, dashes, a row a
    job; trailing spaces trimmed, without the blank lines around it."""
    items: list[Any] = [jobs] if hasattr(jobs, "child_jobs") else list(jobs or [])
    if not items:
        return ""
    lines = [
        " ".join(_cell(header, width, right) for header, _a, width, right in JOB_COLUMNS),
        " ".join(_cell("-" * len(header), width, right) for header, _a, width, right in JOB_COLUMNS),
    ]
    for job in items:
        lines.append(
            " ".join(_cell(_job_value(job, attr), width, right) for _h, attr, width, right in JOB_COLUMNS)
        )
    return "".join(line.rstrip() + "\n" for line in lines)
