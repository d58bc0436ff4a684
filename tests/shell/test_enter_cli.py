"""`psremoting enter HOST`: a temporary session; exit code 0 after `exit`, non-zero when it cannot connect."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable

from .terminal import REPO, Terminal, psremoting_command

REMOTE_PROMPT = "[Server01]: PS C:\\Users\\user\\Documents> "


def test_enter_then_exit_gives_exit_code_0(terminal_factory: Callable[..., Terminal]) -> None:
    term = terminal_factory("enter", "Server01", "--emulator")
    term.wait_for(REMOTE_PROMPT)
    term.line("Write-Output 'from the remote side'")
    screen = term.wait_for_count(REMOTE_PROMPT, 2)
    assert "\nfrom the remote side\n" in screen
    term.line("exit")
    assert term.wait_exit() == 0


def test_ctrl_d_leaves_with_exit_code_0(terminal_factory: Callable[..., Terminal]) -> None:
    term = terminal_factory("enter", "Server01", "--emulator")
    term.wait_for(REMOTE_PROMPT)
    term.keys("C-d")
    assert term.wait_exit() == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failed_connection_exits_non_zero_with_a_clear_message() -> None:
    port = _closed_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), PSREMOTING_USERNAME="user", PSREMOTING_PASSWORD="not-used")
    result = subprocess.run(
        [*psremoting_command("enter", "127.0.0.1", "--port", str(port), "--auth", "ntlm")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Connecting to remote server 127.0.0.1 failed" in result.stderr, result.stderr
    assert "not-used" not in result.stderr + result.stdout


def _enter_with_password(port: int, stdin_text: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PSREMOTING_PASSWORD", None)
    env.pop("PSREMOTING_USERNAME", None)
    args = ["enter", "127.0.0.1", "--port", str(port), "-u", "user", "--password-stdin", "--auth", "ntlm"]
    return subprocess.run(
        psremoting_command(*args), input=stdin_text, capture_output=True, text=True, env=env, timeout=60
    )


def test_password_from_stdin_against_an_emulator_with_ntlm() -> None:
    from psremoting.emulator import Emulator

    with Emulator(users={"user": "Stdin-Passw0rd"}, auth=("ntlm", "negotiate")) as emu:
        good = _enter_with_password(emu.port, "Stdin-Passw0rd\nWrite-Output 'typed remotely'\nexit\n")
        bad = _enter_with_password(emu.port, "wrong-password\nexit\n")
    assert good.returncode == 0, good.stderr
    assert (
        "[127.0.0.1]: PS C:\\Users\\user\\Documents> Write-Output 'typed remotely'\ntyped remotely\n"
        in good.stdout
    )
    assert bad.returncode == 1
    assert "Connecting to remote server 127.0.0.1 failed" in bad.stderr
    assert "wrong-password" not in bad.stderr + bad.stdout
