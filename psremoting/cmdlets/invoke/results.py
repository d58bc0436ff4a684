"""What Invoke-Command gives back: per-host results, error records, events and their JSON form.

`invoke_command` returns an `InvokeResult`: a list of the output objects of every host in the
order they arrived (as PowerShell writes them), plus the errors and a `HostResult` per host.
`iter_invoke_command` yields `InvokeEvent`s as they arrive. The JSON documents written by
`psremoting invoke --output json|jsonl` come from `HostResult.to_dict()`; their schema is
`psremoting/cmdlets/invoke/schemas/invoke-result.schema.json`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from psremoting.protocol.errors import TROUBLESHOOTING_SUFFIX, ConnectionFailedError, RemoteErrorRecord
from psremoting.runspace.streams import Streams

#: Note properties Invoke-Command adds to every output object (EncodeAndDecode.cs L102-104).
REMOTING_PROPERTIES = ("PSComputerName", "RunspaceId", "PSShowComputerName")

EventKind = Literal["output", "error", "warning", "verbose", "debug", "information", "progress", "finished"]


class HostStatus(str, enum.Enum):
    """How one host's part of an invocation ended."""

    COMPLETED = "Completed"  #: ran to the end, wrote no error, exit code 0 or none
    FAILED = "Failed"  #: ran, but wrote errors, failed with a terminating error, or exited non-zero
    CONNECTION_FAILED = "ConnectionFailed"  #: could not connect or authenticate; nothing ran
    TIMED_OUT = "TimedOut"  #: did not finish before the deadline; its pipeline was stopped
    STOPPED = "Stopped"  #: stopped because the invocation was cancelled (error_action="stop", Ctrl+C)
    #: left running on the server in a disconnected session (-InDisconnectedSession, or the
    #: network stayed down past the robust-connection retry period): `session` says which
    DISCONNECTED = "Disconnected"

    def __str__(self) -> str:
        return self.value


#: The JSON Schema of `psremoting invoke --output json` (and, under `$defs/hostResult`, jsonl lines).
SCHEMA_PATH = Path(__file__).parent / "schemas" / "invoke-result.schema.json"


def load_schema(definition: str | None = None) -> dict[str, Any]:
    """The JSON Schema of the JSON output; with `definition="hostResult"`, the schema of one
    `--output jsonl` line."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if definition is None:
        return schema
    if definition not in schema["$defs"]:
        raise KeyError(f"the schema has no definition {definition!r}; it has {', '.join(schema['$defs'])}")
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}


def error_to_dict(error: RemoteErrorRecord) -> dict[str, Any]:
    """The JSON form of an error record (`errorRecord` in the schema)."""
    return {
        "message": error.message,
        "fully_qualified_error_id": error.fully_qualified_error_id,
        "category_info": {
            "category": error.category,
            "activity": error.activity or "",
            "reason": error.reason or "",
            "target_name": error.target_name or "",
            "target_type": error.target_type or "",
        },
        "target_object": to_jsonable(error.target_object),
        "exception_type": error.exception_type,
        "script_stack_trace": error.script_stack_trace,
        "position_message": error.position_message,
        "computer_name": error.computer_name or "",
    }


def as_error_record(
    record: Any, computer_name: str, runspace_id: uuid.UUID | None = None
) -> RemoteErrorRecord:
    """A `RemoteErrorRecord` carrying its origin (PSComputerName, RunspaceId), as Invoke-Command
    makes a RemotingErrorRecord with OriginInfo; the client's value is replaced, as PowerShell does."""
    origin: RemoteErrorRecord = (
        record if isinstance(record, RemoteErrorRecord) else RemoteErrorRecord(message=str(record))
    )
    return dataclasses.replace(
        origin, computer_name=computer_name, runspace_id=runspace_id or origin.runspace_id
    )


