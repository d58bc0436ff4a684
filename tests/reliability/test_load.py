"""Load, bounded (issue 15): many sessions running many commands at once through the Python
API, and many hosts through `psremoting invoke`, against one emulator over loopback with NTLM
and sealed messages. Every output is accounted for, exactly once, and afterwards nothing is
left: no client thread, no socket, no server shell, no server connection.

CI runs a smaller size (`SIZES["ci"]`); ``PSREMOTING_LOAD=full`` runs the issue's full size,
100 sessions x 100 commands and 200 hosts (figures in README.md, "Reliability").
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import psremoting
from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.transport.options import EndpointOverride, SessionOption, set_endpoint_override

USER, PASSWORD = "load", "Load-Passw0rd"
#: (sessions, commands per session, hosts through `psremoting invoke`)
SIZES = {"ci": (20, 25, 200), "full": (100, 100, 200)}
SIZE = SIZES["full" if os.environ.get("PSREMOTING_LOAD") == "full" else "ci"]


def _sockets() -> int:
    """Sockets this process holds open (client and emulator alike)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def _settles(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether `condition` holds within `seconds`: server threads see a closed connection
    only once their next read returns, so their counts fall a moment after the client's."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def loaded() -> Iterator[Emulator]:
    threads, sockets = threading.active_count(), _sockets()
    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"), max_shells_per_user=1000) as emu:
        set_endpoint_override(lambda name: EndpointOverride(emu.url_for(name), USER, PASSWORD, "ntlm", None))
        yield emu
        # Nothing left on either side once the sessions are removed: the only sockets are the
        # emulator's listening ones (one per computer name it answers as).
        assert emu.stats.open_shells == 0
        assert _settles(lambda: emu.stats.open_connections == 0), emu.stats.open_connections
        listening = len(emu.computers)
        assert _settles(lambda: _sockets() - sockets <= listening), (_sockets(), sockets, listening)
    assert _settles(lambda: threading.active_count() <= threads), [t.name for t in threading.enumerate()]
    assert _sockets() <= sockets


@pytest.mark.slow
def test_sessions_times_commands_concurrently(loaded: Emulator) -> None:
    sessions_count, commands, _hosts = SIZE
    started = time.monotonic()
    option = SessionOption(operation_timeout=30)
    sessions = psremoting.new_pssession(
        [f"load{i:03d}" for i in range(sessions_count)], session_option=option, throttle_limit=32
    )
    assert len(sessions) == sessions_count and loaded.stats.open_shells == sessions_count
    sessions.sort(key=lambda s: s.computer_name)

    def work(index: int) -> list[str]:
        out: list[str] = []
        for j in range(commands):
            result = psremoting.invoke_command(f"'{index}-{j}'; $env:COMPUTERNAME", session=sessions[index])
            assert not result.errors, result.errors
            out.extend(str(x) for x in result)
        return out

    try:
        with ThreadPoolExecutor(max_workers=sessions_count) as pool:
            outputs = list(pool.map(work, range(sessions_count)))
    finally:
        psremoting.remove_pssession(sessions)
    seconds = time.monotonic() - started
    for index, out in enumerate(outputs):  # every output, once, in order, from its own host
        assert out == [x for j in range(commands) for x in (f"{index}-{j}", f"LOAD{index:03d}")]
    assert loaded.stats.pipelines_started >= sessions_count * commands
    print(
        f"\n{sessions_count} sessions x {commands} commands: {seconds:.1f} s, "
        f"{sessions_count * commands / seconds:.0f} commands/s, peak {loaded.stats.peak_running_pipelines} running"
    )


@pytest.mark.slow
def test_hosts_through_psremoting_invoke(
    loaded: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sessions, _commands, hosts = SIZE
    names = [f"web{i:03d}" for i in range(hosts)]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(names) + "\n"))
    started = time.monotonic()
    code = main(
        ["invoke", "-H", "-", "-c", "$env:COMPUTERNAME; 1..3", "--output", "jsonl", "--throttle", "32"]
    )
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    failed = [
        (r["host"], r["status"], r.get("reason"), r["errors"][:1])
        for r in records
        if r["status"] != "Completed"
    ]
    assert code == 0, (err, failed[:5])
    assert sorted(r["host"] for r in records) == names  # one record per host, none twice
    outputs = {r["host"]: r["output"] for r in records}
    assert all(r["status"] == "Completed" and not r["errors"] for r in records)
    for name in names:
        assert outputs[name] == [name.upper(), 1, 2, 3], (name, outputs.get(name))
    assert loaded.stats.open_shells == 0
    print(f"\n{hosts} hosts through psremoting invoke: {seconds:.1f} s")
