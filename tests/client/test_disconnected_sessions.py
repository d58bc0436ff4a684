"""Disconnected sessions: Disconnect-, Connect-, Receive-PSSession, Get-PSSession -ComputerName,
Invoke-Command -InDisconnectedSession, from this process and "another" one (a fresh registry:
nothing of the first process's objects is used, only what the server says).
"""

from __future__ import annotations

import threading
import time

import pytest

import psremoting
from psremoting.cmdlets import sessions as registry
from psremoting.emulator import Emulator
from psremoting.protocol.errors import CommandDisconnectedError, InvalidOptionError, SessionStateError

from .conftest import route_to

COUNT = "1..20 | ForEach-Object { $_; Start-Sleep -Milliseconds 50 }"


def _forget_this_process() -> None:
    """What a new process knows of the sessions: nothing (the server still has them)."""
    with registry._registry_lock:
        registry._registry.clear()


def _shell_of(emu: Emulator, session: psremoting.PSSession) -> object:
    [shell] = [s for s in emu.service().registry.list() if s.shell_id == str(session.instance_id).upper()]
    return shell


def test_in_disconnected_session_then_receive_from_another_process(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    [started] = psremoting.invoke_command(COUNT, computer_name="Server01", in_disconnected_session=True)
    assert (started.name, started.state.value, started.availability.value) == (
        "Runspace1",
        "Disconnected",
        "None",
    )
    assert psremoting.get_pssession() == [started]  # in the registry, as PowerShell adds it
    _forget_this_process()
    [found] = psremoting.get_pssession(computer_name="Server01")
    assert found is not started and (found.name, found.instance_id) == ("Runspace1", started.instance_id)
    assert (found.state.value, found.availability.value) == ("Disconnected", "None")
    assert psremoting.get_pssession() == []  # listing does not add to the registry
    result = psremoting.receive_pssession(computer_name="Server01", name="runspace1")  # exact, any case
    assert list(result) == list(range(1, 21)) and result.errors == []
    assert result[0].PSComputerName == "Server01" and result[0].RunspaceId == started.instance_id
    assert result.hosts["Server01"].status.value == "Completed"
    [connected] = psremoting.get_pssession()  # the connected session is in the registry now
    assert connected.instance_id == started.instance_id
    assert (connected.state.value, connected.availability.value) == ("Opened", "Available")
    assert list(psremoting.receive_pssession(connected)) == []  # exactly once: nothing left


def test_get_pssession_computer_name_filters_and_powershells_errors(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    sessions = psremoting.invoke_command(
        "Start-Sleep 30", computer_name=["Server01"], in_disconnected_session=True, session_name=["Nightly"]
    )
    assert [s.name for s in sessions] == ["Nightly"]
    opened = psremoting.new_pssession("Server01", name="Work")
    everything = psremoting.get_pssession(computer_name="Server01")
    assert {(s.name, s.state.value) for s in everything} == {("Nightly", "Disconnected"), ("Work", "Opened")}
    assert opened in everything  # a session of this process is returned as its own object
    assert [s.name for s in psremoting.get_pssession(computer_name="Server01", name="Night*")] == ["Nightly"]
    assert [s.name for s in psremoting.get_pssession(computer_name="Server01", state="Disconnected")] == [
        "Nightly"
    ]
    with pytest.raises(psremoting.SessionNotFoundError) as info:
        psremoting.get_pssession(computer_name="Server01", name="NoSuchSession")
    assert str(info.value) == 'The command cannot find a PSSession that has the name "NoSuchSession".'


def test_a_session_another_client_holds_is_busy_and_cannot_be_connected(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    holder = psremoting.new_pssession("Server01", name="Held")
    _forget_this_process()
    [seen] = psremoting.get_pssession(computer_name="Server01", name="Held")
    assert (seen.state.value, seen.availability.value) == ("Disconnected", "Busy")
    with pytest.raises(SessionStateError) as info:
        psremoting.connect_pssession(seen)
    assert str(info.value) == (
        'Cannot connect PSSession "Held", either because it is not in the Disconnected state, or it is not '
        "available for connection."
    )
    assert holder.invoke("'mine'").output == ["mine"]


def test_disconnect_returns_at_once_while_a_command_runs(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    seen: list[object] = []
    failures: list[BaseException] = []
    first = threading.Event()

    def run() -> None:
        try:
            for item in session.start("1; Start-Sleep -Seconds 2; 2; 3"):
                if item.stream == "progress":  # Windows' "Preparing modules for first use."
                    continue
                seen.append(item.value)
                first.set()
        except BaseException as exc:
            failures.append(exc)
        first.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert first.wait(10) and seen == [1]
    assert session.availability.value == "Busy"
    started = time.monotonic()
    psremoting.disconnect_pssession(session, idle_timeout_sec=120, output_buffering_mode="Block")
    assert time.monotonic() - started < 1.0  # not waiting for the command
    assert (session.state.value, session.availability.value) == ("Disconnected", "None")
    worker.join(10)
    [failure] = failures
    assert isinstance(failure, CommandDisconnectedError)
    assert str(failure) == (
        "The running command has been disconnected but is still running on the remote server.  Reconnect to "
        "get command operation status and output data."
    )
    shell = _shell_of(emulator_ntlm, session)
    assert (shell.state, shell.idle_timeout, shell.buffer_mode) == ("Disconnected", 120.0, "Block")
    rest = psremoting.receive_pssession(session)
    assert seen + list(rest) == [1, 2, 3]


def test_disconnect_checks_the_idle_timeout_as_powershell_does(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01", name="Short")
    with pytest.raises(InvalidOptionError) as info:
        psremoting.disconnect_pssession(session, idle_timeout_sec=30)
    assert str(info.value) == (
        "The session Short cannot be disconnected because the specified idle time-out value 30 (seconds) is "
        "either greater than the server maximum allowed 2147483 (seconds), or less than the minimum allowed 60 "
        "(seconds).  Specify an idle time-out value that is within the allowed range, and try again."
    )
    assert session.state.value == "Opened"
    psremoting.disconnect_pssession(session)
    with pytest.raises(SessionStateError, match='Cannot disconnect PSSession "Short"'):
        session.close()
        psremoting.disconnect_pssession(session)


def test_connect_pssession_by_computer_and_name_then_run_commands(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01", name="Keep")
    session.invoke("$kept = 42")
    psremoting.disconnect_pssession(session)
    _forget_this_process()
    [connected] = psremoting.connect_pssession(computer_name="Server01", name="Keep")
    assert (connected.state.value, connected.availability.value) == ("Opened", "Available")
    assert connected.invoke("$kept").output == [42]  # the same runspace, its state kept


def test_the_shell_idle_timeout_starts_at_disconnect_and_deletes_the_session() -> None:
    with Emulator(users={"user": "Idle-Passw0rd"}, auth=("ntlm", "negotiate"), idle_timeout=1.0) as emu:
        route_to(emu, auth="ntlm")
        session = psremoting.new_pssession("Server01")
        psremoting.disconnect_pssession(session)
        deadline = time.monotonic() + 15
        while emu.shells() and time.monotonic() < deadline:
            threading.Event().wait(0.1)
        assert emu.shells() == 0
        _forget_this_process()
        assert psremoting.get_pssession(computer_name="Server01") == []


def test_block_mode_holds_a_busy_command_while_disconnected(emulator_ntlm: Emulator) -> None:
    """Block: a command writing more than the disconnected buffer waits until a client
    comes back; then everything arrives, in order."""
    route_to(emulator_ntlm, auth="ntlm")
    script = "1..3000 | ForEach-Object { 'line {0} {1}' -f $_, ('x' * 1000) }"
    [session] = psremoting.invoke_command(script, computer_name="Server01", in_disconnected_session=True)
    shell = _shell_of(emulator_ntlm, session)
    deadline = time.monotonic() + 20
    while not _blocked(shell) and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    assert _blocked(shell)  # the writer waits on a full buffer, the command still running
    result = psremoting.receive_pssession(session)
    assert [line.split()[1] for line in result] == [str(n) for n in range(1, 3001)]


def _blocked(shell: object) -> bool:
    from psremoting.emulator.shell_connection import DISCONNECTED_BUFFER_BYTES

    command = next(iter(shell.commands.values()))  # type: ignore[attr-defined]
    return (not command.finished) and shell.queued_bytes(command.pipeline_id) >= DISCONNECTED_BUFFER_BYTES  # type: ignore[attr-defined]


def test_drop_mode_discards_the_oldest_output(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    session.runspace.start(
        "Start-Sleep -Milliseconds 500; 1..3000 | ForEach-Object { 'line {0} {1}' -f $_, ('x' * 1000) }"
    ).begin()
    psremoting.disconnect_pssession(session, output_buffering_mode="Drop")
    shell = _shell_of(emulator_ntlm, session)
    deadline = time.monotonic() + 30
    while not all(c.finished for c in shell.commands.values()) and time.monotonic() < deadline:  # type: ignore[attr-defined]
        threading.Event().wait(0.05)
    result = psremoting.receive_pssession(session)
    numbers = [int(line.split()[1]) for line in result]
    assert numbers[-1] == 3000 and 0 < len(numbers) < 3000  # the newest kept, the oldest gone
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert result.hosts["Server01"].status.value == "Completed"


def test_end_of_process_keeps_disconnected_and_busy_sessions_on_the_server(emulator_ntlm: Emulator) -> None:
    """PowerShell's `exit`: idle sessions are closed, busy ones disconnected (their command
    goes on), disconnected ones left alone."""
    route_to(emulator_ntlm, auth="ntlm")
    idle = psremoting.new_pssession("Server01", name="Idle")
    busy = psremoting.new_pssession("Server01", name="Busy")
    gone = psremoting.new_pssession("Server01", name="Away")
    psremoting.disconnect_pssession(gone)
    busy.runspace.start("Start-Sleep 30").begin()
    busy.runspace.set_busy(True)  # as a running pipeline makes it
    registry.end_of_process()
    assert idle.state.value == "Closed"
    states = {s.name: s.state for s in emulator_ntlm.service().registry.list()}
    assert states == {"Busy": "Disconnected", "Away": "Disconnected"}


def test_a_host_call_made_while_disconnected_waits_for_a_client(emulator_ntlm: Emulator) -> None:
    """`exit 7` is a host call (SetShouldExit): made while no client is connected, it waits
    for one, and the exit code arrives with the rest."""
    route_to(emulator_ntlm, auth="ntlm")
    [session] = psremoting.invoke_command(
        "'before'; Start-Sleep -Milliseconds 300; 'after'; exit 7", computer_name="Server01",
        in_disconnected_session=True,
    )  # fmt: skip
    shell = _shell_of(emulator_ntlm, session)
    deadline = time.monotonic() + 10
    while emulator_ntlm.stats.running_pipelines == 0 and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    threading.Event().wait(0.6)  # past the sleep: the pipeline is at its host call now
    assert emulator_ntlm.stats.running_pipelines == 1  # waiting, not failed
    assert shell.state == "Disconnected"  # type: ignore[attr-defined]
    result = psremoting.receive_pssession(session)
    assert list(result) == ["before", "after"] and result.errors == []
    assert result.hosts["Server01"].exit_code == 7
