"""The pipeline-binding audit: every local cmdlet of the shell takes pipeline input as its
PowerShell counterpart declares it, or refuses it with PowerShell's InputObjectNotBound error.

`POWERSHELL` is the table of PowerShell's [Parameter()] attributes, read from PowerShell's
source (github.com/PowerShell/PowerShell at 929903692e, the file in each row's comment), for
the parameters the shell has: "V" ValueFromPipeline, "P" ValueFromPipelineByPropertyName.
The walk covers every cmdlet the shell registers (`cmdlets.SPECS`): one added later without
a row fails `test_every_local_cmdlet_has_a_row`. Each row is checked through the real shell
(parse, bind, pipeline binding) with objects from the emulator (a PSSession, a job): the
cmdlet's body is replaced by a recorder, below the binding under test, so that the test sees
what the cmdlet received; a few end-to-end checks at the end run the real cmdlets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from psremoting.console import cmdlets, interpreter
from psremoting.protocol.session_texts import INPUT_OBJECT_NOT_BOUND

from .test_local_shell import Console

NOT_BOUND = INPUT_OBJECT_NOT_BOUND

_R = "src/System.Management.Automation/engine/remoting/commands/"
_NAV = "src/Microsoft.PowerShell.Commands.Management/commands/management/Navigation.cs"
_FORMAT = "src/System.Management.Automation/FormatAndOutput/common/BaseCommand.cs (FrontEndCommandBase)"
_JOB = {"Job": "VP", "Id": "P", "Name": "P", "InstanceId": "P", "State": "P"}  # JobCmdletBase

#: cmdlet: {parameter: "V" / "P" / "VP"}. Parameters PowerShell takes from the pipeline that the
#: shell does not have (VMId, ContainerId, Get-Location's -PSDrive...) or refuses (-Filter)
#: are left out: an object that only they would take is refused here.
POWERSHELL: dict[str, dict[str, str]] = {
    # newrunspacecommand.cs, PSRemotingCmdlet.cs (PSRemotingBaseCmdlet: -ApplicationName)
    "New-PSSession": {"ComputerName": "VP", "Session": "VP", "ConnectionUri": "P", "Credential": "P",
                      "ConfigurationName": "P", "ApplicationName": "P"},
    # getrunspacecommand.cs, PSRemotingCmdlet.cs (PSRunspaceCmdlet: -Id)
    "Get-PSSession": {"ComputerName": "P", "ApplicationName": "P", "ConfigurationName": "P", "Name": "P",
                      "InstanceId": "P", "Id": "P"},
    # PushRunspaceCommand.cs
    "Enter-PSSession": {"ComputerName": "VP", "Session": "VP", "ConnectionUri": "P", "InstanceId": "P",
                        "Id": "P", "Name": "P", "Credential": "P", "ConfigurationName": "P",
                        "ApplicationName": "P"},
    "Exit-PSSession": {},  # PopRunspaceCommand.cs: no parameters
    # removerunspacecommand.cs, PSRemotingCmdlet.cs (PSRunspaceCmdlet)
    "Remove-PSSession": {"Session": "VP", "Id": "P", "Name": "P", "InstanceId": "P", "ComputerName": "P"},
    # InvokeCommandCommand.cs, PSRemotingCmdlet.cs (PSExecutionCmdlet: -InputObject)
    "Invoke-Command": {"InputObject": "V", "Credential": "P", "ConfigurationName": "P", "ApplicationName": "P"},
    "New-PSSessionOption": {},  # NewPSSessionOptionCommand.cs
    "Get-Credential": {},  # src/Microsoft.PowerShell.Security/security/CredentialCommands.cs
    # DisconnectPSSession.cs, PSRemotingCmdlet.cs (PSRunspaceCmdlet)
    "Disconnect-PSSession": {"Session": "VP", "Id": "P", "Name": "P", "InstanceId": "P"},
    # ConnectPSSession.cs (its -Name, -InstanceId, -ComputerName take no input)
    "Connect-PSSession": {"Session": "VP", "Id": "P", "ApplicationName": "P", "ConfigurationName": "P"},
    # ReceivePSSession.cs
    "Receive-PSSession": {"Session": "VP", "Id": "VP", "Name": "VP", "InstanceId": "VP", "ComputerName": "P",
                          "ApplicationName": "P", "ConfigurationName": "P"},
    "Get-Help": {"Name": "P"},  # src/System.Management.Automation/help/HelpCommands.cs
    "Get-Command": {"Name": "VP"},  # src/System.Management.Automation/engine/GetCommandCommand.cs
    "Set-Location": {"Path": "VP"},  # Navigation.cs (-LiteralPath/-PSPath P: an alias of -Path here)
    "Get-Location": {},  # Navigation.cs: only -PSProvider, -PSDrive, -StackName (P), not in the shell
    "Clear-Host": {},  # a function (InitialSessionState.cs): input goes to $input
    "Write-Output": {"InputObject": "V"},  # src/Microsoft.PowerShell.Commands.Utility/.../Write-Object.cs
    "Write-Host": {"Object": "V"},  # .../commands/utility/WriteConsoleCmdlet.cs
    "Get-History": {"Id": "V"},  # src/System.Management.Automation/engine/hostifaces/History.cs
    "Get-Job": {"Id": "P", "Name": "P", "InstanceId": "P", "State": "P", "Command": "P"},  # GetJob.cs
    # ReceiveJob.cs (-Session P is refused by this client)
    "Receive-Job": {"Job": "VP", "Id": "P", "Name": "P", "InstanceId": "P", "ComputerName": "P"},
    "Wait-Job": _JOB,  # WaitJob.cs, RemoveJob.cs (JobCmdletBase)
    "Stop-Job": _JOB,  # StopJob.cs, RemoveJob.cs (JobCmdletBase)
    "Remove-Job": {**_JOB, "Command": "P"},  # RemoveJob.cs
    "Copy-Item": {"Path": "VP", "LiteralPath": "P", "Destination": "P"},  # Navigation.cs
    "Format-Table": {"InputObject": "V"},  # _FORMAT
    "Format-List": {"InputObject": "V"},  # _FORMAT
    "Format-Wide": {"InputObject": "V"},  # _FORMAT
    "Out-String": {"InputObject": "V"},  # _FORMAT
    "Select-Object": {"InputObject": "V"},  # .../commands/utility/Select-Object.cs
    # src/Microsoft.PowerShell.Commands.Utility/commands/utility/ImplicitRemotingCommands.cs
    "Import-PSSession": {},
    "Export-PSSession": {},
    "Import-Module": {"Name": "V"},  # src/System.Management.Automation/engine/Modules/ImportModuleCommand.cs
}  # fmt: skip


def _declared(spec: cmdlets.CmdletSpec) -> dict[str, str]:
    flags = {}
    for p in spec.params:
        mode = ("V" if p.pipeline else "") + ("P" if p.by_property_name else "")
        if mode and not p.unsupported:
            flags[p.name] = mode
    return flags


def _class(name: str) -> str:
    return "Microsoft.PowerShell.Commands." + name.replace("-", "") + "Command"


def test_every_local_cmdlet_has_a_row() -> None:
    assert sorted(POWERSHELL) == sorted(s.name for s in cmdlets.SPECS)


@pytest.mark.parametrize("spec", cmdlets.SPECS, ids=lambda s: s.name)
def test_the_cmdlet_declares_powershells_pipeline_parameters(spec: cmdlets.CmdletSpec) -> None:
    assert _declared(spec) == POWERSHELL[spec.name]


# -- through the shell --------------------------------------------------------------------


class Recorder:
    """Stands in for a cmdlet's body: keeps what each run received (bound parameters, input)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], list[Any]]] = []

    def __call__(self, call: Any) -> list[Any]:
        self.calls.append((dict(call.params), list(call.input)))
        return []


