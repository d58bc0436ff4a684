"""Get-Module and Import-Module over the modules a Windows Server 2019 host with Windows
PowerShell 5.1 has.

Get-Module lists the modules the session has loaded (a cmdlet's module loads on its first use,
as `modules.LoadedModules` tracks it; Microsoft.PowerShell.Core is a snap-in and never listed);
``-ListAvailable`` the modules under ``$env:PSModulePath`` (Program Files, then System32), as
PSModuleInfo objects whose first type name is ``ModuleInfoGrouping``, so the table is grouped
under ``Directory:`` headers as on Windows. Import-Module loads one (``-PassThru`` writes it);
an unknown name is Windows' Modules_ModuleNotFound error.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .builtins_system import adapted_object
from .commands import CommandContext, builtin
from .formatting import register_renderer
from .modules import CORE_MODULE

__all__ = ["AVAILABLE_MODULES", "module_info"]

_SYSTEM = "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules"
_PROGRAM_FILES = "C:\\Program Files\\WindowsPowerShell\\Modules"
_MODULE_TYPES = ["System.Management.Automation.PSModuleInfo", "System.Object"]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: (name, ModuleType, Version, folder, version folder or "", exported commands), in
#: $env:PSModulePath's order: Program Files first, then System32.
AVAILABLE_MODULES: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("PackageManagement", "Binary", "1.0.0.1", _PROGRAM_FILES, "1.0.0.1", _names(
        "Find-Package Find-PackageProvider Get-Package Get-PackageProvider Get-PackageSource Import-PackageProvider "
        "Install-Package Install-PackageProvider Register-PackageSource Save-Package Set-PackageSource "
        "Uninstall-Package Unregister-PackageSource")),
    ("Pester", "Script", "3.4.0", _PROGRAM_FILES, "3.4.0", _names(
        "AfterAll AfterEach Assert-MockCalled Assert-VerifiableMocks BeforeAll BeforeEach Context Describe "
        "Get-MockDynamicParameters Get-TestDriveItem In InModuleScope Invoke-Mock Invoke-Pester It Mock "
        "New-Fixture Set-DynamicParameterVariables Setup Should")),
    ("PowerShellGet", "Script", "1.0.0.1", _PROGRAM_FILES, "1.0.0.1", _names(
        "Find-Command Find-DscResource Find-Module Find-RoleCapability Find-Script Get-InstalledModule "
        "Get-InstalledScript Get-PSRepository Install-Module Install-Script New-ScriptFileInfo Publish-Module "
        "Publish-Script Register-PSRepository Save-Module Save-Script Set-PSRepository Test-ScriptFileInfo "
        "Uninstall-Module Uninstall-Script Unregister-PSRepository Update-Module Update-ModuleManifest "
        "Update-Script Update-ScriptFileInfo")),
    ("PSReadline", "Script", "2.0.0", _PROGRAM_FILES, "2.0.0", _names(
        "Get-PSReadLineKeyHandler Get-PSReadLineOption Remove-PSReadLineKeyHandler Set-PSReadLineKeyHandler "
        "Set-PSReadLineOption")),
    ("CimCmdlets", "Manifest", "1.0.0.0", _SYSTEM, "", _names(
        "Export-BinaryMiLog Get-CimAssociatedInstance Get-CimClass Get-CimInstance Get-CimSession Import-BinaryMiLog "
        "Invoke-CimMethod New-CimInstance New-CimSession New-CimSessionOption Register-CimIndicationEvent "
        "Remove-CimInstance Remove-CimSession Set-CimInstance")),
    ("Microsoft.PowerShell.Archive", "Manifest", "1.0.1.0", _SYSTEM, "", _names("Compress-Archive Expand-Archive")),
    ("Microsoft.PowerShell.Diagnostics", "Manifest", "3.0.0.0", _SYSTEM, "", _names(
        "Export-Counter Get-Counter Get-WinEvent Import-Counter New-WinEvent")),
    ("Microsoft.PowerShell.Host", "Manifest", "3.0.0.0", _SYSTEM, "", _names("Start-Transcript Stop-Transcript")),
    ("Microsoft.PowerShell.LocalAccounts", "Manifest", "1.0.0.0", _SYSTEM, "", _names(
        "Add-LocalGroupMember Disable-LocalUser Enable-LocalUser Get-LocalGroup Get-LocalGroupMember Get-LocalUser "
        "New-LocalGroup New-LocalUser Remove-LocalGroup Remove-LocalGroupMember Remove-LocalUser Rename-LocalGroup "
        "Rename-LocalUser Set-LocalGroup Set-LocalUser")),
    ("Microsoft.PowerShell.Management", "Manifest", "3.1.0.0", _SYSTEM, "", _names(
        "Add-Computer Add-Content Checkpoint-Computer Clear-Content Clear-EventLog Clear-Item Clear-ItemProperty "
        "Clear-RecycleBin Complete-Transaction Convert-Path Copy-Item Copy-ItemProperty Debug-Process "
        "Disable-ComputerRestore Enable-ComputerRestore Get-ChildItem Get-Clipboard Get-ComputerInfo "
        "Get-ComputerRestorePoint Get-Content Get-ControlPanelItem Get-EventLog Get-HotFix Get-Item "
        "Get-ItemProperty Get-ItemPropertyValue Get-Location Get-Process Get-PSDrive Get-PSProvider Get-Service "
        "Get-TimeZone Get-Transaction Get-WmiObject Invoke-Item Invoke-WmiMethod Join-Path Limit-EventLog "
        "Move-Item Move-ItemProperty New-EventLog New-Item New-ItemProperty New-PSDrive New-Service "
        "New-WebServiceProxy Pop-Location Push-Location Register-WmiEvent Remove-Computer Remove-EventLog "
        "Remove-Item Remove-ItemProperty Remove-PSDrive Remove-WmiObject Rename-Computer Rename-Item "
        "Rename-ItemProperty Reset-ComputerMachinePassword Resolve-Path Restart-Computer Restart-Service "
        "Restore-Computer Resume-Service Set-Clipboard Set-Content Set-Item Set-ItemProperty Set-Location "
        "Set-Service Set-TimeZone Set-WmiInstance Show-ControlPanelItem Show-EventLog Split-Path Start-Process "
        "Start-Service Start-Transaction Stop-Computer Stop-Process Stop-Service Suspend-Service "
        "Test-ComputerSecureChannel Test-Connection Test-Path Undo-Transaction Use-Transaction Wait-Process "
        "Write-EventLog")),
    ("Microsoft.PowerShell.Security", "Manifest", "3.0.0.0", _SYSTEM, "", _names(
        "ConvertFrom-SecureString ConvertTo-SecureString Get-Acl Get-AuthenticodeSignature Get-CmsMessage "
        "Get-Credential Get-ExecutionPolicy Get-PfxCertificate Protect-CmsMessage Set-Acl Set-AuthenticodeSignature "
        "Set-ExecutionPolicy Unprotect-CmsMessage")),
    ("Microsoft.PowerShell.Utility", "Manifest", "3.1.0.0", _SYSTEM, "", _names(
        "Add-Member Add-Type Clear-Variable Compare-Object ConvertFrom-Csv ConvertFrom-Json ConvertFrom-SddlString "
        "ConvertFrom-String ConvertFrom-StringData Convert-String ConvertTo-Csv ConvertTo-Html ConvertTo-Json "
        "ConvertTo-Xml Debug-Runspace Disable-PSBreakpoint Disable-RunspaceDebug Enable-PSBreakpoint "
        "Enable-RunspaceDebug Export-Alias Export-Clixml Export-Csv Export-FormatData Export-PSSession "
        "Format-Custom Format-Hex Format-List Format-Table Format-Wide Get-Alias Get-Culture Get-Date Get-Event "
        "Get-EventSubscriber Get-FileHash Get-FormatData Get-Host Get-Member Get-PSBreakpoint Get-PSCallStack "
        "Get-Random Get-Runspace Get-RunspaceDebug Get-TraceSource Get-TypeData Get-UICulture Get-Unique "
        "Get-Variable Group-Object Import-Alias Import-Clixml Import-Csv Import-LocalizedData Import-PSSession "
        "Invoke-Expression Invoke-RestMethod Invoke-WebRequest Measure-Command Measure-Object New-Alias New-Event "
        "New-Guid New-Object New-TemporaryFile New-TimeSpan New-Variable Out-File Out-GridView Out-Printer "
        "Out-String Read-Host Register-EngineEvent Register-ObjectEvent Remove-Event Remove-PSBreakpoint "
        "Remove-TypeData Remove-Variable Select-Object Select-String Select-Xml Send-MailMessage Set-Alias "
        "Set-Date Set-PSBreakpoint Set-TraceSource Set-Variable Show-Command Sort-Object Start-Sleep Tee-Object "
        "Trace-Command Unblock-File Unregister-Event Update-FormatData Update-List Update-TypeData Wait-Debugger "
        "Wait-Event Write-Debug Write-Error Write-Host Write-Information Write-Output Write-Progress "
        "Write-Verbose Write-Warning")),
    ("Microsoft.WSMan.Management", "Manifest", "3.0.0.0", _SYSTEM, "", _names(
        "Connect-WSMan Disable-WSManCredSSP Disconnect-WSMan Enable-WSManCredSSP Get-WSManCredSSP "
        "Get-WSManInstance Invoke-WSManAction New-WSManInstance New-WSManSessionOption Remove-WSManInstance "
        "Set-WSManInstance Set-WSManQuickConfig Test-WSMan")),
    ("PSDiagnostics", "Script", "1.0.0.0", _SYSTEM, "", _names(
        "Disable-PSTrace Disable-PSWSManCombinedTrace Disable-WSManTrace Enable-PSTrace Enable-PSWSManCombinedTrace "
        "Enable-WSManTrace Get-LogProperties Set-LogProperties Start-Trace Stop-Trace")),
    ("ServerManager", "Manifest", "2.0.0.0", _SYSTEM, "", _names(
        "Get-WindowsFeature Install-WindowsFeature Uninstall-WindowsFeature")),
)  # fmt: skip

_BY_NAME = {m[0].lower(): m for m in AVAILABLE_MODULES}
#: Module GUIDs as the inbox manifests declare them (others: a stable stand-in).
_GUIDS = {
    "microsoft.powershell.management": "eefcb906-b326-4e99-9f54-8b4bb6ef3c6d",
    "microsoft.powershell.utility": "1da87e53-152b-403e-98dc-74d7b4d63d59",
    "microsoft.powershell.security": "a94c8c7e-9810-47c0-b8af-65089c13a35a",
}


def module_info(name: str, listed: bool = False) -> Any:
    """The PSModuleInfo of the available module ``name`` (lower-case key of AVAILABLE_MODULES).

    ``listed``: as Get-Module -ListAvailable writes it (first type name ModuleInfoGrouping)."""
    module, kind, version, folder, version_folder, commands = _BY_NAME[name.lower()]
    base = f"{folder}\\{module}" + (f"\\{version_folder}" if version_folder else "")
    extension = {"Binary": ".psd1", "Script": ".psd1", "Manifest": ".psd1"}[kind]
    exported = {c: c for c in sorted(commands, key=str.lower)}
    guid = _GUIDS.get(module.lower()) or str(uuid.uuid5(uuid.NAMESPACE_URL, "psremoting-module:" + module))
    adapted = {
        "LogPipelineExecutionDetails": False, "Name": module, "Path": f"{base}\\{module}{extension}",
        "Definition": "", "Description": "", "Guid": guid, "HelpInfoUri": "", "ModuleBase": base,
        "PrivateData": None, "Version": version, "ModuleType": kind, "Author": "Microsoft Corporation",
        "AccessMode": "ReadWrite", "ClrVersion": None, "CompanyName": "Microsoft Corporation",
        "Copyright": "\u00a9 Microsoft Corporation. All rights reserved.", "ExportedCommands": exported,
        "ExportedCmdlets": exported, "ExportedFunctions": {}, "ExportedAliases": {}, "ExportedVariables": {},
        "NestedModules": [], "PowerShellVersion": "3.0", "RootModule": "",
    }  # fmt: skip
    types = ["ModuleInfoGrouping", *_MODULE_TYPES] if listed else list(_MODULE_TYPES)
    return adapted_object(types, adapted, module)


def _wanted(ctx: CommandContext) -> list[str]:
    given = ctx.get("Name")
    return [to_string(n) for n in enumerate_value(given)] if given is not None else ["*"]


@builtin(
    CommandSignature(
        "Get-Module",
        (
            Parameter("Name", "string[]", position=0, value_from_pipeline=True),
            Parameter("ListAvailable", "switch"),
            Parameter("All", "switch"),
            Parameter("Refresh", "switch"),
            Parameter("FullyQualifiedName", "object[]"),
            Parameter("PSSession", "object"),
            Parameter("CimSession", "object"),
            Parameter("PSEdition", "string"),
        ),
    ),
    aliases=("gmo",),
)
def _get_module(ctx: CommandContext) -> Iterable[Any]:
    patterns = [p.lower() for p in _wanted(ctx)]
    if ctx.switch("ListAvailable"):
        names = [m[0].lower() for m in AVAILABLE_MODULES]
    else:
        loaded = set(ctx.engine.modules.names()) - {CORE_MODULE.lower()}
        names = sorted(n for n in loaded if n in _BY_NAME)
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    return [module_info(n, listed=ctx.switch("ListAvailable")) for n in chosen]


@builtin(
    CommandSignature(
        "Import-Module",
        (
            Parameter("Name", "string[]", position=0, mandatory=True, value_from_pipeline=True),
            Parameter("PassThru", "switch"),
            Parameter("Force", "switch"),
            Parameter("Global", "switch"),
            Parameter("Prefix", "string"),
            Parameter("Function", "string[]"),
            Parameter("Cmdlet", "string[]"),
            Parameter("Variable", "string[]"),
            Parameter("Alias", "string[]"),
            Parameter("DisableNameChecking", "switch"),
            Parameter("NoClobber", "switch"),
            Parameter("Scope", "string"),
            Parameter("MinimumVersion", "string", ("Version",)),
            Parameter("RequiredVersion", "string"),
            Parameter("ArgumentList", "object[]", ("Args",)),
            Parameter("AsCustomObject", "switch"),
        ),
    ),
    aliases=("ipmo",),
)
def _import_module(ctx: CommandContext) -> Iterable[Any]:
    out: list[Any] = []
    names = _wanted(ctx) if ctx.get("Name") is not None else []
    for item in ctx.input:  # a PSModuleInfo from Get-Module -ListAvailable, or a name
        names.append(to_string(get_member(item, "Name", None) or item) if not isinstance(item, str) else item)
    for name in names:
        matches = [m[0].lower() for m in AVAILABLE_MODULES if fnmatch.fnmatchcase(m[0].lower(), name.lower())]
        if not matches:
            ctx.write_error(
                ctx.error(
                    f"The specified module '{name}' was not loaded because no valid module file was found "
                    "in any module directory.",
                    "System.IO.FileNotFoundException",
                    ErrorCategory.ResourceUnavailable,
                    "Modules_ModuleNotFound",
                    name,
                )
            )
            continue
        for match in matches:
            ctx.engine.modules.load(match)
            if ctx.switch("PassThru"):
                out.append(module_info(match))
    return out


def _exported(module: Any) -> str:
    """``$_.ExportedCommands.Keys`` as a table cell: ``{A, B, C, D...}`` ($FormatEnumerationLimit 4)."""
    keys = list(get_member(module, "ExportedCommands", None) or {})
    text = ", ".join(keys[:4]) + ("..." if len(keys) > 4 else "")
    return "{" + text + "}"


def _row(module: Any) -> str:
    name = to_string(module.Name)
    name = name if len(name) <= 35 else name[:32] + "..."
    return (
        f"{to_string(module.ModuleType):<10} {to_string(module.Version):<10} {name:<35} {_exported(module)}"
    )


_HEADER = [
    "ModuleType Version    Name                                ExportedCommands",
    "---------- -------    ----                                ----------------",
]


def _module_table(modules: list[Any]) -> list[str]:
    """PSModuleInfo's table view (Windows PowerShell 5.1: ModuleType, Version, Name, ExportedCommands)."""
    return ["", *_HEADER, *(_row(m) for m in modules), "", ""]


def _directory(module: Any) -> str:
    base = to_string(module.ModuleBase)
    folder, _, leaf = base.rpartition("\\")
    if leaf.replace(".", "").isdigit():  # a version folder: PSReadline\2.0.0
        folder = folder.rpartition("\\")[0]
    return folder


def _grouped_table(modules: list[Any]) -> list[str]:
    """ModuleInfoGrouping's view (Get-Module -ListAvailable): the table under each ``Directory:``."""
    lines: list[str] = []
    current = None
    for module in modules:
        folder = _directory(module)
        if folder != current:
            if current is not None:
                lines += ["", ""]
            lines += ["", "", f"    Directory: {folder}", "", "", *_HEADER]
            current = folder
        lines.append(_row(module))
    return [*lines, "", ""]


register_renderer("System.Management.Automation.PSModuleInfo", _module_table)
register_renderer("ModuleInfoGrouping", _grouped_table)
