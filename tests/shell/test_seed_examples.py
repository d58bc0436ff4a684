"""The seed's three Exit-PSSession examples, typed verbatim into `psremoting shell --emulator`.

Driven through a real pseudo-terminal (tmux). The prompts are PowerShell 7's: the local
`PS /dir> `, and `[Server01]: PS C:\\Users\\user\\Documents> ` inside the session
(ComputerName as typed). Each screen is also compared with a golden transcript in
fixtures/shell/.
"""

from __future__ import annotations

import re
from pathlib import Path

from .golden import check_golden
from .terminal import Terminal

REMOTE_PROMPT = "[Server01]: PS C:\\Users\\user\\Documents> "


def test_example_1_enter_by_computer_name_then_exit_pssession(shell: Terminal, tmp_path: Path) -> None:
    local = f"PS {tmp_path}> "
    shell.line("Enter-PSSession -computername Server01")
    shell.wait_for(REMOTE_PROMPT)
    shell.line("Exit-PSSession")
    screen = shell.wait_for_count(local, 2)
    assert f"{REMOTE_PROMPT}Exit-PSSession\n{local.rstrip()}" in screen
    check_golden("seed-example-1", screen, tmp_path)


def test_example_2_pssession_stays_opened_after_exit(shell: Terminal, tmp_path: Path) -> None:
    local = f"PS {tmp_path}> "
    shell.line("$s = new-pssession -computername Server01")
    shell.wait_for_count(local, 2)
    shell.line("Enter-PSSession -session $s")
    shell.wait_for(REMOTE_PROMPT)
    shell.line("Exit-PSSession")
    shell.wait_for_count(local, 3)
    shell.line("$s")
    screen = shell.wait_for_count(local, 4)
    header = re.search(
        r"^ *Id Name +Transport ComputerName +ComputerType +State +ConfigurationName +Availability$",
        screen,
        re.M,
    )
    assert header, screen
    row = re.search(
        r"^ *1 Session1 +WSMan +Server01 +RemoteMachine +Opened +Microsoft\.PowerShell +Available$",
        screen,
        re.M,
    )
    assert row, screen
    check_golden("seed-example-2", screen, tmp_path)


def test_example_3_exit_keyword_leaves_the_session(shell: Terminal, tmp_path: Path) -> None:
    local = f"PS {tmp_path}> "
    shell.line("Enter-PSSession -computername Server01")
    shell.wait_for(REMOTE_PROMPT)
    shell.line("exit")
    screen = shell.wait_for_count(local, 2)
    assert f"{REMOTE_PROMPT}exit\n{local.rstrip()}" in screen
    check_golden("seed-example-3", screen, tmp_path)
    # `exit` at the local prompt then ends the shell, with exit code 0.
    shell.line("exit")
    assert shell.wait_exit() == 0
