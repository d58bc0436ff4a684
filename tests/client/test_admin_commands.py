"""The commands an admin types first, through psremoting's client against the emulator over
real loopback HTTP: service control with ShouldProcess."""

from __future__ import annotations

import psremoting
from psremoting.emulator import Emulator
from psremoting.runspace.host_ui import BufferedHostUI

W3SVC = '"World Wide Web Publishing Service (W3SVC)"'


def test_restart_service_what_if_and_stop_service_change_what_every_session_sees(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    ui = BufferedHostUI()
    result = session.invoke("Restart-Service W3SVC -WhatIf", ui=ui)
    assert result.output == [] and result.state == "Completed"
    assert ui.lines == [f'What if: Performing the operation "Restart-Service" on target {W3SVC}.']

    assert session.invoke("Stop-Service W3SVC -Confirm:$false").output == []
    # the service's state is the host's: another session sees it stopped
    other = psremoting.new_pssession("Server01")
    assert other.invoke("(Get-Service W3SVC).Status").output == ["Stopped"]
    assert next(s for s in emu.services if s["Name"] == "W3SVC")["Status"] == "Stopped"


def test_confirm_is_a_prompt_the_client_answers(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    ui = BufferedHostUI(choices=[2])  # No
    session.invoke("Stop-Service W3SVC -Confirm", ui=ui)
    assert ui.prompts == [
        f'Are you sure you want to perform this action?\nPerforming the operation "Stop-Service" on target {W3SVC}.'
    ]
    assert session.invoke("(Get-Service W3SVC).Status").output == ["Running"]
    ui = BufferedHostUI(choices=[0])  # Yes
    result = session.invoke("Stop-Service W3SVC -Confirm -PassThru", ui=ui)
    (controller,) = result.output
    assert controller.Status == "Stopped"


def test_unknown_service_is_windows_error(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    result = session.invoke("Restart-Service nope")
    (error,) = result.error
    assert str(error) == "Cannot find any service with service name 'nope'."
    assert error.fully_qualified_error_id == (
        "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.RestartServiceCommand"
    )


def test_modules_as_a_51_host_has_them(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    result = session.invoke("Import-Module Nope; Import-Module ServerManager; Get-Module ServerManager")
    (error,) = result.error
    assert (
        error.fully_qualified_error_id
        == "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"
    )
    (module,) = result.output
    assert module.Name == "ServerManager" and module.ModuleType == "Manifest"
    available = session.invoke("Get-Module -ListAvailable | ForEach-Object { $_.Name }").output
    assert "Microsoft.PowerShell.Management" in available and "PSReadline" in available


def test_get_win_event_with_a_filter_hashtable(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    result = session.invoke("Get-WinEvent -FilterHashtable @{LogName='System'; Id=7036} -MaxEvents 2")
    assert [r.Id for r in result.output] == [7036, 7036]
    assert {r.ProviderName for r in result.output} == {"Service Control Manager"}
    assert result.output[0].Message.endswith("service entered the running state.")


def test_a_background_job_inside_the_remote_session(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    (job,) = session.invoke("Start-Job { Get-Service W3SVC | % Status; 6 * 7 }").output
    assert (job.Id, job.Name, job.PSJobTypeName) == (1, "Job1", "BackgroundJob")
    # the job lives in the session: a later command waits for it and takes its output
    assert session.invoke("Wait-Job -Id 1 | Receive-Job").output == ["Running", 42]
    assert session.invoke("(Get-Job -Id 1).State").output == ["Completed"]