@pytest.fixture(scope="module")
def shell() -> Iterator[Console]:
    from psremoting.cmdlets import sessions
    from psremoting.console.emulator_mode import emulated_computers

    with emulated_computers():
        console = Console()
        console.run("$s = New-PSSession Server01; $j = Invoke-Command -ComputerName Server01 { 1 } -AsJob")
        console.run("$null = Wait-Job $j; $g = $s.InstanceId")
        try:
            yield console
        finally:
            console.run("Get-Job | Remove-Job -Force")
            for session in sessions.get_pssession():
                sessions.remove_pssession(session)


def _rows(mode: str) -> list[tuple[str, str]]:
    return [(c, p) for c, row in POWERSHELL.items() for p, m in row.items() if mode in m]


def _param(cmdlet: str, name: str) -> cmdlets.Param:
    spec = cmdlets.lookup(cmdlet)
    assert spec is not None
    return next(p for p in spec.params if p.name == name)


def _sample(shell: Console, param: cmdlets.Param) -> tuple[str, Any]:
    """A value of the parameter's type: the shell expression, and the value it gives."""
    scope = shell.interpreter.scope
    kind = param.kind.removesuffix("[]")
    if kind == "session" or kind == "object":
        return "$s", scope.lookup("s")
    if kind == "job":
        return "$j", scope.lookup("j")
    if kind == "int":
        return "7", 7
    if param.name == "InstanceId":
        return "$g", str(scope.lookup("g"))
    return "'piped'", "piped"


