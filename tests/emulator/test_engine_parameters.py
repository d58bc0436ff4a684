"""Declared parameters on the emulated server, as PowerShell binds them: ``param(...)`` of a
script, a script block or a function (and ``function f($x)``), by name, by position or by
their default value, converted to their ``[type]``; ``[switch]`` parameters take no value."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", root=tmp_path / "C")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('param([string]$Version = "dev") "v=$Version"', ["v=dev"]),
        ('& { param($x = 5, $y = $x * 2) "$x $y" }', ["5 10"]),  # a default sees the ones before it
        ("& { param($x = 5) $x } 7", [7]),
        ('function f($x = 5) { "x=$x" }; f; f 9; f -x 1', ["x=5", "x=9", "x=1"]),
        ('function f { param($x) "x=$x" }; f 3', ["x=3"]),  # param() and a statement on one line
        ('function g { param([int]$n = 3) $n + 1 }; g; g "41"', [4, 42]),
        ("& { param([int]$n, [string]$s) $n; $s -eq $null; $s.Length }", [0, False, 0]),
        ('function s { param([switch]$Force, $p) "$Force $p" }; s 1; s -Force 2; s -Force:$false 3',
         ["False 1", "True 2", "False 3"]),
    ],
)  # fmt: skip
def test_parameters_bind_by_name_position_or_default_and_take_their_type(
    engine: Engine, script: str, expected: list[object]
) -> None:
    result = run(engine, script)[1]
    assert (result.output, result.errors) == (expected, [])


def test_a_value_that_does_not_convert_is_windows_transformation_error(engine: Engine) -> None:
    result = run(engine, "function h { param([int]$n) $n }; h abc; 'goes on'")[1]
    assert result.output == ["goes on"]
    [error] = result.errors
    assert str(error) == (
        "Cannot process argument transformation on parameter 'n'. Cannot convert value \"abc\" to type "
        '"System.Int32". Error: "Input string was not in a correct format."'
    )
