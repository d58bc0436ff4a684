"""Background jobs (Invoke-Command -AsJob) in Python, against emulated computers over loopback.

What a user of `invoke_command(..., as_job=True)` relies on: it returns at once; a child job
per computer; results wait in the job until received (and are gone after, unless kept); the
states follow PowerShell's rules; stop() stops the remote commands; done callbacks fire once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import psremoting
from psremoting.cmdlets import job_table, jobs
from psremoting.cmdlets.jobs import JobState
from psremoting.protocol.errors import ConnectionFailedError, SessionStateError


@pytest.fixture(autouse=True)
def empty_job_table() -> Iterator[None]:
    jobs._reset_for_tests()
    yield
    for job in job_table.get_job():
        job.stop()
        job.wait(20)
    jobs._reset_for_tests()


class Gate:
    """A remote command (`Wait-Gate`) that holds its pipeline until the test opens the gate
    (or the client stops the pipeline): the job is observably still running meanwhile."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Semaphore(0)
        self.stopped = threading.Event()

    def __call__(self, ctx: Any) -> list[Any]:
        self.entered.release()
        while not self.opened.is_set():
            if ctx.io.stopping.wait(0.05):
                self.stopped.set()
                return []
        return [f"through {ctx.args[0]}"]

    def wait_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=20), "the remote command never started"


def test_as_job_returns_at_once_and_receives_each_computers_output_once(make_fleet: Any) -> None:
    gate = Gate()
    make_fleet("a", "b", "c", handlers={"Wait-Gate": gate})
    job = psremoting.invoke_command("Wait-Gate $env:COMPUTERNAME", computer_name=["a", "b", "c"], as_job=True)
    gate.wait_entered(3)
    # Running: nothing to receive yet, the job table shows it as PowerShell does.
    assert job.state is JobState.RUNNING and not job.done()
    assert (job.name, job.ps_job_type_name, job.location) == (f"Job{job.id}", "RemoteJob", "a,b,c")
    assert [c.location for c in job.child_jobs] == ["a", "b", "c"]
    assert [c.id for c in job.child_jobs] == [job.id + 1, job.id + 2, job.id + 3]
    assert job.has_more_data is False
    assert psremoting.get_job() == [job]
    gate.opened.set()
    assert job.wait(30) is True
    assert job.state is JobState.COMPLETED
    assert [c.state for c in job.child_jobs] == [JobState.COMPLETED] * 3
    assert job.has_more_data is True
    kept = job.receive(keep=True)
    assert sorted(str(o) for o in kept) == ["through A", "through B", "through C"]
    assert {o.PSComputerName for o in kept} == {"a", "b", "c"}
    assert job.has_more_data is True  # -Keep left them
    received = job.receive()
    # Receive-Job writes the child jobs' results in child order.
    assert [str(o) for o in received] == ["through A", "through B", "through C"]
    assert job.has_more_data is False and list(job.receive()) == []


def test_a_computer_that_cannot_be_reached_fails_its_child_and_the_job(make_fleet: Any) -> None:
    fleet = make_fleet("up")
    fleet.down.add("down")
    job = psremoting.invoke_command("'hello'", computer_name=["up", "down"], as_job=True)
    assert job.wait(60)
    up, down = job.child_jobs
    assert (up.state, down.state, job.state) == (JobState.COMPLETED, JobState.FAILED, JobState.FAILED)
    out = job.receive()
    assert [str(o) for o in out] == ["hello"]
    assert [e.computer_name for e in out.errors] == ["down"]
    assert "Connecting to remote server down failed" in out.errors[0].message
    assert isinstance(job.exception(), ConnectionFailedError)
    assert up.exception() is None


def test_errors_written_along_the_way_do_not_fail_a_job_but_a_terminating_one_does(make_fleet: Any) -> None:
    make_fleet("a")
    written = psremoting.invoke_command("Write-Error 'soft'; 'after'", computer_name="a", as_job=True)
    thrown = psremoting.invoke_command("throw 'hard'", computer_name="a", as_job=True)
    assert written.wait(30) and thrown.wait(30)
    assert written.state is JobState.COMPLETED
    assert thrown.state is JobState.FAILED
    out = written.receive()
    assert [str(o) for o in out] == ["after"] and [e.message for e in out.errors] == ["soft"]
    assert [e.message for e in thrown.receive().errors] == ["hard"]


