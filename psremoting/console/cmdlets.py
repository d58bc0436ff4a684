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
from psremoting.console.option_spec import SESSION_OPTION_SPEC

__all__ = ["COMMON_PARAMS", "CmdletSpec", "Param", "SPECS", "all_names", "lookup", "parameters_of", "refused"]


#: Where to connect: only with -ComputerName (a connection URI holds them itself).
_ADDRESS: tuple[Param, ...] = (
    Param("Port", "int", help="The port on the remote computer (default 5985, or 5986 with -UseSSL)."),
    Param("UseSSL", "switch", help="Use HTTPS."),
    Param(
        "ApplicationName",
        "string",
        help="The application name in the URI (default WSMAN).",
        by_property_name=True,
    ),
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
    Param(
        "ConfigurationName",
        "string",
        help="The session configuration (default Microsoft.PowerShell).",
        by_property_name=True,
    ),
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


def _in_sets(params: tuple[Param, ...], *sets: str, piped: bool = False) -> tuple[Param, ...]:
    """`params` in these sets; `piped`: -Credential takes pipeline input ByPropertyName too."""
    return tuple(
        replace(p, sets=sets, by_property_name=p.by_property_name or (piped and p.name == "Credential"))
        for p in params
    )


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
                by_property_name=True,
            ),
            Param(
                "Session",
                "session[]",
                (),
                0,
                pipeline=True,
                help="Creates new sessions like these ones.",
                sets=("Session",),
                by_property_name=True,
            ),
            Param(
                "ConnectionUri",
                "string[]",
                ("URI", "CU"),
                0,
                True,
                help="URIs of the connection endpoints.",
                sets=("Uri",),
                by_property_name=True,
            ),
            Param("Name", "string[]", help="Friendly names for the sessions."),
            Param("ThrottleLimit", "int"),
            *_in_sets(_ADDRESS, "ComputerName"),
            *_in_sets(_LOGON, "ComputerName", "Uri", piped=True),
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
                "Name",
                "string[]",
                help="Session names; wildcards allowed.",
                sets=("Name", "ComputerName"),
                by_property_name=True,
            ),
            Param("Id", "int[]", (), 0, True, help="Session ids.", sets=("Id",), by_property_name=True),
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
                by_property_name=True,
            ),
            Param("State", "string"),
            Param("ConfigurationName", "string", sets=("ComputerName",), by_property_name=True),
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
                by_property_name=True,
            ),
            Param(
                "Session",
                "session",
                (),
                0,
                pipeline=True,
                help="The session to use.",
                sets=("Session",),
                by_property_name=True,
            ),
            Param(
                "Id",
                "int",
                (),
                0,
                help="The id of a session from Get-PSSession.",
                sets=("Id",),
                by_property_name=True,
            ),
            Param(
                "Name",
                "string",
                (),
                None,
                True,
                help="The name of a session from Get-PSSession.",
                sets=("Name",),
                by_property_name=True,
            ),
            Param(
                "InstanceId",
                "string",
                (),
                None,
                True,
                help="The instance id of a session from Get-PSSession.",
                sets=("InstanceId",),
                by_property_name=True,
            ),
            Param(
                "ConnectionUri",
                "string",
                ("URI", "CU"),
                1,
                help="The URI of the connection endpoint.",
                sets=("Uri",),
                by_property_name=True,
            ),
            *_in_sets(_ADDRESS, "ComputerName"),
            *_in_sets(_LOGON, "ComputerName", "Uri", piped=True),
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
            Param("Id", "int[]", (), 0, True, help="Session ids.", sets=("Id",), by_property_name=True),
            Param(
                "Session",
                "session[]",
                (),
                0,
                True,
                True,
                help="The sessions to close.",
                sets=("Session",),
                by_property_name=True,
            ),
            Param(
                "Name",
                "string[]",
                (),
                None,
                True,
                help="Session names.",
                sets=("Name",),
                by_property_name=True,
            ),
            Param("InstanceId", "string[]", (), None, True, sets=("InstanceId",), by_property_name=True),
            Param(
                "ComputerName",
                "string[]",
                ("Cn",),
                0,
                True,
                help="Sessions connected to these computers.",
                sets=("ComputerName",),
                by_property_name=True,
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
            *_in_sets(_LOGON, "ComputerName", "FilePathComputerName", "Uri", "FilePathUri", piped=True),
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
    SESSION_OPTION_SPEC,
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
            Param("Session", "session[]", (), 0, True, True, sets=("Session",), by_property_name=True),
            Param("Id", "int[]", (), 0, True, sets=("Id",), by_property_name=True),
            Param("Name", "string[]", (), None, True, sets=("Name",), by_property_name=True),
            Param("InstanceId", "string[]", (), None, True, sets=("InstanceId",), by_property_name=True),
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
            Param("Session", "session[]", (), 0, True, True, sets=("Session",), by_property_name=True),
            Param("Id", "int[]", (), 0, True, sets=("Id",), by_property_name=True),
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
            Param("Session", "session", (), 0, True, True, sets=("Session",), by_property_name=True),
            Param("Id", "int", (), 0, True, True, sets=("Id",), by_property_name=True),
            Param(
                "Name",
                "string",
                (),
                None,
                pipeline=True,
                sets=("Name", "ComputerName"),
                by_property_name=True,
            ),
            Param(
                "InstanceId",
                "string",
                (),
                None,
                pipeline=True,
                sets=("InstanceId", "ComputerName"),
                by_property_name=True,
            ),
            Param("ComputerName", "string", ("Cn",), 0, True, sets=("ComputerName",), by_property_name=True),
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
        (Param("Name", "string[]", (), 0, pipeline=True, by_property_name=True),),
        ("gcm",),
    ),
    CmdletSpec(
        "Set-Location",
        "Sets the local working folder.",
        (Param("Path", "string", ("PSPath", "LiteralPath", "LP"), 0, pipeline=True, by_property_name=True),),
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
            Param("Object", "object[]", ("Msg", "Message"), 0, pipeline=True),
            Param("NoNewline", "switch"),
            Param("ForegroundColor", "string"),
            Param("BackgroundColor", "string"),
            Param("Separator", "string"),
        ),
        (),
        remaining="Object",
    ),
    CmdletSpec(
        "Get-History",
        "Lists the commands typed at this prompt.",
        (Param("Id", "int[]", (), 0, pipeline=True), Param("Count", "int", (), 1)),
        ("h", "history", "ghy"),
    ),
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
