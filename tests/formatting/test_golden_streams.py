"""Golden tests for the streams beside the output: a remote error record and a progress bar,
as the Windows PowerShell 5.1 console shows them, the expected text quoted from Microsoft's
documentation (each case names its page), never from our own output.

The records come from the emulator over real HTTP with NTLM; where the emulator lacks the
command (Get-Service) the test registers a handler that answers with Windows' type names,
properties and error record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psrpcore.types import ErrorCategory

import psremoting
from psremoting.cmdlets.invoke.command import iter_invoke_command
from psremoting.console.progress import ProgressBoard
from psremoting.emulator import Emulator
from psremoting.emulator.engine.objects import make_object

USER, PASSWORD = "admin", "Golden-Passw0rd"
SERVICE = ["System.ServiceProcess.ServiceController", "System.ComponentModel.Component", "System.Object"]

RECEIVE_JOB = (
    "https://learn.microsoft.com/powershell/module/microsoft.powershell.core/receive-job?view=powershell-5.1"
)
WRITE_PROGRESS = "https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/write-progress?view=powershell-5.1"


def get_service(ctx: Any) -> list[Any]:
    """Get-Service as Windows answers `Get-Service dhcp, fakeservice`: the service it finds,
    and for the other the non-terminating error ServiceCommandException raises."""
    names = ctx.params.get("Name", ctx.args[0] if ctx.args else [])
    found = []
    for name in names if isinstance(names, list) else [names]:
        if str(name).lower() == "dhcp":
            found.append(
                make_object(
                    SERVICE, {"Status": "Running", "Name": "dhcp", "DisplayName": "DHCP Client"}, "dhcp"
                )
            )
            continue
        ctx.write_error(
            ctx.error(
                f"Cannot find any service with service name '{name}'.",
                "Microsoft.PowerShell.Commands.ServiceCommandException",
                ErrorCategory.ObjectNotFound,
                "NoServiceFoundForGivenName",
                target=str(name),
            )
        )
    return found


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(users={USER: PASSWORD}, auth=("ntlm",)) as emu:
        emu.register("Get-Service", get_service)
        yield emu


def _session(emu: Emulator) -> Any:
    # The docs' job ran on "localhost": the session is opened by that name.
    uri = emu.url.replace("127.0.0.1", "localhost")
    return psremoting.new_pssession(connection_uri=uri, credential=(USER, PASSWORD), authentication="ntlm")


def test_a_remote_error_record_reads_as_the_51_console_shows_it(emulator: Emulator) -> None:
    """Receive-Job (5.1), Example 2: `Start-Job {Get-Service dhcp, fakeservice}` then
    `Receive-Job`, a job's error shown as the console shows any remote error record."""
    expected = """\
Cannot find any service with service name 'fakeservice'.
    + CategoryInfo          : ObjectNotFound: (fakeservice:String) [Get-Service], ServiceCommandException
    + FullyQualifiedErrorId : NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand
    + PSComputerName        : localhost"""
    session = _session(emulator)
    try:
        result = psremoting.invoke_command("Get-Service dhcp, fakeservice", session=session)
    finally:
        psremoting.remove_pssession(session)
    assert [str(o) for o in result] == ["dhcp"]
    assert len(result.errors) == 1
    assert result.errors[0].format().split("\n") == expected.split("\n"), RECEIVE_JOB


def test_the_shell_prints_a_remote_error_as_the_51_console_does(emulator: Emulator) -> None:
    """The same record through the shell's Invoke-Command: the error text, then the table."""
    import io

    from psremoting.console.host_ui import ConsoleHostUI
    from psremoting.console.interpreter import Interpreter

    session = _session(emulator)
    out = io.StringIO()
    shell = Interpreter(ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False))
    shell.scope.set("s", session)
    try:
        shell.execute("Invoke-Command -Session $s { Get-Service dhcp, fakeservice } | Select-Object -First 0")
    finally:
        psremoting.remove_pssession(session)
    lines = [line.rstrip() for line in out.getvalue().split("\n") if line.strip()]
    assert lines == [
        "Cannot find any service with service name 'fakeservice'.",
        "    + CategoryInfo          : ObjectNotFound: (fakeservice:String) [Get-Service], ServiceCommandException",
        "    + FullyQualifiedErrorId : NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand",
        "    + PSComputerName        : localhost",
    ], RECEIVE_JOB


def test_the_progress_bar_reads_as_the_51_console_draws_it(emulator: Emulator) -> None:
    """Write-Progress (5.1), Example 2: two activities, the outer loop at its last step (100 %)
    and the inner one part way. The page's block lost the console's indentation (and prints
    the outer status as "Progress ->"), so lines are compared with their leading blanks
    stripped, the status typed as the page prints it; the width is the one at which the
    console's bar is the page's 69 cells (the bar's size follows the console width)."""
    expected = """\
Updating
Progress ->
 [ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo]
OuterLoop
Updating
Progress
 [oooooooooooooooooo                                                   ]
InnerLoop"""
    script = (
        "Write-Progress -Activity Updating -Status 'Progress ->' -PercentComplete 100 -CurrentOperation OuterLoop; "
        "Write-Progress -Id 1 -Activity Updating -Status Progress -PercentComplete 27 -CurrentOperation InnerLoop"
    )
    session = _session(emulator)
    board = ProgressBoard()
    try:
        for event in iter_invoke_command(script, session=session):
            if event.kind == "progress":
                board.update(0, event.value)
    finally:
        psremoting.remove_pssession(session)
    drawn = [line.strip() for line in board.lines(82) if line.strip()]
    assert drawn == [line.strip() for line in expected.split("\n")], WRITE_PROGRESS


def test_the_progress_bar_is_indented_as_the_console_draws_it() -> None:
    """The console's own layout under the page's flattened text: the activity one column in,
    status, bar and operation four, a blank line before the operation."""
    board = ProgressBoard()
    board.update(0, {"Activity": "Updating", "StatusDescription": "Progress", "PercentComplete": 50,
                     "CurrentOperation": "InnerLoop"})  # fmt: skip
    assert board.lines(30) == [" Updating", "    Progress", "    [oooooooo         ]", "", "    InnerLoop"]