#: Mandatory parameters that take no input, given on the command line.
_REQUIRED = {
    "Invoke-Command": " -ScriptBlock { 1 }",
    "Import-PSSession": " -Session $s",
    "Export-PSSession": " -Session $s -OutputModule m",
}


def _run(shell: Console, monkeypatch: pytest.MonkeyPatch, cmdlet: str, line: str) -> tuple[str, Recorder]:
    """Run `line` (ending in `cmdlet`, whose mandatory parameters are added) with the cmdlet's
    body recorded."""
    line = line.replace(f"| {cmdlet}", f"| {cmdlet}{_REQUIRED.get(cmdlet, '')}")
    recorder = Recorder()
    with monkeypatch.context() as patch:
        patch.setitem(interpreter.IMPLEMENTATIONS, cmdlet, recorder)
        out = shell.run(line)
    return out, recorder


def _as_given(param: cmdlets.Param, value: Any) -> Any:
    return [value] if param.kind.endswith("[]") and param.kind != "object[]" else value


@pytest.mark.parametrize(("cmdlet", "name"), _rows("V"), ids="{0[0]} -{0[1]}".format)
def test_a_by_value_parameter_binds_a_piped_object_of_its_type(
    shell: Console, monkeypatch: pytest.MonkeyPatch, cmdlet: str, name: str
) -> None:
    param = _param(cmdlet, name)
    expression, value = _sample(shell, param)
    out, recorder = _run(shell, monkeypatch, cmdlet, f"{expression} | {cmdlet}")
    assert out == ""
    [(params, received)] = recorder.calls
    if param.kind in ("object", "object[]"):  # -InputObject: the objects come as the input
        assert received == [value] and name not in params
    else:
        assert params[name] == _as_given(param, value) and received == []


@pytest.mark.parametrize(("cmdlet", "name"), _rows("P"), ids="{0[0]} -{0[1]}".format)
def test_a_by_property_name_parameter_binds_from_an_object_with_that_property(
    shell: Console, monkeypatch: pytest.MonkeyPatch, cmdlet: str, name: str
) -> None:
    param = _param(cmdlet, name)
    expression, value = _sample(shell, param)
    if param.kind == "credential":
        expression, value = "'user01'", "user01"
    out, recorder = _run(
        shell, monkeypatch, cmdlet, f"[pscustomobject]@{{ {name} = {expression} }} | {cmdlet}"
    )
    assert out == ""
    [(params, _received)] = recorder.calls
    assert params[name] == _as_given(param, value)


def _takes_anything(cmdlet: str) -> bool:
    """A ByValue parameter of type object or string takes any object (a string by conversion)."""
    row = POWERSHELL[cmdlet]
    kinds = [_param(cmdlet, p).kind.removesuffix("[]") for p, m in row.items() if "V" in m]
    return cmdlet == "Clear-Host" or any(k in ("object", "string") for k in kinds)


_REFUSING = [c for c in POWERSHELL if not _takes_anything(c)]


