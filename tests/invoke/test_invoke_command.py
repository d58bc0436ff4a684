"""invoke_command end to end: the real client against the emulator over loopback HTTP."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from psremoting.cmdlets.invoke.command import invoke_command, iter_invoke_command
from psremoting.cmdlets.invoke.results import HostStatus
from psremoting.cmdlets.sessions import new_pssession, remove_pssession
from psremoting.protocol.errors import PSRemotingError, RemoteError


def test_throttle_8_on_50_hosts_runs_at_most_8_at_once_and_returns_each_output_once(
    make_fleet: Any, throttle_gate: Any
) -> None:
    names = [f"node{n:02d}" for n in range(50)]
    gate = throttle_gate(total=50, limit=8)
    fleet = make_fleet(*names, handlers={"Wait-Gate": gate})
    result = invoke_command("Wait-Gate; $env:COMPUTERNAME", computer_name=names, throttle_limit=8)
    assert not result.errors, [e.message for e in result.errors[:3]]
    # Every host's output exactly once, annotated with the computer name as typed.
    assert Counter(str(o).lower() for o in result) == Counter(n.lower() for n in names)
    assert {o.PSComputerName for o in result} == set(names)
    assert all(o.PSShowComputerName is True for o in result)
    # At most 8 at once, seen on the server side, and the throttle was actually used.
    assert gate.peak == 8 and gate.timeouts == 0
    assert fleet.emulator.stats.peak_running_pipelines <= 8
    assert [h.status for h in result.hosts.values()] == [HostStatus.COMPLETED] * 50
    # The temporary sessions were closed afterwards.
    assert fleet.emulator.stats.open_shells == 0


def test_one_host_down_one_wrong_password_one_timing_out_the_others_complete(make_fleet: Any) -> None:
    stopped_on_server = threading.Event()

    def slow(ctx: Any) -> list[Any]:
        if str(ctx.args[0]).lower() == "slow" and ctx.io.stopping.wait(60):
            stopped_on_server.set()
        return [f"done {ctx.args[0]}"]

    fleet = make_fleet("ok1", "ok2", "badpw", "slow", handlers={"Wait-Slow": slow})
    fleet.down.add("down")
    fleet.wrong_password.add("badpw")
    hosts = ["ok1", "down", "badpw", "slow", "ok2"]
    result = invoke_command("Wait-Slow $env:COMPUTERNAME", computer_name=hosts, timeout=4)

    assert sorted(str(o) for o in result) == ["done OK1", "done OK2"]
    status = {name: h.status for name, h in result.hosts.items()}
    assert status == {
        "ok1": HostStatus.COMPLETED,
        "ok2": HostStatus.COMPLETED,
        "down": HostStatus.CONNECTION_FAILED,
        "badpw": HostStatus.CONNECTION_FAILED,
        "slow": HostStatus.TIMED_OUT,
    }
    errors = {e.computer_name: e for e in result.errors}
    assert errors["down"].message.startswith(
        "[down] Connecting to remote server down failed with the following error message : "
    )
    assert errors["down"].fully_qualified_error_id.endswith(",PSSessionStateBroken")
    assert errors["badpw"].message.startswith("[badpw] Connecting to remote server badpw failed")
    assert errors["badpw"].fully_qualified_error_id == "AccessDenied,PSSessionStateBroken"
    assert "timeout of 4 seconds" in errors["slow"].message
    assert result.timed_out == ["slow"]
    # The deadline stopped the remote pipeline (the server saw the stop), it did not just stop waiting.
    assert stopped_on_server.wait(10)


def test_argument_list_is_sent_as_real_arguments_not_pasted_into_the_script(make_fleet: Any) -> None:
    seen: list[Any] = []
    make_fleet("web1", record=seen)
    tricky = 'it\'s "quoted"; exit 9 $(boom)'
    script = "param($First, $Second) $First; $Second"
    invoke_command(script, computer_name=["web1"], argument_list=[tricky, 42])
    # What the server received: the script text unchanged, as a script command, and the values
    # as positional arguments (Invoke-Command -ArgumentList), as pypsrp add_script + add_argument.
    [[(text, is_script, parameters)]] = seen
    assert (text, is_script) == (script, True)
    assert parameters == [(None, tricky), (None, 42)]


def test_argument_list_values_reach_the_param_block(make_fleet: Any) -> None:
    make_fleet("web1")
    tricky = 'it\'s "quoted"; exit 9 $(boom)'
    result = invoke_command(
        "param($First, $Second) $First; $Second", computer_name=["web1"], argument_list=[tricky, 42]
    )
    assert not result.errors
    assert list(result) == [tricky, 42]
    assert result.hosts["web1"].exit_code is None


def test_remote_exit_code_and_remote_errors_are_reported_per_host(make_fleet: Any) -> None:
    make_fleet("web1", "web2")
    result = invoke_command("Write-Error 'disk full'; exit 3", computer_name=["web1", "web2"])
    assert {h.exit_code for h in result.hosts.values()} == {3}
    assert all(h.status is HostStatus.FAILED for h in result.hosts.values())
    assert sorted(e.computer_name for e in result.errors) == ["web1", "web2"]
    assert all(e.message == "disk full" for e in result.errors)
    assert (
        "+ PSComputerName        : web1"
        in next(e for e in result.errors if e.computer_name == "web1").format()
    )


def test_hide_computer_name_keeps_the_property_but_hides_it(make_fleet: Any) -> None:
    make_fleet("web1")
    [obj] = invoke_command("'x'", computer_name="web1", hide_computer_name=True)
    assert obj == "x" and obj.PSComputerName == "web1" and obj.PSShowComputerName is False


def test_file_path_sends_a_local_script(make_fleet: Any, tmp_path: Any) -> None:
    make_fleet("web1")
    script = tmp_path / "deploy.ps1"
    script.write_text('param($Who)\n"hello $Who"\n', encoding="utf-8")
    assert list(invoke_command(file_path=script, computer_name="web1", argument_list=["ci"])) == ["hello ci"]


def test_sessions_keep_their_state_between_calls_and_stay_open(make_fleet: Any) -> None:
    make_fleet("web1", "web2")
    sessions = new_pssession(["web1", "web2"])
    try:
        invoke_command("$counter = 41", session=sessions)
        result = invoke_command("$counter + 1", session=sessions)
        assert list(result) == [42, 42]
        assert {o.PSComputerName for o in result} == {"web1", "web2"}
        assert {o.RunspaceId for o in result} == {s.instance_id for s in sessions}
        assert all(s.state == "Opened" for s in sessions)
    finally:
        remove_pssession(session=sessions)


def test_a_closed_session_is_reported_and_the_others_run(make_fleet: Any) -> None:
    make_fleet("web1", "web2")
    s1, s2 = new_pssession(["web1", "web2"])
    remove_pssession(session=[s1])
    try:
        result = invoke_command("'ran'", session=[s1, s2])
        assert list(result) == ["ran"]
        [error] = result.errors
        assert "is not equal to Open" in error.message
        assert error.fully_qualified_error_id.startswith("InvokeCommandCommandInvalidSessionState")
        with pytest.raises(PSRemotingError, match="No valid sessions were specified"):
            invoke_command("'ran'", session=[s1])
    finally:
        remove_pssession(session=[s2])


def test_iterator_yields_as_results_arrive_and_each_host_finishes_once(make_fleet: Any) -> None:
    make_fleet("a", "b", "c")
    events = list(iter_invoke_command("1; 2", computer_name=["a", "b", "c"]))
    finished = [e for e in events if e.kind == "finished"]
    assert sorted(e.computer_name for e in finished) == ["a", "b", "c"]
    for name in "abc":
        mine = [e for e in events if e.computer_name == name]
        assert [e.kind for e in mine] == ["output", "output", "finished"]
        assert [e.value for e in mine[:2]] == [1, 2]


def test_error_action_stop_raises_the_first_error(make_fleet: Any) -> None:
    make_fleet("web1")
    with pytest.raises(RemoteError) as info:
        invoke_command("Write-Error 'nope'", computer_name="web1", error_action="Stop")
    assert info.value.record.computer_name == "web1"


def test_using_values_are_sent_in_the_verbatim_parameter_keyed_as_powershell_does(make_fleet: Any) -> None:
    seen: list[Any] = []
    make_fleet("web1", record=seen)
    from psremoting.protocol.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match=r"\$using:Name"):
        invoke_command("$using:Name", computer_name="web1")
    assert not seen  # refused before anything ran
    invoke_command("$using:Name; $using:name", computer_name="web1", using={"name": "from python"})
    [[(_text, _is_script, parameters)]] = seen
    # Base64(UTF-16LE("$using:name")), the key PowerShell 5+ computes for $using:Name (lower-cased).
    assert parameters == [("--%", {"JAB1AHMAaQBuAGcAOgBuAGEAbQBlAA==": "from python"})]


def test_using_values_reach_the_script(make_fleet: Any) -> None:
    make_fleet("web1")
    assert list(invoke_command("$using:Name", computer_name="web1", using={"name": "from python"})) == [
        "from python"
    ]


def test_leaving_the_iterator_early_stops_the_remote_pipelines_still_running(make_fleet: Any) -> None:
    started, stopped = threading.Semaphore(0), threading.Semaphore(0)

    def wait_forever(ctx: Any) -> list[Any]:
        started.release()
        ctx.io.write_output("working")
        if ctx.io.stopping.wait(60):
            stopped.release()
        return []

    make_fleet("w1", "w2", "w3", handlers={"Wait-Forever": wait_forever})
    events = iter_invoke_command("Wait-Forever", computer_name=["w1", "w2", "w3"], throttle_limit=2)
    first = next(events)
    assert (first.kind, first.value) == ("output", "working")
    # Both hosts of the throttle must be running before the break: the first output can come
    # from one while the other is still opening its session (then the break rightly keeps its
    # command from ever starting, and there would be one command to stop, not two).
    assert started.acquire(timeout=10) and started.acquire(timeout=10)
    events.close()  # as a `break` does
    # The hosts that were running were stopped on the server; the third never started.
    assert stopped.acquire(timeout=10) and stopped.acquire(timeout=10)
    assert not started.acquire(timeout=0.5)


def test_error_action_stop_stops_the_other_hosts(make_fleet: Any) -> None:
    running = threading.Event()
    stopped = threading.Event()

    def wait_for_stop(ctx: Any) -> list[Any]:
        running.set()
        if ctx.io.stopping.wait(60):
            stopped.set()
        return []

    def wait_for_the_other(ctx: Any) -> list[Any]:
        # The error must come while GOOD runs: a stop that reaches GOOD before its command
        # started would leave nothing running to stop (the test's race, not the product's).
        running.wait(30)
        return []

    make_fleet(
        "bad", "good", handlers={"Wait-ForStop": wait_for_stop, "Wait-ForTheOther": wait_for_the_other}
    )
    with pytest.raises(RemoteError, match="broken"):
        invoke_command(
            "if ($env:COMPUTERNAME -eq 'BAD') { Wait-ForTheOther; Write-Error 'broken' } else { Wait-ForStop }",
            computer_name=["bad", "good"],
            error_action="stop",
        )
    assert running.is_set()
    assert stopped.wait(10)


def test_a_session_lost_mid_command_is_reported_and_the_next_hosts_still_run(make_fleet: Any) -> None:
    fleet: Any = None

    def restart_winrm(ctx: Any) -> list[Any]:
        if str(ctx.args[0]).lower() == "victim":
            fleet.emulator.lose_shells()  # as a restart of the WinRM service does
            ctx.io.stopping.wait(2)  # the client's next Receive finds the shell gone
        return [f"ok {ctx.args[0]}"]

    fleet = make_fleet("victim", "after1", "after2", handlers={"Restart-WinRM": restart_winrm})
    result = invoke_command(
        "Restart-WinRM $env:COMPUTERNAME", computer_name=["victim", "after1", "after2"], throttle_limit=1
    )
    assert sorted(str(o) for o in result if str(o).startswith("ok A")) == ["ok AFTER1", "ok AFTER2"]
    victim = result.hosts["victim"]
    assert victim.status is HostStatus.CONNECTION_FAILED
    [error] = victim.errors
    assert error.message.startswith("[victim] The connection to victim broke while the command ran: ")
    assert error.fully_qualified_error_id.endswith("PSSessionStateBroken"), error.message


def test_a_host_that_never_answers_is_timed_out_at_the_deadline(make_fleet: Any) -> None:
    import socket
    import time

    fleet = make_fleet("fine")
    with socket.socket() as silent:  # accepts TCP connections, never answers a request
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/wsman"
        fleet.urls["hung"] = url
        started = time.monotonic()
        result = invoke_command("'here'", computer_name=["fine", "hung"], timeout=3)
        elapsed = time.monotonic() - started
    assert list(result) == ["here"]
    hung = result.hosts["hung"]
    assert (
        hung.status is HostStatus.TIMED_OUT
        and "could not connect within the timeout of 3 seconds" in hung.reason
    )
    assert elapsed < 10