def test_stop_stops_the_remote_commands_and_the_job_ends_stopped(make_fleet: Any) -> None:
    gate = Gate()
    fleet = make_fleet("a", "b", handlers={"Wait-Gate": gate})
    job = psremoting.invoke_command("Wait-Gate $env:COMPUTERNAME", computer_name=["a", "b"], as_job=True)
    gate.wait_entered(2)
    psremoting.stop_job(job)
    assert job.wait(30)
    assert job.state is JobState.STOPPED
    assert all(c.state is JobState.STOPPED for c in job.child_jobs)
    assert gate.stopped.is_set()  # the server saw the stop
    assert fleet.emulator.stats.running_pipelines == 0
    assert fleet.emulator.stats.open_shells == 0  # the temporary sessions were closed


def test_done_callbacks_run_once_and_at_once_when_the_job_is_done(make_fleet: Any) -> None:
    make_fleet("a")
    seen: list[JobState] = []
    finished = threading.Event()
    job = psremoting.invoke_command("1", computer_name="a", as_job=True)

    def note(done_job: Any) -> None:
        seen.append(done_job.state)
        finished.set()

    job.add_done_callback(note)
    assert finished.wait(30)
    assert job.wait(1)
    late: list[Any] = []
    job.add_done_callback(late.append)  # already done: called at once, in this thread
    assert seen == [JobState.COMPLETED] and late == [job]
    assert list(job.result(timeout=1)) == [1]


def test_wait_job_any_and_timeout(make_fleet: Any) -> None:
    gate = Gate()
    make_fleet("a", "b", handlers={"Wait-Gate": gate})
    slow = psremoting.invoke_command("Wait-Gate a", computer_name="a", as_job=True)
    quick = psremoting.invoke_command("2", computer_name="b", as_job=True)
    assert psremoting.wait_job([slow, quick], any=True, timeout=30) == [quick]
    assert psremoting.wait_job([slow, quick], timeout=0.5) == []  # not all of them, in time
    gate.opened.set()
    assert psremoting.wait_job([slow, quick], timeout=30) == [slow, quick]


def test_remove_job_refuses_a_running_job_unless_forced(make_fleet: Any) -> None:
    gate = Gate()
    make_fleet("a", handlers={"Wait-Gate": gate})
    job = psremoting.invoke_command("Wait-Gate a", computer_name="a", as_job=True, job_name="Deploy")
    gate.wait_entered(1)
    with pytest.raises(SessionStateError) as refused:
        psremoting.remove_job(job)
    assert str(refused.value) == (
        f"The command cannot remove the job with the job ID {job.id} because the job is not finished. "
        "To remove the job, first stop the job, or use the Force parameter."
    )
    assert psremoting.get_job(name="Dep*") == [job]
    psremoting.remove_job(job, force=True)
    assert psremoting.get_job() == []
    assert job.wait(30) and job.state is JobState.STOPPED
    with pytest.raises(job_table.JobNotFoundError) as missing:
        psremoting.get_job(name="Deploy")
    assert "the job name Deploy was not found" in str(missing.value)


def test_receive_job_wait_streams_until_the_end_and_auto_removes(make_fleet: Any) -> None:
    gate = Gate()
    make_fleet("a", handlers={"Wait-Gate": gate})
    job = psremoting.invoke_command("'first'; Wait-Gate a; 'last'", computer_name="a", as_job=True)
    gate.wait_entered(1)
    # 'first' is there while the command still runs.
    stream = job.stream()
    kind, value = next(stream)
    assert (kind, str(value)) == ("output", "first") and job.state is JobState.RUNNING
    gate.opened.set()
    out = psremoting.receive_job(job, wait=True, auto_remove=True)
    assert [str(o) for o in out] == ["through a", "last"]
    assert psremoting.get_job() == []


def test_a_job_in_a_session_and_refused_sessions(make_fleet: Any) -> None:
    make_fleet("a")
    s = psremoting.new_pssession("a")
    try:
        job = psremoting.invoke_command("$env:COMPUTERNAME", session=s, as_job=True)
        assert job.wait(30) and [str(o) for o in job.receive()] == ["A"]
        s.close()
        with pytest.raises(SessionStateError, match="No valid sessions were specified"):
            psremoting.invoke_command("1", session=s, as_job=True)
    finally:
        psremoting.remove_pssession(s)


def test_job_name_without_as_job_is_refused() -> None:
    with pytest.raises(psremoting.InvalidOptionError, match="as_job=True"):
        psremoting.invoke_command("1", computer_name="a", job_name="x")
