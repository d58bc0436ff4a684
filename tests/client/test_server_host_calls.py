"""Host method calls the emulated server makes ($host.UI as Windows' ServerRemoteHost),
answered by the client's HostUI over real loopback HTTP."""

from __future__ import annotations

import psremoting
from psremoting.emulator import Emulator


def test_prompt_for_choice_from_the_server_is_answered_by_the_host_ui(emu: Emulator) -> None:
    """``$host.UI.PromptForChoice`` on the server is a PromptForChoice host call (26) that
    the client's HostUI answers; the script gets the index back."""
    from psremoting.runspace.host_ui import BufferedHostUI, ChoiceDescription

    seen: list[tuple[str, str, list[ChoiceDescription], int]] = []

    class Chooser(BufferedHostUI):
        def prompt_for_choice(
            self, caption: str, message: str, choices: list[ChoiceDescription], default: int
        ) -> int:
            seen.append((caption, message, choices, default))
            return 1

    session = psremoting.new_pssession("Server01")
    script = (
        "$yes = New-Object System.Management.Automation.Host.ChoiceDescription '&Yes', 'Do it'; "
        "$no = New-Object System.Management.Automation.Host.ChoiceDescription '&No', 'Leave it'; "
        "$answer = $host.UI.PromptForChoice('Restart', 'Restart W3SVC?', @($yes, $no), 0); "
        '"chose $answer"'
    )
    result = session.invoke(script, ui=Chooser())
    assert result.output == ["chose 1"]
    ((caption, message, choices, default),) = seen
    assert (caption, message, default) == ("Restart", "Restart W3SVC?", 0)
    assert [(c.label, c.help_message) for c in choices] == [("&Yes", "Do it"), ("&No", "Leave it")]


def test_a_host_callback_runs_a_nested_pipeline_on_the_same_session(emu: Emulator) -> None:
    """While the server waits for a Read-Host answer, the HostUI runs another command on the
    same session (a nested pipeline, IsNested in CreatePipeline, run in the waiting
    pipeline's runspace) and answers with its result; the outer command then completes."""
    from psremoting.runspace.host_ui import BufferedHostUI

    session = psremoting.new_pssession("Server01")
    inner: list[list[object]] = []

    class AnswersFromTheServer(BufferedHostUI):
        def read_line(self) -> str:
            result = session.invoke("(Get-Date).Year; $env:COMPUTERNAME", timeout=20)
            inner.append(result.output)
            return f"{result.output[1]}-{result.output[0]}"

    result = session.invoke("$a = Read-Host 'Where'; \"answered $a\"", ui=AnswersFromTheServer(), timeout=30)
    ((year, computer),) = inner
    assert isinstance(year, int) and year >= 2024
    assert result.output == [f"answered {computer}-{year}"]
    assert result.state == "Completed"
    # the session is free again: the next command runs at top level
    assert session.invoke("1 + 1").output == [2]


def test_raw_ui_properties_are_host_calls_answered_by_the_client(emu: Emulator) -> None:
    """``$host.UI.RawUI`` as on Windows: its values are the client's (the HostDefaultData
    of its HostInfo: colours, sizes), KeyAvailable is a host call, and each write is a host
    call that also changes what the server reads back."""
    from psremoting.runspace.host_ui import BufferedHostUI

    session = psremoting.new_pssession("Server01")
    script = (
        "$r = $host.UI.RawUI; "
        '"$($r.ForegroundColor) on $($r.BackgroundColor)"; $r.WindowSize.Width -ge 20; '
        "$r.CursorPosition.X; $r.KeyAvailable; $r.MaxWindowSize.Height -ge 5; $r.BufferSize.Width; "
        "$r.ForegroundColor = [System.ConsoleColor]::Green; $r.BackgroundColor = 'DarkBlue'; "
        "$r.WindowTitle = 'Patching W3SVC'; $r.CursorSize = 50; "
        "$r.CursorPosition = New-Object System.Management.Automation.Host.Coordinates 11, 12; "
        "$r.BufferSize = New-Object System.Management.Automation.Host.Size 100, 3000; "
        '"$($r.ForegroundColor) on $($r.BackgroundColor)"; $r.WindowTitle; $r.CursorSize; '
        '"$($r.CursorPosition.X),$($r.CursorPosition.Y)"; "$($r.BufferSize.Width)x$($r.BufferSize.Height)"'
    )
    result = session.invoke(script, ui=BufferedHostUI())
    assert result.error == []
    out = [str(o) for o in result.output]
    width = out[5]
    assert out[:5] == ["Gray on Black", "True", "0", "False", "True"]
    assert int(width) >= 20
    assert out[6:] == ["Green on DarkBlue", "Patching W3SVC", "50", "11,12", "100x3000"]
