"""The job cmdlets at the local prompt: Get-Job, Receive-Job, Wait-Job, Stop-Job, Remove-Job.

Jobs come from ``Invoke-Command ... -AsJob`` (`psremoting.cmdlets.jobs`); a job shows as
PowerShell's job table (Id, Name, PSJobTypeName, State, HasMoreData, Location, Command).
Receive-Job writes each job's output, then its errors, warnings and other records through
the common parameters, as PowerShell does; with -Wait it writes them as they arrive.
Parameters of PowerShell's cmdlets that need its other job types (workflows, scheduled and
thread jobs, event forwarding) are refused with the reason.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from psremoting.console.builtins import Call, _list
from psremoting.console.cmdlet_types import CmdletSpec, Param, refused
from psremoting.console.errors import ShellError
from psremoting.console.should_process import confirmed

__all__ = ["IMPLEMENTATIONS", "SPECS"]

_JOB = Param(
    "Job",
    "job[]",
    (),
    0,
    True,
    True,
    help="The jobs (from Get-Job or -AsJob).",
    sets=("Job",),
    by_property_name=True,
)
# Pipeline input as JobCmdletBase (RemoveJob.cs) declares it: -Job ByValue and ByPropertyName,
# -Id, -Name, -InstanceId, -State, -Command ByPropertyName.
_ID = Param("Id", "int[]", (), 0, True, help="Job ids.", sets=("Id",), by_property_name=True)
_NAME = Param(
    "Name",
    "string[]",
    (),
    0,
    True,
    help="Job names; wildcards allowed.",
    sets=("Name",),
    by_property_name=True,
)
_INSTANCE = Param(
    "InstanceId",
    "string[]",
    (),
    0,
    True,
    help="Job instance ids (GUIDs).",
    sets=("InstanceId",),
    by_property_name=True,
)
_STATE = Param(
    "State", "string", (), None, True, help="Jobs in this state.", sets=("State",), by_property_name=True
)
_COMMAND = Param(
    "Command",
    "string[]",
    help="Jobs whose command matches; wildcards allowed.",
    sets=("Command",),
    by_property_name=True,
)
_FILTER = refused(
    "Filter",
    "object",
    "it filters workflow and scheduled jobs by their properties, which this client does not have",
)

SPECS: tuple[CmdletSpec, ...] = (
    CmdletSpec(
        "Get-Job",
        "Gets PowerShell background jobs that are running in the current session.",
        (
            Param("Id", "int[]", (), 0, help="Job ids.", sets=("Id",), by_property_name=True),
            Param("Name", "string[]", (), 0, help="Job names.", sets=("Name",), by_property_name=True),
            Param("InstanceId", "string[]", (), 0, sets=("InstanceId",), by_property_name=True),
            Param(
                "State",
                "string",
                help="Jobs in this state (Running, Completed, Failed, Stopped...).",
                by_property_name=True,
            ),
            _COMMAND,
            Param("IncludeChildJob", "switch", help="List the child jobs too."),
            Param("HasMoreData", "bool", help="Jobs that have (or have not) results to receive."),
            Param("Newest", "int", help="The most recently started jobs, this many."),
            Param("Before", "datetime", help="Jobs that finished before this date and time."),
            Param("After", "datetime", help="Jobs that finished after this date and time."),
            refused(
                "ChildJobState",
                "string",
                "this client filters child jobs with -IncludeChildJob and -State together; use "
                "Get-Job -IncludeChildJob -State <state>",
            ),
            _FILTER,
        ),
        ("gjb",),
        default_set="Id",
    ),
    CmdletSpec(
        "Receive-Job",
        "Gets the results of the PowerShell background jobs in the current session.",
        (
            _JOB,
            _ID,
            _NAME,
            _INSTANCE,
            Param("Keep", "switch", help="Keep the results in the job (receive them again later)."),
            Param("Wait", "switch", help="Write the results as they come until the job finished."),
            Param(
                "AutoRemoveJob", "switch", help="With -Wait: delete the job once its results are received."
            ),
            Param("Location", "string[]", help="Only the results from these computers."),
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                help="Only the results from these computers.",
                by_property_name=True,
            ),
            Param("NoRecurse", "switch", help="Only the parent job's own results (none for remote jobs)."),
            Param("Force", "switch", help="With -Wait: wait even for a suspended or disconnected job."),
            Param("WriteJobInResults", "switch", help="Write the job object before its results."),
            refused(
                "Session",
                "session[]",
                "pick the results by computer instead: Receive-Job $job -ComputerName <computer>",
            ),
            refused(
                "WriteEvents",
                "switch",
                "it writes job state events for PowerShell's job event forwarding, which this client does not have",
            ),
        ),
        ("rcjb",),
        default_set="Job",
    ),
    CmdletSpec(
        "Wait-Job",
        "Waits until one or all of the PowerShell jobs running in the session are in a terminating state.",
        (
            _JOB,
            _ID,
            _NAME,
            _INSTANCE,
            _STATE,
            Param("Any", "switch", help="Return when any one job finished."),
            Param("Timeout", "int", ("TimeoutSec",), help="Seconds to wait at most (-1: no limit)."),
            Param("Force", "switch", help="Wait even for a suspended or disconnected job."),
            _FILTER,
        ),
        ("wjb",),
        default_set="Job",
    ),
    CmdletSpec(
        "Stop-Job",
        "Stops a PowerShell background job.",
        (
            _JOB,
            _ID,
            _NAME,
            _INSTANCE,
            _STATE,
            Param("PassThru", "switch", help="Write the stopped jobs."),
            Param("WhatIf", "switch", ("wi",)),
            Param("Confirm", "switch", ("cf",)),
            _FILTER,
        ),
        ("spjb",),
        default_set="Job",
    ),
    CmdletSpec(
        "Remove-Job",
        "Deletes a PowerShell background job.",
        (
            _JOB,
            _ID,
            _NAME,
            _INSTANCE,
            _STATE,
            _COMMAND,
            Param("Force", "switch", ("F",), help="Delete running jobs too (they are stopped first)."),
            Param("WhatIf", "switch", ("wi",)),
            Param("Confirm", "switch", ("cf",)),
            _FILTER,
        ),
        ("rjb",),
        default_set="Job",
    ),
)


def _api() -> Any:
    from psremoting.cmdlets import job_table

    return job_table


def _select(call: Call) -> list[Any]:
    """The jobs a call names: -Job (or pipeline input), -Id, -Name, -InstanceId, -State, -Command.
    Names and ids that match nothing are non-terminating errors, as in PowerShell."""
    jobs = _api()
    chosen: list[Any] = list(_list(call.get("Job")) or [])
    chosen += [i for i in call.input if i is not None]
    lookup: dict[str, Any] = {}
    for param, key in (("Id", "id"), ("Name", "name"), ("InstanceId", "instance_id")):
        if call.has(param):
            lookup[key] = _list(call.get(param))
    if lookup or (call.has("State") and not chosen):
        if call.has("State"):
            lookup["state"] = str(call.get("State"))
        try:
            chosen += jobs.get_job(**lookup)
        except jobs.JobNotFoundError as error:
            for message in error.messages:
                call.write_error(message, error)
            chosen += error.jobs
    if call.has("Command"):
        import fnmatch

        patterns = [str(p).lower() for p in _list(call.get("Command")) or []]
        source = chosen or jobs.get_job()
        chosen = [
            j for j in source if any(fnmatch.fnmatchcase(j.command.strip().lower(), p) for p in patterns)
        ]
    elif call.has("State") and chosen:
        wanted = str(call.get("State")).lower()
        chosen = [j for j in chosen if j.state.value.lower() == wanted]
    unique: list[Any] = []
    for job in chosen:
        if job not in unique:
            unique.append(job)
    return unique


def get_job(call: Call) -> list[Any]:
    jobs = _api()
    if any(call.has(p) for p in ("Id", "Name", "InstanceId", "Command")):
        found = _select(call)
        if call.get("IncludeChildJob"):
            found = [j for job in found for j in (job, *job.child_jobs)]
    else:
        found = jobs.get_job(include_child_jobs=bool(call.get("IncludeChildJob")))
    if call.has("State"):
        wanted = str(call.get("State")).lower()
        found = [j for j in found if j.state.value.lower() == wanted]
    if call.has("HasMoreData"):
        wanted_data = bool(call.get("HasMoreData"))
        found = [j for j in found if j.has_more_data == wanted_data]
    comparisons: tuple[tuple[str, Callable[[datetime.datetime, datetime.datetime], bool]], ...] = (
        ("Before", lambda end, t: end < t),
        ("After", lambda end, t: end > t),
    )
    for param, keep in comparisons:
        if call.has(param):
            when = _datetime(call.get(param), param)
            found = [j for j in found if j.ps_end_time is not None and keep(j.ps_end_time, when)]
    if call.has("Newest"):
        count = int(call.get("Newest"))
        found = (
            sorted(found, key=lambda j: j.ps_begin_time or datetime.datetime.min)[-count:]
            if count > 0
            else []
        )
    return found


def _datetime(value: Any, param: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise ShellError(
            f'Cannot bind parameter \'{param}\'. Cannot convert value "{value}" to type "System.DateTime". '
            "Give a date such as 2026-01-31 or 2026-01-31T18:00.",
            "Get-Job",
        ) from None


def _required(call: Call) -> list[Any]:
    found = _select(call)
    if not found and not any(call.has(p) for p in ("Id", "Name", "InstanceId", "State", "Command")):
        raise ShellError(
            f"Cannot process command because of one or more missing mandatory parameters: Job. "
            f"Say which jobs, for example: {call.name} -Id 1, or Get-Job | {call.name}.",
            call.name,
        )
    return found


def receive_job(call: Call) -> Iterator[Any]:
    jobs = _required(call)
    keep = bool(call.get("Keep"))
    wait = bool(call.get("Wait"))
    if call.get("AutoRemoveJob") and not wait:
        raise ShellError(
            "The AutoRemoveJob parameter can be used only with the Wait parameter: "
            "Receive-Job -Wait -AutoRemoveJob.",
            call.name,
        )
    computers = [
        str(c).lower() for c in (_list(call.get("ComputerName")) or []) + (_list(call.get("Location")) or [])
    ]
    for job in jobs:
        if call.get("WriteJobInResults"):
            yield job
        if call.get("NoRecurse"):
            continue  # a remote job's results are all in its child jobs
        sources = [c for c in job.child_jobs if not computers or c.location.lower() in computers] or (
            [] if computers else [job]
        )
        for source in sources:
            results = source.stream(keep) if wait else source.take(keep)
            for kind, value in results:
                if kind == "output":
                    yield value
                else:
                    from psremoting.console.invoke_cmd import write_record

                    write_record(call, kind, value)
    if call.get("AutoRemoveJob"):
        _api().remove_job(jobs, force=False)


def wait_job(call: Call) -> list[Any]:
    jobs = _required(call)
    timeout = call.get("Timeout")
    seconds = None if timeout is None or int(timeout) < 0 else float(timeout)
    try:
        return list(_api().wait_job(jobs, any=bool(call.get("Any")), timeout=seconds))
    except KeyboardInterrupt:
        return []


def stop_job(call: Call) -> list[Any]:
    jobs = _required(call)
    if call.get("WhatIf"):
        for job in jobs:
            call.context.ui.write_line(f'What if: Performing the operation "Stop" on target "{job.name}".')
        return []
    answers: dict[str, bool] = {}
    jobs = [j for j in jobs if confirmed(call, "Stop", j.name, answers)]
    _api().stop_job(jobs)
    for job in jobs:
        job.wait(10)  # Stop-Job returns once the job has stopped, as PowerShell's does
    return jobs if call.get("PassThru") else []


def remove_job(call: Call) -> list[Any]:
    api = _api()
    jobs = _required(call)
    if call.get("WhatIf"):
        for job in jobs:
            call.context.ui.write_line(f'What if: Performing the operation "Remove" on target "{job.name}".')
        return []
    answers: dict[str, bool] = {}
    for job in jobs:
        if not confirmed(call, "Remove", job.name, answers):
            continue
        try:
            api.remove_job(job, force=bool(call.get("Force")))
        except Exception as error:
            call.write_error(getattr(error, "message", str(error)), error)
    return []


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {
    "Get-Job": get_job,
    "Receive-Job": receive_job,
    "Wait-Job": wait_job,
    "Stop-Job": stop_job,
    "Remove-Job": remove_job,
}
