"""`Get-Help NAME` for the local shell's cmdlets: short texts after PowerShell's own help.

The layout is Get-Help's (NAME, SYNOPSIS, SYNTAX, DESCRIPTION, ALIASES, REMARKS); the
syntax lines are PowerShell 7's parameter sets, cut to what psremoting supports; the
descriptions and examples are abridged from the PowerShell documentation.
"""

from __future__ import annotations

from psremoting.console.cmdlets import CmdletSpec, lookup, parameters_of

_SYNTAX: dict[str, tuple[str, ...]] = {
    "New-PSSession": (
        "New-PSSession [[-ComputerName] <string[]>] [-Credential <pscredential>] [-Name <string[]>] "
        "[-Port <int>] [-UseSSL] [-ConfigurationName <string>] [-Authentication <AuthenticationMechanism>] "
        "[-SessionOption <PSSessionOption>] [<CommonParameters>]",
        "New-PSSession [-ConnectionUri] <uri[]> [-Credential <pscredential>] [-Name <string[]>] "
        "[-ConfigurationName <string>] [-Authentication <AuthenticationMechanism>] "
        "[-SessionOption <PSSessionOption>] [<CommonParameters>]",
        "New-PSSession [[-Session] <PSSession[]>] [-Name <string[]>] [<CommonParameters>]",
    ),
    "Get-PSSession": (
        "Get-PSSession [-Name <string[]>] [<CommonParameters>]",
        "Get-PSSession [-Id] <int[]> [<CommonParameters>]",
        "Get-PSSession -InstanceId <guid[]> [<CommonParameters>]",
    ),
    "Enter-PSSession": (
        "Enter-PSSession [-ComputerName] <string> [[-Credential] <pscredential>] [-Port <int>] [-UseSSL] "
        "[-ConfigurationName <string>] [-Authentication <AuthenticationMechanism>] "
        "[-SessionOption <PSSessionOption>] [<CommonParameters>]",
        "Enter-PSSession [[-Session] <PSSession>] [<CommonParameters>]",
        "Enter-PSSession [[-ConnectionUri] <uri>] [-Credential <pscredential>] [<CommonParameters>]",
        "Enter-PSSession [[-Id] <int>] [<CommonParameters>]",
        "Enter-PSSession -Name <string> [<CommonParameters>]",
        "Enter-PSSession -InstanceId <guid> [<CommonParameters>]",
    ),
    "Exit-PSSession": ("Exit-PSSession [<CommonParameters>]",),
    "Remove-PSSession": (
        "Remove-PSSession [-Id] <int[]> [-WhatIf] [-Confirm] [<CommonParameters>]",
        "Remove-PSSession [-Session] <PSSession[]> [-WhatIf] [-Confirm] [<CommonParameters>]",
        "Remove-PSSession -Name <string[]> [-WhatIf] [-Confirm] [<CommonParameters>]",
        "Remove-PSSession -InstanceId <guid[]> [-WhatIf] [-Confirm] [<CommonParameters>]",
        "Remove-PSSession [-ComputerName] <string[]> [-WhatIf] [-Confirm] [<CommonParameters>]",
    ),
    "Invoke-Command": (
        "Invoke-Command [[-ComputerName] <string[]>] [-ScriptBlock] <scriptblock> [-Credential <pscredential>] "
        "[-Port <int>] [-UseSSL] [-ThrottleLimit <int>] [-HideComputerName] [-ArgumentList <Object[]>] "
        "[<CommonParameters>]",
        "Invoke-Command [[-Session] <PSSession[]>] [-ScriptBlock] <scriptblock> [-ThrottleLimit <int>] "
        "[-HideComputerName] [-ArgumentList <Object[]>] [<CommonParameters>]",
        "Invoke-Command [[-ComputerName] <string[]>] [-FilePath] <string> [-ArgumentList <Object[]>] "
        "[<CommonParameters>]",
    ),
    "New-PSSessionOption": (
        "New-PSSessionOption [-SkipCACheck] [-SkipCNCheck] [-SkipRevocationCheck] [-CertificateFingerprint <string>] "
        "[-KerberosDelegate] [-ServicePrincipalName <string>] [-NoEncryption] "
        "[-OpenTimeout <int>] [-OperationTimeout <int>] [-CancelTimeout <int>] [-IdleTimeout <int>] "
        "[-MaximumRedirection <int>] [-MaxConnectionRetryCount <int>] [<CommonParameters>]",
    ),
    "Get-Credential": (
        "Get-Credential [[-Credential] <pscredential>] [<CommonParameters>]",
        "Get-Credential [-Message <string>] [[-UserName] <string>] [-Title <string>] [<CommonParameters>]",
    ),
}

