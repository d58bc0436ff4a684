"""Ctrl+C at awkward moments of a pipeline, against the emulator over loopback: the
interrupted command must be gone from the server, and the session must run the next
command at once (a command left waiting for input would hold the pool's runspace, and
every later command would queue behind it)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator


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
    assert emu.stats.requests["Send"] - before == items - 1  # interrupted mid-input indeed
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
