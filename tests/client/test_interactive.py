"""Enter-PSSession / Exit-PSSession: the interactive stack, prompts, lines with Out-Default,
host calls, Ctrl+C, and leaving even when the server no longer answers."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

import psremoting
from psremoting.cmdlets.interactive import current
from psremoting.emulator import Emulator
from psremoting.protocol.errors import ConnectionFailedError, SessionNotFoundError, SessionStateError
from psremoting.runspace.host_ui import BufferedHostUI

from .conftest import UNRESOLVABLE


def test_seed_example_1_temporary_session(emu: Emulator) -> None:
    # PS C:\> Enter-PSSession -computername Server01
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession("Server01", ui=ui)
    assert current() is entered and entered.temporary
    assert entered.prompt() == "[Server01]: PS C:\\Users\\user\\Documents> "
    assert entered.session.id == 1 and entered.session.state.value == "Opened"
    assert psremoting.get_pssession() == []  # a temporary session is never listed
    assert emu.shells() == 1
    # Server01\PS> Exit-PSSession
    result = entered.run("Exit-PSSession")
    assert result.exited and not entered.is_active and current() is None
    assert entered.session.state.value == "Closed" and emu.shells() == 0
    assert psremoting.get_pssession() == []
    # The temporary session burnt id 1.
    assert psremoting.new_pssession("Server01").name == "Session2"


def test_seed_example_3_exit_keyword(emu: Emulator) -> None:
    entered = psremoting.enter_pssession("Server01")
    assert entered.run("  EXIT ").exited
    assert entered.session.state.value == "Closed" and current() is None


def test_lines_run_with_out_default_through_the_host(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession(session=s, ui=ui)
    result = entered.run("1..3; 'text'")
    assert result.state == "Completed" and not result.exited
    assert ui.lines == ["1", "2", "3", "text"]
    ui.clear()
    entered.run("@{a=1}")
    assert "Name" in ui.text and "Value" in ui.text and "a" in ui.text  # formatted remotely, as a table
    ui.clear()
    entered.run("Get-Nothing")
    assert "The term 'Get-Nothing' is not recognized" in ui.text
    assert "FullyQualifiedErrorId : CommandNotFoundException" in ui.text
    ui.clear()
    entered.run("Write-Host hello")
    assert ui.text == "hello\n"
    assert (s.state.value, s.availability.value) == ("Opened", "Available")


def test_typed_lines_are_the_remote_history_as_typed(emu: Emulator) -> None:
    """Enter-PSSession runs each line with AddToHistory and the line itself as its History
    (MS-PSRP), so the server's Get-History lists what was typed, not "... | Out-Default"."""
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession("Server01", ui=ui)
    entered.run("hostname")
    entered.run("1 + 1")
    ui.clear()
    entered.run("Get-History")
    assert ui.lines == ["", "  Id CommandLine", "  -- -----------", "   1 hostname", "   2 1 + 1", "", ""]
    assert entered.session.invoke("(Get-History).Count").output == [3]  # invoke adds none
    entered.run("exit")


def test_a_version_prints_as_windows_prints_it_in_an_entered_session(emu: Emulator) -> None:
    """The server formats what an entered session shows (Out-Default on the host): a
    System.Version is its Major/Minor/Build/Revision table (about_PowerShell_Editions and the
    $PSVersionTable examples of Microsoft's docs), a part not given is -1 as in .NET."""
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession("Server01", ui=ui)
    entered.run('$PSVersionTable.PSVersion; [version]"1.2"')
    assert [line.rstrip() for line in ui.lines] == [
        "",
        "Major  Minor  Build  Revision",
        "-----  -----  -----  --------",
        "5      1      20348  2849",
        "1      2      -1     -1",
        "",
        "",
    ]
    entered.run("exit")


