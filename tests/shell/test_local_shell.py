"""The local shell's interpreter against the embedded emulator (real loopback HTTP).

What is typed at `PS /dir> ` runs in-process here (the tmux tests cover the terminal):
cmdlet aliases, parameter binding, variables, arrays, script blocks for Invoke-Command,
Get-Help, the PSSession table, and the error for a command that only runs remotely.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from psremoting.console.emulator_mode import emulated_computers
from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.interpreter import Interpreter


class Console:
    """An interpreter whose output is collected as text."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.ui = ConsoleHostUI(stdout=self.out, stdin=io.StringIO(), color=False)
        self.interpreter = Interpreter(self.ui)

    def run(self, text: str) -> str:
        start = self.out.tell()
        self.interpreter.execute(text)
        self.out.seek(start)
        result = self.out.read()
        self.out.seek(0, io.SEEK_END)
        return result


@pytest.fixture
def console() -> Iterator[Console]:
    from psremoting.cmdlets import sessions as session
    from psremoting.cmdlets.interactive import current, exit_pssession

    with emulated_computers():
        console = Console()
        try:
            yield console
        finally:
            while current() is not None:
                exit_pssession()
            session._reset_for_tests()


TABLE_ROW = re.compile(
    r"^ *(\d+) (\S+) +WSMan +(\S+) +RemoteMachine +(\w+) +Microsoft\.PowerShell +(\w+)$", re.M
)


def test_aliases_arrays_and_the_session_table(console: Console) -> None:
    assert console.run("$s = nsn -Cn Server01, Server02") == ""
    table = console.run("gsn")
    rows = TABLE_ROW.findall(table)
    assert sorted(r[2] for r in rows) == ["Server01", "Server02"]
    assert all(r[3] == "Opened" and r[4] == "Available" for r in rows)
    assert table.startswith("\n") and " Id Name" in table
    assert console.run("$s.Count") == "2\n"
    assert console.run("$s[0].State") == "Opened\n"
    assert console.run("$s[0].ComputerName") in ("Server01\n", "Server02\n")


def test_unique_prefixes_and_positional_parameters(console: Console) -> None:
    console.run("$a = New-PSSession -comp Server01 -Name first")
    console.run("$b = New-PSSession Server02")
    listing = console.run("Get-PSSession -Name first")
    assert [(r[0], r[1], r[2]) for r in TABLE_ROW.findall(listing)] == [("1", "first", "Server01")], listing
    assert console.run("(Get-PSSession 2).ComputerName") == "Server02\n"
    removal = console.run("Remove-PSSession -Id 1")
    assert removal == ""
    listing = console.run("Get-PSSession")
    assert [(r[0], r[2], r[3]) for r in TABLE_ROW.findall(listing)] == [("2", "Server02", "Opened")], listing
    assert console.run("$a.State") == "Closed\n"
    removal = console.run("$b | rsn")
    assert removal == ""
    assert console.run("Get-PSSession") == ""


def test_invoke_command_with_a_script_block(console: Console) -> None:
    assert console.run("icm -ComputerName Server01 -ScriptBlock { $env:COMPUTERNAME }").strip().lower() == (
        "server01"
    )
    console.run("$s = New-PSSession -ComputerName Server02")
    output = console.run("Invoke-Command $s { 1 + 2 }")
    assert output == "3\n"
    output = console.run("$x = 20; icm -Session $s -ScriptBlock { $using:x + 1 }")
    assert output == "21\n"


def test_enter_and_exit_at_the_local_level(console: Console) -> None:
    from psremoting.cmdlets.interactive import current

    console.run("Enter-PSSession -computername Server01")
    session = current()
    assert session is not None and session.prompt() == "[Server01]: PS C:\\Users\\user\\Documents> "
    console.run("Exit-PSSession")
    assert current() is None
    assert console.run("Exit-PSSession") == ""  # a silent no-op at the local prompt


def test_a_remote_only_command_says_so(console: Console) -> None:
    output = console.run("Get-Process")
    assert output.startswith(
        "Get-Process: The term 'Get-Process' is not a command of the psremoting local shell"
    )
    assert "Enter-PSSession" in output and "Invoke-Command" in output


def test_errors_in_powershell_words(console: Console) -> None:
    assert "The remote session with the session ID 42 is not available." in console.run(
        "Get-PSSession -Id 42"
    )
    assert "ambiguous" in console.run("New-PSSession -co x")
    assert console.run("New-PSSession -comp").startswith("New-PSSession: Missing an argument for parameter")
    assert console.run("icm {").startswith("ParserError: ")


def test_get_help_and_session_option(console: Console) -> None:
    help_text = console.run("Get-Help exsn")
    assert "NAME\n    Exit-PSSession" in help_text
    assert "Enter-PSSession" in console.run("help")
    option = console.run("New-PSSessionOption -SkipCACheck -OperationTimeout 5000")
    assert re.search(r"^SkipCACheck\s+: True$", option, re.M), option
    assert re.search(r"^OperationTimeout\s+: 5$", option, re.M), option


def test_exit_ends_the_shell(console: Console) -> None:
    assert console.interpreter.execute("exit").exit_code == 0
    assert console.interpreter.execute("exit 3").exit_code == 3


def test_a_session_piped_to_enter_pssession(console: Console) -> None:
    from psremoting.cmdlets.interactive import current

    console.run("$s = New-PSSession -ComputerName Server01")
    assert console.run("$s | Enter-PSSession") == ""
    entered = current()
    assert entered is not None and entered.computer_name == "Server01" and not entered.temporary


def test_a_broken_session_returns_to_the_local_prompt_with_a_message() -> None:
    from psremoting.cmdlets import sessions as session
    from psremoting.cmdlets.interactive import current, enter_pssession
    from psremoting.console.lineinput import LineInput
    from psremoting.console.remote import RemoteRunner

    with emulated_computers() as fleet:
        try:
            out = io.StringIO()
            ui = ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False)
            entered = enter_pssession("Server01", ui=ui)
            fleet.faults.lose_shells()  # as a restart of the WinRM service does
            runner = RemoteRunner(ui, LineInput())
            runner.run_line(entered, "Get-Date")
            assert current() is None
            assert runner.lost_connection
            assert "Server01 is Broken" in out.getvalue()
        finally:
            session._reset_for_tests()
