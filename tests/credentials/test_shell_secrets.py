"""The shell shows credentials as PowerShell does, and its prompts end at the end of input.

Driven as a user or a script would: ``psremoting shell`` with its input piped in, locally
and inside an entered session on the embedded emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET = "Pip3d-S3cret"
SHOWING = '$c\n$c.Password\n$c | Format-List *\n"$c"\nWrite-Output $c.Password\n'


def run_shell(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSREMOTING_")}
    return subprocess.run(
        [sys.executable, "-m", "psremoting", "shell", *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=Path(__file__).parent,
    )


def _shown_part(out: str) -> str:
    """The output after the answers were read (what `$c` and friends printed)."""
    return out.split("$c\n", 1)[1]


def test_the_local_shell_never_shows_the_password_unless_asked() -> None:
    done = run_shell(f"$c = Get-Credential\nalice\n{SECRET}\n{SHOWING}$c.GetNetworkCredential().Password\n")
    shown = _shown_part(done.stdout)
    before_reveal = shown.split("$c.GetNetworkCredential().Password", 1)[0]
    assert SECRET not in before_reveal + done.stderr
    assert "alice    System.Security.SecureString" in before_reveal  # the $c table
    assert "\nSystem.Security.SecureString\n" in before_reveal  # $c.Password
    assert "Password : System.Security.SecureString" in before_reveal  # Format-List *
    assert "System.Management.Automation.PSCredential" in before_reveal  # "$c"
    assert shown.rstrip().endswith(SECRET + "\nPS " + str(Path(__file__).parent) + ">")  # the explicit call


def test_an_entered_session_shows_a_remote_credential_as_windows_does() -> None:
    done = run_shell(
        f"Enter-PSSession server01\n$c = Get-Credential -UserName bob\n{SECRET}\n{SHOWING}"
        "$c.GetNetworkCredential().Password\nexit\n",
        "--emulator",
    )
    shown = _shown_part(done.stdout)
    before_reveal = shown.split("$c.GetNetworkCredential().Password", 1)[0]
    assert SECRET not in before_reveal + done.stderr
    assert "bob      System.Security.SecureString" in before_reveal
    assert "Password : System.Security.SecureString" in before_reveal
    assert "PSObjectMeta" not in shown and "psrpcore" not in shown
    assert f"Password\n{SECRET}\n" in shown


ENDED = "Get-Credential: Cannot read an answer: the input ended"


def _time_to_error(args: list[str], script: str) -> tuple[float, str, int]:
    """Seconds from the `User: ` prompt to the error that the input ended, the whole output
    and the exit code. (Not to the end of the process: closing the session comes after, and
    takes what the machine's load makes it.)"""
    proc = subprocess.Popen(
        [sys.executable, "-m", "psremoting", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=0,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(script)
    proc.stdin.close()
    seen = ""
    asked = None
    deadline = time.monotonic() + 60
    while ENDED not in seen and time.monotonic() < deadline:
        chunk = proc.stdout.read(1)
        if not chunk:
            break
        seen += chunk
        if asked is None and seen.endswith("User: "):
            asked = time.monotonic()
    answered = time.monotonic()
    rest = proc.stdout.read()  # to the end of the output: the process ended
    code = proc.wait(timeout=30)
    return answered - (asked if asked is not None else answered), seen + rest, code


@pytest.mark.parametrize(
    "args",
    [["shell"], ["shell", "--emulator"], ["enter", "server01", "--emulator"]],
    ids=["local shell", "shell, entered session", "psremoting enter"],
)
def test_get_credential_at_the_end_of_input_fails_at_once(args: list[str]) -> None:
    script = (
        "Get-Credential\n"
        if args != ["shell", "--emulator"]
        else "Enter-PSSession server01\nGet-Credential\n"
    )
    elapsed, out, code = _time_to_error(args, script)
    assert ENDED in out
    assert out.count("User: ") == 1  # asked once, not again and again
    # At once: no read timeout or retry is waited out (the smallest would be seconds; the
    # bound leaves a loaded machine room, where the old 1 s to the process' end did not).
    assert code == 0 and elapsed < 5.0, (elapsed, out[-500:])
