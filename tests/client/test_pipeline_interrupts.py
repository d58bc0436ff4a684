"""Ctrl+C at awkward moments of a pipeline, and servers that keep answering HTTP 500,
against the emulator over loopback.

An interrupted command must be gone from the server, and the session must run the next
command at once (a command left waiting for input would hold the pool's runspace, and
every later command would queue behind it). A command must end within its deadline plus
the session's cancel_timeout whatever faults the server answers with.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator, faults
from psremoting.protocol.errors import PSRemotingTimeoutError
from psremoting.transport.options import SessionOption


def _server_commands(emu: Emulator) -> list[tuple[str, str]]:
    """(command id, state) of every command the emulator still holds, on every shell."""
    return [c for shell in emu.service().registry.list() for c in shell.command_ids()]


def _interrupting_input(sent_before_interrupt: int) -> Iterator[int]:
    """Input values, then Ctrl+C while the client is still sending them."""
    yield from range(sent_before_interrupt)
    raise KeyboardInterrupt


@pytest.mark.parametrize("items", [1, 4])
def test_ctrl_c_while_sending_input_leaves_no_command_behind(emu: Emulator, items: int) -> None:
    s = psremoting.new_pssession("Server01")
    before = emu.stats.requests["Send"]
    with pytest.raises(KeyboardInterrupt):
        s.invoke("$input | ForEach-Object { $_ * 2 }", input=_interrupting_input(items))
    # Each object of a generator is sent as soon as it is read: interrupted mid-input indeed.
    assert emu.stats.requests["Send"] - before == items
    assert _server_commands(emu) == []  # terminated on the server, not waiting for input

    started = time.monotonic()
    result = s.invoke("$input | ForEach-Object { $_ * 2 }", input=[1, 2, 3], timeout=20)
    assert result.output == [2, 4, 6]
    assert result.state == "Completed"
    assert time.monotonic() - started < 5
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    assert _server_commands(emu) == []
    assert emu.stats.running_pipelines == 0


def test_ctrl_c_before_any_input_starts_nothing(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    commands_before = emu.stats.requests["Command"]

    def no_input() -> Iterator[int]:
        raise KeyboardInterrupt
        yield 0  # pragma: no cover - makes this a generator

    with pytest.raises(KeyboardInterrupt):
        s.invoke("$input", input=no_input())
    assert emu.stats.requests["Command"] == commands_before
    assert s.invoke("'after'", timeout=20).output == ["after"]


def test_a_server_answering_500_at_once_cannot_make_a_busy_loop_or_outlive_the_deadline(
    emu: Emulator,
) -> None:
    """Every Receive answered at once with the OperationTimeout fault (HTTP 500), and the
    stop refused: the command still ends at its deadline plus cancel_timeout, and the
    client polls at its poll interval instead of hammering the server."""
    s = psremoting.new_pssession("Server01", session_option=SessionOption(cancel_timeout=1))
    emu.faults.inject("Receive", faults.operation_timed_out(), count=100_000)
    emu.faults.inject("Signal", count=2)  # the stop and the terminate fail
    receives = emu.stats.requests["Receive"]
    started = time.monotonic()
    try:
        with pytest.raises(PSRemotingTimeoutError, match="did not complete within 1.5 seconds"):
            s.invoke("'never seen'", timeout=1.5)
    finally:
        emu.faults.reset()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1 + 2  # deadline + cancel_timeout + one poll's slack
    assert emu.stats.requests["Receive"] - receives <= 12  # about one per poll, not thousands
    assert s.invoke("'after'", timeout=20).output == ["after"]


def test_a_stopped_command_the_server_already_forgot_ends_as_stopped(emu: Emulator) -> None:
    """After a stop, "command not found" means the command is over: the pipeline ends as
    Stopped, and the session is not taken for Broken."""
    s = psremoting.new_pssession("Server01")
    pipeline = s.start("'x'")
    pipeline.stop()  # before the first Receive: the loop sends the stop, then receives
    emu.faults.inject("Receive", faults.command_not_found("00000000-0000-0000-0000-000000000000"))
    started = time.monotonic()
    result = pipeline.result()
    assert result.state == "Stopped"
    assert time.monotonic() - started < 5
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    assert s.invoke("'after'", timeout=20).output == ["after"]
