"""Get-Module and Import-Module over the modules a Windows Server 2019 / 5.1 host has."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run

HEADER = [
    "ModuleType Version    Name                                ExportedCommands",
    "---------- -------    ----                                ----------------",
]
MANAGEMENT = (
    "Manifest   3.1.0.0    Microsoft.PowerShell.Management     "
    "{Add-Computer, Add-Content, Checkpoint-Computer, Clear-Content...}"
)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(root=tmp_path / "C")


def test_get_module_lists_loaded_modules_in_windows_table(engine: Engine) -> None:
    assert run(engine, "Get-Module")[1].output == []  # Microsoft.PowerShell.Core is a snap-in
    lines = run(engine, "Get-Service | Out-Null; Get-Date | Out-Null; Get-Module", out_default=True)[1].lines
    assert lines == [
        "",
        *HEADER,
        MANAGEMENT,
        "Manifest   3.1.0.0    Microsoft.PowerShell.Utility        {Add-Member, Add-Type, Clear-Variable, Compare-Object...}",
        "",
        "",
    ]
    (module,) = run(engine, "Get-Module -Name *Management")[1].output
    assert module.PSObject.type_names == ["System.Management.Automation.PSModuleInfo", "System.Object"]
    assert (module.Name, module.ModuleType, module.Version) == (
        "Microsoft.PowerShell.Management",
        "Manifest",
        "3.1.0.0",
    )
    assert (
        module.ModuleBase
        == "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules\\Microsoft.PowerShell.Management"
    )
    assert module.Guid == "eefcb906-b326-4e99-9f54-8b4bb6ef3c6d"
    assert "Restart-Service" in module.ExportedCommands and str(module) == "Microsoft.PowerShell.Management"


def test_list_available_groups_by_directory(engine: Engine) -> None:
    lines = run(engine, "Get-Module -ListAvailable", out_default=True)[1].lines
    assert lines[:5] == ["", "", "    Directory: C:\\Program Files\\WindowsPowerShell\\Modules", "", ""]
    assert lines[5:7] == HEADER
    assert lines[7].startswith("Binary     1.0.0.1    PackageManagement ")
    second = lines.index("    Directory: C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules")
    assert lines[second - 4 : second] == ["", "", "", ""]  # the group's end, then the next header
    assert MANAGEMENT in lines[second:]
    names = [m.Name for m in run(engine, "Get-Module -ListAvailable")[1].output]
    assert {
        "PSReadline",
        "PowerShellGet",
        "Microsoft.PowerShell.Security",
        "CimCmdlets",
        "ServerManager",
    } <= set(names)
    (psreadline,) = run(engine, "Get-Module -ListAvailable PSReadline")[1].output
    assert psreadline.PSObject.type_names[0] == "ModuleInfoGrouping"
    assert psreadline.ModuleBase == "C:\\Program Files\\WindowsPowerShell\\Modules\\PSReadline\\2.0.0"
    # an unknown name lists nothing and is no error, as on Windows
    _, rec = run(engine, "Get-Module Nope; Get-Module -ListAvailable -Name Nope")
    assert rec.output == [] and rec.errors == []


def test_import_module_loads_and_unknown_is_windows_error(engine: Engine) -> None:
    _, rec = run(engine, "Import-Module ServerManager; Get-Module | % Name")
    assert rec.output == ["ServerManager"]
    (info,) = run(engine, "Import-Module Microsoft.PowerShell.Security -PassThru")[1].output
    assert info.Name == "Microsoft.PowerShell.Security" and "Get-Acl" in info.ExportedCommands
    _, rec = run(engine, "Import-Module Nope")
    (error,) = rec.errors
    assert str(error) == (
        "The specified module 'Nope' was not loaded because no valid module file was found in any module directory."
    )
    assert (
        error.FullyQualifiedErrorId
        == "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"
    )
    assert (
        str(error.CategoryInfo) == "ResourceUnavailable: (Nope:String) [Import-Module], FileNotFoundException"
    )
