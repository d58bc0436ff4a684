"""The disconnected-session cmdlets in the local shell: Invoke-Command -InDisconnectedSession,
Get-PSSession -ComputerName, Disconnect-PSSession -IdleTimeoutSec -OutputBufferingMode,
Connect-PSSession -ComputerName -Name / -InstanceId, Receive-PSSession; and `exit`, which
leaves disconnected sessions on the server (PowerShell's LocalConnection close).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from psremoting.cmdlets import sessions as registry
from psremoting.console.emulator_mode import emulated_computers

from .test_local_shell import Console

ROW = re.compile(r"^ *(\d+) (\S+) +WSMan +(\S+) +RemoteMachine +(\w+) +Microsoft\.PowerShell +(\w+)$", re.M)


@pytest.fixture
def console_and_fleet() -> Iterator[tuple[Console, object]]:
    from psremoting.cmdlets.interactive import current, exit_pssession

    with emulated_computers() as fleet:
        console = Console()
        try:
            yield console, fleet
        finally:
            while current() is not None:
                exit_pssession()
            registry._reset_for_tests()


def test_in_disconnected_session_get_by_computer_and_receive(
    console_and_fleet: tuple[Console, object],
) -> None:
    console, _fleet = console_and_fleet
    table = console.run(
        "Invoke-Command -ComputerName Server01 -InDisconnectedSession -SessionName Night { 1..5 }"
    )
    assert [m.groups()[1:] for m in ROW.finditer(table)] == [("Night", "Server01", "Disconnected", "None")]
    with registry._registry_lock:
        registry._registry.clear()  # as a new shell would see it: only the server knows
    listed = console.run("Get-PSSession -ComputerName Server01")
    assert [m.groups()[1:] for m in ROW.finditer(listed)] == [("Night", "Server01", "Disconnected", "None")]
    assert console.run("Receive-PSSession -ComputerName Server01 -Name Night").split() == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert (
        console.run("Receive-PSSession -ComputerName Server01 -Name NoSuch") == ""
    )  # PowerShell prints nothing


def test_disconnect_with_idle_timeout_and_buffering_then_connect_by_name(
    console_and_fleet: tuple[Console, object],
) -> None:
    console, fleet = console_and_fleet
    console.run("$s = New-PSSession -ComputerName Server01 -Name Work")
    console.run("Invoke-Command -Session $s { $x = 7 }")
    out = console.run("Disconnect-PSSession -Session $s -IdleTimeoutSec 300 -OutputBufferingMode Drop")
    assert [m.groups()[1:] for m in ROW.finditer(out)] == [("Work", "Server01", "Disconnected", "None")]
    [shell] = fleet.emulator.service("Server01").registry.list()  # type: ignore[attr-defined]
    assert (shell.state, shell.idle_timeout, shell.buffer_mode) == ("Disconnected", 300.0, "Drop")
    with registry._registry_lock:
        registry._registry.clear()
    out = console.run("Connect-PSSession -ComputerName Server01 -Name Work")
    assert [m.groups()[1:] for m in ROW.finditer(out)] == [("Work", "Server01", "Opened", "Available")]
    assert console.run("Invoke-Command -Session (Get-PSSession -Name Work) { $x }").split() == ["7"]


def test_disconnect_rejects_an_idle_timeout_under_a_minute(console_and_fleet: tuple[Console, object]) -> None:
    console, _fleet = console_and_fleet
    console.run("$s = New-PSSession -ComputerName Server01")
    out = console.run("Disconnect-PSSession -Session $s -IdleTimeoutSec 5")
    assert "cannot be disconnected because the specified idle time-out value 5 (seconds)" in out
    assert "Opened" in console.run("$s")


def test_exit_leaves_disconnected_sessions_on_the_server(console_and_fleet: tuple[Console, object]) -> None:
    from psremoting.console.repl import _close_everything

    console, fleet = console_and_fleet
    console.run("$idle = New-PSSession -ComputerName Server01 -Name Idle")
    console.run("$away = New-PSSession -ComputerName Server01 -Name Away")
    console.run("Disconnect-PSSession $away")
    _close_everything()  # what `exit` does
    shells = fleet.emulator.service("Server01").registry.list()  # type: ignore[attr-defined]
    assert [(s.name, s.state) for s in shells] == [("Away", "Disconnected")]
