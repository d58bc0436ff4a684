"""Evaluating expressions and statements: values, operators, variables, members."""

from __future__ import annotations

from typing import Any

import pytest

from psremoting.pslang import (
    CaseInsensitiveDict,
    EvaluationError,
    Evaluator,
    ExitRequest,
    Scope,
    ThrowRequest,
    parse,
)
from psremoting.pslang import ast as A


def run(text: str, scope: Scope | None = None) -> list[Any]:
    return Evaluator(scope or Scope()).collect(parse(text))


def test_variables_are_case_insensitive_and_persist_in_the_scope() -> None:
    scope = Scope()
    run("$Name = 'srv'", scope)
    assert run("$name; $NAME.ToUpper()", scope) == ["srv", "SRV"]
    assert scope.lookup("NAME") == "srv"


def test_automatic_constants() -> None:
    assert run("$true; $false; $null -eq $null") == [True, False, True]


def test_arithmetic_strings_and_arrays() -> None:
    assert run("1 + 2 * 3") == [7]
    assert run("'ab' + 1") == ["ab1"]
    assert run("'>' * 3") == [">>>"]
    assert run("$a = 1, 2; $a + 3") == [1, 2, 3]
    assert run("1..3") == [1, 2, 3]
    assert run("'{0}-{1,3}' -f 'a', 7") == ["a-  7"]


def test_comparisons_are_case_insensitive_and_filter_lists() -> None:
    assert run("'ABC' -eq 'abc'; 'ABC' -ceq 'abc'") == [True, False]
    assert run("(1, 5, 10) -gt 4") == [5, 10]
    assert run("$r = (1, 5, 10) -gt 4; $r.Count") == [2]
    assert run("'server01' -like 'SERVER*'; 'abc' -match 'b(c)'; $Matches[1]") == [True, True, "c"]
    assert run("3 -in 1,2,3; 1,2 -contains 5") == [True, False]


def test_prompt_expression() -> None:
    scope = Scope()
    scope.set("loc", "C:\\Users\\u\\Documents")
    scope.set("nestedPromptLevel", 0)
    assert run("\"PS $($loc)$('>' * ($nestedPromptLevel + 1)) \"", scope) == ["PS C:\\Users\\u\\Documents> "]


def test_member_access_on_dicts_and_objects_is_case_insensitive() -> None:
    class Session:
        def __init__(self) -> None:
            self.ComputerName = "srv"
            self.State = "Opened"

    scope = Scope()
    scope.set("s", [Session(), Session()])
    scope.set("h", CaseInsensitiveDict({"Key": 1}))
    assert run("$s[0].state; $s.ComputerName; $s.Count; $h.KEY; $h['key']", scope) == [
        "Opened",
        "srv",
        "srv",
        2,
        1,
        1,
    ]


def test_hashtable_and_pscustomobject_literals() -> None:
    (table,) = run("@{ b = 1; A = 'x' }")
    assert list(table.items()) == [("b", 1), ("A", "x")]
    assert table["a"] == "x"
    (obj,) = run("[pscustomobject]@{ Name = 'n' }")
    assert obj["name"] == "n"


def test_env_and_using_scopes() -> None:
    scope = Scope(env=CaseInsensitiveDict({"COMPUTERNAME": "HOST1"}), using={"x": 5})
    assert run("$env:computername; $using:x", scope) == ["HOST1", 5]
    run("$env:NEW = 1", scope)
    assert scope.env["new"] == "1"


def test_casts_and_methods() -> None:
    assert run("[int]'42' + 1; [string]5; ' a '.Trim(); 'a,b'.Split(',')") == [43, "5", "a", "a", "b"]


def test_if_and_foreach() -> None:
    assert run("foreach ($i in 1..3) { if ($i -eq 2) { continue }; $i * 10 }") == [10, 30]


def test_script_block_values_keep_their_text() -> None:
    (block,) = run("{ Get-Date }")
    assert str(block) == " Get-Date "
    assert isinstance(block.script.statements[0], A.Pipeline)


def test_exit_and_throw_are_flow_control() -> None:
    with pytest.raises(ExitRequest) as info:
        run("exit 4")
    assert info.value.code == 4
    with pytest.raises(ThrowRequest) as thrown:
        run("throw 'bad'")
    assert str(thrown.value) == "bad"


def test_runtime_errors_say_what_went_wrong() -> None:
    with pytest.raises(EvaluationError, match="Attempted to divide by zero"):
        run("1 / 0")
    with pytest.raises(EvaluationError, match=r"Unable to find type \[Nope\]"):
        run("[Nope]'x'")


def test_commands_go_to_the_pipeline_runner() -> None:
    seen: list[str] = []

    def runner(ev: Evaluator, pipeline: A.Pipeline, emit: Any) -> None:
        command = pipeline.elements[0]
        assert isinstance(command, A.Command)
        seen.append(command.name_text)
        emit("from " + command.name_text)

    ev = Evaluator(Scope(), run_pipeline=runner)
    assert ev.collect(parse('$x = Get-Thing; "got $x"')) == ["got from Get-Thing"]
    assert seen == ["Get-Thing"]


def test_loops_and_try() -> None:
    assert run("$i = 0; while ($i -lt 3) { $i; $i++ }") == [0, 1, 2]
    assert run(
        "for ($i = 0; $i -lt 4; $i++) { if ($i -eq 1) { continue }; if ($i -eq 3) { break }; $i }"
    ) == [0, 2]
    assert run("$n = 0; do { $n++ } until ($n -ge 2); $n") == [2]
    assert run("try { throw 'bad' } catch { \"caught $_\" } finally { 'fin' }") == ["caught bad", "fin"]
    with pytest.raises(ThrowRequest):
        run("try { throw 'bad' } catch [System.IO.IOException] { 'io' }")


def test_loops_call_the_interrupt_hook() -> None:
    class Stop(Exception):
        pass

    turns = []

    def interrupt() -> None:
        turns.append(1)
        if len(turns) > 3:
            raise Stop()

    ev = Evaluator(Scope())
    ev.check_interrupt = interrupt
    with pytest.raises(Stop):
        ev.collect(parse("while ($true) { }"))


def test_multiple_assignment_and_increments_as_statements() -> None:
    assert run("$a, $b = 1, 2, 3; $a; $b.Count") == [1, 2]
    assert run("$i = 1; $i++; $i") == [2]
    assert run("1 > $null; 'kept'") == ["kept"]
