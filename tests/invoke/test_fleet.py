"""Invoke-Command over worker processes and a Dask cluster: the real client in other processes
against the emulator over loopback HTTP (NTLM, message encryption)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from psremoting.cmdlets.invoke import processes as processes_module
from psremoting.cmdlets.invoke.command import invoke_command, iter_spread
from psremoting.cmdlets.invoke.processes import auto_processes
from psremoting.cmdlets.invoke.results import HostStatus
from psremoting.protocol.errors import InvalidOptionError


def one_listener(make_fleet: Any, count: int, prefix: str = "web", **kwargs: Any) -> tuple[Any, list[str]]:
    """`count` computer names all answered by one emulator listener (each typed name is its
    own temporary session; PSComputerName tells them apart)."""
    names = [f"{prefix}{n:03d}" for n in range(count)]
    fleet = make_fleet(names[0], **kwargs)
    for name in names[1:]:
        fleet.urls[name.lower()] = fleet.emulator.url
    return fleet, names


@pytest.fixture
def worker_pids(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The worker processes started (a spy on `processes._Worker`)."""
    started: list[Any] = []
    original = processes_module._Worker.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        started.append(self.proc)

    monkeypatch.setattr(processes_module._Worker, "__init__", spy)
    return started


def test_processes_2_run_every_host_once_in_two_worker_processes(
    make_fleet: Any, worker_pids: list[Any]
) -> None:
    fleet, names = one_listener(make_fleet, 40)
    result = invoke_command(
        "'out'; Write-Error 'a remote error'", computer_name=names, processes=2, throttle_limit=8
    )
    assert Counter(o.PSComputerName for o in result) == Counter(names)
    assert all(str(o) == "out" for o in result)
    assert sorted(result.hosts) == sorted(names)
    assert {h.status for h in result.hosts.values()} == {HostStatus.FAILED}  # it wrote an error
    assert Counter(e.computer_name for e in result.errors) == Counter(names)
    assert all("a remote error" in e.message for e in result.errors)
    assert len(worker_pids) == 2 and len({p.pid for p in worker_pids}) == 2 and os.getpid() not in worker_pids
    assert [p.wait(10) for p in worker_pids] == [0, 0]
    assert fleet.emulator.stats.open_shells == 0  # every temporary session was closed


def test_processes_keep_the_deadline_and_report_the_hosts_that_passed_it(make_fleet: Any) -> None:
    def slow(ctx: Any) -> list[Any]:
        if str(ctx.args[0]).lower().endswith("3"):
            ctx.io.stopping.wait(60)
        return ["done"]

    fleet, names = one_listener(make_fleet, 6, handlers={"Wait-Slow": slow})
    result = invoke_command(
        "param($n) Wait-Slow $n", computer_name=names, argument_list=["x"], processes=2, timeout=3
    )
    assert [str(o) for o in result] == ["done"] * 6
    assert all(h.status == HostStatus.COMPLETED for h in result.hosts.values())
    timed = invoke_command("Wait-Slow 3", computer_name=names[:2], processes=2, timeout=3)
    assert [h.status for h in timed.hosts.values()] == [HostStatus.TIMED_OUT] * 2
    assert all("timeout of 3 seconds" in (h.reason or "") for h in timed.hosts.values())
    assert fleet.emulator.stats.open_shells == 0


def test_a_worker_process_killed_mid_run_has_its_unfinished_hosts_reported(
    make_fleet: Any, worker_pids: list[Any]
) -> None:
    gate = threading.Event()
    arrived = threading.Semaphore(0)

    def hold(ctx: Any) -> list[Any]:
        arrived.release()
        gate.wait(30)
        return ["done"]

    fleet, names = one_listener(make_fleet, 8, handlers={"Wait-Gate": hold})
    # Throttle 2 over 2 workers: one host of each at a time; shards of 4, dealt round-robin.
    events = iter_spread("Wait-Gate", {"computer_name": names, "throttle_limit": 2}, 2, None)
    finished: dict[str, list[Any]] = {}

    def consume() -> None:
        for event in events:
            if event.kind == "finished":
                finished.setdefault(event.computer_name, []).append(event.value)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for _ in range(2):  # each worker's first host is held at the gate
        assert arrived.acquire(timeout=30)
    worker_pids[0].kill()  # the worker of names[0::2], while names[0] runs
    worker_pids[0].wait(10)
    gate.set()
    consumer.join(60)
    assert sorted(finished) == sorted(names) and all(len(v) == 1 for v in finished.values())
    lost = {n for n, (r,) in finished.items() if r.status == HostStatus.FAILED}
    assert lost == set(names[0::2])
    reasons = {n: finished[n][0].reason for n in lost}
    assert all("the worker process ended unexpectedly (exit code -9)" in r for r in reasons.values())
    assert "while this host was running: the script may have run in part" in reasons[names[0]]
    assert all("before this host started: the script did not run" in reasons[n] for n in names[2::2])
    assert all(finished[n][0].errors[0].fully_qualified_error_id == "PSRemotingWorkerLost" for n in lost)
    assert all(finished[n][0].status == HostStatus.COMPLETED for n in names[1::2])


def test_processes_default_to_the_cores_only_when_the_hosts_pay_for_them() -> None:
    assert auto_processes(50, cores=2) == 1
    assert auto_processes(250, cores=2) == 2
    assert auto_processes(10_000, cores=8) == 8
    with pytest.raises(InvalidOptionError):
        invoke_command("1", computer_name=["a"], processes=0)


def test_cli_processes_2_gives_the_same_json_and_exit_code(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    from psremoting.cli.main import main

    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    fleet, names = one_listener(make_fleet, 6, prefix="cli")
    fleet.down.add("cli-down")
    argv = ["invoke", "-H", ",".join([*names, "cli-down"]), "-c", "$env:COMPUTERNAME", "--output", "json"]
    code = main([*argv, "--processes", "2"])
    document = json.loads(capsys.readouterr().out)
    assert code == main(argv) != 0  # a host that is down: the same exit code as in one process
    again = json.loads(capsys.readouterr().out)

    def shape(doc: Any) -> list[Any]:
        return sorted((h["host"], h["status"], len(h["output"])) for h in doc["hosts"])

    assert shape(document) == shape(again)
    assert {h["host"] for h in document["hosts"]} == {*names, "cli-down"}


def test_closing_early_stops_every_worker_and_no_secret_is_in_their_argv_or_environment(
    make_fleet: Any, worker_pids: list[Any]
) -> None:
    from tests.invoke.conftest import PASSWORD

    running = threading.Semaphore(0)

    def hold(ctx: Any) -> list[Any]:
        running.release()
        ctx.io.stopping.wait(30)  # until the client stops the pipeline
        return []

    fleet, names = one_listener(make_fleet, 6, handlers={"Wait-Held": hold})
    events = iter_spread("'started'; Wait-Held", {"computer_name": names, "throttle_limit": 4}, 2, None)
    first = next(events)
    assert first.kind == "output"
    for _ in range(2):  # both workers have hosts running
        assert running.acquire(timeout=30)
    for proc in worker_pids:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
        assert PASSWORD.encode() not in cmdline and PASSWORD.encode() not in environ
    events.close()  # what Ctrl+C and error_action="stop" do
    assert [p.wait(30) for p in worker_pids] == [0, 0]
    assert fleet.emulator.stats.open_shells == 0  # the workers stopped and closed their sessions
