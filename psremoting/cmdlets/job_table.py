"""The job table's cmdlets: Get-Job, Wait-Job, Stop-Job, Remove-Job, Receive-Job.

    psremoting.get_job()                          # every job, as Get-Job lists them
    psremoting.wait_job(jobs, any=True, timeout=10)
    psremoting.receive_job(job, wait=True, auto_remove=True)
    psremoting.stop_job(job); psremoting.remove_job(job, force=True)

The jobs are `psremoting.cmdlets.jobs.Job`s (Invoke-Command -AsJob); the texts of the errors are
PowerShell's (RemotingErrorIdStrings: JobWithSpecifiedSessionIdNotFound, ...).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from psremoting.cmdlets.jobs import Job, JobOutput, JobState, registered, unregister
from psremoting.protocol.errors import InvalidOptionError, PSRemotingError, SessionStateError

__all__ = ["JobNotFoundError", "get_job", "receive_job", "remove_job", "stop_job", "wait_job"]


def _listed(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def get_job(
    *,
    id: int | Sequence[int] | None = None,
    name: str | Sequence[str] | None = None,
    instance_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    state: str | JobState | None = None,
    include_child_jobs: bool = False,
) -> list[Job]:
    """Get-Job: the jobs of this process (parents; with `include_child_jobs` their children
    too, after each parent), filtered by id, name (wildcards), instance id or state. An id,
    name or instance id that matches nothing raises `JobNotFoundError` (PowerShell's text)."""
    import fnmatch

    jobs = registered()
    everything = [j for job in jobs for j in ([job, *job.child_jobs] if include_child_jobs else [job])]
    found: list[Job] = []
    missing: list[str] = []
    ids, names, instance_ids = _listed(id), _listed(name), _listed(instance_id)
    if ids is not None:
        every = [j for job in jobs for j in (job, *job.child_jobs)]
        for wanted in ids:
            hits = [j for j in every if j.id == int(wanted)]
            found += hits
            if not hits:
                missing.append(
                    f"The command cannot find a job with the job ID {wanted}. Verify the value of the Id "
                    "parameter and then try the command again."
                )
    elif names is not None:
        for wanted in names:
            hits = [j for j in everything if fnmatch.fnmatchcase(j.name.lower(), str(wanted).lower())]
            found += hits
            if not hits and not any(c in str(wanted) for c in "*?["):
                missing.append(
                    f"The command cannot find the job because the job name {wanted} was not found. Verify "
                    "the value of the Name parameter, and then try the command again."
                )
    elif instance_ids is not None:
        for wanted in instance_ids:
            hits = [j for j in everything if str(j.instance_id).lower() == str(wanted).lower()]
            found += hits
            if not hits:
                missing.append(
                    f"The command cannot find a job with the instance identifier {wanted}. Verify the value "
                    "of the InstanceId parameter, and then try the command again."
                )
    else:
        found = everything
    if state is not None:
        wanted_state = str(getattr(state, "value", state)).lower()
        found = [j for j in found if j.state.value.lower() == wanted_state]
    unique: list[Job] = []
    for job in found:
        if job not in unique:
            unique.append(job)
    if missing:
        raise JobNotFoundError(missing, unique)
    return unique


class JobNotFoundError(PSRemotingError):
    """Ids or names that matched no job; `jobs` holds the ones that did match."""

    def __init__(self, messages: list[str], jobs: list[Job]) -> None:
        super().__init__(messages[0])
        self.messages = messages
        self.jobs = jobs


def _jobs(jobs: Job | Iterable[Job]) -> list[Job]:
    return [jobs] if isinstance(jobs, Job) else list(jobs)


def wait_job(jobs: Job | Iterable[Job], *, any: bool = False, timeout: float | None = None) -> list[Job]:
    """Wait-Job: wait until all the jobs (with `any`, one of them) finished; the finished jobs.
    With `timeout` (seconds) it returns what finished by then (nothing, if none did)."""
    items = _jobs(jobs)
    if not items:
        return []
    deadline = None if timeout is None else time.monotonic() + timeout
    event = threading.Event()
    for job in items:
        job.add_done_callback(lambda _job: event.set())
    while True:
        done = [j for j in items if j.done()]
        if (any and done) or len(done) == len(items):
            return done[:1] if any else done
        rest = None if deadline is None else deadline - time.monotonic()
        if rest is not None and rest <= 0:
            return [] if not any else done[:1]
        event.wait(min(rest, 1.0) if rest is not None else 1.0)
        event.clear()


def stop_job(jobs: Job | Iterable[Job]) -> list[Job]:
    """Stop-Job: stop each job (its remote commands); the jobs."""
    items = _jobs(jobs)
    for job in items:
        job.stop()
    return items


def remove_job(jobs: Job | Iterable[Job], *, force: bool = False) -> None:
    """Remove-Job: delete jobs from the job table. A job still running is an error (PowerShell's
    text) unless `force`, which stops it first. Child jobs go with their parent only."""
    items = _jobs(jobs)
    known = {job.id for job in registered()}
    for job in items:
        if job.id not in known:
            raise InvalidOptionError(
                "The command cannot remove the job because it does not exist or because it is a child job. "
                "Child jobs can be removed only by removing the parent job."
            )
        if not job.done():
            if not force:
                raise SessionStateError(
                    f"The command cannot remove the job with the job ID {job.id} because the job is not "
                    "finished. To remove the job, first stop the job, or use the Force parameter."
                )
            job.stop()
    unregister(items)


def receive_job(
    jobs: Job | Iterable[Job], *, keep: bool = False, wait: bool = False, auto_remove: bool = False
) -> JobOutput:
    """Receive-Job: the results of the jobs so far (with `wait`, until they finished), removed
    from them unless `keep`; `auto_remove` (with `wait`) removes the jobs afterwards."""
    if auto_remove and not wait:
        raise InvalidOptionError("auto_remove needs wait=True (Receive-Job -AutoRemoveJob -Wait).")
    out = JobOutput()
    items = _jobs(jobs)
    for job in items:
        results = job.stream(keep) if wait else job.take(keep)
        for kind, value in results:
            out.add(kind, value)
    if auto_remove:
        remove_job(items, force=False)
    return out
