"""Get-ItemProperty on HKLM:, Test-Connection and Get-EventLog over the emulated host's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run

CURRENT_VERSION = "'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path / "C")


def test_get_item_property_reads_the_windows_version_key(engine: Engine) -> None:
    (key,) = run(engine, f"Get-ItemProperty {CURRENT_VERSION}")[1].output
    assert (key["ProductName"], key["CurrentBuild"], key["ReleaseId"]) == (
        "Windows Server 2019 Datacenter",
        "17763",
        "1809",
    )
    assert (
        key["PSPath"]
        == "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
    )
    assert (
        key["PSParentPath"]
        == "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT"
    )
    assert (key["PSChildName"], key["PSDrive"], key["PSProvider"]) == (
        "CurrentVersion",
        "HKLM",
        "Microsoft.PowerShell.Core\\Registry",
    )
    assert run(engine, f"(Get-ItemProperty {CURRENT_VERSION} -Name UBR).UBR")[1].output == [5830]
    lines = run(
        engine,
        f"Get-ItemProperty {CURRENT_VERSION} | Select-Object ProductName, CurrentBuild",
        out_default=True,
    )[1].lines
    assert lines[1:4] == ["ProductName                    CurrentBuild", "-----------                    ------------",
                          "Windows Server 2019 Datacenter 17763"]  # fmt: skip


def test_get_item_property_errors_as_windows(engine: Engine) -> None:
    (missing,) = run(engine, "Get-ItemProperty HKLM:\\SOFTWARE\\Nope")[1].errors
    assert str(missing) == "Cannot find path 'HKLM:\\SOFTWARE\\Nope' because it does not exist."
    assert (
        missing.FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand"
    )
    (no_value,) = run(engine, f"Get-ItemProperty {CURRENT_VERSION} -Name Nope")[1].errors
    assert (
        str(no_value)
        == "Property Nope does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion."
    )
    run(engine, "Set-Content a.txt hello")
    (item,) = run(engine, "Get-ItemProperty a.txt")[1].output
    assert item.PSObject.type_names[0] == "System.IO.FileInfo" and item.Length == 7


def test_test_connection_pings_known_names_only(engine: Engine) -> None:
    replies = run(engine, "Test-Connection localhost -Count 2")[1].output
    assert len(replies) == 2
    assert (
        replies[0].PSObject.type_names[0]
        == "System.Management.ManagementObject#root\\cimv2\\Win32_PingStatus"
    )
    assert (replies[0].Address, replies[0].IPV4Address, replies[0].StatusCode, replies[0].ReplySize) == (
        "localhost",
        "127.0.0.1",
        0,
        32,
    )
    lines = run(engine, "Test-Connection server01 -Count 1", out_default=True)[1].lines
    assert lines[1].split() == ["Source", "Destination", "IPV4Address", "IPV6Address", "Bytes", "Time(ms)"]
    assert lines[3].split() == ["SERVER01", "server01", "127.0.0.1", "::1", "32", "0"]
    assert run(engine, "Test-Connection localhost -Quiet; Test-Connection nosuch -Quiet")[1].output == [
        True,
        False,
    ]
    (error,) = run(engine, "Test-Connection nosuch -Count 1")[1].errors
    assert str(error) == "Testing connection to computer 'nosuch' failed: No such host is known"
    assert (
        error.FullyQualifiedErrorId
        == "TestConnectionException,Microsoft.PowerShell.Commands.TestConnectionCommand"
    )


def test_get_event_log_newest_entries_in_windows_table(engine: Engine) -> None:
    entries = run(engine, "Get-EventLog -LogName System -Newest 3")[1].output
    assert [e.Index for e in entries] == [48211, 48210, 48209]
    assert entries[0].TimeGenerated > entries[1].TimeGenerated
    assert entries[0].PSObject.type_names[:2] == [
        "System.Diagnostics.EventLogEntry#System/Service Control Manager/1073748860",
        "System.Diagnostics.EventLogEntry",
    ]
    assert (entries[0].EventID, entries[0].EntryType, entries[0].Source) == (
        7036,
        "Information",
        "Service Control Manager",
    )
    lines = run(engine, "Get-EventLog System -Newest 3", out_default=True)[1].lines
    assert lines[1:3] == [
        "   Index Time          EntryType   Source                 InstanceID Message",
        "   ----- ----          ---------   ------                 ---------- -------",
    ]
    assert (
        lines[3].startswith("   48211 ")
        and " Information Service Control M...   1073748860 The Windows Modules" in lines[3]
    )
    assert lines[5].endswith(
        "Microsoft-Windows...           37 The time provider NtpClient is currently receiving valid time data from time.windows.com,0x8."
    )
    errors = run(engine, "Get-EventLog System -EntryType Error")[1].output
    assert {e.EntryType for e in errors} == {"Error"} and len(errors) == 2
    (error,) = run(engine, "Get-EventLog Nope")[1].errors
    assert str(error) == "The event log 'Nope' on computer '.' does not exist."


def test_registry_keys_and_events_come_from_the_config(tmp_path: Path) -> None:
    from psremoting.emulator.config import load_config

    config = tmp_path / "emulator.toml"
    config.write_text(
        "[registry.'HKLM:\\SOFTWARE\\Contoso']\nVersion = \"1.2\"\n\n"
        '[[events]]\nLogName = "Application"\nSource = "Contoso"\nEventID = 100\nEntryType = "Warning"\n'
        'Message = "Disk almost full."\n'
    )
    kwargs = load_config(config)
    engine = Engine(root=tmp_path / "C", registry=kwargs["registry"], events=kwargs["events"])
    assert run(engine, "(Get-ItemProperty HKLM:\\SOFTWARE\\Contoso).Version")[1].output == ["1.2"]
    assert run(engine, f"(Get-ItemProperty {CURRENT_VERSION}).CurrentBuild")[1].output == ["17763"]
    newest, *older = run(engine, "Get-EventLog Application")[1].output
    assert (newest.Source, newest.EventID, newest.EntryType, newest.Message) == (
        "Contoso",
        100,
        "Warning",
        "Disk almost full.",
    )
    assert newest.Index == older[0].Index + 1 and len(older) == 4
    assert len(run(engine, "Get-EventLog System")[1].output) == 13
