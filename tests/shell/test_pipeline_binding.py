"""Pipeline input to the local shell's cmdlets, bound as PowerShell binds it (in-process
interpreter, embedded emulator over loopback HTTP).

The seed says "You cannot pipe objects to Exit-PSSession": `$s | Exit-PSSession` answers
PowerShell's InputObjectNotBound error and leaves nothing changed; so does every cmdlet that
takes no pipeline input. Cmdlets that take input ByValue or ByPropertyName get it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import psremoting
from psremoting.protocol.session_texts import INPUT_OBJECT_NOT_BOUND

from .test_local_shell import Console, console  # noqa: F401 (the fixture)

NOT_BOUND = INPUT_OBJECT_NOT_BOUND


def test_a_session_piped_to_exit_pssession_is_refused_as_powershell_does(console: Console) -> None:  # noqa: F811
    console.run("$s = New-PSSession Server01")
    assert console.run("$s | Exit-PSSession") == f"Exit-PSSession: {NOT_BOUND}\n"
    # -ErrorAction applies to it, as to any non-terminating error
    assert console.run("$s | Exit-PSSession -ErrorAction SilentlyContinue; 'after'") == "after\n"


@pytest.mark.parametrize(
    ("line", "name"),
    [("1 | Get-Location", "Get-Location"), ("'x' | New-PSSessionOption", "New-PSSessionOption"),
     ("'x' | Get-Credential", "Get-Credential")],
)  # fmt: skip
def test_cmdlets_without_pipeline_parameters_refuse_input(console: Console, line: str, name: str) -> None:  # noqa: F811
    assert console.run(line) == f"{name}: {NOT_BOUND}\n"


def test_by_value_and_by_property_name_input_is_bound(
    console: Console,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # Set-Location changes the process's folder: restored after
    (tmp_path / "sub").mkdir()
    assert console.run("'sub' | Set-Location") == ""
    assert Path.cwd() == tmp_path / "sub"
    assert console.run("'hello' | Write-Host") == "hello\n"
    console.run("$s = New-PSSession Server01")
    assert "Server01" in console.run("$s | Get-PSSession")  # InstanceId, by property name
    assert console.run("1, 2 | Clear-Host") != ""  # a function: any input goes to $input


def test_exit_pssession_in_a_remote_session_refuses_input_and_stays() -> None:
    from psremoting.console.emulator_mode import emulated_computers

    with emulated_computers():
        s = psremoting.new_pssession("Server01")
        ui = psremoting.BufferedHostUI()
        entered = psremoting.enter_pssession(session=s, ui=ui)
        try:
            entered.run("Get-Date | Exit-PSSession")
            assert NOT_BOUND in ui.text
            assert entered.prompt().startswith("[Server01]: PS ")  # still in the session
        finally:
            entered.run("exit")
            psremoting.remove_pssession(s)
