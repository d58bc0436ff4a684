"""Soak (issue 15): one session held through idle gaps and bursts against an emulator whose
keep-alive timeout is short, so that the server drops the session's idle connections
between bursts again and again (each new connection authenticated again, NTLM and sealed
messages), with now and then a network cut under a running command. Nothing is lost or
repeated: every command's output arrives whole, once, in order.

Time is compressed: the emulator closes idle connections after 0.4 s where HTTP.sys waits
120 s, so each gap of 0.1-1.2 s stands for up to 6 minutes of a real session's idle time.
The fast variant (CI) runs ``PSREMOTING_SOAK_SECONDS`` (default 20) seconds; the hour-long
one: ``PSREMOTING_SOAK_SECONDS=3600 pytest -m soak_long tests/reliability/test_soak.py``.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.transport.options import EndpointOverride, SessionOption, set_endpoint_override

USER, PASSWORD = "soak", "Soak-Passw0rd"
SECONDS = float(os.environ.get("PSREMOTING_SOAK_SECONDS", "20"))
KEEPALIVE = 0.4


@pytest.fixture
def soak_emulator() -> Iterator[Emulator]:
    with Emulator(
        users={USER: PASSWORD},
        auth=("ntlm", "negotiate"),
        keepalive_timeout=KEEPALIVE,
        idle_timeout=max(60.0, SECONDS),
    ) as emu:
        set_endpoint_override(lambda name: EndpointOverride(emu.url_for(name), USER, PASSWORD, "ntlm", None))
        yield emu


def _soak(emu: Emulator, seconds: float) -> dict[str, float]:
    rng = random.Random(15)
    session = psremoting.new_pssession("Server01", session_option=SessionOption(max_retry_connection_time=30))
    transport = session.runspace.channel.transport
    counts = {"commands": 0.0, "outputs": 0.0, "gaps": 0.0, "idle": 0.0, "cuts": 0.0, "bursts": 0.0}
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            gap = rng.uniform(0.1, 1.2)  # past the keep-alive timeout about 3 times in 4
            time.sleep(gap)  # the idle gap itself is the point
            counts["gaps"] += 1
            counts["idle"] += gap
            counts["bursts"] += 1
            for _ in range(rng.randint(1, 12)):
                n = counts["commands"]
                size = rng.choice([1, 1, 1, 5, 50, 400])
                cut = rng.random() < 0.04
                script = (
                    f'1..{size} | ForEach-Object {{ "{int(n)}:$_"; if ($_ -eq 3) {{ Start-Sleep -Milliseconds 300 }} }}'
                    if cut
                    else f'1..{size} | ForEach-Object {{ "{int(n)}:$_" }}'
                )
                if cut:
                    threading.Timer(0.1, emu.cut_network, args=(0.5,)).start()
                    counts["cuts"] += 1
                result = psremoting.invoke_command(script, session=session)
                assert not result.errors, (n, [e.message for e in result.errors])
                assert [str(x) for x in result] == [f"{int(n)}:{i}" for i in range(1, size + 1)], n
                counts["commands"] += 1
                counts["outputs"] += size
        assert session.state == "Opened"
    finally:
        psremoting.remove_pssession(session)
    counts["seconds"] = time.monotonic() - started
    counts["connections"] = float(getattr(transport, "connections_made", 0) or 0)
    return counts


def test_soak_fast(soak_emulator: Emulator) -> None:
    counts = _soak(soak_emulator, min(SECONDS, 120.0) if SECONDS < 3600 else 20.0)
    assert counts["commands"] > 20 and counts["gaps"] > 5
    assert soak_emulator.stats.open_shells == 0
    print(
        f"\nsoak: {counts['seconds']:.0f} s, {counts['commands']:.0f} commands, {counts['outputs']:.0f} outputs, "
        f"{counts['gaps']:.0f} idle gaps ({counts['idle']:.0f} s idle), {counts['cuts']:.0f} network cuts, "
        f"{counts['connections']:.0f} connections made"
    )


@pytest.mark.soak_long
@pytest.mark.skipif(SECONDS < 3600, reason="the hour-long soak: PSREMOTING_SOAK_SECONDS=3600")
def test_soak_hour(soak_emulator: Emulator) -> None:
    counts = _soak(soak_emulator, SECONDS)
    assert soak_emulator.stats.open_shells == 0
    print(f"\nsoak: {counts}")
