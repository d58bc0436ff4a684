"""The progress bar drawn for Write-Progress, one line per activity at the cursor.

PowerShell draws progress records as a bar that updates in place and disappears when the
activity completes. Here the bar is one terminal line (per activity still running), kept
below the output: the host UI erases it before printing text and draws it again after.
The record is whatever the client hands to `HostUI.write_progress` (a psrpcore
ProgressRecord, a dict, or an object with snake_case attributes), read by `fields_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_BAR_WIDTH = 30


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


def render(state: ProgressState, width: int) -> str:
    """One line for `state`: `Activity [ooooooo          ] 35% Status`, cut to `width`."""
    parts = [state.activity]
    if 0 <= state.percent <= 100:
        filled = round(_BAR_WIDTH * state.percent / 100)
        parts.append(f"[{'o' * filled}{' ' * (_BAR_WIDTH - filled)}] {state.percent}%")
    if state.status:
        parts.append(state.status)
    if state.seconds_remaining >= 0:
        parts.append(f"({state.seconds_remaining}s remaining)")
    line = " ".join(p for p in parts if p)
    limit = max(10, width - 1)
    return line if len(line) <= limit else line[: limit - 3] + "..."


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
        return [render(s, width) for s in self._states.values()]

    def __bool__(self) -> bool:
        return bool(self._states)
