"""The parser: PowerShell text -> the subset's AST, and ParseError for bad or unfinished input."""

from __future__ import annotations

import pytest

from psremoting.pslang import ParseError, parse
from psremoting.pslang import ast as A


def only_pipeline(text: str) -> A.Pipeline:
    script = parse(text)
    assert len(script.statements) == 1
    stmt = script.statements[0]
    assert isinstance(stmt, A.Pipeline)
    return stmt


def only_command(text: str) -> A.Command:
    pipeline = only_pipeline(text)
    assert len(pipeline.elements) == 1
    command = pipeline.elements[0]
    assert isinstance(command, A.Command)
    return command


def test_command_with_named_positional_and_switch_parameters() -> None:
    cmd = only_command(r"Get-ChildItem -Path C:\Windows -Recurse:$false *.log -Force")
    assert cmd.name == "Get-ChildItem"
    path, value, recurse, positional, force = (
        cmd.elements[0],
        cmd.elements[1],
        cmd.elements[2],
        cmd.elements[3],
        cmd.elements[4],
    )
    assert path == A.CommandParameter("Path", None, "-Path", path.pos)
    assert isinstance(value, A.Constant) and value.value == "C:\\Windows" and value.bareword
    assert isinstance(recurse, A.CommandParameter) and recurse.name == "Recurse"
    assert recurse.argument == A.Variable("false", None, recurse.argument.pos)  # type: ignore[union-attr]
    assert isinstance(positional, A.Constant) and positional.value == "*.log"
    assert isinstance(force, A.CommandParameter) and force.argument is None


def test_pipeline_statements_and_comments() -> None:
    script = parse("gci | Out-Default; Get-Date # a comment\n'x'")
    assert len(script.statements) == 3
    first = script.statements[0]
    assert isinstance(first, A.Pipeline)
    assert [e.name for e in first.elements if isinstance(e, A.Command)] == ["gci", "Out-Default"]


def test_assignment_of_a_command_with_a_bareword_list() -> None:
    script = parse("$s = New-PSSession -ComputerName srv1,srv2 -Name a")
    stmt = script.statements[0]
    assert isinstance(stmt, A.Assignment)
    assert stmt.target == A.Variable("s", None, 0)
    pipeline = stmt.value
    assert isinstance(pipeline, A.Pipeline)
    cmd = pipeline.elements[0]
    assert isinstance(cmd, A.Command)
    items = cmd.elements[1]
    assert isinstance(items, A.ArrayLiteral)
    assert [i.value for i in items.items] == ["srv1", "srv2"]  # type: ignore[union-attr]
    assert cmd.elements[2] == A.CommandParameter("Name", None, "-Name", cmd.elements[2].pos)


@pytest.mark.parametrize("text", ["f -cn a, b, c", "f -cn a,b,c"])
def test_bareword_lists_with_and_without_spaces(text: str) -> None:
    cmd = only_command(text)
    items = cmd.elements[1]
    assert isinstance(items, A.ArrayLiteral)
    assert [i.value for i in items.items] == ["a", "b", "c"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("f -cn a, b-c, d", ["a", "b-c", "d"]),
        ("f Get-FileHash, New-Guid", ["Get-FileHash", "New-Guid"]),
        ("f a, web-01.corp.example", ["a", "web-01.corp.example"]),
    ],
)
def test_a_dash_inside_a_listed_bareword_is_part_of_it(text: str, words: list[str]) -> None:
    """``a, b-c`` is the two words 'a' and 'b-c', not 'a', 'b' and a parameter -c."""
    cmd = only_command(text)
    items = [e for e in cmd.elements if isinstance(e, A.ArrayLiteral)][0]
    assert [i.value for i in items.items] == words  # type: ignore[union-attr]


def test_colon_bound_parameter_value() -> None:
    cmd = only_command("Invoke-Command -ComputerName:srv -ScriptBlock:{ hostname }")
    cn, sb = cmd.elements
    assert isinstance(cn, A.CommandParameter) and cn.argument == A.Constant("srv", cn.argument.pos, True)  # type: ignore[union-attr]
    assert isinstance(sb, A.CommandParameter) and isinstance(sb.argument, A.ScriptBlockExpr)


def test_script_block_keeps_source_text_and_parse() -> None:
    cmd = only_command("icm -ScriptBlock { Get-Process | Select -First 2 } -cn srv")
    block = cmd.elements[1]
    assert isinstance(block, A.ScriptBlockExpr)
    assert block.text == " Get-Process | Select -First 2 "
    inner = block.body.statements[0]
    assert isinstance(inner, A.Pipeline) and len(inner.elements) == 2


