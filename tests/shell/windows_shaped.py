"""Windows-shaped commands the emulator's engine does not have, registered by shell tests.

`get_service` answers as Get-Service does on Windows (ServiceController objects, -Name
wildcards, -DependentServices) and describes itself as that cmdlet, so that implicit
remoting builds the same proxy as for a real server. Run as a script, this module starts
`psremoting shell --emulator` with it registered (for the tmux tests).
"""

from __future__ import annotations

import fnmatch
import sys
from typing import Any

from psremoting.emulator.engine.objects import make_object
from psremoting.pslang.binder import CommandSignature, Parameter

SERVICES = {
    "W3SVC": "World Wide Web Publishing Service",
    "WinRM": "Windows Remote Management (WS-Management)",
}


def get_service(ctx: Any) -> list[Any]:
    names = ctx.get("Name") or list(ctx.input) or ["*"]
    names = names if isinstance(names, list) else [names]
    return [
        make_object(
            ["System.ServiceProcess.ServiceController", "System.ComponentModel.Component", "System.Object"],
            {"Status": "Running", "Name": name, "DisplayName": display},
            name,
        )
        for name, display in SERVICES.items()
        if any(fnmatch.fnmatch(name.lower(), str(n).lower()) for n in names)
    ]


get_service.signature = CommandSignature(  # type: ignore[attr-defined]
    "Get-Service",
    (
        Parameter("Name", "string[]", ("ServiceName",), position=0, value_from_pipeline=True),
        Parameter("DependentServices", "switch", ("DS",)),
        Parameter("RequiredServices", "switch", ("SDO", "ServicesDependedOn")),
        Parameter("DisplayName", "string[]"),
    ),
)
get_service.module = "Microsoft.PowerShell.Management"  # type: ignore[attr-defined]
get_service.command_type = "Cmdlet"  # type: ignore[attr-defined]


def main() -> int:
    import psremoting.emulator as emulator_package
    from psremoting.cli.main import main as cli_main

    base = emulator_package.EmulatorFleet

    class FleetWithGetService(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.register("Get-Service", get_service)

    emulator_package.EmulatorFleet = FleetWithGetService  # type: ignore[misc]
    return int(cli_main(sys.argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
