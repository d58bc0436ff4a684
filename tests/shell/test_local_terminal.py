"""The local prompt through a real terminal: `PS /dir> `, help, errors, Ctrl+C, tab, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .terminal import Terminal


def test_local_prompt_help_and_unsupported_commands(
    terminal_factory: Callable[..., Terminal], tmp_path: Path
) -> None:
    term = terminal_factory("shell")
    prompt = f"PS {tmp_path}> "
    term.wait_for(prompt)
    term.line("Get-Help Exit-PSSession")
    term.wait_for("    Exit-PSSession [<CommonParameters>]")
    term.line("Get-ChildItem C:\\")
    screen = term.wait_for(
        "Get-ChildItem: The term 'Get-ChildItem' is not a command of the psremoting local shell"
    )
    assert "Enter-PSSession" in screen and "Invoke-Command" in screen
    # Ctrl+C at the prompt abandons the line, as PSReadLine does.
    term.type("New-PSSession -ComputerName half-typed")
    term.keys("C-c")
    term.line("Write-Output after-ctrl-c")
    screen = term.wait_for("\nafter-ctrl-c\n")
    assert "half-typed\n" not in screen.split("after-ctrl-c")[-1]
    term.line("exit 3")
    assert term.wait_exit() == 3


def test_tab_completes_local_cmdlets_and_parameters(
    terminal_factory: Callable[..., Terminal], tmp_path: Path
) -> None:
    term = terminal_factory("shell")
    prompt = f"PS {tmp_path}> "
    term.wait_for(prompt)
    term.type("Enter-PSS")
    term.keys("Tab")
    term.wait_for(prompt + "Enter-PSSession")
    term.type(" -Comp")
    term.keys("Tab")
    term.wait_for(prompt + "Enter-PSSession -ComputerName")
    term.keys("C-c")
    term.keys("C-d")
    assert term.wait_exit() == 0


def test_invoke_command_output_streams_and_ctrl_c_stops_it(
    terminal_factory: Callable[..., Terminal], tmp_path: Path
) -> None:
    term = terminal_factory("shell", "--emulator")
    prompt = f"PS {tmp_path}> "
    term.wait_for(prompt)
    term.line("icm -cn Server01 { 'first'; Start-Sleep 60 }")
    term.wait_for("\nfirst")  # printed while the remote command still runs
    term.keys("C-c")
    term.wait_for_count(prompt, 2, timeout=10)
    term.line("icm -cn Server01 { 'second' }")
    screen = term.wait_for_count(prompt, 3)
    assert "\nsecond\n" in screen
