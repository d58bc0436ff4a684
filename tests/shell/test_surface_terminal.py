"""Issue 16's "must show", typed into a real terminal (tmux) running `psremoting shell --emulator`:
background jobs and PowerShell's job table, pipeline input to a session, and implicit remoting
(Import-PSSession, then the remote command at the local prompt, with tab completion)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .terminal import Terminal, tmux_available

HELPER = Path(__file__).with_name("windows_shaped.py")
JOB_HEADER = (
    "Id     Name            PSJobTypeName   State         HasMoreData     Location             Command"
)


@pytest.fixture
def surface_shell(tmp_path: Path) -> Iterator[Callable[[], Terminal]]:
    """`psremoting shell --emulator` with a Windows-shaped Get-Service on every computer."""
    if not tmux_available():
        pytest.skip("tmux is not installed (apt-get install tmux; .ci/setup-system.sh does it in CI)")
    started: list[Terminal] = []

    def start() -> Terminal:
        folder = tmp_path / f"term{len(started) + 1}"
        folder.mkdir()
        (tmp_path / "home").mkdir(exist_ok=True)
        env = {
            "HOME": str(tmp_path / "home"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "PSREMOTING_LOG": str(folder / "psremoting.log"),
        }
        term = Terminal(
            [sys.executable, str(HELPER), "shell", "--emulator"], folder, env=env, width=250, cwd=tmp_path
        )
        started.append(term)
        term.wait_for(f"PS {tmp_path}> ")
        return term

    yield start
    for term in started:
        term.close()


def test_jobs_print_the_names_and_powershells_job_table(
    surface_shell: Callable[[], Terminal], tmp_path: Path
) -> None:
    term = surface_shell()
    prompt = f"PS {tmp_path}> "
    term.line(
        "$j = Invoke-Command -ComputerName a,b,c { $env:COMPUTERNAME } -AsJob; Wait-Job $j; Receive-Job $j"
    )
    screen = term.wait_for_count(prompt, 2)
    assert "-AsJob; Wait-Job $j; Receive-Job $j" in screen, screen
    answer = screen.split("-AsJob; Wait-Job $j; Receive-Job $j", 1)[1]
    # Wait-Job writes the job (the table), Receive-Job the three names, in child job order.
    assert JOB_HEADER in answer
    assert re.search(r"^1 +Job1 +RemoteJob +Completed +True +a,b,c +\$env:COMPUTERNAME$", answer, re.M)
    assert re.search(r"\nA\nB\nC\n", answer)
    term.line("Get-Job")
    screen = term.wait_for_count(prompt, 3)
    table = screen.rsplit("> Get-Job", 1)[1]
    assert JOB_HEADER in table
    assert re.search(r"^1 +Job1 +RemoteJob +Completed +False +a,b,c +\$env:COMPUTERNAME$", table, re.M)
    # Every name came with the computer it came from.
    term.line(
        "$k = icm -cn a,b,c { $env:COMPUTERNAME } -AsJob; $null = Wait-Job $k; $r = Receive-Job $k; $r.PSComputerName"
    )
    screen = term.wait_for_count(prompt, 4)
    assert screen.rsplit("$r.PSComputerName", 1)[1].split(prompt.rstrip())[0].split() == ["a", "b", "c"]
    term.line("exit")
    assert term.wait_exit() == 0


def test_pipeline_input_reaches_the_remote_input(
    surface_shell: Callable[[], Terminal], tmp_path: Path
) -> None:
    term = surface_shell()
    prompt = f"PS {tmp_path}> "
    term.line("$s = New-PSSession -ComputerName Server01")
    term.wait_for_count(prompt, 2)
    term.line("1..5 | Invoke-Command -Session $s { $input | % { $_ * 2 } }")
    screen = term.wait_for_count(prompt, 3)
    assert screen.rsplit("{ $input | % { $_ * 2 } }", 1)[1].split(prompt.rstrip())[0].split() == [
        "2",
        "4",
        "6",
        "8",
        "10",
    ]
    term.line("exit")
    assert term.wait_exit() == 0


def test_import_pssession_then_the_remote_command_at_the_local_prompt(
    surface_shell: Callable[[], Terminal], tmp_path: Path
) -> None:
    term = surface_shell()
    prompt = f"PS {tmp_path}> "
    term.line("$s = New-PSSession -ComputerName Server01")
    term.wait_for_count(prompt, 2)
    term.line("Import-PSSession -Session $s -CommandName Get-Service")
    screen = term.wait_for_count(prompt, 3)
    assert re.search(r"^Script +1\.0 +tmp_\w+\.\w+ +\{Get-Service\}$", screen, re.M)
    # Tab completes the imported command and its parameters, as for the shell's own cmdlets.
    term.type("Get-Serv")
    term.keys("Tab")
    term.wait_for(prompt + "Get-Service")
    term.type(" -Disp")
    term.keys("Tab")
    term.wait_for(prompt + "Get-Service -DisplayName")
    term.keys("C-c")
    term.line("Get-Service W3SVC")
    screen = term.wait_for(re.compile(r"Running  W3SVC +World Wide Web Publishing Service"))
    answer = screen.rsplit("> Get-Service W3SVC", 1)[1]
    # ServiceController's table view, as at a Windows prompt (implicit remoting hides the computer)
    assert "Status   Name               DisplayName\n------   ----               -----------\n" in answer
    term.line("exit")
    assert term.wait_exit() == 0
