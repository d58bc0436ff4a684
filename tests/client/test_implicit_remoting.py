"""Implicit remoting in Python: import_pssession, the proxies, export_pssession, import_module.

The emulator answers the GetCommandMetadata pipeline as Windows does (command metadata with
parameters, windows-recordings/test_psrp_get_command_metadata.yml); a Windows-shaped
Get-Service is registered here, as the engine has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.emulator.engine.objects import make_object
from psremoting.pslang.binder import CommandSignature, Parameter

_SERVICES = {
    "W3SVC": "World Wide Web Publishing Service",
    "WinRM": "Windows Remote Management (WS-Management)",
}


def get_service(ctx: Any) -> list[Any]:
    """Get-Service as Windows answers it: ServiceController objects, -Name wildcards, -DependentServices."""
    import fnmatch

    names = ctx.get("Name") or ["*"]
    names = names if isinstance(names, list) else [names]
    found = []
    for name, display in _SERVICES.items():
        if any(fnmatch.fnmatch(name.lower(), str(n).lower()) for n in names):
            found.append(
                make_object(
                    [
                        "System.ServiceProcess.ServiceController",
                        "System.ComponentModel.Component",
                        "System.Object",
                    ],
                    {
                        "Status": "Running",
                        "Name": name,
                        "DisplayName": display,
                        "DependentServicesAsked": bool(ctx.get("DependentServices")),
                    },
                    name,
                )
            )
    return found


get_service.signature = CommandSignature(  # type: ignore[attr-defined]
    "Get-Service",
    (
        Parameter("Name", "string[]", ("ServiceName",), position=0),
        Parameter("DependentServices", "switch", ("DS",)),
        Parameter("RequiredServices", "switch", ("SDO", "ServicesDependedOn")),
        Parameter("DisplayName", "string[]"),
    ),
)
get_service.module = "Microsoft.PowerShell.Management"  # type: ignore[attr-defined]
get_service.command_type = "Cmdlet"  # type: ignore[attr-defined]


@pytest.fixture
def server(emu: Emulator) -> Any:
    emu.register("Get-Service", get_service)
    s = psremoting.new_pssession("Server01")
    yield s
    psremoting.remove_pssession(s)


def test_proxies_are_built_from_the_servers_metadata(server: Any) -> None:
    module = psremoting.import_pssession(server, command_name="Get-Service")
    assert module.exported_commands == ["Get-Service"]
    proxy = module["Get-Service"]
    # The server's parameters in its order, common ones left to CmdletBinding, -AsJob added.
    assert [p.name for p in proxy.parameters] == [
        "Name",
        "DependentServices",
        "RequiredServices",
        "DisplayName",
        "AsJob",
    ]
    assert proxy.remote.parameter("Name").aliases == ("ServiceName",)
    assert proxy.remote.parameter("Name").parameter_type == "System.String[]"
    assert proxy.syntax() == (
        "Get-Service [[-Name] <Object>] [[-DisplayName] <Object>] [-DependentServices] "
        "[-RequiredServices] [-AsJob] [<CommonParameters>]"
    )
    assert (
        proxy.remote.command_type == "Cmdlet" and proxy.remote.namespace == "Microsoft.PowerShell.Management"
    )


def test_calling_a_proxy_runs_the_command_in_the_session(server: Any) -> None:
    module = psremoting.import_pssession(server, command_name="Get-Service")
    (service,) = module.Get_Service("W3SVC")  # positional, as the proxy binds it: -Name
    assert (service.Name, service.Status, service.DisplayName) == ("W3SVC", "Running", _SERVICES["W3SVC"])
    assert service.PSComputerName == "Server01" and service.PSShowComputerName is False
    (asked,) = module.Get_Service(service_name="WinRM", dependent_services=True)  # alias, snake_case, switch
    assert (asked.Name, asked.DependentServicesAsked) == ("WinRM", True)
    assert sorted(s.Name for s in module["Get-Service"]()) == ["W3SVC", "WinRM"]
    with pytest.raises(psremoting.InvalidOptionError, match="'Nope'"):
        module.Get_Service(Nope=1)
    with pytest.raises(psremoting.InvalidOptionError, match="positional parameter cannot be found"):
        module.Get_Service("a", "b", "c")
    job = module.Get_Service("W3SVC", as_job=True)
    assert job.wait(30) and [s.Name for s in job.receive()] == ["W3SVC"]
    assert job.command == "Get-Service -Name W3SVC"


def test_module_selection_prefix_and_the_commands_implicit_remoting_skips(server: Any) -> None:
    by_module = psremoting.import_pssession(server, module="Microsoft.PowerShell.Management", prefix="Srv")
    assert "Get-SrvService" in by_module.exported_commands
    assert "Get-SrvChildItem" in by_module.exported_commands
    assert not any(" -> " in n for n in by_module.exported_commands)  # aliases' names are unsafe
    everything = psremoting.import_pssession(server)
    assert "Get-Command" not in everything.exported_commands  # implicit remoting uses it itself
    assert "Get-Command" in psremoting.import_pssession(server, command_name="Get-Command").exported_commands
    warnings: list[str] = []
    shadowed = psremoting.import_pssession(
        server, command_name="Get-Service", existing=["Get-Service"], warn=warnings.append
    )
    assert shadowed.exported_commands == []
    assert warnings == [
        "No command proxies have been created, because all of the requested remote commands would shadow "
        "existing local commands.  Use the AllowClobber parameter if you want to shadow existing local commands."
    ]
    assert psremoting.import_pssession(
        server, command_name="Get-Service", existing=["Get-Service"], allow_clobber=True
    ).exported_commands == ["Get-Service"]
    with pytest.raises(psremoting.PSRemotingError, match="returned no results"):
        psremoting.import_pssession(server, command_name="Get-Nothing")


def test_export_and_import_module_recreate_the_proxies(server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Web"
    psm1 = psremoting.export_pssession(server, folder, command_name="Get-Service")
    assert psm1 == folder / "Web.psm1" and (folder / "Web.psd1").is_file()
    text = psm1.read_text(encoding="utf-8")
    assert "function Get-Service {" in text and "Invoke-Command -Session $session -HideComputerName" in text
    assert "[Parameter(Position = 0)] [System.Object] ${Name}" in text
    assert "Emul4tor" not in text  # never a password
    with pytest.raises(psremoting.InvalidOptionError, match="Force"):
        psremoting.export_pssession(server, folder, command_name="Get-Service")
    # Later: the module's proxies again, here in an open session to the same computer.
    again = psremoting.import_module(folder)
    assert again.exported_commands == ["Get-Service"] and again.session is server
    assert [s.Name for s in again.Get_Service("WinRM")] == ["WinRM"]
    # With no session open to that computer, a new one is made.
    psremoting.remove_pssession(server)
    fresh = psremoting.import_module(folder)
    assert fresh.session is not server and fresh.session.state.value == "Opened"
    assert [s.Name for s in fresh.Get_Service("W3SVC")] == ["W3SVC"]
    psremoting.remove_pssession(fresh.session)


def test_a_module_not_written_by_export_pssession_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "Other"
    other.mkdir()
    (other / "Other.psm1").write_text("function Get-Thing { 1 }\n", encoding="utf-8")
    with pytest.raises(psremoting.InvalidOptionError, match="was not written by Export-PSSession"):
        psremoting.import_module(other)
