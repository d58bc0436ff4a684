"""Robust connections, as PowerShell has them: the network drops under a running command.

The emulator's `cut_network(seconds)` resets every connection, open or new, for that long (a
VPN dropping, a laptop changing networks); shells and their pipelines live on, as on
Windows. The client retries the interrupted request (same MessageID, so the server answers
with what it kept: nothing lost, nothing repeated) for ``max_retry_connection_time``, with
PowerShell's warnings and progress bar; past it the session is Disconnected, and a later
connect and receive returns the rest.
"""

from __future__ import annotations

import threading
import time

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import CommandDisconnectedError
from psremoting.runspace.host_ui import BufferedHostUI
from psremoting.transport.options import SessionOption

from .conftest import route_to

SCRIPT = "1..40 | ForEach-Object { $_; Start-Sleep -Milliseconds 250 }"


def _cut_when_output_flows(emu: Emulator, pipeline_items: list[object], seconds: float) -> threading.Thread:
    """Cut the network for `seconds` once the command has written a few items."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while len(pipeline_items) < 3 and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        emu.cut_network(seconds)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_ten_second_outage_mid_command_loses_nothing(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    ui = BufferedHostUI()
    output: list[object] = []
    watcher = _cut_when_output_flows(emulator_ntlm, output, 10.0)
    started = time.monotonic()
    for item in session.start(SCRIPT, ui=ui):
        if item.stream == "output":
            output.append(item.value)
    watcher.join(5)
    assert output == list(range(1, 41))  # all of it, once, in order
    assert time.monotonic() - started >= 10  # it did wait the outage out
    assert ui.warnings == [
        "The network connection to Server01 has been interrupted. Attempting to reconnect for up to 4 minutes...",
        "Attempting to reconnect to Server01 ...",
        "The network connection to Server01 has been restored.",
    ]
    bars = [record for _source, record in ui.progress]
    assert bars and all(r.activity == "Network connection interrupted" for r in bars)
    assert bars[0].status_description == "Attempting to reconnect to Server01 ..."
    assert bars[-1].record_type == "Completed"
    assert (session.state.value, session.availability.value) == ("Opened", "Available")
    assert session.invoke("'still here'").output == ["still here"]


def test_an_outage_past_the_retry_period_disconnects_and_a_later_receive_gets_the_rest(
    emulator_ntlm: Emulator,
) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01", session_option=SessionOption(max_retry_connection_time=3))
    ui = BufferedHostUI()
    before: list[object] = []
    watcher = _cut_when_output_flows(emulator_ntlm, before, 8.0)
    with pytest.raises(CommandDisconnectedError) as info:
        for item in session.start(SCRIPT, ui=ui):
            if item.stream == "output":
                before.append(item.value)
    watcher.join(5)
    assert str(info.value) == (
        "Network connectivity to Server01 has been lost and the reconnection attempt failed. Please repair "
        "the network connection and reconnect using Connect-PSSession or Receive-PSSession."
    )
    assert (session.state.value, session.availability.value) == ("Disconnected", "None")
    assert ui.warnings[-2:] == [
        "The reconnection attempt to Server01 failed. Attempting to disconnect the session...",
        "Computer Server01 has been successfully disconnected.",
    ]
    emulator_ntlm.restore_network()
    rest = psremoting.receive_pssession(session)
    assert before + list(rest) == list(range(1, 41))  # nothing lost, nothing twice
    assert rest.errors == [] and rest.hosts["Server01"].status.value == "Completed"
    assert (session.state.value, session.availability.value) == ("Opened", "Available")


def test_ctrl_c_during_the_retries_cancels_them_with_powershells_words(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    ui = BufferedHostUI()
    seen: list[object] = []
    pipeline = session.start(SCRIPT, ui=ui)
    watcher = _cut_when_output_flows(emulator_ntlm, seen, 60.0)

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 30
        while not ui.warnings and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        pipeline.stop()

    stopper = threading.Thread(target=press_ctrl_c, daemon=True)
    stopper.start()
    started = time.monotonic()
    with pytest.raises(CommandDisconnectedError, match="Reconnection attempt canceled"):
        for item in pipeline:
            if item.stream == "output":
                seen.append(item.value)
    assert time.monotonic() - started < 20
    watcher.join(5)
    stopper.join(5)
    emulator_ntlm.restore_network()
    assert session.state.value == "Disconnected"
    rest = psremoting.receive_pssession(session)
    assert seen + list(rest) == list(range(1, 41))


def test_invoke_command_reports_the_disconnected_host_and_keeps_its_session(emulator_ntlm: Emulator) -> None:
    """Invoke-Command -ComputerName: the host ends Disconnected, with PowerShell's error and
    warnings, and its session is in the registry for Receive-PSSession."""
    route_to(emulator_ntlm, auth="ntlm")
    option = SessionOption(max_retry_connection_time=2)
    threading.Timer(1.5, lambda: emulator_ntlm.cut_network(6)).start()
    result = psremoting.invoke_command(SCRIPT, computer_name="Server01", session_option=option)
    host = result.hosts["Server01"]
    assert host.status.value == "Disconnected" and host.session is not None
    [error] = result.errors
    assert error.fully_qualified_error_id == "PowerShellNetworkFailedStartDisconnect"
    assert "Network connectivity to Server01 has been lost" in error.message
    name, ident = host.session.name, host.session.instance_id
    assert f"Session {name} with instance ID {ident} has been created for reconnection." in host.warnings
    assert psremoting.get_pssession(name=name) == [host.session]
    emulator_ntlm.restore_network()
    rest = psremoting.receive_pssession(host.session)
    assert list(result) + list(rest) == list(range(1, 41))
