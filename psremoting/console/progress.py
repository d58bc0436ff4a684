"""The progress bar drawn for Write-Progress, a block of lines per activity at the cursor.

PowerShell draws progress records as a bar that updates in place and disappears when the
activity completes. Here each activity still running is drawn as Windows PowerShell 5.1's
console draws it (activity, status, `[ooo   ]` bar, current operation), kept
below the output: the host UI erases it before printing text and draws it again after.
The record is whatever the client hands to `HostUI.write_progress` (a psrpcore
ProgressRecord, a dict, or an object with snake_case attributes), read by `fields_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ProgressState:
    """One activity as last reported."""

    activity_id: int
    activity: str
    status: str
    percent: int
    seconds_remaining: int
    operation: str


def _field(record: Any, *names: str) -> Any:
    """The first of `names` present on `record` (attribute or mapping key)."""
    for name in names:
        if isinstance(record, dict):
            if name in record:
                return record[name]
            continue
        try:
            value = getattr(record, name)
        except Exception:
            continue
        return value
    return None


def _int(value: Any, default: int) -> int:
    try:
        return int(getattr(value, "value", value))
    except (TypeError, ValueError):
        return default


def fields_of(record: Any) -> tuple[ProgressState, bool]:
    """(state, completed) read from a progress record of any of the shapes the client may send."""
    activity_id = _int(_field(record, "ActivityId", "activity_id", "activityId"), 0)
    activity = str(_field(record, "Activity", "activity") or "")
    status = str(_field(record, "StatusDescription", "status_description", "status") or "")
    percent = _int(_field(record, "PercentComplete", "percent_complete", "percent"), -1)
    seconds = _int(_field(record, "SecondsRemaining", "seconds_remaining"), -1)
    operation = str(_field(record, "CurrentOperation", "current_operation") or "")
    record_type = _field(record, "RecordType", "record_type")
    type_value = getattr(record_type, "value", record_type)
    completed = type_value in (1, "Completed", "completed", "COMPLETED") or (
        str(getattr(record_type, "name", "")).lower() == "completed"
    )
    state = ProgressState(activity_id, activity, status, percent, seconds, operation)
    return state, completed


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width]


def render(state: ProgressState, width: int) -> list[str]:
    """The lines of `state` as the Windows PowerShell 5.1 console draws an activity (its "full"
    style): the activity, the status indented under it, the bar of `o` cells in brackets sized
    to the console, the time remaining, then a blank line and the current operation. Each line
    is cut to one column less than `width` (so the terminal never wraps it)."""
    limit = max(10, width - 1)
    indent = " " * 3
    lines = [f" {state.activity}"]
    if state.status:
        lines.append(f" {indent}{state.status}")
    if state.percent >= 0:
        cells = max(3, limit - len(indent) - 9)
        filled = min(state.percent, 100) * cells // 100
        if state.percent < 100 and filled == cells:
            filled -= 1  # never look complete before it is
        lines.append(f" {indent}[{'o' * filled}{' ' * (cells - filled)}]")
    if state.seconds_remaining >= 0:
        hours, rest = divmod(state.seconds_remaining, 3600)
        lines.append(f" {indent}{hours:02d}:{rest // 60:02d}:{rest % 60:02d} remaining.")
    if state.operation:
        lines += ["", f" {indent}{state.operation}"]
    return [_cut(line, limit) for line in lines]


class ProgressBoard:
    """The activities currently shown, in the order they started."""

    def __init__(self) -> None:
        self._states: dict[tuple[int, int], ProgressState] = {}

    def update(self, source_id: int, record: Any) -> None:
        """Apply a record: add or refresh its activity, or drop it when completed."""
        state, completed = fields_of(record)
        key = (source_id, state.activity_id)
        if completed:
            self._states.pop(key, None)
        else:
            self._states[key] = state

    def clear(self) -> None:
        self._states.clear()

    def lines(self, width: int) -> list[str]:
        return [line for s in self._states.values() for line in render(s, width)]

    def __bool__(self) -> bool:
        return bool(self._states)
