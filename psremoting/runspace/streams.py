"""What a pipeline produces: output and the six streams, defined once.

`StreamItem` is one thing as it arrives; `Streams` holds them by stream (what `PipelineResult`
and Invoke-Command's per-host result are made of); `Command` is one command of a pipeline;
`error_record_from` turns pypsrp's deserialized ErrorRecord into a `RemoteErrorRecord`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from psremoting.protocol.errors import ERROR_CATEGORIES, RemoteErrorRecord
from psremoting.protocol.fragments import DEBUG, ERROR, INFORMATION, PROGRESS, VERBOSE, WARNING
from psremoting.protocol.objects import InformationRecord
from psremoting.transport.pypsrp_values import from_pypsrp, progress_from
from psremoting.transport.shell import error_record_text

__all__ = [
    "RECORD_MESSAGES",
    "record_item",
    "StreamName",
    "STREAM_NAMES",
    "StreamItem",
    "Streams",
    "PipelineResult",
    "Command",
    "error_record_from",
]

StreamName = Literal["output", "error", "warning", "verbose", "debug", "information", "progress"]
#: The streams, in PowerShell's order (output first).
STREAM_NAMES: tuple[StreamName, ...] = (
    "output",
    "error",
    "warning",
    "verbose",
    "debug",
    "information",
    "progress",
)


@dataclass
class StreamItem:
    """One thing a pipeline produced: ``stream`` says which stream, ``value`` is an output
    object, a `RemoteErrorRecord`, a message string (warning/verbose/debug), an
    `InformationRecord` or a `ProgressRecord`."""

    stream: StreamName
    value: Any


@dataclass(kw_only=True)
class Streams:
    """Output and each stream as lists, in the order they arrived (keyword-only: the result
    types built on it put their own fields first)."""

    output: list[Any] = field(default_factory=list)
    error: list[RemoteErrorRecord] = field(default_factory=list)
    warning: list[str] = field(default_factory=list)
    verbose: list[str] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)
    information: list[InformationRecord] = field(default_factory=list)
    progress: list[Any] = field(default_factory=list)

    def add(self, item: StreamItem) -> None:
        getattr(self, item.stream).append(item.value)


@dataclass
class PipelineResult(Streams):
    """All of a finished pipeline: `output` and each stream as lists, the final `state`
    (Completed, Failed, Stopped), and `exit_code` when the script ran ``exit N``."""

    state: str = "NotStarted"
    exit_code: int | None = None

    @property
    def had_errors(self) -> bool:
        return bool(self.error) or self.state == "Failed"


@dataclass
class Command:
    """One command of a pipeline: a script (``is_script=True``) or a command name, with
    positional `arguments` and named `parameters` (a value of None makes a switch)."""

    text: str
    is_script: bool = True
    arguments: Sequence[Any] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    merge_errors: bool = False


def is_error_record(value: Any) -> bool:
    """Whether `value` (an output object) is a serialized ErrorRecord (a merged error)."""
    names = getattr(value, "type_names", None) or []
    return bool(names) and names[0] in (
        "System.Management.Automation.ErrorRecord",
        "Deserialized.System.Management.Automation.ErrorRecord",
    )


def error_record_from(
    record: Any, computer_name: str | None, runspace_id: uuid.UUID | None
) -> RemoteErrorRecord:
    """A RemoteErrorRecord from pypsrp's deserialized ErrorRecord (or a PSObject of one)."""

    def get(name: str) -> Any:
        return getattr(record, name, None)

    exception = from_pypsrp(get("exception"))
    exc_message = None
    exc_type = None
    if exception is not None and hasattr(exception, "get"):
        exc_message = exception.get("Message")
        types = getattr(exception, "type_names", [])
        exc_type = types[0] if types else None
    to_string = error_record_text(record)
    message = get("details_message") or to_string or exc_message or get("message") or "Unknown remote error"
    category_value = get("category")
    try:
        category = ERROR_CATEGORIES[int(category_value)]
    except (TypeError, ValueError, IndexError):
        category = str(category_value or "NotSpecified")
    return RemoteErrorRecord(
        message=str(message),
        category=category,
        activity=get("activity"),
        reason=get("reason"),
        target_name=get("target_name"),
        target_type=get("target_type"),
        fully_qualified_error_id=str(get("fq_error") or ""),
        target_object=from_pypsrp(get("target_object")),
        exception_type=exc_type,
        script_stack_trace=get("script_stacktrace"),
        position_message=get("invocation_position_message"),
        computer_name=computer_name,
        runspace_id=runspace_id,
    )


#: The PSRP messages that carry one record of a stream other than output.
RECORD_MESSAGES = frozenset({ERROR, WARNING, VERBOSE, DEBUG, INFORMATION, PROGRESS})


def record_item(mtype: int, body: Any, computer: str, rid: uuid.UUID) -> StreamItem:
    """The stream item of one record message (`RECORD_MESSAGES`), as pypsrp decoded its body."""
    if mtype == ERROR:
        return StreamItem("error", error_record_from(body, computer, rid))
    if mtype == INFORMATION:
        return StreamItem(
            "information",
            InformationRecord(
                message_data=from_pypsrp(body.message_data),
                source=body.source,
                tags=list(body.tags or []),
                computer=body.computer,
                user=body.user,
            ),
        )
    if mtype == PROGRESS:
        return StreamItem("progress", progress_from(body))
    stream: StreamName = "warning" if mtype == WARNING else "verbose" if mtype == VERBOSE else "debug"
    return StreamItem(stream, str(body.message or ""))
