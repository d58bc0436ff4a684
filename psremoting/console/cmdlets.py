"""The local shell's cmdlets: signatures (parameters, aliases, positions) and cmdlet aliases.

Names, parameter aliases and positions follow PowerShell 7's cmdlets
(reference/pssession-semantics.md §1-§3): `-Cn` for ComputerName, `-URI`/`-CU` for
ConnectionUri, `-Command` for Invoke-Command's ScriptBlock, and so on. A parameter that
exists in several parameter sets at the same position (ComputerName / Session / Id at
position 0) is told apart by the value's type (`kinds`). What each cmdlet does lives in
`builtins`; the help texts in `helptext`.
"""

from __future__ import annotations

from dataclasses import replace

from psremoting.console import filecmds, formatcmds, implicit_cmds, jobcmds
from psremoting.console.cmdlet_types import COMMON_PARAMS, NOT_ON_THIS_CLIENT, CmdletSpec, Param, refused

__all__ = ["COMMON_PARAMS", "CmdletSpec", "Param", "SPECS", "all_names", "lookup", "parameters_of", "refused"]


#: Where to connect: only with -ComputerName (a connection URI holds them itself).
_ADDRESS: tuple[Param, ...] = (
    Param("Port", "int", help="The port on the remote computer (default 5985, or 5986 with -UseSSL)."),
    Param("UseSSL", "switch", help="Use HTTPS."),
    Param("ApplicationName", "string", help="The application name in the URI (default WSMAN)."),
)

#: How to log on, with -ComputerName or -ConnectionUri.
_LOGON: tuple[Param, ...] = (
    Param(
        "Credential",
        "credential",
        help="A user account (user name or PSCredential); prompts for the password.",
    ),
    Param(
        "Authentication",
        "string",
        help="Default, Basic, Negotiate, NegotiateWithImplicitCredential, Kerberos, CredSSP.",
    ),
    Param("ConfigurationName", "string", help="The session configuration (default Microsoft.PowerShell)."),
    Param("SessionOption", "option", help="Advanced options, from New-PSSessionOption."),
    Param(
        "CertificatePath",
        "string",
        help="(psremoting extension) A client certificate PEM file for certificate authentication over HTTPS.",
    ),
    Param(
        "KeyPath",
        "string",
        help="(psremoting extension) The PEM file of the -CertificatePath certificate's key.",
    ),
)


#: Where and how to connect, for -ComputerName parameter sets.
_CONNECTION: tuple[Param, ...] = _ADDRESS + _LOGON


def _in_sets(params: tuple[Param, ...], *sets: str) -> tuple[Param, ...]:
    return tuple(replace(p, sets=sets) for p in params)


