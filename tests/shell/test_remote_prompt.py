"""The remote prompt driven through a real terminal (tmux), against the embedded emulator.

What a user at `[Server01]: PS C:\\Users\\user\\Documents> ` notices: Ctrl+C stops a
running command and keeps the session; Read-Host, secure input and Get-Credential ask at
the terminal; a progress bar is drawn; Tab completes remote command names and paths;
history comes back after a restart; `>> ` continues an open block; errors are red;
Ctrl+D leaves the session, then the shell.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .terminal import Terminal

REMOTE_PROMPT = "[Server01]: PS C:\\Users\\user\\Documents> "


def enter(shell: Terminal) -> None:
    shell.line("Enter-PSSession -ComputerName Server01")
    shell.wait_for(REMOTE_PROMPT)


def test_ctrl_c_stops_the_remote_command_and_keeps_the_session(shell: Terminal) -> None:
    enter(shell)
    shell.line("'sleeping now'; Start-Sleep 60")
    # Output printed as it arrives shows that the command is running; then press Ctrl+C.
    shell.wait_for("\nsleeping now")
    started = time.monotonic()
    shell.keys("C-c")
    shell.wait_for_count(REMOTE_PROMPT, 2, timeout=10)
    elapsed = time.monotonic() - started
    print(f"Ctrl+C -> remote prompt in {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0, f"Ctrl+C took {elapsed:.2f} s to give the prompt back"
    shell.line("Write-Output 'still here'")
    screen = shell.wait_for_count(REMOTE_PROMPT, 3)
    assert "\nstill here\n" in screen


def test_read_host_and_secure_input_are_answered_at_the_terminal(shell: Terminal) -> None:
    enter(shell)
    shell.line('$name = Read-Host "Your name"; "Hello $name"')
    shell.wait_for("Your name: ")
    shell.line("Ada")
    shell.wait_for("Hello Ada")
    shell.wait_for_count(REMOTE_PROMPT, 2)
    shell.line('$p = Read-Host -AsSecureString "Secret"; "got it"')
    shell.wait_for("Secret: ")
    shell.line("hunter2")
    screen = shell.wait_for("got it")
    assert "Secret: *******" in screen
    assert "hunter2" not in screen


def test_get_credential_prompts_for_user_and_hidden_password(shell: Terminal) -> None:
    enter(shell)
    shell.line("$c = Get-Credential; $c.UserName")
    shell.wait_for("User: ")
    shell.line("alice")
    shell.wait_for("Password for user alice: ")
    shell.line("s3cret")
    screen = shell.wait_for_count(REMOTE_PROMPT, 2)
    assert "\nalice\n" in screen
    assert "s3cret" not in screen


def test_write_progress_draws_a_bar(shell: Terminal) -> None:
    enter(shell)
    shell.line("Write-Progress -Activity Copying -Status '3 of 10' -PercentComplete 30; Start-Sleep 60")
    # (the bar shows while Start-Sleep runs; Ctrl+C then ends it)
    screen = shell.wait_for("    [oooo")
    assert " Copying\n    3 of 10\n" in screen
    shell.keys("C-c")
    screen = shell.wait_for_count(REMOTE_PROMPT, 2)
    assert "    [oooo" not in screen.split(REMOTE_PROMPT)[-1]


def test_tab_completes_remote_command_names_and_paths(shell: Terminal) -> None:
    enter(shell)
    shell.type("Get-ChildI")
    shell.keys("Tab")
    shell.wait_for(REMOTE_PROMPT + "Get-ChildItem")
    shell.type(" -Pa")
    shell.keys("Tab")
    shell.wait_for(REMOTE_PROMPT + "Get-ChildItem -Path")
    shell.type(" C:\\Us")
    shell.keys("Tab")
    shell.wait_for(REMOTE_PROMPT + "Get-ChildItem -Path C:\\Users")
    shell.keys("C-c")
    shell.line("Set-Content -Path notes-for-tab.txt -Value hi")
    shell.wait_for_count(REMOTE_PROMPT, 3)
    shell.type("Get-Content notes-for")
    shell.keys("Tab")
    screen = shell.wait_for(lambda s: "notes-for-tab.txt" in s.split("\n")[-1])
    shell.keys("Enter")
    screen = shell.wait_for_count(REMOTE_PROMPT, 4)
    assert "\nhi\n" in screen


def test_history_is_recalled_after_a_restart(
    terminal_factory: Callable[..., Terminal], tmp_path: Path
) -> None:
    first = terminal_factory("shell", "--emulator")
    first.wait_for(f"PS {tmp_path}> ")
    enter(first)
    first.line("Write-Output 'history-marker-1'")
    first.wait_for_count(REMOTE_PROMPT, 2)
    first.line("exit")
    first.wait_for_count(f"PS {tmp_path}> ", 2)
    first.line("exit")
    assert first.wait_exit() == 0
    history_file = tmp_path / "data" / "psremoting" / "history" / "server01.history"
    assert "history-marker-1" in history_file.read_text()

    second = terminal_factory("shell", "--emulator")
    second.wait_for(f"PS {tmp_path}> ")
    second.keys("Up")
    second.wait_for(f"PS {tmp_path}> exit")  # the local prompt has its own history
    second.keys("C-u")
    second.line("Enter-PSSession -ComputerName Server01")
    second.wait_for(REMOTE_PROMPT)
    second.keys("Up")
    second.wait_for(REMOTE_PROMPT + "exit")
    second.keys("Up")
    second.wait_for(REMOTE_PROMPT + "Write-Output 'history-marker-1'")


def test_open_block_continues_with_the_continuation_prompt(shell: Terminal) -> None:
    enter(shell)
    shell.line("if ($true) {")
    shell.wait_for("\n>> ")
    shell.line("'inside the block'")
    shell.line("}")
    shell.keys("Enter")
    screen = shell.wait_for_count(REMOTE_PROMPT, 2)
    assert "\ninside the block\n" in screen


def test_remote_errors_are_shown_in_red(shell: Terminal) -> None:
    enter(shell)
    shell.line("Get-NoSuchThing")
    shell.wait_for_count(REMOTE_PROMPT, 2)
    coloured = shell.screen_with_colours()
    line = next(line for line in coloured.split("\n") if "is not recognized" in line)
    assert "\x1b[31m" in line or "\x1b[91m" in line or ";31m" in line, repr(line)


def test_ctrl_d_leaves_the_session_then_the_shell(shell: Terminal, tmp_path: Path) -> None:
    enter(shell)
    shell.keys("C-d")
    shell.wait_for_count(f"PS {tmp_path}> ", 2)
    shell.keys("C-d")
    assert shell.wait_exit() == 0


def test_ctrl_c_abandons_a_read_host_question(shell: Terminal) -> None:
    enter(shell)
    shell.line('Read-Host "Never answered"')
    shell.wait_for("Never answered: ")
    shell.keys("C-c")
    shell.wait_for_count(REMOTE_PROMPT, 2, timeout=10)
    shell.line("'after the question'")
    screen = shell.wait_for_count(REMOTE_PROMPT, 3)
    assert "\nafter the question\n" in screen


def test_prompt_for_choice_from_the_server_is_answered_at_the_terminal(shell: Terminal) -> None:
    """``$host.UI.PromptForChoice`` on the server (host call 26) shows PowerShell's choice
    line at the terminal; the typed hot key's index goes back to the script."""
    enter(shell)
    shell.line(
        "$a = $host.UI.PromptForChoice('Restart', 'Restart now?', "
        "[System.Management.Automation.Host.ChoiceDescription[]]@('&Yes','&No'), 1); \"answer=$a\""
    )
    screen = shell.wait_for('[Y] Yes  [N] No  [?] Help (default is "N"): ')
    assert "\nRestart\nRestart now?\n" in screen
    shell.line("y")
    screen = shell.wait_for_count(REMOTE_PROMPT, 2)
    assert "\nanswer=0\n" in screen
    # Enter alone takes the default (index 1).
    shell.line(
        "$a = $host.UI.PromptForChoice('Restart', 'Restart now?', "
        "[System.Management.Automation.Host.ChoiceDescription[]]@('&Yes','&No'), 1); \"answer=$a\""
    )
    shell.wait_for_count('(default is "N"): ', 2)
    shell.line("")
    screen = shell.wait_for_count(REMOTE_PROMPT, 3)
    assert "\nanswer=1\n" in screen
