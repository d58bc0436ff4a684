"""What a script asks of a value's type on the server, answered as Windows PowerShell 5.1 does:
``-is``/``-isnot``/``-as``, ``.PSObject.TypeNames``, ``$null.Count``, ``& $block`` and
ForEach-Object's member-name form."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path / "C")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("5 -is [int]", True),
        ("5 -is [System.Int32]", True),
        ("5 -is [ValueType]", True),
        ("5 -is [string]", False),
        ("'a' -isnot [int]", True),
        ("$null -is [object]", False),
        ("'x' -is [object]", True),
        ("(Get-Date) -is [datetime]", True),
        ("@(1, 2) -is [array]", True),
        ("@{} -is [hashtable]", True),
        ("{ 1 } -is [scriptblock]", True),
        ("(Get-Item C:\\) -is [System.IO.FileSystemInfo]", True),
        ("(Get-Item C:\\) -is [System.IO.FileInfo]", False),
    ],
)
def test_is_and_isnot_follow_the_type_hierarchy(engine: Engine, script: str, expected: bool) -> None:
    assert run(engine, script)[1].output == [expected]


def test_as_converts_or_gives_null(engine: Engine) -> None:
    assert run(engine, "'5' -as [int]; 'x' -as [int]; ('x' -as [int]) -eq $null")[1].output == [5, True]


def test_type_names_run_from_the_type_down_to_object(engine: Engine) -> None:
    output = run(engine, "(5).PSObject.TypeNames; 'next'; (Get-Item C:\\).PSObject.TypeNames")[1].output
    assert output == [
        "System.Int32", "System.ValueType", "System.Object", "next",
        "System.IO.DirectoryInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject", "System.Object",
    ]  # fmt: skip


def test_a_hashtable_lists_its_own_properties_not_its_keys(engine: Engine) -> None:
    output = run(engine, "@{a = 1}.PSObject.Properties | ForEach-Object Name")[1].output
    assert output == ["IsReadOnly", "IsFixedSize", "IsSynchronized", "Keys", "Values", "SyncRoot", "Count"]


def test_null_has_a_count_of_zero(engine: Engine) -> None:
    assert run(engine, "$null.Count; $nothing.Length")[1].output == [0, 0]


def test_the_call_operator_runs_a_block_held_in_a_variable(engine: Engine) -> None:
    assert run(engine, '$f = { param($n) "hi $n" }; & $f 3')[1].output == ["hi 3"]


def test_foreach_object_takes_a_property_or_a_method_by_name(engine: Engine) -> None:
    output = run(engine, "1, 2 | ForEach-Object ToString; 'a,b' | % Split ','; @{} | % -MemberName Count")[
        1
    ].output
    assert output == ["1", "2", "a", "b", 0]


def test_a_script_block_binds_its_param_block_by_position_and_by_name(engine: Engine) -> None:
    script = '$f = { param($a, $b) $a - $b }; & $f 5 2; & $f -b 5 -a 1; & { param($n) "hi $n" } 3'
    assert run(engine, script)[1].output == [3, -4, "hi 3"]


def test_invoke_command_without_a_computer_name_runs_the_block_in_the_session(engine: Engine) -> None:
    recorded = run(engine, "Invoke-Command { param($n) $n * 2 } -ArgumentList 3")[1]
    assert recorded.output == [6] and recorded.errors == []