def connection_failure_record(computer_name: str, exc: BaseException) -> RemoteErrorRecord:
    """Invoke-Command's record for a host it could not connect to (Job.cs ~L3330):
    `[HOST] Connecting to remote server HOST failed ...`, FQID `<Specific>,PSSessionStateBroken`."""
    if isinstance(exc, ConnectionFailedError):
        message, specific = exc.message, exc.error_code
    else:
        message = (
            f"Connecting to remote server {computer_name} failed with the following error message : "
            f"{exc} {TROUBLESHOOTING_SUFFIX}"
        )
        specific = "CannotConnect"
    return RemoteErrorRecord(
        message=f"[{computer_name}] {message}",
        category="OpenError",
        target_name=computer_name,
        target_type="String",
        reason="PSRemotingTransportException",
        fully_qualified_error_id=f"{specific},PSSessionStateBroken",
        target_object=computer_name,
        exception_type="System.Management.Automation.Remoting.PSRemotingTransportException",
        computer_name=computer_name,
    )


def timeout_record(
    computer_name: str, timeout: float, started: bool, runspace_id: uuid.UUID | None = None
) -> RemoteErrorRecord:
    """psremoting's record for a host that did not finish before the invocation's deadline."""
    if started:
        message = (
            f"[{computer_name}] The command did not finish within the timeout of {timeout:g} seconds; "
            "the remote pipeline was stopped. Raise the timeout, or make the script faster."
        )
    else:
        message = (
            f"[{computer_name}] The command was not started: the timeout of {timeout:g} seconds passed "
            "while other hosts were running. Raise the timeout or the throttle limit."
        )
    return RemoteErrorRecord(
        message=message,
        category="OperationTimeout",
        target_name=computer_name,
        target_type="String",
        reason="TimeoutException",
        fully_qualified_error_id="InvokeCommandTimeout,PSSessionStateBroken",
        target_object=computer_name,
        exception_type="System.TimeoutException",
        computer_name=computer_name,
        runspace_id=runspace_id,
    )


