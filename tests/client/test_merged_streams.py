"""``2>&1`` and merged streams against the emulator: errors in the output, in order.

The server side merges as Windows does (``2>&1`` in the script, or the client's
MergeMyResult/MergeToResult on the command); the client API asks for it with
``merge_errors=True``.
"""

from __future__ import annotations

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import RemoteErrorRecord


def _texts(output: list) -> list[tuple[str, str]]:
    return [("error" if isinstance(o, RemoteErrorRecord) else "output", str(o)) for o in output]


def test_2_to_1_in_the_script_puts_errors_in_the_output(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    result = session.invoke("& { 'one'; Write-Error 'bad'; 'two' } 2>&1")
    # The script's own 2>&1: PowerShell's ErrorRecord object, in its place.
    assert [str(o) for o in result.output] == ["one", "bad", "two"]
    assert result.output[1].type_names[0] == "System.Management.Automation.ErrorRecord"
    assert result.error == []


def test_merge_errors_merges_the_whole_script(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    plain = session.invoke("'one'; Write-Error 'bad'; 'two'")
    assert _texts(plain.output) == [("output", "one"), ("output", "two")]
    assert [str(e) for e in plain.error] == ["bad"]

    merged = session.invoke("'one'; Write-Error 'bad'; 'two'", merge_errors=True)
    assert _texts(merged.output) == [("output", "one"), ("error", "bad"), ("output", "two")]
    assert merged.error == []
