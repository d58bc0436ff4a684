"""Background jobs inside a remote session: Start-Job, Get-Job, Wait-Job, Receive-Job, Stop-Job,
Remove-Job.

As on Windows, Start-Job runs its script block in a new runspace (Windows starts a child
powershell.exe: the session's variables and functions are not there; ``-ArgumentList`` binds
the block's ``param()``), on its own thread, and returns at once a PSRemotingJob (Id, Name
``Job<Id>``, PSJobTypeName BackgroundJob, State, HasMoreData, Location localhost, Command).
Each job has one child job, so ids go 1, 3, 5... Receive-Job writes what the job wrote so far
(its output, then its errors as non-terminating errors) and forgets it unless ``-Keep``;
Wait-Job blocks until the jobs end (``-Timeout`` seconds). The jobs belong to the session's
engine (one per runspace pool), as a wsmprovhost's.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from psrpcore import Command
from psrpcore.types import ErrorCategory, ErrorRecord

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import ScriptBlock, enumerate_value, get_member, to_string

from .builtins_system import adapted_object
from .commands import CommandContext, builtin
from .formatting import register_renderer

__all__ = ["BackgroundJob", "JobTable"]

_JOB_TYPES = [
    "System.Management.Automation.PSRemotingJob",
    "System.Management.Automation.Job",
    "System.Object",
]


class _JobIO:
    """The job's own pipeline: no host (as a background job has none), everything collected."""

    has_host = False

    def __init__(self, job: BackgroundJob) -> None:
        self.stopping = threading.Event()
        self._job = job

    def write_output(self, obj: Any) -> None:
        with self._job.lock:
            self._job.results.append((False, obj))

    def write_error(self, error_record: ErrorRecord) -> None:
        with self._job.lock:
            self._job.results.append((True, error_record))

    def write_warning(self, message: str) -> None:
        pass

    def write_verbose(self, message: str) -> None:
        pass

    def write_debug(self, message: str) -> None:
        pass

    def write_information(self, data: Any, source: str) -> None:
        pass

    def write_progress(self, *args: Any, **kwargs: Any) -> None:
        pass

    def host_call(self, method: Any, args: list[Any]) -> Any:
        return None

    def input(self) -> Iterator[Any]:
        return iter(())


class BackgroundJob:
    """One Start-Job: its script, state and what it wrote that no Receive-Job took yet."""

    def __init__(self, job_id: int, name: str, command: str) -> None:
        self.id = job_id
        self.name = name or f"Job{job_id}"
        self.command = command
        self.instance_id = uuid.uuid4()
        self.state = "NotStarted"
        self.lock = threading.Lock()
        #: What the job wrote and no Receive-Job took yet, in order: (is an error, value).
        self.results: list[tuple[bool, Any]] = []
        self.begin: dt.datetime | None = None
        self.end: dt.datetime | None = None
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self.io = _JobIO(self)

    def start(self, engine_factory: Any, arguments: list[Any]) -> None:
        self.state, self.begin = "Running", dt.datetime.now()

        def work() -> None:
            engine = engine_factory()
            command = Command(self.command, is_script=True)
            for argument in arguments:
                command.add_argument(argument)
            result = engine.invoke([command], self.io)
            with self.lock:
                if result.failed is not None:
                    self.results.append((True, result.failed))
                self.state = (
                    "Stopped" if result.stopped else "Failed" if result.failed is not None else "Completed"
                )
                self.end = dt.datetime.now()
            self.done.set()

        self.thread = threading.Thread(target=work, name=f"psremoting-job-{self.id}", daemon=True)
        self.thread.start()

    @property
    def has_more_data(self) -> bool:
        with self.lock:
            return bool(self.results) or not self.done.is_set()

    def to_object(self) -> Any:
        """The PSRemotingJob as Windows serializes it."""
        with self.lock:
            state = self.state
        adapted = {
            "HasMoreData": self.has_more_data, "StatusMessage": "", "Location": "localhost",
            "Command": self.command, "JobStateInfo": state, "Finished": self.done.is_set(),
            "InstanceId": self.instance_id, "Id": self.id, "Name": self.name, "ChildJobs": [f"Job{self.id + 1}"],
            "PSBeginTime": self.begin, "PSEndTime": self.end, "PSJobTypeName": "BackgroundJob",
            "Output": [], "Error": [], "Progress": [], "Verbose": [], "Debug": [], "Warning": [],
            "Information": [], "State": state,
        }  # fmt: skip
        return adapted_object(_JOB_TYPES, adapted, "System.Management.Automation.PSRemotingJob")


