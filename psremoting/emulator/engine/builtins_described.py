"""Commands a Windows host has that implicit remoting and GetCommandMetadata see.

``New-Guid`` and ``New-TemporaryFile`` (functions of Microsoft.PowerShell.Utility in 5.1) run:
a new System.Guid, and an empty ``tmpXXXX.tmp`` in ``$env:TEMP`` (its FileInfo). The
remoting and WSMan cmdlets below (``New-PSSession*``, ``Get-WSMan*``) are declared with the
parameters Windows reports for them (windows-recordings/test_psrp_get_command_metadata.yml),
so a client's Get-Command and implicit-remoting proxies meet what a Windows host lists; run,
they say the emulator does not implement them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter

from .commands import Builtin, CommandContext, register_builtin
from .objects import file_item

__all__: list[str] = []

_SWITCH = "switch"


def _p(name: str, kind: str = "string", *aliases: str) -> Parameter:
    return Parameter(name, kind, tuple(aliases))


class _NewGuid(Builtin):
    signature = CommandSignature("New-Guid")
    command_type = "Function"
    help_uri = "https://go.microsoft.com/fwlink/?LinkId=526920"

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        return [uuid.uuid4()]


class _NewTemporaryFile(Builtin):
    signature = CommandSignature(
        "New-TemporaryFile", (_p("WhatIf", _SWITCH, "wi"), _p("Confirm", _SWITCH, "cf"))
    )
    command_type = "Function"
    help_uri = "https://go.microsoft.com/fwlink/?LinkId=526726"

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        temp = str(ctx.evaluator.scope.env.get("TEMP") or "C:\\Windows\\Temp").rstrip("\\")
        if ctx.switch("WhatIf"):
            ctx.write_line(f'What if: Performing the operation "New-TemporaryFile" on target "{temp}".')
            return []
        sandbox = ctx.engine.sandbox
        folder = sandbox.host_path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        while True:  # [IO.Path]::GetTempFileName(): tmp + 4 hex digits, made empty
            name = f"tmp{uuid.uuid4().hex[:4].upper()}.tmp"
            try:
                (folder / name).open("xb").close()
            except FileExistsError:
                continue
            return [file_item(folder / name, f"{temp}\\{name}")]


class _Declared(Builtin):
    """A cmdlet known by its parameters only."""

    def __init__(self, name: str, help_uri: str, parameters: tuple[Parameter, ...]) -> None:
        self.signature = CommandSignature(name, parameters)
        self.help_uri = help_uri

    def run(self, ctx: CommandContext) -> Iterable[Any]:
        record = ctx.error(
            f"The endpoint emulator does not implement {self.name}: only its parameters are declared.",
            "System.NotImplementedException",
            ErrorCategory.NotImplemented,
            "NotImplemented",
        )
        ctx.write_error(record)
        return []


_FWLINK = "https://go.microsoft.com/fwlink/?"
_DECLARED = (
    _Declared(
        "New-PSSession",
        _FWLINK + "LinkID=135237",
        (
            _p("ComputerName", "string[]", "Cn"),
            _p("Credential", "pscredential"),
            _p("Session", "System.Management.Automation.Runspaces.PSSession[]"),
            _p("Name", "string[]"),
            _p("EnableNetworkAccess", _SWITCH),
            _p("ConfigurationName"),
            _p("VMId", "System.Guid[]", "VMGuid"),
            _p("VMName", "string[]"),
            _p("ContainerId", "string[]"),
            _p("RunAsAdministrator", _SWITCH),
            _p("Port", "int"),
            _p("UseSSL", _SWITCH),
            _p("ApplicationName"),
            _p("ThrottleLimit", "int"),
            _p("ConnectionUri", "System.Uri[]", "URI", "CU"),
            _p("AllowRedirection", _SWITCH),
            _p("SessionOption", "System.Management.Automation.Remoting.PSSessionOption"),
            _p("Authentication", "System.Management.Automation.Runspaces.AuthenticationMechanism"),
            _p("CertificateThumbprint"),
        ),
    ),
    _Declared(
        "New-PSSessionConfigurationFile",
        _FWLINK + "LinkID=217036",
        (
            _p("Path"),
            _p("SchemaVersion", "System.Version"),
            _p("Guid", "System.Guid"),
            _p("Author"),
            _p("Description"),
            _p("CompanyName"),
            _p("Copyright"),
            _p("SessionType", "System.Management.Automation.Remoting.SessionType"),
            _p("TranscriptDirectory"),
            _p("RunAsVirtualAccount", _SWITCH),
            _p("RunAsVirtualAccountGroups", "string[]"),
            _p("MountUserDrive", _SWITCH),
            _p("UserDriveMaximumSize", "System.Int64"),
            _p("GroupManagedServiceAccount"),
            _p("ScriptsToProcess", "string[]"),
            _p("RoleDefinitions", "System.Collections.IDictionary"),
            _p("RequiredGroups", "System.Collections.IDictionary"),
            _p("LanguageMode", "System.Management.Automation.PSLanguageMode"),
            _p("ExecutionPolicy", "Microsoft.PowerShell.ExecutionPolicy"),
            _p("PowerShellVersion", "System.Version"),
            _p("ModulesToImport", "object[]"),
            _p("VisibleAliases", "string[]"),
            _p("VisibleCmdlets", "object[]"),
            _p("VisibleFunctions", "object[]"),
            _p("VisibleExternalCommands", "string[]"),
            _p("VisibleProviders", "string[]"),
            _p("AliasDefinitions", "System.Collections.IDictionary[]"),
            _p("FunctionDefinitions", "System.Collections.IDictionary[]"),
            _p("VariableDefinitions", "object"),
            _p("EnvironmentVariables", "System.Collections.IDictionary"),
            _p("TypesToProcess", "string[]"),
            _p("FormatsToProcess", "string[]"),
            _p("AssembliesToLoad", "string[]"),
            _p("Full", _SWITCH),
        ),
    ),
    _Declared(
        "New-PSSessionOption",
        _FWLINK + "LinkID=144305",
        (
            _p("MaximumRedirection", "int"),
            _p("NoCompression", _SWITCH),
            _p("NoMachineProfile", _SWITCH),
            _p("Culture", "System.Globalization.CultureInfo"),
            _p("UICulture", "System.Globalization.CultureInfo"),
            _p("MaximumReceivedDataSizePerCommand", "int"),
            _p("MaximumReceivedObjectSize", "int"),
            _p("OutputBufferingMode", "System.Management.Automation.Runspaces.OutputBufferingMode"),
            _p("MaxConnectionRetryCount", "int"),
            _p("ApplicationArguments", "System.Management.Automation.PSPrimitiveDictionary"),
            _p("OpenTimeout", "int", "OpenTimeoutMSec"),
            _p("CancelTimeout", "int", "CancelTimeoutMSec"),
            _p("IdleTimeout", "int", "IdleTimeoutMSec"),
            _p("ProxyAccessType", "System.Management.Automation.Remoting.ProxyAccessType"),
            _p("ProxyAuthentication", "System.Management.Automation.Runspaces.AuthenticationMechanism"),
            _p("ProxyCredential", "pscredential"),
            _p("SkipCACheck", _SWITCH),
            _p("SkipCNCheck", _SWITCH),
            _p("SkipRevocationCheck", _SWITCH),
            _p("OperationTimeout", "int", "OperationTimeoutMSec"),
            _p("NoEncryption", _SWITCH),
            _p("UseUTF16", _SWITCH),
            _p("IncludePortInSPN", _SWITCH),
        ),
    ),
    _Declared("Get-WSManCredSSP", _FWLINK + "LinkId=141443", ()),
    _Declared(
        "Get-WSManInstance",
        _FWLINK + "LinkId=141444",
        (
            _p("ApplicationName"),
            _p("BasePropertiesOnly", _SWITCH, "UBPO", "Base"),
            _p("ComputerName", "string", "CN"),
            _p("ConnectionURI", "System.Uri", "CURI", "CU"),
            _p("Dialect", "System.Uri"),
            _p("Enumerate", _SWITCH),
            _p("Filter"),
            _p("Fragment"),
            _p("OptionSet", "hashtable", "OS"),
            _p("Port", "int"),
            _p("Associations", _SWITCH),
            _p("ResourceURI", "System.Uri", "RURI"),
            _p("ReturnType", "string", "RT"),
            _p("SelectorSet", "hashtable"),
            _p("SessionOption", "Microsoft.WSMan.Management.SessionOption", "SO"),
            _p("Shallow", _SWITCH),
            _p("UseSSL", _SWITCH, "SSL"),
            _p("Credential", "pscredential", "cred", "c"),
            _p("Authentication", "Microsoft.WSMan.Management.AuthenticationMechanism", "auth", "am"),
            _p("CertificateThumbprint"),
        ),
    ),
)

for _command in (_NewGuid(), _NewTemporaryFile(), *_DECLARED):
    register_builtin(_command)
