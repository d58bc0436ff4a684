"""Background jobs, as PowerShell has them: Invoke-Command -AsJob and the job table.

    job = psremoting.invoke_command("Get-Service W3SVC", computer_name=["web1", "web2"], as_job=True)
    job.wait(timeout=60)                 # True once every computer finished
    out = job.receive()                  # the output so far (errors in out.errors), removed from the job
    job.state                            # JobState.COMPLETED, FAILED, STOPPED, RUNNING...
    job.add_done_callback(lambda j: print(j.state))   # as concurrent.futures.Future's
    psremoting.get_job()                 # the job table: Id, Name, PSJobTypeName, State, ...

`invoke_command(..., as_job=True)` returns a `RemotingJob` (PSJobTypeName "RemoteJob") with
one `RemotingChildJob` per computer or session, started in the background with the same
throttled fan-out as Invoke-Command itself. Results wait in the child jobs until they are
received: `receive(keep=False)` hands them over and removes them (``keep=True`` leaves them,
as Receive-Job -Keep); `has_more_data` says whether any are left. The states and their rules
are PowerShell's (Job.cs): a child job fails when it could not connect or its command ended
with a terminating error (errors written along the way do not fail it); the parent is
Failed if a child failed, else Stopped if one was stopped, else Completed.

The job table is process-wide, as PowerShell's: ids from one counter (the parent takes one,
then each child), names ``Job<Id>`` unless given. Get-Job, Wait-Job, Stop-Job, Remove-Job
and Receive-Job are in `psremoting.cmdlets.job_table`.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from psremoting.protocol.errors import (
    ConnectionFailedError,
    InvalidOptionError,
    PSRemotingError,
    RemoteError,
    RemoteErrorRecord,
    SessionStateError,
)

__all__ = [
    "Job",
    "JobOutput",
    "JobState",
    "RemotingChildJob",
    "RemotingJob",
    "command_text",
    "registered",
    "start_job",
    "unregister",
]

log = logging.getLogger(__name__)

#: The streams a job keeps, in Receive-Job's order of writing them.
STREAMS = ("output", "error", "warning", "verbose", "debug", "information", "progress")


class JobState(str, enum.Enum):
    """System.Management.Automation.JobState."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"
    BLOCKED = "Blocked"
    SUSPENDED = "Suspended"
    DISCONNECTED = "Disconnected"
    SUSPENDING = "Suspending"
    STOPPING = "Stopping"
    AT_BREAKPOINT = "AtBreakpoint"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        """Completed, Failed or Stopped: the job will not change any more."""
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.STOPPED)


