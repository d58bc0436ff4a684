"""`psremoting invoke --output text` shows a type that has no built-in view in its server's own
view (Get-FormatData), as the shell does for a session: the real command line and emulated
Windows hosts over loopback HTTP with NTLM.

Expected text: Windows' default table of Win32_LogicalDisk (the CIM format data of Windows
PowerShell 5.1, as in the Get-CimInstance examples of Microsoft's documentation), with the
PSComputerName column Invoke-Command's output gets.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from psremoting.cli.main import main


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)
    monkeypatch.setenv("COLUMNS", "120")


def test_text_output_uses_the_servers_view_asked_once_for_the_whole_run(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    pipelines: list[Any] = []
    make_fleet("web01", "web02", "web03", record=pipelines)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    argv = ["-H", "web01", "-H", "web02", "-H", "web03", "-c", "Get-CimInstance Win32_LogicalDisk"]
    code = main(["invoke", *argv, "--output", "text"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = [line.rstrip() for line in out.splitlines() if line.strip()]
    # one table for the three hosts, as PowerShell shows Invoke-Command's output of one type
    assert lines[:2] == [
        "DeviceID DriveType ProviderName VolumeName Size         FreeSpace   PSComputerName",
        "-------- --------- ------------ ---------- ----         ---------   --------------",
    ]
    assert sorted((row.split()[0], row.split()[-1]) for row in lines[2:]) == [
        (drive, host) for drive in ("C:", "D:") for host in ("web01", "web02", "web03")
    ]
    asked = [p for p in pipelines if any("Get-FormatData" in str(command[0]) for command in p)]
    assert len(asked) == 1  # one question for the run, not one per host or per object


def test_a_type_with_a_built_in_view_costs_no_question(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    pipelines: list[Any] = []
    make_fleet("web01", record=pipelines)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(
        ["invoke", "-H", "web01", "-c", "Get-Service WinRM; [pscustomobject]@{a=1}", "--output", "text"]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and "Running  WinRM" in out
    assert [p for p in pipelines if any("Get-FormatData" in str(command[0]) for command in p)] == []