_DESCRIPTION: dict[str, str] = {
    "New-PSSession": (
        "The New-PSSession cmdlet creates a PowerShell session (PSSession) on a local or remote "
        "computer. When you create a PSSession, PowerShell establishes a persistent connection to the "
        "remote computer. Use a PSSession to run multiple commands that share data, such as a function "
        "or the value of a variable. To run commands in a PSSession, use Invoke-Command; to start an "
        "interactive session, use Enter-PSSession."
    ),
    "Get-PSSession": (
        "The Get-PSSession cmdlet gets the user-managed PowerShell sessions (PSSessions) created in "
        "the current session. Without parameters it gets all of them, in any state: Opened, "
        "Disconnected, Broken or Closed."
    ),
    "Enter-PSSession": (
        "The Enter-PSSession cmdlet starts an interactive session with a single remote computer. "
        "During the session, the commands that you type run on the remote computer, just as if you "
        "were typing directly on the remote computer. Use -ComputerName for a temporary session, "
        "closed when you leave, or -Session for a PSSession that stays open. To end the interactive "
        "session, type Exit-PSSession, or exit."
    ),
    "Exit-PSSession": (
        "The Exit-PSSession cmdlet ends interactive sessions that you started by using "
        "Enter-PSSession. You can also use the exit keyword to end an interactive session. The "
        "effect is the same as using Exit-PSSession."
    ),
    "Remove-PSSession": (
        "The Remove-PSSession cmdlet closes PowerShell sessions (PSSessions) in the current session. "
        "It stops any commands that are running in the PSSessions, ends the PSSession, and releases "
        "the resources that the PSSession was using."
    ),
    "Invoke-Command": (
        "The Invoke-Command cmdlet runs commands on a local or remote computer and returns all "
        "output from the commands, including errors. Using a single Invoke-Command command, you can "
        "run commands on multiple computers. To run a single command on a remote computer, use the "
        "ComputerName parameter. To run a series of related commands that share data, use "
        "New-PSSession to create a PSSession and then use the Session parameter."
    ),
    "New-PSSessionOption": (
        "The New-PSSessionOption cmdlet creates an object that contains advanced options for a "
        "user-managed session (PSSession). You can use the object as the value of the SessionOption "
        "parameter of cmdlets that create a PSSession, such as New-PSSession, Enter-PSSession, and "
        "Invoke-Command."
    ),
    "Get-Credential": (
        "The Get-Credential cmdlet creates a credential object for a specified user name and "
        "password. You can use the credential object in security operations. The password is read "
        "at the terminal without echo."
    ),
}

_EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "Exit-PSSession": (
        (
            "Enter-PSSession -computername Server01\n[Server01]: PS C:\\Users\\user\\Documents> Exit-PSSession",
            "These commands start and then stop an interactive session with the Server01 remote computer.",
        ),
        (
            "$s = new-pssession -computername Server01\nEnter-PSSession -session $s\n"
            "[Server01]: PS C:\\Users\\user\\Documents> Exit-PSSession\n$s",
            "Because the interactive session was started by using a PSSession, the PSSession is still "
            "available (State Opened) when the interactive session ends.",
        ),
        (
            "Enter-PSSession -computername Server01\n[Server01]: PS C:\\Users\\user\\Documents> exit",
            "The Exit keyword has the same effect as using Exit-PSSession.",
        ),
    ),
    "Enter-PSSession": (
        ("Enter-PSSession -ComputerName Server01", "Starts an interactive session with Server01."),
        ("$s = New-PSSession -ComputerName Server01\nEnter-PSSession -Session $s", "Enters a PSSession."),
    ),
    "New-PSSession": (
        ("$s = New-PSSession -ComputerName Server01, Server02", "Creates two sessions, saved in $s."),
    ),
    "Invoke-Command": (
        (
            "Invoke-Command -ComputerName Server01 -ScriptBlock { Get-Culture }",
            "Runs a command on a remote computer.",
        ),
        ("icm $s { $env:COMPUTERNAME }", "Runs a command in the sessions in $s."),
    ),
    "Get-PSSession": (("Get-PSSession", "Gets all the PSSessions created in the current session."),),
    "Remove-PSSession": (("Get-PSSession | Remove-PSSession", "Closes every PSSession."),),
}