class JobOutput(list[Any]):
    """What `Job.receive` hands over: the output objects (a list), `errors`, and the other
    streams as lists (`warnings`, `verbose`, `debug`, `information`, `progress`)."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[Any] = []
        self.warnings: list[str] = []
        self.verbose: list[str] = []
        self.debug: list[str] = []
        self.information: list[Any] = []
        self.progress: list[Any] = []

    def add(self, kind: str, value: Any) -> None:
        if kind == "output":
            self.append(value)
        elif kind == "error":
            self.errors.append(value)
        elif kind == "warning":
            self.warnings.append(value)
        else:
            getattr(self, kind).append(value)


_ids = itertools.count(1)
_table_lock = threading.Lock()
_table: dict[int, Job] = {}


def _next_id() -> int:
    with _table_lock:
        return next(_ids)


class Job:
    """A PowerShell job (System.Management.Automation.Job): see the module docstring.

    `id`, `name`, `instance_id`, `command`, `location`, `ps_job_type_name`, `state`,
    `has_more_data`, `child_jobs`, `ps_begin_time` / `ps_end_time` (datetimes), `reason` (why
    it failed or stopped). Thread-safe; callbacks run in the thread that finished the job.
    """

    ps_job_type_name = ""

    def __init__(
        self, command: str, *, name: str | None = None, lock: threading.Condition | None = None
    ) -> None:
        self.id = _next_id()
        self.name = name or f"Job{self.id}"
        self.instance_id = uuid.uuid4()
        self.command = command
        self.child_jobs: list[Job] = []
        self.reason: str | None = None
        self.ps_begin_time: Any = None
        self.ps_end_time: Any = None
        self._cond = lock or threading.Condition()
        self._state = JobState.NOT_STARTED
        self._results: list[tuple[str, Any]] = []
        self._callbacks: list[Callable[[Job], None]] = []

    # -- PowerShell's properties ------------------------------------------------------
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def location(self) -> str:
        return ",".join(child.location for child in self.child_jobs)

    @property
    def has_more_data(self) -> bool:
        """Whether results wait to be received (in this job or its child jobs)."""
        with self._cond:
            return bool(self._results) or any(child.has_more_data for child in self.child_jobs)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} Id={self.id} Name={self.name} State={self.state.value} "
            f"HasMoreData={self.has_more_data} Location={self.location}>"
        )

    # -- futures-style ----------------------------------------------------------------
    def done(self) -> bool:
        """Whether the job has finished (Completed, Failed or Stopped)."""
        return self.state.finished

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job finished, or `timeout` seconds passed; whether it finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._state.finished:
                rest = None if deadline is None else deadline - time.monotonic()
                if rest is not None and rest <= 0:
                    return False
                self._cond.wait(rest if rest is not None else 1.0)
            return True

    def add_done_callback(self, fn: Callable[[Job], None]) -> None:
        """Call `fn(job)` when the job finishes (at once if it already has), as
        concurrent.futures.Future.add_done_callback does."""
        with self._cond:
            if not self._state.finished:
                self._callbacks.append(fn)
                return
        self._call(fn)

    def result(self, timeout: float | None = None) -> JobOutput:
        """Wait for the job, then its results (kept in the job, as Receive-Job -Keep).
        Raises TimeoutError if it does not finish within `timeout` seconds."""
        if not self.wait(timeout):
            raise TimeoutError(f"The job {self.name} did not finish within {timeout:g} seconds.")
        return self.receive(keep=True)

    def exception(self, timeout: float | None = None) -> PSRemotingError | None:
        """Wait for the job; the error that failed it (the first failed child's), or None."""
        if not self.wait(timeout):
            raise TimeoutError(f"The job {self.name} did not finish within {timeout:g} seconds.")
        return self._failure()

    def _failure(self) -> PSRemotingError | None:
        for child in self.child_jobs:
            failure = child._failure()
            if failure is not None:
                return failure
        return None

    # -- results ----------------------------------------------------------------------
    def receive(self, keep: bool = False) -> JobOutput:
        """The results so far of this job and its child jobs, in child order; removed from
        the job unless `keep` (Receive-Job -Keep)."""
        out = JobOutput()
        for kind, value in self.take(keep):
            out.add(kind, value)
        return out

    def take(self, keep: bool = False) -> list[tuple[str, Any]]:
        """The waiting results as (stream, value) pairs, this job's then each child's."""
        with self._cond:
            items = list(self._results)
            if not keep:
                self._results.clear()
        for child in self.child_jobs:
            items.extend(child.take(keep))
        return items

    def stream(self, keep: bool = False, timeout: float | None = None) -> Iterator[tuple[str, Any]]:
        """Results as they come until the job finished and all are received (Receive-Job
        -Wait); with `keep`, each is handed over once but stays in the job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: dict[int, int] = {}
        while True:
            with self._cond:
                finished = self._state.finished
            pending = self._take_new(keep, seen)
            yield from pending
            if finished and not pending:
                return
            with self._cond:
                if not self._has_new(keep, seen) and not self._state.finished:
                    rest = None if deadline is None else deadline - time.monotonic()
                    if rest is not None and rest <= 0:
                        return
                    self._cond.wait(min(rest, 1.0) if rest is not None else 1.0)

    def _take_new(self, keep: bool, seen: dict[int, int]) -> list[tuple[str, Any]]:
        if not keep:
            return self.take(False)
        items: list[tuple[str, Any]] = []
        for job in [self, *self.child_jobs]:
            with self._cond:
                start = seen.get(job.id, 0)
                items.extend(job._results[start:])
                seen[job.id] = len(job._results)
        return items

    def _has_new(self, keep: bool, seen: dict[int, int]) -> bool:
        jobs = [self, *self.child_jobs]
        if not keep:
            return any(job._results for job in jobs)
        return any(len(job._results) > seen.get(job.id, 0) for job in jobs)

    # -- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the job (Stop-Job): the remote commands still running are stopped."""

    def cancel(self) -> bool:
        """Stop the job; False if it had already finished (concurrent.futures' meaning)."""
        if self.done():
            return False
        self.stop()
        return True

    # -- for the job's runner -----------------------------------------------------------
    def _add(self, kind: str, value: Any) -> None:
        with self._cond:
            self._results.append((kind, value))
            self._cond.notify_all()

    def _set_state(self, state: JobState, reason: str | None = None) -> None:
        import datetime

        callbacks: list[Callable[[Job], None]] = []
        with self._cond:
            if self._state.finished:
                return
            self._state = state
            if reason:
                self.reason = reason
            if state is JobState.RUNNING and self.ps_begin_time is None:
                self.ps_begin_time = datetime.datetime.now()
            if state.finished:
                self.ps_end_time = datetime.datetime.now()
                callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for fn in callbacks:
            self._call(fn)

    def _call(self, fn: Callable[[Job], None]) -> None:
        try:
            fn(self)
        except Exception:
            log.exception("a done callback of job %s raised", self.name)


class RemotingChildJob(Job):
    """The part of a remote job that runs on one computer (PSRemotingChildJob)."""

    def __init__(self, command: str, computer_name: str, lock: threading.Condition) -> None:
        super().__init__(command, lock=lock)
        self.computer_name = computer_name
        #: How its host ended (a psremoting.cmdlets.invoke.results.HostResult), once it has.
        self.host_result: Any = None
        self._error: PSRemotingError | None = None

    @property
    def location(self) -> str:
        return self.computer_name

    def _finish(self, result: Any, stop_requested: bool) -> None:
        self.host_result = result
        state = _child_state(result, stop_requested)
        if state is JobState.FAILED:
            self._error = _failure_of(result)
        self._set_state(state, result.reason)

    def _failure(self) -> PSRemotingError | None:
        return self._error


def _child_state(result: Any, stop_requested: bool) -> JobState:
    """PowerShell's state for a child job from how its host ended (a HostResult)."""
    status = str(getattr(result.status, "value", result.status))
    if status == "Stopped" or (stop_requested and result.pipeline_state == "Stopped"):
        return JobState.STOPPED
    if status in ("ConnectionFailed", "TimedOut"):
        return JobState.FAILED
    if status == "Failed" and result.pipeline_state in (None, "Failed"):
        return JobState.FAILED
    return JobState.COMPLETED  # errors written along the way, or `exit N`, do not fail a job


def _failure_of(result: Any) -> PSRemotingError:
    for record in reversed(result.errors):
        cause = record.extra.get("exception") if isinstance(record, RemoteErrorRecord) else None
        if isinstance(cause, ConnectionFailedError):
            return cause
    if result.errors:
        return RemoteError(result.errors[-1])
    return PSRemotingError(result.reason or f"The job on {result.computer_name} failed.")


class RemotingJob(Job):
    """Invoke-Command -AsJob: a child job per computer or session (PSRemotingJob).

    Made by `start_job` from what Invoke-Command plans: the computer of each target (in the
    order of their events' `target_index`), the sessions refused with their error record,
    a function giving the InvokeEvents of the run, and one that cancels it.
    """

    ps_job_type_name = "RemoteJob"

    def __init__(
        self,
        command: str,
        *,
        computers: Sequence[str],
        refused: Sequence[tuple[str, Any]],
        events: Callable[[], Iterable[Any]],
        cancel: Callable[[], None],
        name: str | None = None,
    ) -> None:
        super().__init__(command, name=name)
        self._events = events
        self._cancel = cancel
        self._stop_requested = False
        self._children = [RemotingChildJob(command, computer, self._cond) for computer in computers]
        rejected = [RemotingChildJob(command, computer, self._cond) for computer, _ in refused]
        self.child_jobs = [*self._children, *rejected]
        for child, (_computer, record) in zip(rejected, refused, strict=True):
            child._add("error", record)
            child._error = RemoteError(record) if isinstance(record, RemoteErrorRecord) else None
            child._set_state(JobState.FAILED, getattr(record, "message", str(record)))
        self._thread = threading.Thread(target=self._run, name=f"psremoting-{self.name}", daemon=True)

    def start(self) -> RemotingJob:
        for child in self._children:
            child._set_state(JobState.RUNNING)
        self._set_state(JobState.RUNNING)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            if self._state.finished:
                return
            self._stop_requested = True
            if self._state is JobState.RUNNING:
                self._state = JobState.STOPPING
                self._cond.notify_all()
        self._cancel()

    def _run(self) -> None:
        try:
            for event in self._events():
                if event.target_index is None:
                    continue  # a refused session: its child job already failed
                child = self._children[event.target_index]
                if event.kind == "finished":
                    child._finish(event.value, self._stop_requested)
                else:
                    child._add(event.kind, event.value)
        except Exception as exc:
            log.debug("job %s failed: %s", self.name, exc)
            self.reason = str(exc)
            record = RemoteErrorRecord(message=str(exc), category="NotSpecified")
            for child in self._children:
                if not child.state.finished:
                    child._add("error", record)
                    child._error = exc if isinstance(exc, PSRemotingError) else PSRemotingError(str(exc))
                    child._set_state(JobState.FAILED, str(exc))
        finally:
            for child in self._children:  # never leave a child job running
                if not child.state.finished:
                    child._set_state(JobState.STOPPED if self._stop_requested else JobState.FAILED)
            self._set_state(self._overall())

    def _overall(self) -> JobState:
        states = [child.state for child in self.child_jobs]
        if JobState.FAILED in states:
            return JobState.FAILED
        if self._stop_requested or JobState.STOPPED in states:
            return JobState.STOPPED
        return JobState.COMPLETED


def start_job(
    command: str,
    *,
    computers: Sequence[str],
    refused: Sequence[tuple[str, Any]] = (),
    events: Callable[[], Iterable[Any]],
    cancel: Callable[[], None],
    name: str | None = None,
) -> RemotingJob:
    """Make a `RemotingJob` (see its docstring), add it to the job table, start it."""
    if not computers and refused:
        raise SessionStateError(
            "No valid sessions were specified.  Ensure you provide valid sessions that "
            "are in the Opened state and are available to run commands."
        )
    if name is not None and not str(name).strip():
        raise InvalidOptionError("The job name is empty; give a name such as 'Deploy', or none for Job<Id>.")
    job = RemotingJob(command, computers=computers, refused=refused, events=events, cancel=cancel, name=name)
    with _table_lock:
        _table[job.id] = job
    return job.start()


def command_text(script_block: Any, file_path: Any) -> str:
    """The job table's Command: the script block's text (a command by name: its command line)."""
    text_of = getattr(script_block, "job_text", None)
    if callable(text_of):
        return str(text_of())
    if script_block is not None and not isinstance(script_block, str):
        return str(getattr(script_block, "text", script_block))
    if script_block is not None:
        text = str(script_block)
        if text.strip().startswith("{") and text.strip().endswith("}"):
            text = text.strip()[1:-1]
        return text
    return str(file_path or "")


def registered() -> list[Job]:
    """The jobs of the job table, in the order they were started."""
    with _table_lock:
        return list(_table.values())


def unregister(jobs: Iterable[Job]) -> None:
    """Take jobs out of the job table (Remove-Job)."""
    with _table_lock:
        for job in jobs:
            _table.pop(job.id, None)


def _reset_for_tests() -> None:
    """An empty job table, ids from 1 again (for tests)."""
    global _ids
    with _table_lock:
        _table.clear()
        _ids = itertools.count(1)