@dataclass
class HostResult(Streams):
    """Everything one host produced (the streams of `psremoting.runspace.streams.Streams`),
    and how it ended. `errors` and `warnings` name the `error` and `warning` lists as
    Invoke-Command's per-host view (and the JSON) call them."""

    computer_name: str
    status: HostStatus = HostStatus.COMPLETED
    #: The code of a remote `exit N` (the SetShouldExit host call), or None if the script did not exit.
    exit_code: int | None = None
    #: Why the host did not complete, in one sentence (None when it completed).
    reason: str | None = None
    runspace_id: uuid.UUID | None = None
    #: Seconds from the start of this host's work (connecting included) to its end.
    duration: float = 0.0
    #: The disconnected session the command was left in (status Disconnected): the
    #: PSSession, for `receive_pssession`, and its name, instance id and state.
    session: Any = None
    #: The remote pipeline's final state (Completed, Failed, Stopped), None if it never ran.
    pipeline_state: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is HostStatus.COMPLETED

    @property
    def errors(self) -> list[RemoteErrorRecord]:
        return self.error

    @errors.setter
    def errors(self, value: list[RemoteErrorRecord]) -> None:
        self.error = value

    @property
    def warnings(self) -> list[str]:
        return self.warning

    @warnings.setter
    def warnings(self, value: list[str]) -> None:
        self.warning = value

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `psremoting invoke --output json|jsonl` for this host."""
        return {
            "host": self.computer_name,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "runspace_id": None if self.runspace_id is None else str(self.runspace_id),
            "duration": round(self.duration, 6),
            "output": [to_jsonable(item, skip=REMOTING_PROPERTIES) for item in self.output],
            "errors": [error_to_dict(error) for error in self.errors],
            "warnings": [str(w) for w in self.warnings],
            "verbose": [str(v) for v in self.verbose],
            "debug": [str(d) for d in self.debug],
            "information": [to_jsonable(i) for i in self.information],
            **({"session": session_to_dict(self.session)} if self.session is not None else {}),
        }


def session_to_dict(session: Any) -> dict[str, Any]:
    """``{"name", "instance_id", "state"}`` of a PSSession: what a later ``psremoting
    receive -H HOST --name NAME`` (or ``--instance-id``) needs."""
    return {
        "name": str(session.name),
        "instance_id": str(session.instance_id),
        "state": str(getattr(session.state, "value", session.state)),
    }


@dataclass(frozen=True)
class InvokeEvent:
    """One thing that arrived from one host: an output object, a record, or the host's end.

    `kind` is "output", "error" (value: `RemoteErrorRecord`), "warning", "verbose", "debug",
    "information", "progress", or "finished" (value: the host's `HostResult`).
    """

    kind: EventKind
    computer_name: str
    value: Any
    #: Which target (its index among the computers or sessions run on) it came from; None for a
    #: session refused before anything ran.
    target_index: int | None = None


class InvokeResult(list[Any]):
    """The output objects of every host in arrival order, as Invoke-Command writes them.

    It is a list, so `for obj in invoke_command(...)` works as in PowerShell. `errors` holds the
    error records (remote errors, connection failures, timeouts) in arrival order, and `hosts`
    one `HostResult` per computer, in the order they were given.
    """

    def __init__(
        self,
        output: Iterable[Any] = (),
        *,
        errors: Iterable[RemoteErrorRecord] = (),
        hosts: Mapping[str, HostResult] | None = None,
    ) -> None:
        super().__init__(output)
        self.errors: list[RemoteErrorRecord] = list(errors)
        self.hosts: dict[str, HostResult] = dict(hosts or {})

    @property
    def failed(self) -> list[HostResult]:
        """The hosts that did not complete cleanly."""
        return [h for h in self.hosts.values() if not h.succeeded]

    @property
    def timed_out(self) -> list[str]:
        """The computer names that did not finish before the deadline."""
        return [h.computer_name for h in self.hosts.values() if h.status is HostStatus.TIMED_OUT]

    @property
    def succeeded(self) -> bool:
        return not self.failed


def to_jsonable(value: Any, *, depth: int = 8, skip: tuple[str, ...] = ()) -> Any:
    """Turn a deserialized PowerShell value into JSON data (as ConvertTo-Json would, roughly).

    Objects become their properties (adapted then extended), collections lists, dictionaries
    objects; dates ISO 8601 strings, byte arrays Base64. Past `depth` levels a value becomes its
    string form, as ConvertTo-Json does, so that cyclic object graphs cannot recurse forever.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.name
    if depth <= 0:
        return str(value)
    to_json = getattr(value, "__json__", None)
    if callable(to_json):
        return to_jsonable(to_json(), depth=depth - 1)
    if isinstance(value, HostResult):
        return value.to_dict()
    if isinstance(value, RemoteErrorRecord):
        return error_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, depth=depth - 1) for k, v in value.items() if str(k) not in skip}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v, depth=depth - 1) for v in value]
    properties = _properties_of(value)
    if properties is not None:
        if not properties:
            return str(value)
        return {k: to_jsonable(v, depth=depth - 1) for k, v in properties.items() if k not in skip}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name), depth=depth - 1)
            for f in dataclasses.fields(value)
            if f.name not in skip
        }
    return str(value)


def _properties_of(value: Any) -> dict[str, Any] | None:
    """The properties of a deserialized object, or None if it is not one.

    Knows the session layer's PSObject (a `properties` mapping or a `to_dict()`) and pypsrp's
    GenericComplexObject (`adapted_properties` and `extended_properties`).
    """
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, Mapping):
            return dict(result)
    props = getattr(value, "properties", None)
    if isinstance(props, Mapping):
        return dict(props)
    adapted = getattr(value, "adapted_properties", None)
    extended = getattr(value, "extended_properties", None)
    if isinstance(adapted, Mapping) or isinstance(extended, Mapping):
        merged: dict[str, Any] = {}
        merged.update(adapted or {})
        merged.update(extended or {})
        return merged
    return None