def test_read_host_is_answered_by_the_ui(emu: Emulator) -> None:
    ui = BufferedHostUI(["Ada"])
    entered = psremoting.enter_pssession("Server01", ui=ui)
    entered.run("$name = Read-Host 'Your name'; \"Hello $name\"")
    assert ui.lines[-1] == "Hello Ada"
    entered.run("exit")


def test_remote_exit_n_and_remote_exit_pssession_pop(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    entered = psremoting.enter_pssession(session=s)
    result = entered.run("exit 3")
    assert result.exited and result.exit_code == 3 and current() is None
    assert s.state.value == "Opened"  # a PSSession survives
    again = psremoting.enter_pssession(session=s)
    assert again.run("'bye'; Exit-PSSession").exited  # PopRunspace host call from the server
    assert current() is None and s.state.value == "Opened"


def test_exit_works_when_the_server_lost_the_session(emu: Emulator) -> None:
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession("Server01", ui=ui)
    emu.lose_shells()
    assert entered.run("exit").exited  # no server round trip needed
    assert current() is None and entered.session.state.value == "Closed"


def test_a_line_into_a_broken_session_pops_with_a_message(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession(session=s, ui=ui)
    emu.lose_shells()
    result = entered.run("Get-Date")
    assert result.exited and result.error is not None and current() is None
    assert "Broken" in ui.text
    assert s.state.value == "Broken"
    # Entering a Broken session is refused.
    with pytest.raises(SessionStateError, match="Cannot enter session 1"):
        psremoting.enter_pssession(session=s)


def test_exit_pssession_with_nothing_entered_does_nothing(emu: Emulator) -> None:
    psremoting.exit_pssession()
    assert current() is None


def test_enter_by_id_name_instance_id_and_errors(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01", name="Web")
    for kwargs in (
        {"id": 1},
        {"name": "web"},
        {"instance_id": s.instance_id},
        {"instance_id": str(s.instance_id)},
    ):
        entered = psremoting.enter_pssession(**kwargs)
        assert entered.session is s and not entered.temporary
        entered.run("exit")
    assert s.state.value == "Opened"
    with pytest.raises(
        SessionNotFoundError, match="The remote session with the session ID 9 is not available."
    ):
        psremoting.enter_pssession(id=9)
    with pytest.raises(
        SessionNotFoundError, match="The remote session with the name web\\*  is not available."
    ):
        psremoting.enter_pssession(name="web*")  # Enter takes exact names only
    other = uuid.uuid4()
    with pytest.raises(SessionNotFoundError, match=f"Remote session is not available for {other}."):
        psremoting.enter_pssession(instance_id=other)
    with pytest.raises(ConnectionFailedError):
        psremoting.enter_pssession(UNRESOLVABLE, credential=("u", "p"))
    assert current() is None


def test_ctrl_c_stops_the_line_and_keeps_the_session(emu: Emulator) -> None:
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession("Server01", ui=ui)
    timer = threading.Timer(0.5, entered.stop)
    started = time.monotonic()
    timer.start()
    try:
        result = entered.run("'before'; Start-Sleep -Seconds 30; 'after'")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 6
    assert result.state == "Stopped" and not result.exited
    assert "before" in ui.text and "after" not in ui.text
    assert entered.is_active and entered.run("'still here'").state == "Completed"
    entered.run("exit")


def test_tab_completion(emu: Emulator) -> None:
    entered = psremoting.enter_pssession("Server01")
    completion = entered.complete("Get-Dat")
    assert "Get-Date" in completion.matches
    assert (completion.replacement_index, completion.replacement_length) == (0, 7)
    entered.run("exit")


def test_nested_enter_and_exit_order(emu: Emulator) -> None:
    a = psremoting.new_pssession("Server01")
    b = psremoting.new_pssession("Server02")
    first = psremoting.enter_pssession(session=a)
    second = psremoting.enter_pssession(session=b)
    assert current() is second and second.prompt().startswith("[Server02]: ")
    psremoting.exit_pssession()
    assert current() is first
    psremoting.exit_pssession()
    assert current() is None