@pytest.mark.parametrize("cmdlet", _REFUSING)
def test_an_object_no_parameter_takes_is_refused_once_per_object(
    shell: Console, monkeypatch: pytest.MonkeyPatch, cmdlet: str
) -> None:
    line = (
        f"[pscustomobject]@{{ Unrelated = 1 }}, [pscustomobject]@{{ Other = 2 }} | {cmdlet} -ErrorVariable ev"
    )
    out, recorder = _run(shell, monkeypatch, cmdlet, line)
    assert out == f"{cmdlet}: {NOT_BOUND}\n" * 2
    assert recorder.calls == []  # the cmdlet did not run for them
    fqid = f"InputObjectNotBound,{_class(cmdlet)}"
    count, first_id, second_info = shell.run(
        "$ev.Count; $ev[0].FullyQualifiedErrorId; $ev[1].CategoryInfo"
    ).split("\n")[:3]
    assert (count, first_id) == ("2", fqid)
    assert (
        second_info == f"InvalidArgument: (@{{Other=2}}:PSCustomObject) [{cmdlet}], ParameterBindingException"
    )


@pytest.mark.parametrize("cmdlet", [c for c, row in POWERSHELL.items() if not row and c != "Clear-Host"])
def test_a_cmdlet_without_pipeline_parameters_refuses_a_session(
    shell: Console, monkeypatch: pytest.MonkeyPatch, cmdlet: str
) -> None:
    out, recorder = _run(shell, monkeypatch, cmdlet, f"$s | {cmdlet}")
    assert out == f"{cmdlet}: {NOT_BOUND}\n" and recorder.calls == []


def test_clear_host_is_a_function_and_takes_any_input(
    shell: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, recorder = _run(shell, monkeypatch, "Clear-Host", "$s, 1 | Clear-Host")
    assert out == "" and recorder.calls == [({}, [shell.interpreter.scope.lookup("s"), 1])]


def test_objects_bound_by_value_to_an_array_parameter_reach_one_run(
    shell: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    _out, recorder = _run(shell, monkeypatch, "Wait-Job", "$j, $j | Wait-Job -Any")
    job = shell.interpreter.scope.lookup("j")
    assert [params["Job"] for params, _ in recorder.calls] == [[job, job]]  # -Any waits for them all


def test_a_parameter_given_on_the_command_line_takes_no_input(
    shell: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # -Id fixes Remove-PSSession's Id set: the session has no parameter left to go to
    out, recorder = _run(shell, monkeypatch, "Remove-PSSession", "$s | Remove-PSSession -Id 99")
    assert out == f"Remove-PSSession: {NOT_BOUND}\n" and recorder.calls == []


# -- end to end, the real cmdlets ------------------------------------------------------------


def test_sessions_are_removed_by_the_id_property_of_piped_objects(shell: Console) -> None:
    shell.run("$t = New-PSSession Server02")
    assert shell.run("[pscustomobject]@{ Id = $t.Id } | Remove-PSSession; $t.State") == "Closed\n"


def test_objects_with_a_computername_property_open_sessions(shell: Console) -> None:
    out = shell.run("$m = [pscustomobject]@{ ComputerName = 'Server03' } | New-PSSession; $m.ComputerName")
    assert out == "Server03\n"
    shell.run("Remove-PSSession $m")


def test_a_session_piped_to_new_pssession_opens_one_like_it(shell: Console) -> None:
    out = shell.run("$n = $s | New-PSSession; $n.ComputerName; $n.Id -ne $s.Id")
    assert out == "Server01\nTrue\n"
    shell.run("Remove-PSSession $n")


def test_history_ids_come_down_the_pipeline(shell: Console) -> None:
    history = ["Get-Date", "Get-PSSession", "Get-Job"]
    shell.interpreter._history = lambda: history
    assert shell.run("2 | Get-History") == "\n  Id CommandLine\n  -- -----------\n 2 Get-PSSession\n\n"


def test_a_guid_piped_to_receive_pssession_is_its_instance_id_and_a_string_its_name(
    shell: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    guid = shell.interpreter.scope.lookup("g")
    assert isinstance(guid, uuid.UUID)
    _out, recorder = _run(shell, monkeypatch, "Receive-PSSession", "$g, 'Session1' | Receive-PSSession")
    assert [(params.get("InstanceId"), params.get("Name")) for params, _ in recorder.calls] == [
        (str(guid), None),
        (None, "Session1"),
    ]
