"""Jobs, pipeline input, implicit remoting, Copy-Item and the common parameters at the local
prompt, typed as a user types them, run in-process against the embedded emulator (real
loopback HTTP); the terminal itself is covered by test_surface_terminal.py."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from psremoting.console.emulator_mode import emulated_computers
from psremoting.console.terminal import TerminalReader

from .test_local_shell import Console
from .windows_shaped import get_service

JOB_HEADER = (
    "Id     Name            PSJobTypeName   State         HasMoreData     Location             Command"
)
JOB_DASHES = (
    "--     ----            -------------   -----         -----------     --------             -------"
)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    from psremoting.cmdlets import job_table, jobs
    from psremoting.cmdlets import sessions as session
    from psremoting.cmdlets.interactive import current, exit_pssession

    jobs._reset_for_tests()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    with emulated_computers() as fleet:
        fleet.register("Get-Service", get_service)
        console = Console()
        try:
            yield console
        finally:
            for job in job_table.get_job():
                job.stop()
                job.wait(20)
            while current() is not None:
                exit_pssession()
            session._reset_for_tests()
            jobs._reset_for_tests()
            os.chdir(cwd)


def test_as_job_wait_receive_and_the_job_table(console: Console) -> None:
    assert console.run("$j = Invoke-Command -ComputerName a,b,c { $env:COMPUTERNAME } -AsJob") == ""
    waited = console.run("Wait-Job $j")
    lines = waited.strip("\n").split("\n")
    assert lines[0] == JOB_HEADER and lines[1] == JOB_DASHES
    assert re.fullmatch(r"1 +Job1 +RemoteJob +Completed +True +a,b,c +\$env:COMPUTERNAME", lines[2])
    assert console.run("Receive-Job $j") == "A\nB\nC\n"
    assert console.run("@(Receive-Job $j).Count") == "0\n"  # received: gone from the job
    table = console.run("Get-Job")
    assert re.search(r"^1 +Job1 +RemoteJob +Completed +False +a,b,c", table, re.M)
    children = console.run("Get-Job -IncludeChildJob")
    assert [row.split()[:3] for row in children.strip().split("\n")[3:]] == [
        ["2", "Job2", "Completed"],
        ["3", "Job3", "Completed"],
        ["4", "Job4", "Completed"],
    ]
    assert console.run("Remove-Job $j; Get-Job") == ""


def test_receive_keep_and_the_output_carries_pscomputername(console: Console) -> None:
    console.run("$j = icm -cn web1, web2 { $env:COMPUTERNAME } -AsJob -JobName Names")
    console.run("$null = Wait-Job -Name Names")
    assert console.run("(Receive-Job $j -Keep).PSComputerName") == "web1\nweb2\n"
    assert console.run("Receive-Job -Name Names -ComputerName web2") == "WEB2\n"
    assert console.run("Receive-Job -Id 2") == "WEB1\n"  # the first child job, by its id


def test_stop_remove_and_their_errors(console: Console) -> None:
    console.run("$j = icm -cn a { Start-Sleep 60 } -AsJob")
    assert "because the job is not finished" in console.run("Remove-Job $j")
    assert console.run("Stop-Job $j -PassThru").split("\n")[3].split()[3] == "Stopped"
    assert console.run("Remove-Job -Id 1") == ""
    assert (
        "Receive-Job: The command cannot find a job with the job ID 1. Verify the value of the Id parameter "
        "and then try the command again." in console.run("Receive-Job -Id 1")
    )
    assert "The AutoRemoveJob parameter can be used only with the Wait parameter" in console.run(
        "Receive-Job -Name x* -AutoRemoveJob"
    )


def test_pipeline_input_and_input_object_reach_the_remote_input(console: Console) -> None:
    console.run("$s = New-PSSession Server01")
    assert console.run("1..5 | Invoke-Command -Session $s { $input | % { $_ * 2 } }") == "2\n4\n6\n8\n10\n"
    assert console.run("Invoke-Command -Session $s -InputObject 'x' { process { \"<$_>\" } }") == "<x>\n"
    # At the prompt a remote Read-Host asks the user, as a PowerShell console does.
    console.ui.reader = TerminalReader(io.StringIO("Ada\n"), console.out)  # what the user types
    assert console.run("Invoke-Command -Session $s { \"hello $(Read-Host 'Name')\" }").endswith("hello Ada\n")
    # A background job has nobody to ask: PowerShell's non-interactive-host error.
    console.run("$j = Invoke-Command -Session $s { Read-Host 'Name' } -AsJob; $null = Wait-Job $j")
    assert "HostFunctionNotImplemented" in console.run("Receive-Job $j")


def test_import_pssession_makes_the_remote_command_local(console: Console) -> None:
    console.run("$s = New-PSSession Server01")
    imported = console.run("Import-PSSession -Session $s -CommandName Get-Service")
    assert re.search(r"^Script +1\.0 +tmp_\w+\.\w+ +\{Get-Service\}$", imported, re.M)
    service = console.run("Get-Service W3SVC")
    # ServiceController's default table view, as Windows PowerShell shows it
    assert "Status   Name               DisplayName\n------   ----               -----------\n" in service
    assert "Running  W3SVC              World Wide Web Publishing Service\n" in service
    assert "Function    Get-Service" in console.run("Get-Command Get-Service")
    assert "Get-Service [[-Name] <object>]" in console.run("Get-Help Get-Service")
    assert console.run("(Get-Service -ServiceName WinRM).Name") == "WinRM\n"
    # Pipeline input goes to the remote command; -AsJob makes a job.
    assert console.run("('WinRM' | Get-Service).DisplayName") == "Windows Remote Management (WS-Management)\n"
    assert (
        console.run("$j = Get-Service W3SVC -AsJob; $null = Wait-Job $j; (Receive-Job $j).Status")
        == "Running\n"
    )
    # Importing it again would shadow the proxy: PowerShell's warning, and nothing imported.
    again = console.run("Import-PSSession $s -CommandName Get-Service")
    assert (
        "WARNING: No command proxies have been created, because all of the requested remote commands" in again
    )
    assert "{}" in again


def test_export_pssession_and_import_module(console: Console, tmp_path: Path) -> None:
    console.run("$s = New-PSSession Server01")
    written = console.run("Export-PSSession -Session $s -OutputModule ./WebTools -CommandName Get-Service")
    assert written.split() == [
        str(Path("WebTools") / "WebTools.psd1"),
        str(Path("WebTools") / "WebTools.psm1"),
    ]
    assert console.run("Import-Module ./WebTools") == ""
    assert re.search(r"^Running  WinRM +Windows Remote Management", console.run("Get-Service WinRM"), re.M)
    refused = console.run("Import-Module ActiveDirectory")
    assert "Import-Module -PSSession $s -Name ActiveDirectory" in refused


def test_copy_item_to_and_from_a_session(console: Console, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "web.config").write_text("<configuration/>")
    (tmp_path / "app" / "bin").mkdir()
    (tmp_path / "app" / "bin" / "app.dll").write_bytes(b"\x00" * 1000)
    console.run("$s = New-PSSession Server01")
    console.run("Invoke-Command $s { New-Item -ItemType Directory C:\\Deploy }")
    assert console.run(
        "Copy-Item ./app -Destination C:\\Deploy -ToSession $s -Recurse -PassThru"
    ).split() == [
        "C:\\Deploy\\app\\web.config",
        "C:\\Deploy\\app\\bin\\app.dll",
    ]
    assert console.run("Copy-Item C:\\Deploy\\app -Destination ./back -FromSession $s -Recurse") == ""
    assert (tmp_path / "back" / "bin" / "app.dll").read_bytes() == b"\x00" * 1000
    flat = console.run(
        "Copy-Item C:\\Deploy\\app -Destination ./flat -FromSession $s -Recurse -Container:$false -PassThru"
    )
    assert sorted(Path(p).name for p in flat.split()) == ["app.dll", "web.config"]
    assert sorted(p.name for p in (tmp_path / "flat").iterdir()) == ["app.dll", "web.config"]
    # A read-only file is replaced only with -Force, as on Windows.
    readonly = tmp_path / "flat" / "web.config"
    readonly.chmod(0o444)
    assert "is denied" in console.run(
        "Copy-Item C:\\Deploy\\app\\web.config -Destination ./flat -FromSession $s"
    )
    assert (
        console.run("Copy-Item C:\\Deploy\\app\\web.config -Destination ./flat -FromSession $s -Force") == ""
    )
    assert 'What if: Performing the operation "Copy File"' in console.run(
        "Copy-Item ./app -Destination C:\\Deploy -ToSession $s -WhatIf"
    )
    assert "copies files to and from sessions only" in console.run("Copy-Item a b")


def test_common_parameters_do_what_powershell_does(console: Console) -> None:
    script = "{ Write-Warning 'careful'; Write-Error 'broken'; 'value' }"
    out = console.run(f"icm -cn a {script} -WarningVariable wv -ErrorVariable ev -OutVariable ov")
    assert "WARNING: careful" in out and "broken" in out and "value" in out
    assert console.run("$wv") == "careful\n"
    assert console.run("$ev.Count; $ov") == "1\nvalue\n"
    quiet = console.run(f"icm -cn a {script} -WarningAction SilentlyContinue -ErrorAction SilentlyContinue")
    assert quiet == "value\n"
    stopped = console.run(f"icm -cn a {script} -ErrorAction Stop -WarningAction Continue")
    assert "broken" in stopped
    console.run(f"icm -cn a {script} -ErrorVariable +ev -ErrorAction Ignore")
    assert console.run("$ev.Count") == "1\n"  # Ignore: not even in the variable
    console.run(f"icm -cn a {script} -ErrorVariable +ev -ErrorAction SilentlyContinue")
    assert console.run("$ev.Count") == "2\n"  # +ev appends
    assert "is not supported on this client" in console.run("Get-PSSession -PipelineVariable p")
    assert "-ErrorAction Inquire is not supported on this client" in console.run(
        "Get-PSSession -ErrorAction Inquire"
    )
    information = console.run("icm -cn a { Write-Information 'note'; Write-Host 'shown' }")
    assert information == "shown\n"  # $InformationPreference is SilentlyContinue
    assert console.run("icm -cn a { Write-Information 'note' } -InformationAction Continue") == "note\n"