SPECS: tuple[CmdletSpec, ...] = (
    CmdletSpec(
        "New-PSSession",
        "Creates a persistent connection to a local or remote computer.",
        (
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                0,
                pipeline=True,
                help="The computers to connect to.",
                sets=("ComputerName",),
            ),
            Param(
                "Session", "session[]", (), 0, help="Creates new sessions like these ones.", sets=("Session",)
            ),
            Param(
                "ConnectionUri",
                "string[]",
                ("URI", "CU"),
                0,
                True,
                help="URIs of the connection endpoints.",
                sets=("Uri",),
            ),
            Param("Name", "string[]", help="Friendly names for the sessions."),
            Param("ThrottleLimit", "int"),
            *_in_sets(_ADDRESS, "ComputerName"),
            *_in_sets(_LOGON, "ComputerName", "Uri"),
            *NOT_ON_THIS_CLIENT,
            refused(
                "UseWindowsPowerShell",
                "switch",
                "it starts a local Windows PowerShell 5.1 process, and there is none on this client",
            ),
        ),
        ("nsn",),
        api="new_pssession",
        default_set="ComputerName",
    ),
    CmdletSpec(
        "Get-PSSession",
        "Gets the PowerShell sessions on local and remote computers.",
        (
            Param(
                "Name", "string[]", help="Session names; wildcards allowed.", sets=("Name", "ComputerName")
            ),
            Param("Id", "int[]", (), 0, True, help="Session ids.", sets=("Id",)),
            Param(
                "InstanceId",
                "string[]",
                (),
                None,
                help="Session instance ids (GUIDs).",
                sets=("InstanceId", "ComputerName"),
                by_property_name=True,
            ),
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                0,
                True,
                help="Ask these computers for this user's sessions (disconnected ones included).",
                sets=("ComputerName",),
            ),
            Param("State", "string"),
            Param("ConfigurationName", "string", sets=("ComputerName",)),
            *_in_sets(tuple(p for p in _CONNECTION if p.name != "ConfigurationName"), "ComputerName"),
        ),
        ("gsn",),
        api="get_pssession",
        default_set="Name",
    ),
    CmdletSpec(
        "Enter-PSSession",
        "Starts an interactive session with a remote computer.",
        (
            Param(
                "ComputerName",
                "string",
                ("Cn",),
                0,
                True,
                True,
                help="The computer to connect to.",
                sets=("ComputerName",),
            ),
            Param("Session", "session", (), 0, pipeline=True, help="The session to use.", sets=("Session",)),
            Param("Id", "int", (), 0, help="The id of a session from Get-PSSession.", sets=("Id",)),
            Param(
                "Name",
                "string",
                (),
                None,
                True,
                help="The name of a session from Get-PSSession.",
                sets=("Name",),
            ),
            Param(
                "InstanceId",
                "string",
                (),
                None,
                True,
                help="The instance id of a session from Get-PSSession.",
                sets=("InstanceId",),
            ),
            Param(
                "ConnectionUri",
                "string",
                ("URI", "CU"),
                1,
                help="The URI of the connection endpoint.",
                sets=("Uri",),
            ),
            *_in_sets(_ADDRESS, "ComputerName"),
            *_in_sets(_LOGON, "ComputerName", "Uri"),
            *NOT_ON_THIS_CLIENT,
        ),
        ("etsn",),
        api="enter_pssession",
        default_set="ComputerName",
    ),
    CmdletSpec(
        "Exit-PSSession",
        "Ends an interactive session with a remote computer.",
        (),
        ("exsn",),
        api="exit_pssession",
    ),
    CmdletSpec(
        "Remove-PSSession",
        "Closes one or more PowerShell sessions (PSSessions).",
        (
            Param("Id", "int[]", (), 0, True, help="Session ids.", sets=("Id",)),
            Param(
                "Session", "session[]", (), 0, True, True, help="The sessions to close.", sets=("Session",)
            ),
            Param(
                "Name", "string[]", (), None, True, help="Session names; wildcards allowed.", sets=("Name",)
            ),
            Param(
                "InstanceId", "string[]", (), None, True, help="Session instance ids.", sets=("InstanceId",)
            ),
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                0,
                True,
                help="Sessions connected to these computers.",
                sets=("ComputerName",),
            ),
            Param("WhatIf", "switch", ("wi",)),
            Param("Confirm", "switch", ("cf",)),
        ),
        ("rsn",),
        api="remove_pssession",
        default_set="Id",
    ),
    CmdletSpec(
        "Invoke-Command",
        "Runs commands on local and remote computers.",
        (
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                0,
                help="The computers to run the command on.",
                sets=("ComputerName", "FilePathComputerName"),
            ),
            Param(
                "Session",
                "session[]",
                (),
                0,
                help="The sessions to run the command in.",
                sets=("Session", "FilePathRunspace"),
            ),
            Param(
                "ConnectionUri",
                "string[]",
                ("URI", "CU"),
                0,
                help="URIs of the connection endpoints.",
                sets=("Uri", "FilePathUri"),
            ),
            Param(
                "ScriptBlock",
                "scriptblock",
                ("Command",),
                1,
                True,
                help="The commands to run.",
                sets=("ComputerName", "Session", "Uri"),
            ),
            Param(
                "FilePath",
                "string",
                ("PSPath",),
                1,
                True,
                help="A local script file to run remotely.",
                sets=("FilePathComputerName", "FilePathRunspace", "FilePathUri"),
            ),
            Param("ArgumentList", "object[]", ("Args",), help="Values for the script block's parameters."),
            Param("ThrottleLimit", "int", help="Concurrent connections (default 32)."),
            Param("HideComputerName", "switch", ("HCN",), help="Omit PSComputerName from the output."),
            Param("SessionName", "string[]", sets=("ComputerName", "FilePathComputerName")),
            Param(
                "InDisconnectedSession",
                "switch",
                ("Disconnected",),
                help="Start the command, disconnect, and return the sessions (Receive-PSSession gets the output).",
                sets=("ComputerName", "FilePathComputerName"),
            ),
            Param("InputObject", "object", pipeline=True, help="Input for the command ($input, process {})."),
            Param("AsJob", "switch", help="Run as a background job (Get-Job, Receive-Job)."),
            Param("JobName", "string", help="A friendly name for the job (with -AsJob)."),
            *_in_sets(_ADDRESS, "ComputerName", "FilePathComputerName"),
            *_in_sets(_LOGON, "ComputerName", "FilePathComputerName", "Uri", "FilePathUri"),
            *NOT_ON_THIS_CLIENT,
            refused(
                "NoNewScope",
                "switch",
                "it runs a script block in the current scope of the local session, and the psremoting "
                "shell runs script blocks on remote computers only",
            ),
            refused(
                "RemoteDebug",
                "switch",
                "it attaches PowerShell's script debugger to the remote command, and the psremoting "
                "shell has no script debugger",
            ),
        ),
        ("icm",),
        api="invoke_command",
        default_set="ComputerName",
    ),
    CmdletSpec(
        "New-PSSessionOption",
        "Creates an object that contains advanced options for a PSSession.",
        (
            Param(
                "SkipCACheck",
                "switch",
                help="Do not check that a certificate authority signed the certificate.",
            ),
            Param(
                "SkipCNCheck", "switch", help="Do not check the certificate's name against the computer name."
            ),
            Param(
                "SkipRevocationCheck",
                "switch",
                help="Do not check the certificate against the CRL it names.",
            ),
            Param(
                "CertificateFingerprint",
                "string",
                help="psremoting extension: accept only the HTTPS certificate with this SHA-256 fingerprint.",
            ),
            Param(
                "ServicePrincipalName",
                "string",
                help="psremoting extension: the server's Kerberos principal (SERVICE/HOST), if not host/<name>.",
            ),
            Param(
                "KerberosDelegate",
                "switch",
                help="psremoting extension: forward the Kerberos ticket to the server (the second hop).",
            ),
            Param("NoEncryption", "switch", help="Allow unencrypted HTTP (Basic over HTTP)."),
            Param(
                "NoCompression", "switch", help="Do not compress (this client never compresses PSRP data)."
            ),
            Param("NoMachineProfile", "switch", help="Do not load the user's profile on the server."),
            Param(
                "OpenTimeout",
                "int",
                ("OpenTimeoutMSec",),
                help="Milliseconds to wait for the session to open.",
            ),
            Param(
                "OperationTimeout",
                "int",
                ("OperationTimeoutMSec",),
                help="Milliseconds one WS-Management operation may take.",
            ),
            Param("CancelTimeout", "int", ("CancelTimeoutMSec",), help="Milliseconds to wait for a stop."),
            Param(
                "IdleTimeout",
                "int",
                ("IdleTimeoutMSec",),
                help="Milliseconds the server keeps an idle session.",
            ),
            Param("MaxConnectionRetryCount", "int", help="Retries of a failed connection attempt."),
            Param("Culture", "string", help="The culture (WS-Management DataLocale), e.g. de-DE."),
            Param("UICulture", "string", help="The UI culture (WS-Management Locale), e.g. fr-FR."),
            Param("ApplicationArguments", "object", help="A hashtable the server sees in $PSSenderInfo."),
            Param(
                "MaximumRedirection",
                "int",
                help="0 only: this client does not follow redirections (-AllowRedirection is not supported).",
            ),
            Param(
                "ProxyAccessType",
                "string",
                help="None (proxies from the environment) or NoProxyServer; the Windows settings are not available.",
            ),
            refused(
                "ProxyAuthentication",
                "string",
                "give the proxy as a URL with its credentials instead (psremoting --proxy, or "
                "SessionOption(proxy=...) in Python)",
            ),
            refused(
                "ProxyCredential",
                "credential",
                "give the proxy as a URL with its credentials instead (psremoting --proxy, or "
                "SessionOption(proxy=...) in Python)",
            ),
            refused(
                "UseUTF16",
                "switch",
                "this client always sends its requests in UTF-8, which every WinRM server accepts",
            ),
            refused(
                "IncludePortInSPN",
                "switch",
                "this client asks Kerberos for the service name without the port; connect to the "
                "default port or register that name for the server",
            ),
            refused(
                "MaximumReceivedDataSizePerCommand",
                "int",
                "this client caps each answer from the server itself (see the psremoting "
                "documentation) and has no per-command limit yet",
            ),
            refused(
                "MaximumReceivedObjectSize",
                "int",
                "this client caps each answer from the server itself (see the psremoting "
                "documentation) and has no per-object limit yet",
            ),
            refused(
                "OutputBufferingMode",
                "string",
                "the output buffering mode of disconnected sessions cannot be chosen on this client yet",
            ),
        ),
        (),
        api="SessionOption",
    ),
    CmdletSpec(
        "Get-Credential",
        "Gets a credential object based on a user name and password.",
        (
            Param("Credential", "string", (), 0, help="A user name (prompts for the password)."),
            Param("UserName", "string"),
            Param("Message", "string"),
            Param("Title", "string"),
        ),
    ),
    CmdletSpec(
        "Disconnect-PSSession",
        "Disconnects from a session.",
        (
            Param("Session", "session[]", (), 0, True, True, sets=("Session",)),
            Param("Id", "int[]", (), 0, True, sets=("Id",)),
            Param("Name", "string[]", (), None, True, sets=("Name",)),
            Param("InstanceId", "string[]", (), None, True, sets=("InstanceId",)),
            Param("IdleTimeoutSec", "int", help="How long the server keeps the session (at least 60 s)."),
            Param(
                "OutputBufferingMode",
                "string",
                help="Block or Drop: what the server does with output meanwhile.",
            ),
            Param("ThrottleLimit", "int"),
        ),
        ("dnsn",),
        api="disconnect_pssession",
        default_set="Session",
    ),
    CmdletSpec(
        "Connect-PSSession",
        "Reconnects to disconnected sessions.",
        (
            Param("Session", "session[]", (), 0, True, True, sets=("Session",)),
            Param("Id", "int[]", (), 0, True, sets=("Id",)),
            Param("Name", "string[]", (), None, sets=("Name", "ComputerName")),
            Param("InstanceId", "string[]", (), None, sets=("InstanceId", "ComputerName")),
            Param("ComputerName", "string[]", ("Cn",), 0, True, sets=("ComputerName",)),
            Param("ThrottleLimit", "int"),
            *_in_sets(_CONNECTION, "ComputerName"),
        ),
        ("cnsn",),
        api="connect_pssession",
        default_set="Session",
    ),
    CmdletSpec(
        "Receive-PSSession",
        "Gets results of commands in disconnected sessions.",
        (
            Param("Session", "session", (), 0, True, True, sets=("Session",)),
            Param("Id", "int", (), 0, True, sets=("Id",)),
            Param("Name", "string", (), None, sets=("Name", "ComputerName")),
            Param("InstanceId", "string", (), None, sets=("InstanceId", "ComputerName")),
            Param("ComputerName", "string", ("Cn",), 0, True, sets=("ComputerName",)),
            Param("OutTarget", "string"),
            *_in_sets(_CONNECTION, "ComputerName"),
        ),
        ("rcsn",),
        api="receive_pssession",
        default_set="Session",
    ),
    CmdletSpec(
        "Get-Help",
        "Displays information about the session cmdlets.",
        (
            Param("Name", "string", (), 0, by_property_name=True),
            Param("Full", "switch"),
            Param("Detailed", "switch"),
            Param("Examples", "switch"),
            Param("Parameter", "string"),
        ),
        ("help", "man"),
    ),
    CmdletSpec(
        "Get-Command",
        "Lists the commands the local shell runs.",
        (Param("Name", "string[]", (), 0, by_property_name=True),),
        ("gcm",),
    ),
    CmdletSpec(
        "Set-Location",
        "Sets the local working folder.",
        (Param("Path", "string", ("PSPath", "LiteralPath"), 0, by_property_name=True),),
        ("cd", "sl", "chdir"),
    ),
    CmdletSpec("Get-Location", "Gets the local working folder.", (), ("gl", "pwd")),
    CmdletSpec("Clear-Host", "Clears the screen.", (), ("cls", "clear"), common=False, function=True),
    CmdletSpec(
        "Write-Output",
        "Writes objects to the output.",
        (Param("InputObject", "object[]", (), 0, pipeline=True),),
        ("echo", "write"),
        remaining="InputObject",
    ),
    CmdletSpec(
        "Write-Host",
        "Writes text to the screen.",
        (
            Param("Object", "object[]", (), 0, pipeline=True),
            Param("NoNewline", "switch"),
            Param("ForegroundColor", "string"),
            Param("BackgroundColor", "string"),
            Param("Separator", "string"),
        ),
        (),
        remaining="Object",
    ),
    CmdletSpec("Get-History", "Lists the commands typed at this prompt.", (), ("h", "history", "ghy")),
)

SPECS = SPECS + jobcmds.SPECS + filecmds.SPECS + formatcmds.SPECS + implicit_cmds.SPECS

_BY_NAME: dict[str, CmdletSpec] = {}
for _spec in SPECS:
    _BY_NAME[_spec.name.lower()] = _spec
    for _alias in _spec.aliases:
        _BY_NAME[_alias.lower()] = _spec


def lookup(name: str) -> CmdletSpec | None:
    """The cmdlet called `name` (or an alias of it), case-insensitively."""
    return _BY_NAME.get(name.lower())


def all_names() -> list[str]:
    """Every cmdlet name and alias the local shell knows (for completion)."""
    names = [s.name for s in SPECS]
    names += [a for s in SPECS for a in s.aliases]
    return names


def parameters_of(spec: CmdletSpec) -> tuple[Param, ...]:
    """A cmdlet's own parameters, then the common parameters it takes."""
    return spec.params + (COMMON_PARAMS if spec.common else ())
