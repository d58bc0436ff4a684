"""Streams as the PowerShell console shows them, in the local shell (in-process interpreter,
embedded emulator over loopback HTTP): Write-Information honours $InformationPreference, and
Write-Host's colours paint the text only, on the terminal's own background.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from psremoting.console.emulator_mode import emulated_computers
from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.interpreter import Interpreter


@pytest.fixture
def shell() -> Iterator[tuple[Interpreter, io.StringIO]]:
    from psremoting.cmdlets import sessions as session

    with emulated_computers():
        out = io.StringIO()
        interpreter = Interpreter(ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=True))
        try:
            yield interpreter, out
        finally:
            session._reset_for_tests()


def _run(shell: tuple[Interpreter, io.StringIO], line: str) -> str:
    interpreter, out = shell
    start = out.tell()
    interpreter.execute(line)
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


def test_write_information_shows_when_information_preference_is_continue(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    _run(shell, "$s = New-PSSession Server01")
    assert _run(shell, "Invoke-Command $s { Write-Information 'note'; 'done' }") == "done\n"
    _run(shell, "$InformationPreference = 'Continue'")
    assert _run(shell, "Invoke-Command $s { Write-Information 'note'; 'done' }") == "note\ndone\n"
    # the common parameter still wins over the preference
    assert (
        _run(shell, "Invoke-Command $s { Write-Information 'note' } -InformationAction SilentlyContinue")
        == ""
    )


def test_write_host_colours_the_text_without_forcing_a_background(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    _run(shell, "$s = New-PSSession Server01")
    text = _run(shell, "Invoke-Command $s { Write-Host -ForegroundColor Red 'alert' }")
    codes = re.findall(r"\x1b\[([0-9;]*)m", text)
    assert "alert" in text and codes, text
    numbers = {int(n) for c in codes for n in c.split(";") if n}
    assert numbers & {31, 91}  # red
    assert not numbers & (set(range(40, 48)) | set(range(100, 108)))  # no background colour
    # an explicit background is honoured
    text = _run(shell, "Invoke-Command $s { Write-Host -ForegroundColor White -BackgroundColor DarkRed 'x' }")
    assert {int(n) for c in re.findall(r"\x1b\[([0-9;]*)m", text) for n in c.split(";") if n} & {41}


def test_write_host_in_an_entered_session_keeps_the_terminal_background() -> None:
    import psremoting

    class Recording(psremoting.BufferedHostUI):
        def __init__(self) -> None:
            super().__init__()
            self.colored: list[tuple[str, str | None, str | None]] = []

        def write(self, text: str, fg: str | None = None, bg: str | None = None) -> None:
            self.colored.append((text, fg, bg))
            super().write(text, fg, bg)

    with emulated_computers():
        s = psremoting.new_pssession("Server01")
        ui = Recording()
        entered = psremoting.enter_pssession(session=s, ui=ui)
        try:
            entered.run("Write-Host -ForegroundColor Red 'alert'")
            entered.run("Write-Host -BackgroundColor DarkRed 'x'")
        finally:
            entered.run("exit")
            psremoting.remove_pssession(s)
    assert ("alert", "Red", None) in ui.colored  # the server filled in Black: the terminal's own
    assert ("x", None, "DarkRed") in ui.colored


def test_write_information_shows_in_an_entered_session_as_its_preference_says() -> None:
    """At the remote prompt the remote $InformationPreference decides: the server shows the
    record through its host (as Write-Host), once; by default it is not shown."""
    from psremoting.cmdlets import sessions as session
    from psremoting.cmdlets.interactive import enter_pssession
    from psremoting.console.lineinput import LineInput
    from psremoting.console.remote import RemoteRunner

    with emulated_computers():
        try:
            out = io.StringIO()
            ui = ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False)
            entered = enter_pssession("Server01", ui=ui)
            runner = RemoteRunner(ui, LineInput())

            def line(text: str) -> str:
                start = out.tell()
                runner.run_line(entered, text)
                out.seek(start)
                shown = out.read()
                out.seek(0, io.SEEK_END)
                return shown

            assert line("Write-Information 'note'; 'done'") == "done\n"
            line("$InformationPreference = 'Continue'")
            assert line("Write-Information 'note'; 'done'") == "note\ndone\n"
            assert line("Write-Information 'quiet' -InformationAction SilentlyContinue") == ""
            assert line("Write-Host 'host'") == "host\n"  # Write-Host: shown once, as before
        finally:
            session._reset_for_tests()


def test_write_progress_from_the_server_is_drawn_as_a_bar_then_erased(
    shell: tuple[Interpreter, io.StringIO],
) -> None:
    _run(shell, "$s = New-PSSession Server01")
    text = _run(
        shell,
        "Invoke-Command $s { Write-Progress -Activity Copying -Status '3 of 10' -PercentComplete 30; "
        "Write-Progress -Activity Copying -Completed; 'done' }",
    )
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    # the 5.1 console's block: the activity, the status under it, a bar 30 % filled with o
    bar = re.search(r" Copying\n    3 of 10\n    \[(o+)( +)\]", plain)
    assert bar is not None, plain
    filled, cells = len(bar.group(1)), len(bar.group(1)) + len(bar.group(2))
    assert filled == 30 * cells // 100
    # erased (carriage return, erase line) before the output that follows
    assert text.index("\r\x1b[2K") < text.index("done")
    assert plain.rstrip("\n").split("\r")[-1].strip() == "done"
