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


def test_splatting_passes_a_hashtable_as_named_parameters_and_an_array_as_positional(engine: Engine) -> None:
    script = (
        "$named = @{Path = 'C:\\'; Force = $true}; (Get-ChildItem @named).Name -join ',';"
        " (Get-ChildItem -Path 'C:\\' -Force).Name -join ',';"
        " $positional = @('C:\\Users'); (Get-Item @positional).Name"
    )
    splatted, explicit, item = run(engine, script)[1].output
    assert splatted == explicit and "ProgramData" in splatted.split(",")  # hidden: only with -Force
    assert item == "Users"


def test_a_calculated_property_runs_its_expression_for_each_object(engine: Engine) -> None:
    script = "1, 2 | Select-Object @{Name = 'Double'; Expression = { $_ * 2 }}, @{l = 'Len'; e = 'Length'}"
    output = run(engine, script + ' | ForEach-Object { "$($_.Double) $($_.Len)" }')[1].output
    assert output == ["2 1", "4 1"]


def test_get_command_without_a_name_lists_cmdlets_functions_and_aliases_not_programs(engine: Engine) -> None:
    output = run(engine, "Get-Command")[1].output
    kinds = {command.CommandType.name for command in output}
    assert len(output) > 100 and kinds <= {"Alias", "Function", "Filter", "Cmdlet"}
    (program,) = run(engine, "Get-Command hostname")[1].output
    assert (program.CommandType.name, program.Name, program.Source) == (
        "Application", "hostname.exe", "C:\\Windows\\system32\\hostname.exe"
    )  # fmt: skip


def test_datetime_methods_and_timespans(engine: Engine) -> None:
    script = (
        "$d = [datetime]'2024-01-31T10:05:00'; $d.AddMonths(1).ToShortDateString(); $d.AddDays(-1).Day;"
        " $d.ToShortTimeString(); $d.ToLongDateString(); ($d.AddDays(2) - $d).TotalHours;"
        " ($d.AddSeconds(3725) - $d).Minutes; ($d - $d.AddMinutes(90)).Minutes; ($d + ($d.AddHours(5) - $d)).Hour"
    )
    assert run(engine, script)[1].output == [
        "2/29/2024", 30, "10:05 AM", "Wednesday, January 31, 2024", 48.0, 2, -30, 15,
    ]  # fmt: skip


def test_a_date_prints_with_its_format_string_its_culture_and_invariant_in_a_string(engine: Engine) -> None:
    script = (
        "$d = Get-Date '2020-03-04 15:06:07'; $d.AddDays(1).ToString('yyyy-MM-dd');"
        ' $d.ToString(\'dddd, MMM d, h:mm tt\'); $d.ToString(); "$d"; "$(Get-Date 2020-03-04)"'
    )
    assert run(engine, script)[1].output == [
        "2020-03-05", "Wednesday, Mar 4, 3:06 PM", "3/4/2020 3:06:07 PM", "03/04/2020 15:06:07",
        "03/04/2020 00:00:00",
    ]  # fmt: skip


def test_version_literals_convert_compare_and_print(engine: Engine) -> None:
    script = (
        '([version]"10.0.17763.1").Build; $PSVersionTable.PSVersion -ge [version]"5.1"; "$([version]"1.2")"'
    )
    assert run(engine, script)[1].output == [17763, True, "1.2"]


def test_get_member_lists_what_windows_lists_for_an_int32(engine: Engine) -> None:
    (names,) = run(engine, "(5 | Get-Member -MemberType Method).Name -join ','")[1].output
    assert names.split(",") == [
        "CompareTo", "Equals", "GetHashCode", "GetType", "GetTypeCode", "ToBoolean", "ToByte", "ToChar",
        "ToDateTime", "ToDecimal", "ToDouble", "ToInt16", "ToInt32", "ToInt64", "ToSByte", "ToSingle",
        "ToString", "ToType", "ToUInt16", "ToUInt32", "ToUInt64",
    ]  # fmt: skip
