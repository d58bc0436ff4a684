"""Get-WinEvent over the emulated event log: EventLogRecord objects, filters, Windows' table
and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    events = [{"LogName": "Application", "Source": "Contoso", "EventID": 100, "EntryType": "Warning",
               "Message": "Disk almost full."}]  # fmt: skip
    return Engine(root=tmp_path / "C", events=events)


def test_records_have_windows_type_names_and_properties(engine: Engine) -> None:
    records = run(engine, "Get-WinEvent -LogName System -MaxEvents 3")[1].output
    assert len(records) == 3
    first = records[0]
    assert first.PSObject.type_names[:2] == [
        "System.Diagnostics.Eventing.Reader.EventLogRecord",
        "System.Diagnostics.Eventing.Reader.EventRecord",
    ]
    assert (first.Id, first.ProviderName, first.LevelDisplayName, first.Level, first.LogName) == (
        7036,
        "Service Control Manager",
        "Information",
        4,
        "System",
    )
    assert first.Message == "The Windows Modules Installer service entered the running state."
    times = [r.TimeCreated for r in records]
    assert times == sorted(times, reverse=True)  # newest first
    oldest = run(engine, "Get-WinEvent -LogName System -Oldest -MaxEvents 1")[1].output[0]
    assert oldest.Id == 12 and oldest.ProviderName == "Microsoft-Windows-Kernel-General"
    (declared,) = run(engine, "Get-WinEvent Application -MaxEvents 1")[1].output
    assert (declared.ProviderName, declared.Id, declared.LevelDisplayName) == ("Contoso", 100, "Warning")


def test_filter_hashtable_by_log_id_and_level(engine: Engine) -> None:
    ids = run(engine, "Get-WinEvent -FilterHashtable @{LogName='System'; Id=7036} | % Id")[1].output
    assert ids and set(ids) == {7036}
    errors = run(engine, "Get-WinEvent -FilterHashtable @{LogName='System'; Level=2}")[1].output
    assert {r.LevelDisplayName for r in errors} == {"Error"} and {r.Id for r in errors} == {36887, 7031}
    both = run(engine, "Get-WinEvent -FilterHashtable @{LogName='System','Application'; Id=100, 6005}")[
        1
    ].output
    assert sorted(r.Id for r in both) == [100, 6005]


def test_table_grouped_by_provider(engine: Engine) -> None:
    lines = run(engine, "Get-WinEvent -LogName System -MaxEvents 2", out_default=True)[1].lines
    assert lines[:6] == [
        "",
        "",
        "   ProviderName: Service Control Manager",
        "",
        "TimeCreated                     Id LevelDisplayName Message",
        "-----------                     -- ---------------- -------",
    ]
    row = lines[6]
    assert row[25:34] == "     7036" and row[35:52] == "Information      "
    assert row.endswith("The Windows Modules Installer service entered the running state.")


def test_unknown_log_and_no_match_are_windows_errors(engine: Engine) -> None:
    _, rec = run(
        engine, "Get-WinEvent -LogName Nope; Get-WinEvent -FilterHashtable @{LogName='System'; Id=1234}"
    )
    first, second = rec.errors
    assert str(first) == 'There is not an event log on the localhost computer that matches "Nope".'
    assert (
        first.FullyQualifiedErrorId == "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand"
    )
    assert str(second) == "No events were found that match the specified selection criteria."
    assert (
        second.FullyQualifiedErrorId
        == "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand"
    )
    assert rec.output == []


def test_filter_hashtable_time_window(engine: Engine) -> None:
    script = (
        "@(Get-WinEvent -FilterHashtable @{LogName='System'; StartTime=(Get-Date '2020-01-01')}).Count; "
        "@(Get-WinEvent -FilterHashtable @{LogName='System'; EndTime=(Get-Date '2020-01-01')} -ErrorAction SilentlyContinue).Count"
    )
    assert run(engine, script)[1].output == [13, 0]
