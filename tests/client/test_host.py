"""Host calls routed to a HostUI: prompts (with the session key exchange for secrets),
progress, and the raw UI's window size."""

from __future__ import annotations

import psremoting
from psremoting.emulator import Emulator
from psremoting.host import BufferedHostUI
from psremoting.objects import ProgressRecord, SecureString


def test_get_credential_is_answered_with_a_secure_password(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    ui = BufferedHostUI(credential=("DOMAIN\\bob", "Pa55-word"))
    result = s.invoke("$c = Get-Credential; $c.UserName; $c.Password", ui=ui)
    assert result.output[0] == "DOMAIN\\bob"
    secret = result.output[1]
    assert isinstance(secret, SecureString) and secret.get_value() == "Pa55-word"
    assert "Pa55" not in repr(result.output) and str(secret) == "System.Security.SecureString"
    assert ui.prompts  # the UI was asked


def test_read_host_as_secure_string(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    ui = BufferedHostUI(["hunter2"])
    value = s.invoke("Read-Host -AsSecureString 'Password'", ui=ui).output[0]
    assert isinstance(value, SecureString) and value.get_value() == "hunter2"


def test_progress_records(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    result = s.invoke("Write-Progress -Activity 'Copying' -Status 'half' -PercentComplete 50; 'done'")
    assert result.output == ["done"]
    record = result.progress[0]
    assert isinstance(record, ProgressRecord)
    assert (record.activity, record.status_description, record.percent_complete) == ("Copying", "half", 50)
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession(session=s, ui=ui)
    entered.run("Write-Progress -Activity 'Work' -Status 'step' -PercentComplete 10")
    assert ui.progress and ui.progress[0][1].activity == "Work"
    entered.run("exit")


def test_buffered_ui_collects_what_a_console_shows() -> None:
    ui = BufferedHostUI(["a"], choices=[1])
    ui.write("x", fg="Red")
    ui.write_line("y")
    ui.write_warning_line("careful")
    ui.write_verbose_line("chatty")
    ui.write_error_line("bad")
    assert ui.text == "xy\nWARNING: careful\nVERBOSE: chatty\nbad\n"
    assert ui.read_line() == "a" and ui.read_line() == ""
    assert ui.prompt_for_choice("c", "m", [], 0) == 1 and ui.prompt_for_choice("c", "m", [], 2) == 2
    assert ui.errors == ["bad"] and ui.warnings == ["careful"]
