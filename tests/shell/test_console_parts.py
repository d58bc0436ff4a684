"""The console's parts on their own: host UI output, progress bar, help, history, completion."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from psremoting.console import helptext, history
from psremoting.console.completion import LocalCompleter, remote_matches
from psremoting.console.continuation import is_incomplete
from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.progress import fields_of, render


def test_streams_have_powershell_prefixes_and_colours() -> None:
    out = io.StringIO()
    ui = ConsoleHostUI(stdout=out, color=True)
    ui.write_line("plain")
    ui.write_warning_line("careful")
    ui.write_verbose_line("details")
    ui.write_debug_line("internals")
    ui.write_error_line("it broke")
    text = out.getvalue()
    assert "plain\n" in text
    assert "\x1b[33;1mWARNING: careful\n\x1b[0m" in text
    assert "VERBOSE: details" in text and "DEBUG: internals" in text
    assert "\x1b[31;1mit broke\n\x1b[0m" in text


def test_host_colours_follow_console_color_values() -> None:
    out = io.StringIO()
    ui = ConsoleHostUI(stdout=out, color=True)
    ui.write("green", fg=10)
    ui.write_line(" red on blue", fg="Red", bg="DarkBlue")
    assert out.getvalue() == "\x1b[92mgreen\x1b[0m\x1b[91;44m red on blue\n\x1b[0m"


def test_progress_bar_is_drawn_then_erased_when_completed() -> None:
    out = io.StringIO()
    ui = ConsoleHostUI(stdout=out, color=False)
    ui.write_progress(1, {"Activity": "Copying", "StatusDescription": "3 of 10", "PercentComplete": 30})
    drawn = out.getvalue()
    assert re.search(r" Copying\n    3 of 10\n    \[o+ +\]", drawn), drawn
    ui.write_progress(1, {"Activity": "Copying", "PercentComplete": 100, "RecordType": 1})
    # the three lines erased, from the last upwards
    assert out.getvalue().endswith("\r\x1b[2K" + "\x1b[1A\x1b[2K" * 2)


def test_progress_record_shapes() -> None:
    state, completed = fields_of({"activity": "A", "percent_complete": 50, "record_type": "Completed"})
    assert (state.activity, state.percent, completed) == ("A", 50, True)
    assert all(len(line) <= 19 for line in render(state, 20))
    assert render(state, 20) == [" A", "    [ooo    ]"]


def test_read_host_reads_a_line_from_input() -> None:
    ui = ConsoleHostUI(stdout=io.StringIO(), stdin=io.StringIO("answer\nnext\n"))
    assert ui.read_line() == "answer"


def test_credential_prompt_from_piped_input() -> None:
    out = io.StringIO()
    ui = ConsoleHostUI(stdout=out, stdin=io.StringIO("alice\nsecret\n"))
    assert ui.prompt_for_credential("PowerShell credential request", "Enter your credentials.", "", "") == (
        "alice",
        "secret",
    )
    assert "User: " in out.getvalue() and "Password for user alice: " in out.getvalue()
    assert "secret" not in out.getvalue()


def test_choice_prompt_uses_hot_keys() -> None:
    out = io.StringIO()
    ui = ConsoleHostUI(stdout=out, stdin=io.StringIO("n\n"))
    assert ui.prompt_for_choice("Confirm", "Continue?", ["&Yes", "&No"], 0) == 1
    assert '[Y] Yes  [N] No  [?] Help (default is "Y"): ' in out.getvalue()


def test_get_help_texts() -> None:
    text = helptext.help_for("exsn")
    assert text is not None
    assert "NAME\n    Exit-PSSession" in text
    assert "Exit-PSSession [<CommonParameters>]" in text
    assert "ALIASES\n    exsn" in text
    examples = helptext.help_for("Exit-PSSession", examples=True)
    assert examples is not None and "EXAMPLE 3" in examples
    parameter = helptext.help_for("Enter-PSSession", parameter="cn")
    assert (
        parameter is not None
        and "-ComputerName" in parameter
        and "Aliases                      Cn" in parameter
    )
    assert helptext.help_for("Get-Process") is None


def test_history_lives_in_the_data_folder_per_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = history.history_path("Server01")
    assert path == tmp_path / "psremoting" / "history" / "server01.history"
    assert history.history_path("../etc/passwd").parent == path.parent
    if os.name == "posix":
        assert (path.parent.stat().st_mode & 0o777) == 0o700


def test_continuation_follows_the_parse() -> None:
    assert is_incomplete("Invoke-Command -ComputerName a {")
    assert is_incomplete("Get-PSSession |")
    assert not is_incomplete("Get-PSSession | Remove-PSSession")


def _complete(completer: LocalCompleter, text: str) -> list[str]:
    return [
        c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    ]


def test_local_completion_of_cmdlets_parameters_and_variables() -> None:
    completer = LocalCompleter(lambda: ["s", "session"])
    assert "Enter-PSSession" in _complete(completer, "enter-ps")
    assert _complete(completer, "Enter-PSSession -Comp") == ["-ComputerName"]
    assert _complete(completer, "Enter-PSSession -Session $se") == ["$session"]


def test_remote_completion_result_maps_to_the_replaced_range() -> None:
    result = {"replacement_index": 0, "replacement_length": 7, "matches": ["Get-ChildItem", "Get-Command"]}
    completions = list(remote_matches(result, 7))
    assert [c.text for c in completions] == ["Get-ChildItem", "Get-Command"]
    assert completions[0].start_position == -7


def test_powershell_highlighting_marks_variables_commands_and_strings() -> None:
    from prompt_toolkit.document import Document as PTDocument

    from psremoting.console import highlight

    lexer = highlight.lexer()
    line = lexer.lex_document(PTDocument('$s = New-PSSession -ComputerName "Server01"'))(0)
    styles = {text: style for style, text in line}
    assert "variable" in styles["$s"]
    assert "builtin" in styles["New-PSSession"]
    assert any("string" in style for style, text in line if "Server01" in text)


def test_console_host_ui_implements_the_host_ui_protocol() -> None:
    from psremoting.runspace.host_ui import HostUI

    ui: HostUI = ConsoleHostUI(stdout=io.StringIO(), stdin=io.StringIO())
    assert isinstance(ui, HostUI)
