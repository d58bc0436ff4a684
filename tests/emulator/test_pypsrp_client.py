"""The unmodified pypsrp 0.9.1 client against the emulator over real loopback HTTP(S).

What a pypsrp user sees: a pool opens, commands run with parameters and pipeline input, all
six streams arrive, a host call is answered by a PSHost, errors come back as errors, over
Basic, NTLM with message encryption, Negotiate and HTTPS with a verified certificate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from psrpcore.types import HostMethodIdentifier
from pypsrp.complex_objects import PSInvocationState, RunspacePoolState
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool

from psremoting.emulator import Emulator
from psremoting.emulator.engine.errors import make_error_record
from psremoting.protocol.wsman import ERROR_WSMAN_UNEXPECTED_SELECTORS, SIGNAL_PS_STOP

WSManFor = Callable[..., Any]


def _streams_handler(ctx: Any) -> list[Any]:
    from psrpcore.types import ErrorCategory

    io = ctx.io
    io.write_error(
        make_error_record(
            "something broke",
            "System.Management.Automation.RuntimeException",
            ErrorCategory.InvalidOperation,
            "Broken",
        )
    )
    io.write_warning("careful")
    io.write_verbose("talking")
    io.write_debug("debugging")
    io.write_information("informing", "Emit-Streams")
    io.write_progress("Working", "half way", 50, 1, None)
    return ["the output"]


def _greet(ctx: Any) -> list[Any]:
    name = ctx.params.get("Name", "nobody")
    count = int(ctx.params.get("Count", 1))
    return [f"hello {name}"] * count + [f"got {item}" for item in ctx.input]


def _ask(ctx: Any) -> list[Any]:
    answer = ctx.io.host_call(HostMethodIdentifier.ReadLine, [])
    return [f"you said {answer}"]


def _exercise(pool: RunspacePool) -> None:
    """Parameters, pipeline input, six streams and an error on an open pool."""
    ps = PowerShell(pool)
    ps.add_cmdlet("Greet").add_parameter("Name", "Ada").add_parameter("Count", 2)
    pipeline_input: Any = ["x", "y"]  # pypsrp's annotation says Iterator, it wants a list
    assert ps.invoke(input=pipeline_input) == ["hello Ada", "hello Ada", "got x", "got y"]
    assert not ps.had_errors
    ps.close()

    ps = PowerShell(pool)
    ps.add_cmdlet("Emit-Streams")
    assert ps.invoke() == ["the output"]
    assert [str(e) for e in ps.streams.error] == ["something broke"]
    assert [w.message for w in ps.streams.warning] == ["careful"]
    assert [v.message for v in ps.streams.verbose] == ["talking"]
    assert [d.message for d in ps.streams.debug] == ["debugging"]
    assert [i.message_data for i in ps.streams.information] == ["informing"]
    assert [(p.activity, p.percent_complete) for p in ps.streams.progress] == [("Working", 50)]
    ps.close()

    ps = PowerShell(pool)
    ps.add_cmdlet("Get-NoSuchThing")
    ps.invoke()
    assert ps.had_errors
    assert ps.state == PSInvocationState.FAILED
    assert "Get-NoSuchThing" in str(ps.streams.error[0])
    ps.close()


def _register(emu: Emulator) -> None:
    emu.register("Greet", _greet)
    emu.register("Emit-Streams", _streams_handler)
    emu.register("Ask", _ask)


def test_basic_over_http_end_to_end(emulator: Emulator, wsman_for: WSManFor) -> None:
    _register(emulator)
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        assert pool.state == RunspacePoolState.OPENED
        _exercise(pool)


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_encrypted_http_end_to_end(emulator_ntlm: Emulator, wsman_for: WSManFor, auth: str) -> None:
    _register(emulator_ntlm)
    with RunspacePool(wsman_for(emulator_ntlm, auth)) as pool:
        _exercise(pool)


def test_basic_over_https_with_verified_certificate(emulator_https: Emulator, wsman_for: WSManFor) -> None:
    _register(emulator_https)
    assert emulator_https.url.startswith("https://127.0.0.1:")
    with RunspacePool(wsman_for(emulator_https, "basic")) as pool:
        _exercise(pool)


def test_wrong_password_fails_cleanly(emulator_ntlm: Emulator, wsman_for: WSManFor) -> None:
    wsman = wsman_for(emulator_ntlm, "ntlm", password="not-the-password")
    with pytest.raises(AuthenticationError):
        RunspacePool(wsman).open()
    assert emulator_ntlm.shells() == 0


class _AnsweringUI(PSHostUserInterface):
    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def ReadLine(self, runspace: Any, pipeline: Any) -> str:
        self.asked += 1
        return "forty-two"


def test_host_call_answered_by_a_pshost(emulator: Emulator, wsman_for: WSManFor) -> None:
    _register(emulator)
    ui = _AnsweringUI()
    host = PSHost(None, None, False, "test host", None, ui, "1.0")
    with RunspacePool(wsman_for(emulator, "basic"), host=host) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Ask")
        assert ps.invoke() == ["you said forty-two"]
        assert ui.asked == 1
        ps = PowerShell(pool)
        ps.add_cmdlet("Read-Host")
        assert ps.invoke() == ["forty-two"]
        assert ui.asked == 2


def test_ctrl_c_stops_a_long_command_within_a_second(emulator: Emulator, wsman_for: WSManFor) -> None:
    """PowerShell's stop signal, ``powershell/signal/crtl_c`` (sic, MS-PSRP 3.1.5.3.9), stops
    the pipeline: its Receive ends with the Stopped state at once, the command Done."""
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Start-Sleep").add_parameter("Seconds", 60)
        ps.begin_invoke()
        command_id = ps._command_id
        started = time.monotonic()
        pool.shell.signal(SIGNAL_PS_STOP, command_id)
        state, _rc, streams = pool.shell.receive("stdout", command_id=command_id, timeout=5)
        elapsed = time.monotonic() - started
        assert state.endswith("/CommandState/Done")
        assert elapsed < 1.0
        pool._parse_responses(streams["stdout"], ps)
        assert ps.state == PSInvocationState.STOPPED
        deadline = time.monotonic() + 2
        while emulator.stats.running_pipelines and time.monotonic() < deadline:
            time.sleep(0.01)
        assert emulator.stats.running_pipelines == 0
        # The pool is still usable afterwards.
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", "still here")
        assert ps.invoke() == ["still here"]


def test_pypsrp_stop_closes_the_command_as_windows_does(emulator: Emulator, wsman_for: WSManFor) -> None:
    """pypsrp's ``PowerShell.stop()`` sends ``powershell/signal/ctrl_c``: Windows' PowerShell
    plugin takes any code but crtl_c as a close of the command (WSManPlugin.cs), so the
    command is gone, its worker ends, and a Receive for it is the command-not-found fault."""
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Start-Sleep").add_parameter("Seconds", 60)
        ps.begin_invoke()
        command_id = ps._command_id
        ps.stop()
        with pytest.raises(WSManFaultError) as fault:
            pool.shell.receive("stdout", command_id=command_id, timeout=5)
        assert fault.value.code == ERROR_WSMAN_UNEXPECTED_SELECTORS
        deadline = time.monotonic() + 2
        while emulator.stats.running_pipelines and time.monotonic() < deadline:
            time.sleep(0.01)
        assert emulator.stats.running_pipelines == 0


def test_key_exchange_and_runspace_settings(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        pool.exchange_keys()
        assert pool.get_available_runspaces() == 1
        pool.max_runspaces = 3
        assert pool.max_runspaces == 3
        assert pool.is_alive()


def test_get_of_the_wsman_config(emulator: Emulator, wsman_for: WSManFor) -> None:
    wsman = wsman_for(emulator, "basic")
    wsman.update_max_payload_size()
    assert wsman.max_envelope_size == 500 * 1024


def test_disconnect_reconnect_and_connect_from_a_new_client(emulator: Emulator, wsman_for: WSManFor) -> None:
    pool = RunspacePool(wsman_for(emulator, "basic"))
    pool.open()
    pool.disconnect()
    assert pool.state == RunspacePoolState.DISCONNECTED
    pool.connect()
    assert pool.state == RunspacePoolState.OPENED
    pool.disconnect()

    found = RunspacePool.get_runspace_pools(wsman_for(emulator, "basic"))
    assert [p.id.upper() for p in found] == [str(pool.id).upper()]
    other = found[0]
    other.connect()
    assert other.state == RunspacePoolState.OPENED
    ps = PowerShell(other)
    ps.add_cmdlet("Write-Output").add_parameter("InputObject", "reconnected")
    assert ps.invoke() == ["reconnected"]
    other.close()
    assert emulator.shells() == 0


def test_stats_count_actions_shells_and_peak_pipelines(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        assert emulator.stats.open_shells == 1
        ps = PowerShell(pool)
        ps.add_cmdlet("Write-Output").add_parameter("InputObject", 1)
        ps.invoke()
        ps.close()
    stats = emulator.stats
    assert stats.requests["Create"] == 1
    assert stats.requests["Command"] == 1
    assert stats.requests["Signal"] == 1
    assert stats.requests["Delete"] == 1
    assert stats.peak_running_pipelines == 1
    assert stats.open_shells == 0


@pytest.mark.slow
def test_pool_survives_2000_sequential_commands(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        for i in range(2000):
            ps = PowerShell(pool)
            ps.add_cmdlet("Write-Output").add_parameter("InputObject", i)
            assert ps.invoke() == [i]
            ps.close()
        shell = next(iter(emulator._computers.values())).registry.list()[0]
        assert len(shell.commands) == 0  # type: ignore[attr-defined]
        assert len(shell.pool.pipeline_table) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("max_runspaces", [1, 2])
def test_pipelines_of_a_pool_run_at_most_max_runspaces_at_once(
    emulator: Emulator, wsman_for: WSManFor, max_runspaces: int
) -> None:
    stats = emulator.stats
    started_before = stats.pipelines_started

    def nap(ctx: Any) -> list[str]:
        # The first pipeline rests until the second one is either running beside it (two
        # runspaces) or queued behind it (one): a state, so the outcome cannot depend on timing.
        deadline = time.monotonic() + 30
        while stats.pipelines_started - started_before < 2 and not stats.queued_pipelines:
            assert time.monotonic() < deadline, f"the second pipeline never arrived: {stats}"
            ctx.io.stopping.wait(0.005)
        return ["rested"]

    emulator.register("Take-Nap", nap)
    with RunspacePool(wsman_for(emulator, "basic"), max_runspaces=max_runspaces) as pool:
        shells = []
        for _ in range(2):
            ps = PowerShell(pool)
            ps.add_cmdlet("Take-Nap")
            ps.begin_invoke()
            shells.append(ps)
        for ps in shells:
            ps.end_invoke()
            assert ps.output == ["rested"]
    assert stats.peak_running_pipelines == max_runspaces
    assert stats.queued_pipelines == 0


def test_get_command_metadata(emulator: Emulator, wsman_for: WSManFor) -> None:
    with RunspacePool(wsman_for(emulator, "basic")) as pool:
        found = pool.get_command_metadata(["Get-ChildItem", "Out-Default", "Nope-Nothing"])
        assert [(m.name, m.namespace) for m in found] == [
            ("Get-ChildItem", "Microsoft.PowerShell.Management"),
            ("Out-Default", "Microsoft.PowerShell.Core"),
        ]
