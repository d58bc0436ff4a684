"""Sessions that last a working day: idle connections dropped by the server, long silences,
a 40 MB answer, Ctrl+C while a Receive long-polls, a 401 in the middle of a session.

Windows' HTTP.sys closes a keep-alive connection idle for 2 minutes; NTLM, Kerberos and
CredSSP authenticate a *connection*, so the next request must go on a new, authenticated one.
The emulator does the same (``keepalive_timeout``), and answers a sealed message on a
connection that never authenticated with 400, as HTTP.sys does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import AuthenticationFailedError

from .conftest import credentials, route_to

USER = "user"
PASSWORD = "Long-D4y-Passw0rd"


def _idle_gaps(session: psremoting.PSSession, rounds: int, gap: float) -> int:
    """Run a command after each of `rounds` idle gaps; how many gave the right answer."""
    good = 0
    for n in range(rounds):
        time.sleep(gap)  # the idle gap is the scenario: the server drops the connection meanwhile
        if session.invoke(f"'round {n}'").output == [f"round {n}"]:
            good += 1
    return good


@pytest.fixture
def short_keepalive(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    https = request.param == "https"
    with Emulator(
        users={USER: PASSWORD}, auth=("ntlm", "negotiate"), https=https, keepalive_timeout=2
    ) as emu:
        route_to(emu, auth="ntlm")
        yield emu


@pytest.mark.slow
@pytest.mark.parametrize("short_keepalive", ["ntlm-encryption", "https"], indirect=True)
def test_twenty_commands_after_idle_gaps_past_the_keepalive_limit(short_keepalive: Emulator) -> None:
    """keep-alive 2 s, then 20 times: wait 3 s, run a command. Every one succeeds, each on a
    new connection that was authenticated before anything sealed went on it."""
    session = psremoting.new_pssession("Server01")
    transport = session.runspace.channel.transport
    handshakes = transport.handshakes
    assert _idle_gaps(session, 20, 3.0) == 20
    assert transport.handshakes - handshakes >= 20  # one logon per new connection
    assert short_keepalive.stats.requests.get("(unknown)", 0) == 0
    assert (session.state.value, session.availability.value) == ("Opened", "Available")


def test_the_server_refuses_a_sealed_message_on_an_unauthenticated_connection() -> None:
    """What HTTP.sys does to a client that reuses a dropped connection's keys (pypsrp#53): 400."""
    from pypsrp.exceptions import WinRMTransportError
    from pypsrp.powershell import RunspacePool

    from psremoting.emulator.pytest_plugin import make_wsman

    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"), keepalive_timeout=1) as emu:
        wsman = make_wsman(emu, "ntlm", username=USER, password=PASSWORD)
        pool = RunspacePool(wsman)
        pool.open()
        time.sleep(1.6)  # the idle gap is the scenario: past the keep-alive limit, the connection is closed
        with pytest.raises(WinRMTransportError) as info:
            pool.shell._get_shell()  # pypsrp seals it with the old connection's keys, on a new one
        assert info.value.code == 400


def test_a_401_in_the_middle_of_a_session_authenticates_again_once(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    assert session.invoke("1").output == [1]
    emulator_ntlm.faults.reject_logons(1)  # the server forgets the connection's logon once
    assert session.invoke("2").output == [2]
    emulator_ntlm.faults.reject_logons(2)  # and then refuses again after the new logon
    with pytest.raises(AuthenticationFailedError) as info:
        session.invoke("3")
    user, password = credentials(emulator_ntlm)
    assert (
        "Access is denied" in str(info.value) and user in str(info.value) and password not in str(info.value)
    )
    emulator_ntlm.faults.reset()
    assert session.invoke("4").output == [4]  # the session itself is fine


@pytest.mark.slow
def test_seventy_silent_seconds_then_done_with_default_options(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    started = time.monotonic()
    assert session.invoke("Start-Sleep -Seconds 70; 'done'").output == ["done"]
    assert 70 <= time.monotonic() - started < 80


@pytest.mark.slow
def test_a_40_megabyte_string_five_times(emulator_ntlm: Emulator) -> None:
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    lengths = []
    for _ in range(5):
        [text] = session.invoke("'x' * 40MB").output
        lengths.append(len(text))
        assert set(text) == {"x"}
    assert lengths == [41_943_040] * 5


def test_ctrl_c_during_a_silent_command_ends_it_within_a_second(emulator_ntlm: Emulator) -> None:
    """The stop signal goes out on a second connection while the Receive long-polls."""
    route_to(emulator_ntlm, auth="ntlm")
    session = psremoting.new_pssession("Server01")
    pipeline = session.start("Start-Sleep 600")
    ended = threading.Event()
    items: list[object] = []

    def run() -> None:
        items.extend(pipeline)
        ended.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while emulator_ntlm.stats.running_pipelines == 0 and time.monotonic() < deadline:
        ended.wait(0.01)
    ended.wait(0.5)  # the client is inside its Receive now
    stopped_at = time.monotonic()
    pipeline.stop()
    assert ended.wait(5)
    elapsed = time.monotonic() - stopped_at
    assert elapsed < 1.0, elapsed
    assert pipeline.state == "Stopped" and [i for i in items if i.stream != "progress"] == []
    assert session.invoke("'after'").output == ["after"]
