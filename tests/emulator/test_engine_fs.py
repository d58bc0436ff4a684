"""File-system built-ins over the sandbox: C:\\ is the engine's root and nothing escapes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path / "C")


def test_home_documents_is_created_on_first_use(engine: Engine) -> None:
    run(engine, "prompt")
    assert (engine.root / "Users" / "user" / "Documents").is_dir()
    assert run(engine, "(Get-Location).Path; Test-Path ~")[1].output == ["C:\\Users\\user\\Documents", True]


def test_set_content_get_content_and_child_items(engine: Engine) -> None:
    result, rec = run(engine, "Set-Content notes.txt 'line one','line two'; Get-Content .\\NOTES.TXT")
    assert result.failed is None
    assert rec.output == ["line one", "line two"]
    assert (engine.root / "Users/user/Documents/notes.txt").read_bytes() == b"line one\r\nline two\r\n"
    (item,) = run(engine, "Get-ChildItem")[1].output
    assert item.PSObject.type_names[0] == "System.IO.FileInfo"
    assert item.Name == "notes.txt"
    assert item.FullName == "C:\\Users\\user\\Documents\\notes.txt"
    assert item.PSPath == "Microsoft.PowerShell.Core\\FileSystem::C:\\Users\\user\\Documents\\notes.txt"
    assert item.Length == 20
    assert item.Mode == "-a----"
    assert str(item) == "C:\\Users\\user\\Documents\\notes.txt"


def test_directory_listing_is_formatted_as_windows_does(engine: Engine) -> None:
    run(engine, "New-Item -ItemType Directory sub; Set-Content a.txt x")
    lines = run(engine, "Get-ChildItem", out_default=True)[1].lines
    assert lines[:7] == [
        "",
        "",
        "    Directory: C:\\Users\\user\\Documents",
        "",
        "",
        "Mode                LastWriteTime         Length Name",
        "----                -------------         ------ ----",
    ]
    assert lines[7].startswith("d-----") and lines[7].endswith(" sub")
    assert lines[8].startswith("-a----") and lines[8].endswith("              3 a.txt")
    (directory,) = [o for o in run(engine, "Get-ChildItem -Directory")[1].output]
    assert directory.PSObject.type_names[0] == "System.IO.DirectoryInfo"


def test_missing_path_is_an_item_not_found_error(engine: Engine) -> None:
    (error,) = run(engine, "Get-ChildItem C:\\nope")[1].errors
    assert str(error) == "Cannot find path 'C:\\nope' because it does not exist."
    assert error.FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"
    assert error.Exception.PSObject.type_names[0] == "System.Management.Automation.ItemNotFoundException"
    assert error.TargetObject == "C:\\nope"


def test_other_drives_do_not_exist(engine: Engine) -> None:
    (error,) = run(engine, "Get-ChildItem D:\\")[1].errors
    assert str(error) == "Cannot find drive. A drive with the name 'D' does not exist."
    assert error.FullyQualifiedErrorId == "DriveNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"


def test_set_location_and_relative_paths(engine: Engine) -> None:
    run(engine, "New-Item -ItemType Directory C:\\Work\\Deep -Force; cd C:\\work")
    assert engine.location == "C:\\Work"
    assert run(engine, "cd deep; $PWD.Path; cd ..; (Get-Location).Path")[1].output == [
        "C:\\Work\\Deep",
        "C:\\Work",
    ]
    (error,) = run(engine, "Set-Location C:\\nowhere")[1].errors
    assert error.FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.SetLocationCommand"
    assert engine.location == "C:\\Work"


def test_dot_dot_cannot_climb_above_the_drive_root(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    rec = run(
        engine,
        "cd C:\\..\\..\\..; (Get-Location).Path; Test-Path ..\\secret.txt; Get-Content ..\\..\\secret.txt",
    )[1]
    assert rec.output == ["C:\\", False]
    assert (
        rec.errors[0].FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.GetContentCommand"
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_pointing_outside_are_not_followed(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    run(engine, "prompt")
    os.symlink(outside, engine.root / "link")
    os.symlink(outside / "secret.txt", engine.root / "file-link.txt")
    rec = run(
        engine,
        "Get-Content C:\\link\\secret.txt; Get-Content C:\\file-link.txt; Get-ChildItem C:\\ -Recurse -Name",
    )[1]
    assert "outside" not in rec.output
    assert len(rec.errors) == 2
    assert all("secret" not in str(o) for o in rec.output)


def test_test_path_new_item_remove_item(engine: Engine) -> None:
    rec = run(
        engine,
        "Test-Path f.txt; New-Item f.txt -Value hi | Out-Null; Test-Path f.txt -PathType Leaf; Remove-Item f.txt; Test-Path f.txt",
    )[1]
    assert rec.output == [False, True, False]
    (exists,) = run(engine, "New-Item x.txt; New-Item x.txt")[1].errors
    assert str(exists) == "The file 'C:\\Users\\user\\Documents\\x.txt' already exists."


def test_remove_item_of_a_non_empty_folder_needs_recurse(engine: Engine) -> None:
    run(engine, "New-Item -ItemType Directory d; Set-Content d\\f.txt x")
    (error,) = run(engine, "Remove-Item d")[1].errors
    assert "The directory is not empty" in str(error)
    run(engine, "Remove-Item d -Recurse")
    assert run(engine, "Test-Path d")[1].output == [False]


def test_wildcards(engine: Engine) -> None:
    run(engine, "Set-Content a.log 1; Set-Content b.log 2; Set-Content c.txt 3")
    names = [o.Name for o in run(engine, "Get-ChildItem *.log")[1].output]
    assert names == ["a.log", "b.log"]
    assert run(engine, "Get-ChildItem -Filter *.txt -Name")[1].output == ["c.txt"]
    assert run(engine, "Get-ChildItem nothing*")[1].errors == []


def test_the_env_drive_lists_the_environment(engine: Engine) -> None:
    lines = run(engine, "Get-ChildItem env:COMPUTERNAME", out_default=True)[1].lines
    assert lines == [
        "",
        "Name                           Value",
        "----                           -----",
        "COMPUTERNAME                   SERVER01",
        "",
        "",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_nothing_is_written_through_a_symlink_pointing_outside(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    run(engine, "prompt")
    os.symlink(outside, engine.root / "link")
    os.symlink(outside / "f.txt", engine.root / "file-link.txt")
    script_text = (
        "Set-Content C:\\link\\new.txt x; Set-Content C:\\file-link.txt y; New-Item C:\\link\\n2.txt; "
        "Remove-Item C:\\link\\*; 1 > C:\\link\\r.txt"
    )
    rec = run(engine, script_text)[1]
    assert list(outside.iterdir()) == []
    assert len(rec.errors) == 4
    assert all(str(tmp_path) not in str(e) for e in rec.errors)


def test_the_wsman_drive_shows_the_service_settings_the_emulator_runs_with(tmp_path: Path) -> None:
    strict = Engine(computer_name="server01", username="user", root=tmp_path / "strict")
    (leaf,) = run(strict, r"Get-Item WSMan:\localhost\Service\AllowUnencrypted")[1].output
    assert leaf.PSObject.type_names[0] == "Microsoft.WSMan.Management.WSManConfigLeafElement"
    assert (leaf.Name, leaf.Value, leaf.Type) == ("AllowUnencrypted", "false", "System.String")
    assert leaf.PSPath == r"Microsoft.WSMan.Management\WSMan::localhost\Service\AllowUnencrypted"
    lenient = Engine(
        computer_name="server01", username="user", root=tmp_path / "lenient", allow_unencrypted=True
    )
    assert run(lenient, r"(Get-Item WSMan:\localhost\Service\AllowUnencrypted).Value")[1].output == ["true"]
    _result, rec = run(strict, r"Get-Item WSMan:\localhost\Service\NoSuchSetting")
    assert rec.output == []
    assert "Cannot find path 'WSMan:\\localhost\\Service\\NoSuchSetting' because it does not exist." in str(
        rec.errors[0]
    )


def test_a_new_host_has_a_default_windows_servers_folders(tmp_path: Path) -> None:
    """A fresh emulated host's C:\\ is a default Windows Server's: Get-ChildItem lists what
    Windows lists (ProgramData is hidden: -Force shows it, with its 'h' mode), System32 has the
    programs the cmd shell runs, and the user's profile is under C:\\Users."""
    engine = Engine(computer_name="server01", username="jdoe", root=tmp_path / "C")
    _, rec = run(
        engine,
        "(Get-ChildItem C:\\).Name; Test-Path C:\\Windows\\System32; Test-Path C:\\Windows\\Temp; "
        "Test-Path $env:ProgramData; Test-Path $env:ProgramFiles; Test-Path C:\\temp",
    )
    assert rec.errors == []
    assert rec.output == [
        "PerfLogs", "Program Files", "Program Files (x86)", "Users", "Windows", True, True, True, True, False,
    ]  # fmt: skip
    hidden = run(engine, "(Get-ChildItem C:\\ -Force | Where-Object Name -eq ProgramData).Mode")[1]
    assert hidden.output == ["d--h--"]
    assert run(engine, "(Get-ChildItem C:\\ -Hidden).Name")[1].output == ["ProgramData"]
    programs = run(
        engine,
        "(Get-ChildItem C:\\Windows\\System32 -Filter *.exe).Name; "
        "Test-Path C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    )[1]
    assert programs.output == ["cmd.exe", "hostname.exe", "ipconfig.exe", "whoami.exe", True]
    assert run(engine, "(Get-ChildItem C:\\Users).Name")[1].output == ["jdoe", "Public"]
