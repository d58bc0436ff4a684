"""A long-lived session: thousands of commands, each closed on the server (Signal terminate),
so the server's per-shell command quota is never reached."""

from __future__ import annotations

import time

import pytest

import psremoting
from psremoting.emulator import Emulator


@pytest.mark.slow
def test_two_thousand_sequential_commands(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    before = dict(emu.stats.requests)
    started = time.monotonic()
    for i in range(2000):
        assert s.invoke(str(i)).output == [i]
    elapsed = time.monotonic() - started
    requests = {k: v - before.get(k, 0) for k, v in emu.stats.requests.items()}
    assert requests["Command"] == 2000
    assert requests["Signal"] == 2000  # every pipeline terminated on the server
    # No more round trips than pypsrp's own invoke+close: Command, Receive, Signal.
    assert requests["Receive"] <= 2000 * 1.05
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    print(f"2000 commands in {elapsed:.1f} s ({elapsed / 2:.1f} ms each)")


def test_many_commands_leave_no_pipelines_behind(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    for i in range(60):
        assert s.invoke(str(i)).output == [i]
    assert s.runspace.pool.pipelines == {}  # nothing kept client side either
    assert emu.stats.requests["Signal"] >= 60
