"""Parameter binding of the local shell, as PowerShell binds: names, prefixes, aliases, positions."""

from __future__ import annotations

from typing import Any

import pytest

from psremoting.console import cmdlets
from psremoting.console.binding import bind
from psremoting.console.errors import ShellError
from psremoting.pslang import ast as A
from psremoting.pslang.evaluator import Evaluator
from psremoting.pslang.parser import parse
from psremoting.pslang.scope import Scope


class FakeSession:
    """Stands for a PSSession in binding only (binding looks at the attributes, nothing else)."""

    computer_name = "Server01"
    state = "Opened"
    instance_id = "00000000-0000-0000-0000-000000000001"
    availability = "Available"


def bound(line: str, **variables: Any) -> dict[str, Any]:
    script = parse(line)
    pipeline = script.statements[0]
    assert isinstance(pipeline, A.Pipeline)
    command = pipeline.elements[0]
    assert isinstance(command, A.Command)
    spec = cmdlets.lookup(command.name_text)
    assert spec is not None
    evaluator = Evaluator(Scope(variables=variables))
    return bind(spec, command, evaluator)


def test_names_are_case_insensitive_and_prefixes_and_aliases_work() -> None:
    assert bound("Enter-PSSession -computername Server01") == {"ComputerName": "Server01"}
    assert bound("Enter-PSSession -comp Server01") == {"ComputerName": "Server01"}
    assert bound("etsn -Cn Server01") == {"ComputerName": "Server01"}
    assert bound("New-PSSession -cn a,b") == {"ComputerName": ["a", "b"]}


def test_ambiguous_prefix_lists_the_candidates() -> None:
    with pytest.raises(ShellError) as info:
        bound("New-PSSession -c a")
    assert "ambiguous" in info.value.message
    assert "-ComputerName" in info.value.message and "-Credential" in info.value.message


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(ShellError, match="matches parameter name 'Bogus'"):
        bound("Get-PSSession -Bogus 1")


def test_positional_parameter_chosen_by_the_value_type() -> None:
    session = FakeSession()
    assert bound("Enter-PSSession Server01") == {"ComputerName": "Server01"}
    assert bound("Enter-PSSession $s", s=session) == {"Session": session}
    assert bound("Enter-PSSession 3") == {"Id": 3}
    params = bound("icm $s { Get-Date }", s=[session])
    assert params["Session"] == [session]
    assert str(params["ScriptBlock"]).strip() == "Get-Date"
    params = bound("Invoke-Command Server01,Server02 -Command { 1 }")
    assert params["ComputerName"] == ["Server01", "Server02"]


def test_switches_and_colon_syntax() -> None:
    assert bound("New-PSSessionOption -SkipCACheck -SkipCNCheck:$false") == {
        "SkipCACheck": True,
        "SkipCNCheck": False,
    }
    assert bound("New-PSSession -ComputerName:Server01 -Port:5986 -UseSSL") == {
        "ComputerName": ["Server01"],
        "Port": 5986,
        "UseSSL": True,
    }


def test_missing_argument_and_extra_positional_are_errors() -> None:
    with pytest.raises(ShellError, match="Missing an argument for parameter 'ComputerName'"):
        bound("Enter-PSSession -ComputerName")
    with pytest.raises(
        ShellError, match="positional parameter cannot be found that accepts argument 'extra'"
    ):
        bound("Get-PSSession 1 extra")


def test_enter_takes_a_single_computer() -> None:
    with pytest.raises(ShellError, match="Cannot bind parameter 'ComputerName'"):
        bound("Enter-PSSession -ComputerName a,b")


def test_common_parameters_bind() -> None:
    assert bound("Get-PSSession -ea Stop -Verbose") == {"ErrorAction": "Stop", "Verbose": True}