class JobTable:
    """The session's jobs, by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self.jobs: dict[int, BackgroundJob] = {}

    def new(self, name: str, command: str) -> BackgroundJob:
        with self._lock:
            job = BackgroundJob(self._next, name, command)
            self._next += 2  # the child job takes the next id, as on Windows
            self.jobs[job.id] = job
            return job


def _table(ctx: CommandContext) -> JobTable:
    return ctx.engine.jobs


@builtin(
    CommandSignature(
        "Start-Job",
        (
            Parameter("ScriptBlock", "scriptblock", ("Command",), position=0, mandatory=True),
            Parameter("Name", "string"),
            Parameter("ArgumentList", "object[]", ("Args",)),
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Credential", "pscredential"),
            Parameter("InitializationScript", "scriptblock"),
            Parameter("RunAs32", "switch"),
            Parameter("PSVersion", "string"),
        ),
    ),
    aliases=("sajb",),
)
def _start_job(ctx: CommandContext) -> Iterable[Any]:
    block = ctx.get("ScriptBlock")
    text = block.text.strip() if isinstance(block, ScriptBlock) else to_string(block)
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    job = _table(ctx).new(to_string(ctx.get("Name") or ""), text)
    engine = ctx.engine
    from . import Engine

    def factory() -> Any:
        return Engine(computer_name=engine.computer_name, username=engine.username, root=engine.root,
                      commands=engine.commands, version=engine.version, services=engine.services,
                      processes=engine.processes, registry=engine.registry, events=engine.events)  # fmt: skip

    job.start(factory, list(enumerate_value(ctx.get("ArgumentList"))) if ctx.get("ArgumentList") else [])
    return [job.to_object()]


def _selected(ctx: CommandContext, *, all_if_none: bool) -> list[BackgroundJob]:
    table = _table(ctx)
    ids = [int(i) for i in enumerate_value(ctx.get("Id"))] if ctx.get("Id") is not None else []
    names = [to_string(n) for n in enumerate_value(ctx.get("Name"))] if ctx.get("Name") is not None else []
    for item in [*enumerate_value(ctx.get("Job")), *ctx.input]:
        job_id = get_member(item, "Id", None)
        if job_id is not None:
            ids.append(int(job_id))
    if not ids and not names:
        return list(table.jobs.values()) if all_if_none else []
    chosen: list[BackgroundJob] = []
    for job_id in ids:
        if job_id in table.jobs:
            chosen.append(table.jobs[job_id])
        else:
            ctx.write_error(
                ctx.error(
                    f"The command cannot find a job with the job ID {job_id}. Verify the value of the Id "
                    "parameter and then try the command again.",
                    "System.ArgumentException",
                    ErrorCategory.ObjectNotFound,
                    "JobWithSpecifiedSessionNotFound",
                    job_id,
                )
            )
    for name in names:
        found = [j for j in table.jobs.values() if j.name.lower() == name.lower()]
        if not found:
            ctx.write_error(
                ctx.error(
                    f"The command cannot find the job because the job name {name} was not found. Verify the "
                    "value of the Name parameter, and then try the command again.",
                    "System.ArgumentException",
                    ErrorCategory.ObjectNotFound,
                    "JobWithSpecifiedNameNotFound",
                    name,
                )
            )
        chosen.extend(found)
    return chosen


# Windows' sets: `[-Id] <Int32[]>`, `[-Name] <String[]>` and `[-Job] <Job[]>` all at position 0,
# so `Wait-Job $job` binds the job and `Get-Job 3` the id (the set whose type fits).
_BY_ID = "SessionIdParameterSet"
_SELECT = (
    Parameter("Id", "int[]", position=0, sets=(_BY_ID,)),
    Parameter("Name", "string[]", position=0, sets=("NameParameterSet",)),
    Parameter("Job", "object[]", position=0, value_from_pipeline=True, sets=("JobParameterSet",)),
)


@builtin(CommandSignature("Get-Job", _SELECT[:2] + (Parameter("State", "string"),), _BY_ID), aliases=("gjb",))
def _get_job(ctx: CommandContext) -> Iterable[Any]:
    jobs = _selected(ctx, all_if_none=True)
    state = ctx.get("State")
    return [j.to_object() for j in jobs if state is None or j.state.lower() == to_string(state).lower()]


@builtin(
    CommandSignature("Wait-Job", (*_SELECT, Parameter("Timeout", "int"), Parameter("Any", "switch")), _BY_ID),
    aliases=("wjb",),
)
def _wait_job(ctx: CommandContext) -> Iterable[Any]:
    jobs = _selected(ctx, all_if_none=False)
    timeout = ctx.get("Timeout")
    deadline = (
        None
        if timeout is None or int(timeout) < 0
        else dt.datetime.now() + dt.timedelta(seconds=int(timeout))
    )
    for job in jobs:
        while not job.done.wait(0.05):
            ctx.check_stopped()
            if deadline is not None and dt.datetime.now() >= deadline:
                return []  # Windows writes nothing when the timeout passes first
            if ctx.switch("Any") and any(j.done.is_set() for j in jobs):
                return [j.to_object() for j in jobs if j.done.is_set()]
    return [j.to_object() for j in jobs]


@builtin(
    CommandSignature(
        "Receive-Job",
        (
            *_SELECT,
            Parameter("Keep", "switch"),
            Parameter("Wait", "switch"),
            Parameter("AutoRemoveJob", "switch"),
        ),
        _BY_ID,
    ),
    aliases=("rcjb",),
)
def _receive_job(ctx: CommandContext) -> Iterable[Any]:
    for job in _selected(ctx, all_if_none=False):
        if ctx.switch("Wait"):
            while not job.done.wait(0.05):
                ctx.check_stopped()
        with job.lock:
            results = list(job.results)
            if not ctx.switch("Keep"):
                job.results.clear()
        for is_error, value in results:  # in the order the job wrote them
            if is_error:
                ctx.write_error(value)
            else:
                ctx.emit(value)
        if ctx.switch("AutoRemoveJob") and job.done.is_set():
            _table(ctx).jobs.pop(job.id, None)
    return []


@builtin(
    CommandSignature(
        "Remove-Job", (*_SELECT, Parameter("Force", "switch"), Parameter("State", "string")), _BY_ID
    ),
    aliases=("rjb",),
)
def _remove_job(ctx: CommandContext) -> Iterable[Any]:
    table = _table(ctx)
    for job in _selected(ctx, all_if_none=False):
        if not job.done.is_set() and not ctx.switch("Force"):
            ctx.write_error(
                ctx.error(
                    f"The command cannot remove the job with the job ID {job.id} because the job is not "
                    "finished. To remove the job, first stop the job, or use the Force parameter.",
                    "System.ArgumentException",
                    ErrorCategory.InvalidOperation,
                    "JobObjectNotFinishedCannotBeRemoved",
                    job.id,
                )
            )
            continue
        table.jobs.pop(job.id, None)
    return []


@builtin(CommandSignature("Stop-Job", (*_SELECT, Parameter("PassThru", "switch")), _BY_ID), aliases=("spjb",))
def _stop_job(ctx: CommandContext) -> Iterable[Any]:
    jobs = _selected(ctx, all_if_none=False)
    for job in jobs:
        job.io.stopping.set()
        job.done.wait(10)
    return [j.to_object() for j in jobs] if ctx.switch("PassThru") else []


def _job_table(jobs: list[Any]) -> list[str]:
    """The job table view: Id, Name, PSJobTypeName, State, HasMoreData, Location, Command."""
    lines = ["", "Id     Name            PSJobTypeName   State         HasMoreData     Location             Command",
             "--     ----            -------------   -----         -----------     --------             -------"]  # fmt: skip
    for j in jobs:
        lines.append(
            f"{to_string(j.Id):<6} {to_string(j.Name):<15} {to_string(j.PSJobTypeName):<15} "
            f"{to_string(j.State):<13} {to_string(j.HasMoreData):<15} {to_string(j.Location):<20} "
            f"{to_string(j.Command)}".rstrip()
        )
    return [*lines, "", ""]


register_renderer(_JOB_TYPES[0], _job_table)
