"""The emulator's config: JEA endpoints, PowerShell.7 beside Microsoft.PowerShell, services.

Through pypsrp over real loopback HTTP with NTLM and message encryption, as a user's CI
would declare its servers (keyword arguments, or the TOML file of ``--config``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from psremoting.emulator import Emulator
from psremoting.emulator.config import load_config

USERS = {"admin": "Secret123"}
NOT_RECOGNIZED = (
    "The term 'Set-Item' is not recognized as the name of a cmdlet, function, script file, or operable "
    "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
    "and try again."
)


def _wsman(emu: Emulator) -> WSMan:
    return WSMan("127.0.0.1", port=emu.port, ssl=False, auth="ntlm", username="admin", password="Secret123")


def _invoke(
    emu: Emulator, script: str, configuration: str = "Microsoft.PowerShell"
) -> tuple[list, PowerShell]:
    with _wsman(emu) as wsman, RunspacePool(wsman, configuration_name=configuration) as pool:
        ps = PowerShell(pool)
        ps.add_script(script)
        return ps.invoke(), ps


@pytest.fixture
def emu(tmp_path: Path):
    with Emulator(
        users=USERS,
        root=tmp_path,
        configurations=[
            {
                "name": "JEARole",
                "visible_cmdlets": ["Get-Service", "Get-Date"],
                "run_as_virtual_account": True,
            }
        ],
        services=[{"Name": "W3SVC", "DisplayName": "World Wide Web Publishing Service", "Status": "Stopped"}],
    ) as started:
        yield started


def test_jea_endpoint_allows_only_its_role_commands(emu: Emulator) -> None:
    output, ps = _invoke(emu, "Get-Command | Select-Object -ExpandProperty Name", "JEARole")
    assert "Get-Service" in output and "Get-Date" in output and "Get-Command" in output
    assert "Set-Item" not in output and "Get-ChildItem" not in output

    output, ps = _invoke(emu, "Set-Item -Path env:X -Value 1", "JEARole")
    assert output == []
    assert [str(e) for e in ps.streams.error] == [NOT_RECOGNIZED]

    # A command the role does not allow exists on the full endpoint of the same host.
    output, ps = _invoke(emu, "Get-Command Get-ChildItem | ForEach-Object { $_.Name }")
    assert output == ["Get-ChildItem"]
    _, ps = _invoke(emu, "Get-ChildItem", "JEARole")
    assert "'Get-ChildItem' is not recognized" in str(ps.streams.error[0])


def test_jea_endpoint_runs_as_the_virtual_account(emu: Emulator) -> None:
    output, _ = _invoke(emu, "Get-Service | Select-Object -ExpandProperty Name", "JEARole")
    assert output == ["W3SVC"]
    output, _ = _invoke(emu, "$env:USERNAME")
    assert output == ["admin"]


def test_powershell_7_beside_microsoft_powershell(emu: Emulator) -> None:
    windows, _ = _invoke(emu, "$PSVersionTable.PSEdition")
    seven, _ = _invoke(emu, "$PSVersionTable.PSEdition", "PowerShell.7")
    assert windows == ["Desktop"]
    assert seven == ["Core"]


def test_declared_service_is_listed_with_its_state(emu: Emulator) -> None:
    output, ps = _invoke(emu, "Get-Service -Name W3SVC")
    assert not ps.had_errors
    service = output[0]
    assert str(service) == "W3SVC"
    assert service.adapted_properties["Status"] == "Stopped"
    assert service.adapted_properties["DisplayName"] == "World Wide Web Publishing Service"
    _, ps = _invoke(emu, "Get-Service -Name NoSuchService")
    assert [str(e) for e in ps.streams.error] == [
        "Cannot find any service with service name 'NoSuchService'."
    ]


def test_config_file_declares_the_same(tmp_path: Path) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text(
        '[users]\nadmin = "Secret123"\n\n'
        '[[configurations]]\nname = "Restricted"\nvisible_cmdlets = ["Get-Date"]\n\n'
        '[[services]]\nName = "W3SVC"\nStatus = "Stopped"\n'
    )
    kwargs = load_config(config)
    with Emulator(root=tmp_path / "root", **kwargs) as emu:
        _, ps = _invoke(emu, "Get-Service", "Restricted")
        assert "not recognized" in str(ps.streams.error[0])
        output, _ = _invoke(emu, "(Get-Service -Name W3SVC).Status")
        assert output == ["Stopped"]
    (tmp_path / "bad.toml").write_text("[nonsense]\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_config(tmp_path / "bad.toml")
