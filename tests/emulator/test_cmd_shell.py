"""pywinrm's ``Session.run_ps`` (a cmd shell running ``powershell -EncodedCommand``) works."""

from __future__ import annotations

import pytest
import winrm

from psremoting.emulator import Emulator


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_run_ps_returns_output_and_exit_code(emulator: Emulator, transport: str) -> None:
    user, password = next(iter(emulator.users.items()))
    session = winrm.Session(emulator.url, auth=(user, password), transport=transport)
    result = session.run_ps("Write-Output 'hello from the cmd shell'")
    assert result.status_code == 0
    assert result.std_out == b"hello from the cmd shell\r\n"
    assert result.std_err == b""
    assert emulator.shells() == 0  # pywinrm closed its shell


def test_run_ps_errors_and_exit(emulator: Emulator) -> None:
    user, password = next(iter(emulator.users.items()))
    session = winrm.Session(emulator.url, auth=(user, password), transport="basic")
    failed = session.run_ps("Write-Error 'it broke'")
    assert failed.status_code == 1
    assert b"it broke" in failed.std_err
    assert session.run_ps("exit 3").status_code == 3


def test_other_executables_are_not_found(emulator: Emulator) -> None:
    user, password = next(iter(emulator.users.items()))
    session = winrm.Session(emulator.url, auth=(user, password), transport="basic")
    result = session.run_cmd("nosuchtool", ["/all"])
    assert result.status_code == 9009  # cmd.exe's errorlevel for an unknown program
    assert b"'nosuchtool' is not recognized as an internal or external command" in result.std_err


def test_powershell_exe_with_a_plain_command_line(emulator: Emulator) -> None:
    user, password = next(iter(emulator.users.items()))
    session = winrm.Session(emulator.url, auth=(user, password), transport="basic")
    result = session.run_cmd("powershell.exe", ["-NoProfile", "-NonInteractive", "Write-Output 'plain'"])
    assert result.status_code == 0
    assert result.std_out == b"plain\r\n"


def test_a_command_without_cmd_exe_needs_the_programs_full_path(emulator: Emulator) -> None:
    """WINRS_SKIP_CMD_SHELL starts the program without cmd.exe, so without a PATH search:
    Windows refuses ``powershell.exe`` with InternalError 2147942402 and runs the full path
    (test_winrs_no_cmd_shell)."""
    from pypsrp.exceptions import WSManFaultError
    from pypsrp.shell import Process, WinRS
    from pypsrp.wsman import WSMan

    user, password = next(iter(emulator.users.items()))
    wsman = WSMan("127.0.0.1", port=emulator.port, ssl=False, auth="ntlm", username=user, password=password)
    with WinRS(wsman) as shell:
        process = Process(shell, "powershell.exe", ["Write-Output", "hi"], no_shell=True)
        with pytest.raises(WSManFaultError) as info:
            process.invoke()
        assert info.value.code == 2147942402
        assert info.value.provider_fault == "The system cannot find the file specified."
        process.executable = r"C:\Windows\system32\WindowsPowerShell\v1.0\powershell.exe"
        process.invoke()
        assert process.rc == 0 and process.stdout.strip() == b"hi"
    # Through cmd.exe the full path runs too.
    session = winrm.Session(emulator.url, auth=(user, password), transport="basic")
    result = session.run_cmd(r"C:\Windows\System32\hostname.exe")
    assert result.status_code == 0 and result.std_out.strip() == emulator.computer_name.encode()
