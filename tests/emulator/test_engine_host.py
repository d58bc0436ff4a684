"""Host calls the engine makes (Read-Host, Get-Credential, exit, Exit-PSSession), stopping, completion."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from psrpcore import Command
from psrpcore.types import HostMethodIdentifier as H

from psremoting.emulator.engine import Engine

from .engine_recorder import Recorder, run, script


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path)


def test_read_host_reads_a_line(engine: Engine) -> None:
    result, rec = run(engine, '$name = Read-Host; "hello $name"', answers={H.ReadLine: "bob"})
    assert result.failed is None
    assert rec.output == ["hello bob"]
    assert rec.methods() == [H.ReadLine]


def test_read_host_as_secure_string(engine: Engine) -> None:
    rec = run(engine, "Read-Host -AsSecureString", answers={H.ReadLineAsSecureString: "secret"})[1]
    assert rec.methods() == [H.ReadLineAsSecureString]
    assert rec.output == ["secret"]


def test_read_host_with_a_prompt_asks_through_host_prompt(engine: Engine) -> None:
    def answer(method: H, args: list[Any]) -> Any:
        caption, message, (field,) = args
        assert (caption, message) == ("", "")
        assert field.name == "Your name" and field.parameterTypeFullName == "System.String"
        return {"Your name": "alice"}

    rec = run(engine, "Read-Host -Prompt 'Your name'", on_host_call=answer)[1]
    assert rec.methods() == [H.Prompt]
    assert rec.output == ["alice"]


def test_get_credential_prompts_for_a_credential(engine: Engine) -> None:
    rec = run(
        engine, "Get-Credential -UserName admin -Message 'Log in'", answers={H.PromptForCredential1: "cred"}
    )[1]
    assert rec.host_calls == [
        (H.PromptForCredential1, ["Windows PowerShell credential request", "Log in", "admin", ""])
    ]
    assert rec.output == ["cred"]


def test_prompts_without_a_client_host_fail_as_on_windows(engine: Engine) -> None:
    result, rec = run(engine, "Read-Host; 'next'", has_host=False)
    assert result.failed is None
    assert rec.host_calls == []
    assert rec.output == ["next"]
    (error,) = rec.errors
    assert str(error).startswith("A command that prompts the user failed because the host program")
    assert (
        error.FullyQualifiedErrorId
        == "HostFunctionNotImplemented,Microsoft.PowerShell.Commands.ReadHostCommand"
    )


def test_out_default_without_a_host_writes_nothing(engine: Engine) -> None:
    result, rec = run(engine, "'text'", out_default=True, has_host=False)
    assert result.failed is None
    assert rec.host_calls == [] and rec.output == []


def test_exit_sets_should_exit_and_ends_normally(engine: Engine) -> None:
    result, rec = run(engine, "'before'; exit 7; 'after'", out_default=True)
    assert result.failed is None and not result.stopped
    assert rec.lines == ["before"]
    assert rec.host_calls[-1] == (H.SetShouldExit, [7])
    assert run(engine, "$LASTEXITCODE")[1].output == [7]


def test_exit_pssession_pops_the_runspace(engine: Engine) -> None:
    rec = Recorder()
    assert engine.invoke([Command("Exit-PSSession")], rec).failed is None
    assert rec.host_calls == [(H.PopRunspace, [])]


def test_write_host_writes_a_line_and_an_information_record(engine: Engine) -> None:
    rec = run(engine, "Write-Host 'hi there'; Write-Host -NoNewline x")[1]
    assert rec.host_calls == [(H.WriteLine2, ["hi there"]), (H.Write1, ["x"])]
    # the record's data is a HostInformationMessage, as Windows sends it (its text, NoNewLine)
    assert [str(data) for data, _ in rec.information] == ["hi there", "x"]
    assert [data.NoNewLine for data, _ in rec.information] == [False, True]


def test_start_sleep_stops_promptly_when_the_pipeline_is_stopped(engine: Engine) -> None:
    rec = Recorder()
    outcome: dict[str, Any] = {}

    def work() -> None:
        outcome["result"] = engine.invoke(script("Start-Sleep -Seconds 30; 'not reached'"), rec)
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.05)  # let the pipeline reach Start-Sleep; the stop below is what ends it
    stopped_at = time.monotonic()
    rec.stopping.set()
    thread.join(5)
    assert not thread.is_alive()
    assert outcome["result"].stopped
    assert outcome["ended"] - stopped_at < 0.1
    assert rec.output == []


def test_start_sleep_sleeps(engine: Engine) -> None:
    start = time.monotonic()
    result, rec = run(engine, "Start-Sleep -Milliseconds 50; 'done'")
    assert time.monotonic() - start >= 0.05
    assert rec.output == ["done"]


def complete(engine: Engine, text: str, cursor: int | None = None) -> Any:
    cmd = Command("TabExpansion2")
    cmd.add_parameter("inputScript", text)
    cmd.add_parameter("cursorColumn", len(text) if cursor is None else cursor)
    rec = Recorder()
    assert engine.invoke([cmd], rec).failed is None
    (completion,) = rec.output
    assert completion.PSObject.type_names[0] == "System.Management.Automation.CommandCompletion"
    assert completion.CurrentMatchIndex == -1
    return completion


def test_tab_expansion_completes_command_names(engine: Engine) -> None:
    completion = complete(engine, "Get-ChildI")
    assert (completion.ReplacementIndex, completion.ReplacementLength) == (0, 10)
    (match,) = completion.CompletionMatches
    assert (match.CompletionText, match.ListItemText, match.ResultType.name) == (
        "Get-ChildItem",
        "Get-ChildItem",
        "Command",
    )
    assert match.PSObject.type_names[0] == "System.Management.Automation.CompletionResult"


def test_tab_expansion_completes_parameter_names(engine: Engine) -> None:
    completion = complete(engine, "Get-ChildItem -Rec")
    assert (completion.ReplacementIndex, completion.ReplacementLength) == (14, 4)
    assert [(m.CompletionText, m.ResultType.name, m.ToolTip) for m in completion.CompletionMatches] == [
        ("-Recurse", "ParameterName", "[switch] Recurse")
    ]


def test_tab_expansion_completes_sandbox_paths(engine: Engine) -> None:
    run(engine, "New-Item -ItemType Directory Reports; Set-Content report.txt x")
    completion = complete(engine, "Get-Content rep")
    texts = [(m.CompletionText, m.ResultType.name) for m in completion.CompletionMatches]
    assert texts == [(".\\Reports", "ProviderContainer"), (".\\report.txt", "ProviderItem")]
    assert completion.ReplacementIndex == 12
    assert [m.CompletionText for m in complete(engine, "cd C:\\Us").CompletionMatches] == ["C:\\Users"]
    assert [m.CompletionText for m in complete(engine, "Set-Location rep").CompletionMatches] == [
        ".\\Reports"
    ]


def test_tab_expansion_completes_variables(engine: Engine) -> None:
    assert [m.CompletionText for m in complete(engine, "$env:COMPUTERN").CompletionMatches] == [
        "$env:COMPUTERNAME"
    ]
    assert "$PSVersionTable" in [m.CompletionText for m in complete(engine, "$PSVer").CompletionMatches]


def _fields(obj: Any) -> dict[str, Any]:
    """A host call argument's note properties (the MS-PSRP 2.2.6 encoding), by name (a Char
    as its text)."""
    from psrpcore.types import PSChar

    values = {p.name: getattr(obj, p.name) for p in obj.PSObject.extended_properties}
    return {k: str(v) if isinstance(v, PSChar) else v for k, v in values.items()}


RAW_UI_BUFFER_SCRIPT = """
$H = 'System.Management.Automation.Host'
$fill = New-Object "$H.BufferCell" -ArgumentList 'Z', ([System.ConsoleColor]::Red), ([System.ConsoleColor]::Green), ([System.Management.Automation.Host.BufferCellType]::Complete)
$rect = New-Object "$H.Rectangle" -ArgumentList 1, 2, 3, 4
$origin = New-Object "$H.Coordinates" -ArgumentList 15, 15
$host.UI.RawUI.SetBufferContents($rect, $fill)
$cells = New-Object -TypeName "$H.BufferCell[,]" -ArgumentList 2, 3
$cells[0,2] = New-Object "$H.BufferCell" -ArgumentList 'B', Black, White, Leading
$cells[1,0] = New-Object "$H.BufferCell" -ArgumentList 'C', Black, White, Trailing
$host.UI.RawUI.SetBufferContents($origin, $cells)
$host.UI.RawUI.ScrollBufferContents($rect, $origin, $rect, $fill)
$cells.GetType().FullName; $cells.Rank; $cells.GetLength(1); $cells[1,0].Character
$read = $host.UI.RawUI.GetBufferContents($rect)
"$($read[0,1].Character)$($read[0,1].ForegroundColor)"
"""


def test_raw_ui_buffer_methods_are_host_calls_in_ms_psrp_shapes(engine: Engine) -> None:
    """SetBufferContents (both overloads), ScrollBufferContents and GetBufferContents reach
    the client as Windows' RemoteHostEncoder sends them: structs as objects of lower-case
    fields, a BufferCell[,] as its elements row-major (mae) and its lengths (mal)."""
    from psrpcore.types import PSChar, PSNoteProperty, PSObject

    def cell(char: str, fg: int) -> PSObject:
        obj = PSObject()
        for name, value in (("character", PSChar(char)), ("foregroundColor", fg)):
            obj.PSObject.extended_properties.append(PSNoteProperty(name, value))
        for name in ("backgroundColor", "bufferCellType"):
            obj.PSObject.extended_properties.append(PSNoteProperty(name, 0))
        return obj

    answer = PSObject()
    answer.PSObject.extended_properties.append(PSNoteProperty("mae", [cell("x", 1), cell("y", 14)]))
    answer.PSObject.extended_properties.append(PSNoteProperty("mal", [1, 2]))
    result, rec = run(engine, RAW_UI_BUFFER_SCRIPT, answers={H.GetBufferContents: answer})
    assert result.failed is None and rec.errors == []
    assert [str(o) for o in rec.output] == [
        "System.Management.Automation.Host.BufferCell[,]", "2", "3", "C", "yYellow",
    ]  # fmt: skip
    calls = dict(rec.host_calls)
    assert list(calls) == [
        H.SetBufferContents1,
        H.SetBufferContents2,
        H.ScrollBufferContents,
        H.GetBufferContents,
    ]
    rect = {"left": 1, "top": 2, "right": 3, "bottom": 4}
    fill = {"character": "Z", "foregroundColor": 12, "backgroundColor": 10, "bufferCellType": 0}
    assert [_fields(a) for a in calls[H.SetBufferContents1]] == [rect, fill]
    origin, cells = calls[H.SetBufferContents2]
    assert _fields(origin) == {"x": 15, "y": 15}
    assert _fields(cells)["mal"] == [2, 3]
    elements = [_fields(c) for c in _fields(cells)["mae"]]
    assert [(e["character"], e["bufferCellType"]) for e in elements] == [
        ("\0", 0), ("\0", 0), ("B", 1), ("C", 2), ("\0", 0), ("\0", 0),
    ]  # fmt: skip
    assert [_fields(a) for a in calls[H.ScrollBufferContents]] == [rect, {"x": 15, "y": 15}, rect, fill]
    assert [_fields(a) for a in calls[H.GetBufferContents]] == [rect]


def test_a_two_dimensional_index_out_of_bounds_fails_as_on_windows(engine: Engine) -> None:
    result, rec = run(
        engine,
        "$c = New-Object 'System.Management.Automation.Host.BufferCell[,]' 2,2; $c[2,0] = $null; 'after'",
    )
    assert "Index was outside the bounds of the array." in str(rec.errors[0])
    assert rec.output == ["after"]
