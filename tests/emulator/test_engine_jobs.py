"""Background jobs inside the remote session: Start-Job, Get-Job, Wait-Job, Receive-Job,
Stop-Job, Remove-Job."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", root=tmp_path / "C")


def test_start_job_returns_a_running_job_and_receive_job_its_output(engine: Engine) -> None:
    (job,) = run(engine, "Start-Job { Start-Sleep -Milliseconds 300; 'done'; $env:COMPUTERNAME }")[1].output
    assert job.PSObject.type_names[:2] == [
        "System.Management.Automation.PSRemotingJob",
        "System.Management.Automation.Job",
    ]
    assert (job.Id, job.Name, job.PSJobTypeName, job.State, job.HasMoreData, job.Location) == (
        1,
        "Job1",
        "BackgroundJob",
        "Running",
        True,
        "localhost",
    )
    assert job.Command == "Start-Sleep -Milliseconds 300; 'done'; $env:COMPUTERNAME"
    (waited,) = run(engine, "Wait-Job -Id 1")[1].output
    assert waited.State == "Completed"
    assert run(engine, "Receive-Job -Id 1 -Keep")[1].output == ["done", "SERVER01"]
    assert run(engine, "Receive-Job -Id 1")[1].output == ["done", "SERVER01"]
    assert run(engine, "Receive-Job -Id 1")[1].output == []  # received: gone
    assert run(engine, "(Get-Job -Id 1).HasMoreData")[1].output == [False]
    # each job has a child job, so the next id is 3, as on Windows
    assert run(engine, "(Start-Job { 1 }).Id")[1].output == [3]


def test_a_job_runs_in_its_own_runspace_with_its_arguments(engine: Engine) -> None:
    script = (
        "$x = 'session'; Start-Job { param($n) $n * 2; \"x=$x\" } -ArgumentList 21 | Wait-Job | Receive-Job"
    )
    assert run(engine, script)[1].output == [42, "x="]


def test_job_errors_come_with_receive_job_in_order(engine: Engine) -> None:
    _, rec = run(engine, "Start-Job { 1; Write-Error 'bad'; 2 } | Wait-Job | Receive-Job")
    assert rec.output == [1, 2]
    assert [str(e) for e in rec.errors] == ["bad"]


def test_job_table_and_unknown_job_errors(engine: Engine) -> None:
    run(engine, "Start-Job { 'a' } -Name Nightly | Wait-Job")
    lines = run(engine, "Get-Job", out_default=True)[1].lines
    assert lines[1:4] == [
        "Id     Name            PSJobTypeName   State         HasMoreData     Location             Command",
        "--     ----            -------------   -----         -----------     --------             -------",
        "1      Nightly         BackgroundJob   Completed     True            localhost            'a'",
    ]
    _, rec = run(engine, "Get-Job -Id 99; Receive-Job -Name Nope")
    first, second = rec.errors
    assert str(first) == (
        "The command cannot find a job with the job ID 99. Verify the value of the Id parameter and then try the "
        "command again."
    )
    assert (
        first.FullyQualifiedErrorId
        == "JobWithSpecifiedSessionNotFound,Microsoft.PowerShell.Commands.GetJobCommand"
    )
    assert (
        second.FullyQualifiedErrorId
        == "JobWithSpecifiedNameNotFound,Microsoft.PowerShell.Commands.ReceiveJobCommand"
    )


def test_stop_and_remove_job(engine: Engine) -> None:
    run(engine, "Start-Job { Start-Sleep 30 }")
    _, rec = run(engine, "Remove-Job -Id 1")
    assert "because the job is not finished" in str(rec.errors[0])
    assert run(engine, "Stop-Job -Id 1 -PassThru | ForEach-Object { $_.State }")[1].output == ["Stopped"]
    run(engine, "Remove-Job -Id 1")
    assert run(engine, "Get-Job")[1].output == []


def test_a_job_given_by_position_binds_the_job_parameter_and_a_number_the_id(engine: Engine) -> None:
    # Windows' -Id, -Name and -Job all take position 0: the set whose type fits the argument wins
    script = "$j = Start-Job { 1 + 1 }; Wait-Job $j | Out-Null; Receive-Job $j; (Get-Job 1).Name; (Get-Job Job1).Id"
    result = run(engine, script)[1]
    assert (result.output, result.errors) == ([2, "Job1", 1], [])
