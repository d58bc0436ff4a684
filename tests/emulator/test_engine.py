"""The command engine driven through its PipelineIO boundary: output, errors, session state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from psrpcore import Command
from psrpcore.types import ErrorCategory, ErrorRecord, HostMethodIdentifier, PipelineResultTypes

from psremoting.emulator.engine import Engine, HandlerContext

from .engine_recorder import Recorder, run, script


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path)


def test_prompt_shows_the_current_location(engine: Engine) -> None:
    result, rec = run(engine, "prompt")
    assert result.failed is None
    assert rec.output == ["PS C:\\Users\\user\\Documents> "]
    run(engine, "Set-Location C:\\Users")
    assert run(engine, "prompt")[1].output == ["PS C:\\Users> "]


def test_the_default_prompt_function_text_evaluates_the_same(engine: Engine) -> None:
    text = "\"PS $($executionContext.SessionState.Path.CurrentLocation)$('>' * ($nestedPromptLevel + 1)) \""
    assert run(engine, text)[1].output == ["PS C:\\Users\\user\\Documents> "]


def test_session_state_persists_across_pipelines(engine: Engine) -> None:
    run(engine, "$count = 41")
    assert run(engine, "$count + 1")[1].output == [42]
    run(engine, "function Double($x) { $x * 2 }")
    assert run(engine, "Double 21")[1].output == [42]


def test_environment_and_version_table(engine: Engine) -> None:
    rec = run(engine, "$env:COMPUTERNAME; $env:USERNAME; $PSVersionTable.PSEdition; $PWD.Path")[1]
    assert rec.output == ["SERVER01", "user", "Desktop", "C:\\Users\\user\\Documents"]
    (version,) = run(engine, "$PSVersionTable.PSVersion.Major")[1].output
    assert version == 5


def test_out_default_writes_text_through_host_calls(engine: Engine) -> None:
    result, rec = run(engine, "Write-Output one two; 3", out_default=True)
    assert result.failed is None
    assert rec.output == []
    assert rec.lines == ["one", "two", "3"]
    assert set(rec.methods()) == {HostMethodIdentifier.WriteLine2}


def test_get_date_is_a_datetime_shown_in_long_form(engine: Engine) -> None:
    (value,) = run(engine, "Get-Date")[1].output
    assert isinstance(value, dt.datetime)
    lines = run(
        engine, "Get-Date -Year 2026 -Month 11 -Day 24 -Hour 23 -Minute 19 -Second 39", out_default=True
    )[1].lines
    assert "Tuesday, November 24, 2026 11:19:39 PM" in lines
    assert run(engine, "Get-Date -Date 2026-01-02 -Format yyyy-MM-dd")[1].output == ["2026-01-02"]


def test_custom_objects_and_hashtables_format_as_tables(engine: Engine) -> None:
    lines = run(
        engine, "[pscustomobject]@{Name='a'; Size=10}; [pscustomobject]@{Name='bb'; Size=5}", out_default=True
    )[1].lines
    assert lines == ["", "Name Size", "---- ----", "a      10", "bb      5", "", ""]
    table = run(engine, "@{ Key = 'v' }", out_default=True)[1].lines
    assert "Name                           Value" in table
    assert "Key                            v" in table


def test_unknown_command_in_a_script_is_an_error_record_and_the_script_goes_on(engine: Engine) -> None:
    result, rec = run(engine, "Foo-Bar; 'after'")
    assert result.failed is None
    assert rec.output == ["after"]
    (error,) = rec.errors
    assert isinstance(error, ErrorRecord)
    # The emulator answers as Windows PowerShell 5.1 by default, and words it as 5.1 does.
    assert str(error) == (
        "The term 'Foo-Bar' is not recognized as the name of a cmdlet, function, script file, or operable "
        "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
        "and try again."
    )
    assert error.FullyQualifiedErrorId == "CommandNotFoundException"
    assert error.CategoryInfo.Category == ErrorCategory.ObjectNotFound
    assert str(error.CategoryInfo) == "ObjectNotFound: (Foo-Bar:String) [], CommandNotFoundException"
    assert error.Exception.PSObject.type_names[0] == "System.Management.Automation.CommandNotFoundException"


def test_unknown_command_is_worded_as_powershell_7_by_a_version_7_engine(tmp_path: Path) -> None:
    result, rec = run(
        Engine(computer_name="SERVER01", username="user", root=tmp_path, version="7"), "Foo-Bar"
    )
    (error,) = rec.errors
    assert str(error) == (
        "The term 'Foo-Bar' is not recognized as a name of a cmdlet, function, script file, or executable program.\n"
        "Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
    )


def test_unknown_command_inside_invoke_expression_fails_the_pipeline(engine: Engine) -> None:
    # As Windows answers pypsrp's execute_ps("Get-ServiceTypo -Name winrm"), which runs the
    # script through Invoke-Expression: the pipeline ends Failed with the
    # CommandNotFoundException, nothing on the error stream, nothing after it runs.
    result, rec = run(engine, "Invoke-Expression -Command 'Get-ServiceTypo -Name winrm'; 'after'")
    assert rec.errors == []
    assert rec.output == []
    assert result.failed is not None
    assert str(result.failed).startswith("The term 'Get-ServiceTypo' is not recognized")
    # try/catch still catches it.
    _, rec = run(engine, "try { Invoke-Expression 'Get-ServiceTypo' } catch { 'caught' }")
    assert rec.output == ["caught"]


def test_unknown_command_invoked_directly_fails_the_pipeline(engine: Engine) -> None:
    rec = Recorder()
    result = engine.invoke([Command("Foo-Bar")], rec)
    assert result.failed is not None
    assert result.failed.FullyQualifiedErrorId == "CommandNotFoundException"


def test_error_view_through_out_default(engine: Engine) -> None:
    rec = run(engine, "Get-ChildItem C:\\nope", out_default=True)[1]
    assert rec.error_lines == [
        "Get-ChildItem : Cannot find path 'C:\\nope' because it does not exist.",
        "At line:1 char:1",
        "+ Get-ChildItem C:\\nope",
        "+ ~~~~~~~~~~~~~~~~~~~~~",
        "    + CategoryInfo          : ObjectNotFound: (C:\\nope:String) [Get-ChildItem], ItemNotFoundException",
        "    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand",
        " ",
    ]
    assert rec.errors == []


def test_errors_go_to_the_error_stream_without_merge(engine: Engine) -> None:
    rec = Recorder()
    engine.invoke([Command("Get-ChildItem C:\\nope", is_script=True), Command("Out-Default")], rec)
    assert rec.error_lines == []
    (error,) = rec.errors
    assert error.FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"


def test_merged_error_stream_reaches_out_default(engine: Engine) -> None:
    first = Command("Write-Error 'bad thing'", is_script=True)
    first.redirect_error(PipelineResultTypes.Output)
    rec = Recorder()
    engine.invoke([first, Command("Out-Default")], rec)
    assert rec.errors == []
    assert rec.error_lines[0] == "Write-Error 'bad thing' : bad thing"
    assert (
        "    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException" in rec.error_lines
    )


def test_write_error_record(engine: Engine) -> None:
    (error,) = run(engine, "Write-Error 'disk full'")[1].errors
    assert str(error) == "disk full"
    assert error.FullyQualifiedErrorId == "Microsoft.PowerShell.Commands.WriteErrorException"
    assert error.Exception.PSObject.type_names[0] == "Microsoft.PowerShell.Commands.WriteErrorException"


def test_throw_fails_the_pipeline(engine: Engine) -> None:
    result, rec = run(engine, "'before'; throw 'broken'; 'after'")
    assert rec.output == ["before"]
    assert result.failed is not None
    assert str(result.failed) == "broken"


def test_error_action_stop_fails_the_pipeline(engine: Engine) -> None:
    result, rec = run(engine, "Get-Content C:\\missing.txt -ErrorAction Stop; 'after'")
    assert rec.output == []
    assert result.failed is not None
    assert (
        result.failed.FullyQualifiedErrorId == "PathNotFound,Microsoft.PowerShell.Commands.GetContentCommand"
    )


def test_parameter_binding_errors_use_powershell_text(engine: Engine) -> None:
    (error,) = run(engine, "Get-ChildItem -Bogus")[1].errors
    assert str(error) == "A parameter cannot be found that matches parameter name 'Bogus'."
    assert (
        error.FullyQualifiedErrorId
        == "NamedParameterNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"
    )
    assert str(error.CategoryInfo) == "InvalidArgument: (:) [Get-ChildItem], ParameterBindingException"


def test_cmdlet_command_with_parameters_from_the_client(engine: Engine) -> None:
    cmd = Command("Get-Command")
    cmd.add_parameter("Name", ["Out-Default", "Exit-PSSession"])
    rec = Recorder()
    assert engine.invoke([cmd], rec).failed is None
    assert [o.Name for o in rec.output] == ["Out-Default", "Exit-PSSession"]
    assert rec.output[0].PSObject.type_names[0] == "System.Management.Automation.CmdletInfo"


def test_pipeline_input_from_the_client(engine: Engine) -> None:
    rec = Recorder(input_items=[3, 1, 2])
    assert engine.invoke([Command("Sort-Object")], rec).failed is None
    assert rec.output == [1, 2, 3]


def test_pipeline_utilities(engine: Engine) -> None:
    rec = run(
        engine, "1..6 | Where-Object { $_ % 2 -eq 0 } | ForEach-Object { $_ * 10 } | Select-Object -First 2"
    )[1]
    assert rec.output == [20, 40]
    (measure,) = run(engine, "1..4 | Measure-Object -Sum")[1].output
    assert measure.Count == 4 and measure.Sum == 10


def test_streams(engine: Engine) -> None:
    rec = run(
        engine,
        "Write-Warning w; Write-Verbose v -Verbose; Write-Debug d -Debug; Write-Information i; Write-Progress -Activity a -Status s",
    )[1]
    assert rec.warnings == ["w"]
    assert rec.verbose == ["v"]
    assert rec.debug == ["d"]
    assert rec.information == [("i", "Write-Information")]
    # Write-Progress is the script's first use of Microsoft.PowerShell.Utility: Windows first
    # reports the module's loading, then the script's own record.
    assert [p[:2] for p in rec.progress] == [("Preparing modules for first use.", " "), ("a", "s")]


def test_registered_handlers_get_arguments_and_override_builtins(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def handler(ctx: HandlerContext) -> list[str]:
        seen.update(args=ctx.args, params=dict(ctx.params), input=ctx.input)
        return ["handled"]

    engine = Engine(root=tmp_path, commands={"Get-Date": handler})
    rec = run(engine, "1, 2 | get-date x -Flag -Name:v")[1]
    assert rec.output == ["handled"]
    assert seen == {"args": ["x"], "params": {"Flag": True, "Name": "v"}, "input": [1, 2]}


def test_handler_exception_becomes_an_error_record(tmp_path: Path) -> None:
    def broken(ctx: HandlerContext) -> None:
        raise ValueError("handler broke")

    engine = Engine(root=tmp_path, commands={"Broken": broken})
    (error,) = run(engine, "Broken")[1].errors
    assert str(error) == "handler broke"


def test_parse_error_fails_with_a_parse_exception(engine: Engine) -> None:
    result, _ = run(engine, "Get-Date )")
    assert result.failed is not None
    assert result.failed.CategoryInfo.Category == ErrorCategory.ParserError
    incomplete, _ = run(engine, "if ($true) {")
    assert incomplete.failed is not None
    assert incomplete.failed.CategoryInfo.Reason == "IncompleteParseException"


def test_commands_are_found_case_insensitively_and_by_alias(engine: Engine) -> None:
    assert run(engine, "write-output x; echo y")[1].output == ["x", "y"]


def test_trivial_commands_are_cheap(engine: Engine) -> None:
    import time

    commands = script("prompt")
    engine.invoke(commands, Recorder())
    start = time.perf_counter()
    for _ in range(200):
        engine.invoke(commands, Recorder())
    per_call = (time.perf_counter() - start) / 200
    assert per_call < 0.005, f"{per_call * 1000:.2f} ms per trivial pipeline"


def test_preferences_decide_which_records_are_written(engine: Engine) -> None:
    rec = run(
        engine, "Write-Verbose quiet; Write-Debug quiet; Write-Warning w -WarningAction SilentlyContinue"
    )[1]
    assert rec.verbose == [] and rec.debug == [] and rec.warnings == []
    rec = run(engine, "$VerbosePreference = 'Continue'; Write-Verbose loud")[1]
    assert rec.verbose == ["loud"]


def test_error_action_preference_stop(engine: Engine) -> None:
    result, rec = run(engine, "$ErrorActionPreference = 'Stop'; Write-Error first; 'not reached'")
    assert rec.output == []
    assert result.failed is not None and str(result.failed) == "first"


def test_out_string_and_its_stream_switch(engine: Engine) -> None:
    (text,) = run(engine, "[pscustomobject]@{A=1} | Out-String")[1].output
    assert text == "\r\nA\r\n-\r\n1\r\n\r\n\r\n"
    assert run(engine, "'x', 'y' | Out-String -Stream")[1].output == ["x", "y"]


def test_exit_still_flushes_what_out_default_holds(engine: Engine) -> None:
    rec = run(engine, "[pscustomobject]@{A=1}; exit 2", out_default=True)[1]
    assert rec.lines == ["", "A", "-", "1", "", ""]
    assert rec.host_calls[-1] == (HostMethodIdentifier.SetShouldExit, [2])


def test_scripts_with_parameters_from_the_client(engine: Engine) -> None:
    cmd = Command('param($Name, $Count) "$Name x $Count; rest=$args"', is_script=True)
    cmd.add_parameter("count", 3)
    cmd.add_argument("n")
    cmd.add_argument("extra")
    rec = Recorder()
    assert engine.invoke([cmd], rec).failed is None
    assert rec.output == ["n x 3; rest=extra"]


def test_version_table_of_powershell_7(tmp_path: Path) -> None:
    engine = Engine(root=tmp_path, version="7")
    assert run(engine, "$PSVersionTable.PSEdition")[1].output == ["Core"]


def test_native_commands_and_session_variables(engine: Engine) -> None:
    rec = run(
        engine,
        "hostname; whoami; $Host.Name; Invoke-Expression '1 + 1'; Set-Variable z 5; Get-Variable z -ValueOnly",
    )[1]
    assert rec.output == ["server01", "server01\\user", "ServerRemoteHost", 2, 5]


def test_format_table_and_list_render_text(engine: Engine) -> None:
    lines = run(engine, "[pscustomobject]@{Name='a'; Size=1} | Format-Table Name", out_default=True)[1].lines
    assert lines == ["", "Name", "----", "a", "", ""]
    lines = run(engine, "[pscustomobject]@{Name='a'; Size=1} | fl", out_default=True)[1].lines
    assert "Name : a" in lines and "Size : 1" in lines


def test_foreach_object_without_input_runs_once(engine: Engine) -> None:
    assert run(engine, "ForEach-Object { 'once' }")[1].output == ["once"]
    assert run(engine, "1..2 | % -Begin { 'b' } -Process { $_ } -End { 'e' }")[1].output == ["b", 1, 2, "e"]


def test_redirections(engine: Engine) -> None:
    rec = run(
        engine,
        "Get-ChildItem > $null; Get-Date -Format yyyy > out.txt; 'more' >> out.txt; Get-Content out.txt",
    )[1]
    assert len(rec.output) == 2 and rec.output[1] == "more"
    rec = run(engine, "Get-ChildItem C:\\nope 2>$null; 'quiet'")[1]
    assert rec.output == ["quiet"] and rec.errors == []
    rec = run(engine, "Get-ChildItem C:\\nope 2>&1 | ForEach-Object { $_.FullyQualifiedErrorId }")[1]
    assert rec.output == ["PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"]


def test_try_catch_finally_sees_error_records(engine: Engine) -> None:
    rec = run(
        engine,
        "try { Get-Item C:\\nope -ErrorAction Stop } catch { 'caught: ' + $_.Exception.Message } finally { 'done' }",
    )[1]
    assert rec.output == ["caught: Cannot find path 'C:\\nope' because it does not exist.", "done"]
    rec = run(
        engine,
        "try { Foo-Bar } catch [System.Management.Automation.CommandNotFoundException] { 'not found' }",
    )[1]
    assert rec.output == ["not found"] and rec.errors == []
    result, rec = run(engine, "try { throw 'x' } catch [System.IO.IOException] { 'io' }")
    assert rec.output == [] and result.failed is not None


def test_loops(engine: Engine) -> None:
    rec = run(
        engine,
        "$i = 0; while ($i -lt 3) { $i++ }; $i; for ($j = 0; $j -lt 2; $j++) { \"j$j\" }; do { 'once' } until ($true)",
    )[1]
    assert rec.output == [3, "j0", "j1", "once"]


def test_an_endless_loop_stops_when_the_pipeline_is_stopped(engine: Engine) -> None:
    import threading

    rec = Recorder()
    outcome: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(result=engine.invoke(script("while ($true) { }"), rec))
    )
    thread.start()
    rec.stopping.set()
    thread.join(5)
    assert not thread.is_alive()
    assert outcome["result"].stopped


def test_using_values_sent_by_invoke_command(engine: Engine) -> None:
    import base64

    key = base64.b64encode("$using:x".encode("utf-16-le")).decode("ascii")
    cmd = Command("$using:x + 1", is_script=True)
    cmd.add_parameter("--%", {key: 20})
    rec = Recorder()
    assert engine.invoke([cmd], rec).failed is None
    assert rec.output == [21]


def test_dollar_question_mark_reports_the_last_pipelines_success(engine: Engine) -> None:
    assert run(engine, "Get-ChildItem C:\\nope; $?; Get-Location | Out-Null; $?; Foo-Bar; $?")[1].output == [
        False,
        True,
        False,
    ]


def test_get_member_lists_members_by_type(engine: Engine) -> None:
    lines = run(engine, "'x' | Get-Member -Name Length", out_default=True)[1].lines
    assert lines[:5] == [
        "",
        "   TypeName: System.String",
        "",
        "Name   MemberType Definition",
        "----   ---------- ----------",
    ]
    assert lines[5] == "Length Property   int Length {get;}"
    (member,) = run(engine, "Get-Item C:\\Users | Get-Member -Name FullName")[1].output
    assert (member.TypeName, member.MemberType) == ("System.IO.DirectoryInfo", "NoteProperty")


def test_aliases_reach_a_handler_that_replaced_the_builtin(tmp_path: Path) -> None:
    engine = Engine(root=tmp_path, commands={"Get-ChildItem": lambda ctx: ["from handler"]})
    assert run(engine, "gci; dir")[1].output == ["from handler", "from handler"]