def _indent(text: str, width: int = 4) -> str:
    import textwrap

    lines: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, 100 - width) or [""]
        lines.extend(" " * width + w for w in wrapped)
    return "\n".join(lines)


def _syntax_of(spec: CmdletSpec) -> tuple[str, ...]:
    if spec.name in _SYNTAX:
        return _SYNTAX[spec.name]
    parts = [spec.name]
    for p in spec.params:
        value = "" if p.is_switch else f" <{p.kind}>"
        name = f"-{p.name}"
        if p.position is not None:
            name = f"[{name}]"
        parts.append(f"[{name}{value}]")
    if spec.common:
        parts.append("[<CommonParameters>]")
    return (" ".join(parts),)


def help_for(
    name: str,
    *,
    full: bool = False,
    examples: bool = False,
    parameter: str | None = None,
    spec: CmdletSpec | None = None,
) -> str | None:
    """The help text of the cmdlet `name` (or one of its aliases, or the `spec` given, such as
    an imported command's), or None if unknown."""
    spec = spec or lookup(name)
    if spec is None:
        return None
    out: list[str] = [""]
    if parameter:
        wanted = parameter.lower()
        for p in parameters_of(spec):
            if p.name.lower() == wanted or wanted in (a.lower() for a in p.aliases):
                kind = "" if p.is_switch else f" <{p.kind}>"
                out += [f"-{p.name}{kind}", _indent(p.help or p.name), ""]
                out += [
                    f"    Required?                    {str(p.mandatory).lower()}",
                    f"    Position?                    {p.position if p.position is not None else 'named'}",
                    f"    Accept pipeline input?       {str(p.pipeline).lower()}",
                    f"    Aliases                      {', '.join(p.aliases) or 'none'}",
                    "",
                ]
                return "\n".join(out)
        return None
    if examples:
        out += ["NAME", f"    {spec.name}", "", "SYNOPSIS", _indent(spec.synopsis), ""]
        out += _examples(spec)
        return "\n".join(out)
    out += ["NAME", f"    {spec.name}", "", "SYNOPSIS", _indent(spec.synopsis), "", ""]
    out += ["SYNTAX"]
    for line in _syntax_of(spec):
        out += [_indent(line), ""]
    out += ["", "DESCRIPTION", _indent(_DESCRIPTION.get(spec.name, spec.synopsis)), "", ""]
    if full:
        out += ["PARAMETERS"]
        for p in spec.params:
            kind = "" if p.is_switch else f" <{p.kind}>"
            out += [f"    -{p.name}{kind}", _indent(p.help or p.name, 8), ""]
        out += _examples(spec)
    out += ["ALIASES"]
    out += [f"    {a}" for a in spec.aliases] or ["    None"]
    out += ["", "", "REMARKS"]
    if spec.name in _EXAMPLES and not full:
        out += [f'    To see the examples, type: "get-help {spec.name} -examples".']
    out += [f'    For more information, type: "get-help {spec.name} -full".', ""]
    return "\n".join(out)


def _examples(spec: CmdletSpec) -> list[str]:
    out: list[str] = []
    for number, (code, text) in enumerate(_EXAMPLES.get(spec.name, ()), 1):
        out += [f"    -------------------------- EXAMPLE {number} --------------------------", ""]
        out += [f"    PS /> {line}" if i == 0 else f"    {line}" for i, line in enumerate(code.split("\n"))]
        out += ["", _indent(text), "", ""]
    return out