def test_literals_variables_members_and_indexes() -> None:
    (value,) = only_pipeline("$s[0].State").elements
    assert isinstance(value, A.Member) and value.name == "State"
    assert isinstance(value.target, A.Index)
    (env,) = only_pipeline("$env:COMPUTERNAME").elements
    assert env == A.Variable("COMPUTERNAME", "env", 0)
    (using,) = only_pipeline("$using:x").elements
    assert using == A.Variable("x", "using", 0)
    (number,) = only_pipeline("0x10").elements
    assert number == A.Constant(16, 0)
    (size,) = only_pipeline("2kb").elements
    assert size == A.Constant(2048, 0)


def test_strings_expand_variables_and_subexpressions() -> None:
    (text,) = only_pipeline(
        "\"PS $($executionContext.SessionState.Path.CurrentLocation)$('>' * ($n + 1)) \""
    ).elements
    assert isinstance(text, A.ExpandableString)
    assert text.parts[0] == "PS "
    assert isinstance(text.parts[1], A.SubExpr) and isinstance(text.parts[2], A.SubExpr)
    assert text.parts[3] == " "
    (single,) = only_pipeline("'it''s $x'").elements
    assert single == A.Constant("it's $x", 0)
    (escaped,) = only_pipeline('"a`tb `$x"').elements
    assert escaped == A.Constant("a\tb $x", 0)


def test_hashtables_arrays_and_subexpressions() -> None:
    (table,) = only_pipeline("@{ Name = 'x'; Count = 2 }").elements
    assert isinstance(table, A.HashLiteral)
    assert [k.value for k, _ in table.entries] == ["Name", "Count"]  # type: ignore[union-attr]
    (array,) = only_pipeline("@(1, 2)").elements
    assert isinstance(array, A.ArrayExpr)
    (sub,) = only_pipeline("$(Get-Date)").elements
    assert isinstance(sub, A.SubExpr)


def test_exit_and_control_flow() -> None:
    (stmt,) = parse("exit 3").statements
    assert isinstance(stmt, A.Flow) and stmt.keyword == "exit"
    (cond,) = parse("if ($x) { 1 } elseif ($y) { 2 } else { 3 }").statements
    assert isinstance(cond, A.If) and len(cond.clauses) == 2 and cond.else_body is not None
    (loop,) = parse("foreach ($i in 1..3) { $i }").statements
    assert isinstance(loop, A.Foreach) and loop.variable == "i"


@pytest.mark.parametrize(
    "text",
    [
        "{ 1",
        "'abc",
        '"abc',
        "Get-Process |",
        "if ($x) {",
        "@{ a = 1",
        "f (",
        "$x = @(1,",
        "gci `",
        "1 +",
        "if ($x)",
        "if ($x) { 1 } else",
        "function Get-Thing",
        "gci | % {\n $_\n",
    ],
)
def test_unfinished_input_is_incomplete(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.incomplete, info.value
    assert info.value.position == len(text)


@pytest.mark.parametrize("text", ["f )", "}", "gci )) x"])
def test_wrong_input_is_an_error_not_incomplete(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert not info.value.incomplete
    assert "Unexpected token" in info.value.message
    assert 0 <= info.value.position < len(text)


def test_a_lone_dash_is_a_command_argument() -> None:
    cmd = only_command("Get-Date -")
    assert cmd.elements == (A.Constant("-", cmd.elements[0].pos),)


def test_multi_line_input() -> None:
    script = parse("$a = 1\n$b = @'\nraw $a\n'@\n\"$b!\"")
    assert len(script.statements) == 3


def test_empty_and_comment_only_input() -> None:
    assert parse("").statements == ()
    assert parse("   # nothing here").statements == ()


def test_parses_are_cached_by_text() -> None:
    assert parse("Get-Date") is parse("Get-Date")


@pytest.mark.parametrize("name", ["ForEach-Object", "Do-Something", "Param-Check", "Data-Load"])
def test_commands_named_like_keywords(name: str) -> None:
    script = parse(f"Get-Date; {name} {{ 1 }}")
    second = script.statements[1]
    assert isinstance(second, A.Pipeline)
    command = second.elements[0]
    assert isinstance(command, A.Command)
    assert (
        command.name == A.Constant(name, command.name.pos)
        if not isinstance(command.name, str)
        else command.name == name
    )
