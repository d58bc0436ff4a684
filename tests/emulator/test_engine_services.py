"""Start-Service, Stop-Service and Restart-Service: ShouldProcess (-WhatIf, -Confirm), the
declared services' Status, and Windows' errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from psrpcore.types import HostMethodIdentifier

from psremoting.emulator.engine import Engine

from .engine_recorder import run

W3SVC_TARGET = '"World Wide Web Publishing Service (W3SVC)"'


@pytest.fixture
def services() -> list[dict[str, Any]]:
    return [
        {"Name": "W3SVC", "DisplayName": "World Wide Web Publishing Service", "Status": "Running"},
        {"Name": "Spooler", "DisplayName": "Print Spooler", "Status": "Running"},
        {"Name": "wuauserv", "DisplayName": "Windows Update", "Status": "Stopped", "StartType": "Disabled"},
    ]


@pytest.fixture
def engine(tmp_path: Path, services: list[dict[str, Any]]) -> Engine:
    return Engine(root=tmp_path / "C", services=services)


def _status(services: list[dict[str, Any]]) -> dict[str, str]:
    return {s["Name"]: s["Status"] for s in services}


def test_what_if_prints_windows_text_and_changes_nothing(
    engine: Engine, services: list[dict[str, Any]]
) -> None:
    _, rec = run(engine, "Restart-Service W3SVC -WhatIf; Stop-Service -Name W3SVC, Spooler -WhatIf")
    assert rec.lines == [
        f'What if: Performing the operation "Restart-Service" on target {W3SVC_TARGET}.',
        'What if: Performing the operation "Stop-Service" on target "Print Spooler (Spooler)".',
        f'What if: Performing the operation "Stop-Service" on target {W3SVC_TARGET}.',
    ]
    assert rec.output == [] and rec.errors == []
    assert _status(services)["W3SVC"] == "Running"
    _, rec = run(engine, "$WhatIfPreference = $true; Stop-Service Spooler; Stop-Service W3SVC -WhatIf:$false")
    assert rec.lines == [
        'What if: Performing the operation "Stop-Service" on target "Print Spooler (Spooler)".'
    ]
    assert _status(services) == {"W3SVC": "Stopped", "Spooler": "Running", "wuauserv": "Stopped"}


def test_stop_start_restart_change_the_status_get_service_shows(
    engine: Engine, services: list[dict[str, Any]]
) -> None:
    run(engine, "Stop-Service W3SVC -Confirm:$false")
    assert run(engine, "(Get-Service W3SVC).Status")[1].output == ["Stopped"]
    (controller,) = run(engine, "Get-Service W3SVC | Start-Service -PassThru")[1].output
    assert controller.PSObject.type_names[0] == "System.ServiceProcess.ServiceController"
    assert (controller.Status, controller.CanStop) == ("Running", True)
    assert run(engine, "Stop-Service -DisplayName 'Print*'; Restart-Service W3SVC -PassThru | % Status")[
        1
    ].output == ["Running"]
    assert _status(services)["Spooler"] == "Stopped"
    # a stopped service is restarted (started), as Windows does; the aliases work
    run(engine, "sasv spooler; spsv w3svc; Restart-Service w3svc")
    assert _status(services) == {"W3SVC": "Running", "Spooler": "Running", "wuauserv": "Stopped"}
    # nothing is written without -PassThru
    assert run(engine, "Stop-Service W3SVC; Start-Service W3SVC")[1].output == []


def test_verbose_names_the_operation(engine: Engine) -> None:
    _, rec = run(engine, "Stop-Service W3SVC -Verbose")
    assert rec.verbose == [f'Performing the operation "Stop-Service" on target {W3SVC_TARGET}.']


def test_confirm_asks_the_host_and_no_skips(engine: Engine, services: list[dict[str, Any]]) -> None:
    no = {HostMethodIdentifier.PromptForChoice: 2}
    _, rec = run(engine, "Stop-Service W3SVC -Confirm", answers=no)
    ((method, args),) = [(m, a) for m, a in rec.host_calls if m == HostMethodIdentifier.PromptForChoice]
    caption, message, choices, default = args
    assert caption == "Confirm"
    assert message == (
        "Are you sure you want to perform this action?\n"
        f'Performing the operation "Stop-Service" on target {W3SVC_TARGET}.'
    )
    assert [c.label for c in choices] == ["&Yes", "Yes to &All", "&No", "No to A&ll"]  # no Suspend remotely
    assert default == 0
    assert _status(services)["W3SVC"] == "Running"
    # "Yes to All" asks once for all the command's services
    _, rec = run(
        engine, "Stop-Service W3SVC, Spooler -Confirm", answers={HostMethodIdentifier.PromptForChoice: 1}
    )
    assert rec.methods().count(HostMethodIdentifier.PromptForChoice) == 1
    assert _status(services)["W3SVC"] == _status(services)["Spooler"] == "Stopped"


def test_confirm_without_a_client_host_fails_as_on_windows(engine: Engine) -> None:
    result, rec = run(engine, "Stop-Service W3SVC -Confirm", has_host=False)
    assert "A command that prompts the user failed because the host program" in str(rec.errors[0])


def test_unknown_service_and_disabled_service_errors(engine: Engine, services: list[dict[str, Any]]) -> None:
    _, rec = run(engine, "Restart-Service nope; Stop-Service -DisplayName 'No Such'; Start-Service wuauserv")
    first, second, third = rec.errors
    assert str(first) == "Cannot find any service with service name 'nope'."
    assert (
        first.FullyQualifiedErrorId
        == "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.RestartServiceCommand"
    )
    assert (
        str(first.CategoryInfo) == "ObjectNotFound: (nope:String) [Restart-Service], ServiceCommandException"
    )
    assert str(second) == "Cannot find any service with display name 'No Such'."
    assert second.FullyQualifiedErrorId.startswith("NoServiceFoundForGivenDisplayName,")
    assert str(third) == (
        "Service 'Windows Update (wuauserv)' cannot be started due to the following error: "
        "Cannot start service wuauserv on computer '.'."
    )
    assert str(third.CategoryInfo) == (
        "OpenError: (System.ServiceProcess.ServiceController:ServiceController) [Start-Service], "
        "ServiceCommandException"
    )
    assert (
        third.FullyQualifiedErrorId
        == "CouldNotStartService,Microsoft.PowerShell.Commands.StartServiceCommand"
    )
    assert _status(services)["wuauserv"] == "Stopped"
    # a wildcard that matches nothing is no error; a plain string piped in binds to no parameter
    _, rec = run(engine, "Stop-Service nothing*; 'W3SVC' | Stop-Service")
    (error,) = rec.errors
    assert (
        error.FullyQualifiedErrorId == "InputObjectNotBound,Microsoft.PowerShell.Commands.StopServiceCommand"
    )
    assert _status(services)["W3SVC"] == "Running"


def test_include_exclude_and_display_name_lookup(engine: Engine, services: list[dict[str, Any]]) -> None:
    run(engine, "Stop-Service -Name '*' -Exclude W3SVC, 'wu*'")
    assert _status(services) == {"W3SVC": "Running", "Spooler": "Stopped", "wuauserv": "Stopped"}
    run(engine, "Start-Service 'Print Spooler'")  # an exact display name is found as Windows does
    assert _status(services)["Spooler"] == "Running"
