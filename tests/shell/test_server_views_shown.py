"""The local shell shows a remote type that has no built-in view with the server's own view
(Get-FormatData on the session the objects came from, asked once per type), in-process
interpreter against the embedded emulator over loopback HTTP with NTLM."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from psremoting.cmdlets.formatting.server_views import session_views
from psremoting.console.emulator_mode import emulated_computers
from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.interpreter import Interpreter
from psremoting.emulator.engine import builtins_formatdata
from psremoting.emulator.engine.objects import make_object

WIDGET = "Contoso.Inventory.Widget"


def get_widget(ctx: Any) -> list[Any]:
    return [
        make_object([WIDGET, "System.Object"], {"Serial": s, "Model": m, "Stock": n, "Site": site})
        for s, m, n, site in (("W-1001", "Sprocket", 12, "Berlin"), ("W-1002", "Gear", 7, "Oslo"))
    ]


@pytest.fixture
def shell() -> Iterator[tuple[Interpreter, io.StringIO]]:
    from psremoting.cmdlets import sessions as session

    builtins_formatdata.register_table_view(
        WIDGET,
        [("Model", 12, "Left", "Model"), ("Stock", 8, "Right", "Stock"), ("Serial No", 0, "Left", "Serial")],
    )
    try:
        with emulated_computers() as fleet:
            fleet.register("Get-Widget", get_widget)
            out = io.StringIO()
            interpreter = Interpreter(ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False))
            try:
                yield interpreter, out
            finally:
                session._reset_for_tests()
    finally:
        builtins_formatdata.FORMAT_TABLES.pop(WIDGET, None)


def _run(shell: tuple[Interpreter, io.StringIO], line: str) -> str:
    interpreter, out = shell
    start = out.tell()
    interpreter.execute(line)
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


def test_invoke_command_output_of_a_server_only_type_uses_the_servers_view(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    from psremoting.cmdlets.sessions import all_sessions

    _run(shell, "$s = New-PSSession Server01")
    lines = [line.rstrip() for line in _run(shell, "Invoke-Command $s { Get-Widget }").split("\n")]
    assert lines[1:5] == [
        "Model           Stock Serial No PSComputerName",
        "-----           ----- --------- --------------",
        "Sprocket           12 W-1001    Server01",
        "Gear                7 W-1002    Server01",
    ]
    # Format-Table with no properties takes the same view; the server was asked once
    lines = [
        line.rstrip() for line in _run(shell, "Invoke-Command $s { Get-Widget } | Format-Table").split("\n")
    ]
    assert lines[1].split() == ["Model", "Stock", "Serial", "No", "PSComputerName"]
    [s] = all_sessions()
    assert session_views(s).asked == [[WIDGET]]


def test_format_table_wrap_wraps_inside_the_servers_column_widths(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    _run(shell, "$s = New-PSSession Server01")
    script = "Invoke-Command $s -HideComputerName { Get-Widget | Select-Object -First 1 | ForEach-Object { $_.Model = 'Sprocket with long teeth'; $_ } }"
    cut = [line.rstrip() for line in _run(shell, script).split("\n")]
    # without -Wrap: the 12-wide Model cell is cut with "..." (Windows PowerShell 5.1)
    assert cut[3] == "Sprocket ...       12 W-1001"
    lines = [line.rstrip() for line in _run(shell, f"{script} | Format-Table -Wrap").split("\n")]
    assert lines[1:6] == [
        "Model           Stock Serial No",
        "-----           ----- ---------",
        "Sprocket           12 W-1001",
        "with long",
        "teeth",
    ]


def test_invoke_command_on_a_computer_name_asks_that_computer_for_its_view(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    # The temporary session is closed when the output is shown: the computer is asked on a
    # session of its own, once for both computers.
    lines = [line.rstrip() for line in _run(shell, "icm -cn Server01, Server02 { Get-Widget }").split("\n")]
    assert lines[1:3] == [
        "Model           Stock Serial No PSComputerName",
        "-----           ----- --------- --------------",
    ]
    rows = sorted(line.split() for line in lines[3:] if line)
    assert rows == [
        ["Gear", "7", "W-1002", "Server01"],
        ["Gear", "7", "W-1002", "Server02"],
        ["Sprocket", "12", "W-1001", "Server01"],
        ["Sprocket", "12", "W-1001", "Server02"],
    ]
    from psremoting.console import display

    assert display._temporary_views.asked == [[WIDGET]]
