"""The engine behind a real emulator, driven by pypsrp over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, PSInvocationState, RunspacePool

from psremoting.emulator import Emulator


class _UI(PSHostUserInterface):
    """A pypsrp host UI that answers ReadLine and records what is written."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer
        self.lines: list[str] = []
        self.error_lines: list[str] = []

    def ReadLine(self, runspace: Any, pipeline: Any) -> str:
        return self.answer

    def WriteLine2(self, runspace: Any, pipeline: Any, value: str) -> None:
        self.lines.append(value)

    def WriteErrorLine(self, runspace: Any, pipeline: Any, message: str) -> None:
        self.error_lines.append(message)


@pytest.fixture
def pool_for(emulator: Emulator, wsman_for: Callable[..., Any]) -> Iterator[Callable[..., RunspacePool]]:
    pools: list[RunspacePool] = []

    def factory(host: PSHost | None = None) -> RunspacePool:
        pool = RunspacePool(wsman_for(emulator, "basic"), host=host)
        pool.open()
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        pool.close()


def test_get_child_item_returns_file_objects(pool_for: Callable[..., RunspacePool]) -> None:
    pool = pool_for()
    ps = PowerShell(pool)
    ps.add_script("Set-Content report.txt 'hello'; Get-ChildItem")
    (item,) = ps.invoke()
    assert ps.state == PSInvocationState.COMPLETED
    assert item.types[0].endswith("System.IO.FileInfo")
    props = item.extended_properties
    assert props["Name"] == "report.txt"
    assert props["FullName"] == "C:\\Users\\user\\Documents\\report.txt"
    assert props["Length"] == 7
    assert props["Mode"] == "-a----"
    assert str(item) == "C:\\Users\\user\\Documents\\report.txt"


def test_unknown_command_gives_a_command_not_found_error_record(
    pool_for: Callable[..., RunspacePool],
) -> None:
    pool = pool_for()
    ps = PowerShell(pool)
    ps.add_script("Get-Nothing; 'still running'")
    assert ps.invoke() == ["still running"]
    (error,) = ps.streams.error
    assert error.fq_error == "CommandNotFoundException"
    assert error.reason == "CommandNotFoundException"
    assert error.target_name == "Get-Nothing"
    assert error.message == "ObjectNotFound: (Get-Nothing:String) [], CommandNotFoundException"
    assert error.exception is not None
    assert error.exception.adapted_properties["Message"].startswith(
        "The term 'Get-Nothing' is not recognized"
    )


def test_session_state_persists_between_pipelines(pool_for: Callable[..., RunspacePool]) -> None:
    pool = pool_for()
    first = PowerShell(pool)
    first.add_script("$value = 'kept'; Set-Location C:\\")
    first.invoke()
    second = PowerShell(pool)
    second.add_script("$value; prompt; $env:COMPUTERNAME")
    assert second.invoke() == ["kept", "PS C:\\> ", "SERVER01"]


def test_read_host_and_out_default_go_through_the_client_host(pool_for: Callable[..., RunspacePool]) -> None:
    ui = _UI("typed answer")
    pool = pool_for(PSHost(None, None, False, "test", None, ui, "1.0"))
    ps = PowerShell(pool)
    ps.add_script('$a = Read-Host; "got $a"; Get-Item C:\\missing')
    ps.add_cmdlet("Out-Default")
    ps.merge_previous(True)
    assert ps.invoke() == []
    assert ui.lines == ["got typed answer"]
    assert ui.error_lines[0] == "Get-Item : Cannot find path 'C:\\missing' because it does not exist."


def test_registered_handler(emulator: Emulator, pool_for: Callable[..., RunspacePool]) -> None:
    emulator.register("Get-Answer", lambda ctx: [42, ctx.params.get("Name")])
    ps = PowerShell(pool_for())
    ps.add_cmdlet("Get-Answer").add_parameter("Name", "x")
    assert ps.invoke() == [42, "x"]


def test_exit_n_sets_the_client_hosts_exit_code(pool_for: Callable[..., RunspacePool]) -> None:
    host = PSHost(None, None, False, "test", None, _UI(""), "1.0")
    pool = pool_for(host)
    ps = PowerShell(pool)
    ps.add_script("'before'; exit 5; 'after'")
    assert ps.invoke() == ["before"]
    assert ps.state == PSInvocationState.COMPLETED
    assert host.rc == 5
