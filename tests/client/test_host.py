"""Host calls routed to a HostUI: prompts (with the session key exchange for secrets),
progress, and the raw UI's window size."""

from __future__ import annotations

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.objects import ProgressRecord, SecureString
from psremoting.runspace.host_ui import BufferedHostUI


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
    # Write-Progress is the script's first cmdlet of Microsoft.PowerShell.Utility: Windows
    # PowerShell 5.1 first reports loading it, a Completed record, kept as Windows sends it.
    first_use, record = result.progress
    assert (first_use.activity, first_use.record_type) == ("Preparing modules for first use.", "Completed")
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


def _method(number: int) -> object:
    from pypsrp.complex_objects import HostMethodIdentifier

    return HostMethodIdentifier(value=number)


def _choice(label: str) -> object:
    from pypsrp.complex_objects import GenericComplexObject

    choice = GenericComplexObject()
    choice.adapted_properties = {"Label": label, "HelpMessage": f"help for {label}"}
    return choice


def test_host_routing_of_choices_exit_and_pop() -> None:
    from psremoting.runspace.host import HostState, make_pshost
    from psremoting.runspace.host_ui import ChoiceDescription

    seen: list[list[ChoiceDescription]] = []

    class ChoosingUI(BufferedHostUI):
        def prompt_for_choice(
            self, caption: str, message: str, choices: list[ChoiceDescription], default: int
        ) -> int:
            seen.append(choices)
            return 1

    state = HostState()
    host = make_pshost(ChoosingUI(), state)
    answer = host.run_method(
        _method(26), ["Confirm", "Continue?", [_choice("&Yes"), _choice("&No")], 0], None
    )
    assert answer == 1 and [c.label for c in seen[0]] == ["&Yes", "&No"]
    assert seen[0][0].help_message == "help for &Yes"
    assert host.run_method(_method(6), [7], None) is None and (state.exit_code, state.should_exit) == (
        7,
        True,
    )
    assert host.run_method(_method(53), [], None) is None and state.pop_requested  # PopRunspace
    state.is_pushed = True
    assert host.run_method(_method(54), [], None) is True  # GetIsRunspacePushed
    state.window_size = (132, 43)
    size = host.run_method(_method(39), [], None)  # GetWindowSize: the terminal's
    assert (size.width, size.height) == (132, 43)
    ui = BufferedHostUI()
    host.ui_target = ui
    host.run_method(_method(17), [12, 0, "red text"], None)  # WriteLine3 with colours
    host.run_method(_method(22), ["careful"], None)
    assert ui.text == "red text\nWARNING: careful\n"


def test_a_ui_interrupted_prompt_asks_to_stop_the_command() -> None:
    from psremoting.runspace.host import HostState, make_pshost

    class InterruptedUI(BufferedHostUI):
        def read_line(self) -> str:
            raise KeyboardInterrupt

    class Pipeline:
        id = "3f5ad5e7-7a3c-4b0e-9a55-0d1e2c3b4a59"

    state = HostState()
    host = make_pshost(InterruptedUI(), state)
    assert host.run_method(_method(11), [], None, pipeline=Pipeline()) == ""
    # Only the pipeline whose prompt was interrupted is asked to stop, once: a request that
    # comes after it ended must not stop the next command (the prompt fetched after Ctrl+C).
    assert not state.take_stop_request("0b1c2d3e-0000-4000-8000-000000000000")
    assert state.take_stop_request(Pipeline.id.upper())
    assert not state.take_stop_request(Pipeline.id)
