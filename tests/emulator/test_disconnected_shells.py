"""The emulator's disconnected shells, as Windows answers them (MS-WSMV 3.1.4.15-17, the
recordings ``test_psrp_disconnected_commands``/``test_psrp_disconnect_runspaces``), driven
by pypsrp's own client so that the emulator is checked by an independent implementation;
its keep-alive limit, its answers kept for retransmission, and its network-cut controls.
"""

from __future__ import annotations

import signal
import socket
import time
import xml.etree.ElementTree as ET

import pytest
from pypsrp.exceptions import WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import NAMESPACES, SelectorSet, WSMan

from psremoting.emulator import Emulator
from psremoting.protocol.wsman import ERROR_WSMAN_INUSE_CANNOT_RECONNECT, ERROR_WSMAN_UNEXPECTED_SELECTORS

from .test_cli import _start

USER = "user"
PASSWORD = "Emul4tor-Passw0rd"  # the emulator_ntlm fixture's (tests/conftest.py)


def _wsman(emu: Emulator) -> WSMan:
    return WSMan(emu.host, port=emu.port, ssl=False, auth="ntlm", username=USER, password=PASSWORD)


def _enumerate(wsman: WSMan) -> list[ET.Element]:
    body = ET.Element("{{{}}}Enumerate".format(NAMESPACES["wsen"]))
    ET.SubElement(body, "{{{}}}OptimizeEnumeration".format(NAMESPACES["wsman"]))
    ET.SubElement(body, "{{{}}}MaxElements".format(NAMESPACES["wsman"])).text = "32000"
    answer = wsman.enumerate("http://schemas.microsoft.com/wbem/wsman/1/windows/shell", body)
    return answer.findall("wsen:EnumerateResponse/wsman:Items/rsp:Shell", NAMESPACES)


def _field(shell: ET.Element, name: str) -> str | None:
    element = shell.find(f"rsp:{name}", NAMESPACES)
    return element.text if element is not None else None


def test_disconnect_with_idle_timeout_and_buffer_mode_shows_in_enumerate(emulator_ntlm: Emulator) -> None:
    wsman = _wsman(emulator_ntlm)
    pool = RunspacePool(wsman)
    pool.shell.name = "Nightly"
    pool.open()
    body = ET.Element("{{{}}}Disconnect".format(NAMESPACES["rsp"]))
    ET.SubElement(body, "{{{}}}IdleTimeOut".format(NAMESPACES["rsp"])).text = "PT300.000S"
    ET.SubElement(body, "{{{}}}BufferMode".format(NAMESPACES["rsp"])).text = "Drop"
    selectors = SelectorSet()
    selectors.add_option("ShellId", pool.shell.id or "")
    wsman.disconnect(pool.shell.resource_uri, body, selector_set=selectors)
    [shell] = _enumerate(wsman)
    assert _field(shell, "ShellId") == pool.shell.id
    names = [child.tag.split("}")[1] for child in shell]
    assert names[:2] == ["ShellId", "Name"]  # rsp:Name right after ShellId (MS-WSMV 2.2.4.37)
    assert (_field(shell, "Name"), _field(shell, "State")) == ("Nightly", "Disconnected")
    assert (_field(shell, "IdleTimeOut"), _field(shell, "BufferMode")) == ("PT300.000S", "Drop")


def test_a_disconnected_shell_answers_no_receive_and_a_connected_one_no_connect(
    emulator_ntlm: Emulator,
) -> None:
    wsman = _wsman(emulator_ntlm)
    pool = RunspacePool(wsman)
    pool.open()
    pool.disconnect()
    with pytest.raises(WSManFaultError) as refused:
        pool.shell.receive("stdout", timeout=1)  # MS-WSMV 3.1.4.15: nothing until reconnected
    assert refused.value.code == ERROR_WSMAN_INUSE_CANNOT_RECONNECT
    pool.connect()  # Reconnect, same client (same WSMan SessionId)
    ps = PowerShell(pool)
    ps.add_script("'back'")
    assert ps.invoke() == ["back"]
    [other] = RunspacePool.get_runspace_pools(_wsman(emulator_ntlm))  # another client
    with pytest.raises(WSManFaultError) as busy:
        other.connect()  # the shell is connected: wsman:InternalError (MS-WSMV 3.1.4.17)
    assert busy.value.code == ERROR_WSMAN_INUSE_CANNOT_RECONNECT


def test_reconnect_from_another_client_is_refused(emulator_ntlm: Emulator) -> None:
    wsman = _wsman(emulator_ntlm)
    pool = RunspacePool(wsman)
    pool.open()
    pool.disconnect()
    stranger = _wsman(emulator_ntlm)  # a different wsmv:SessionId
    selectors = SelectorSet()
    selectors.add_option("ShellId", pool.shell.id or "")
    with pytest.raises(WSManFaultError) as info:
        stranger.reconnect(pool.shell.resource_uri, selector_set=selectors)
    assert info.value.code == ERROR_WSMAN_INUSE_CANNOT_RECONNECT
    [again] = RunspacePool.get_runspace_pools(stranger)
    again.connect()  # Connect (a new client) is the way for it
    assert again.state == 2  # Opened


def test_a_request_sent_again_gets_the_first_answer_and_runs_once(emulator_ntlm: Emulator) -> None:
    """The same envelope twice (same MessageID, as after a network failure): one command."""
    wsman = _wsman(emulator_ntlm)
    with RunspacePool(wsman) as pool:
        sent: list[bytes] = []
        original = wsman.transport.send

        def send_twice(message: bytes, **kwargs: object) -> bytes:
            sent.append(message)
            first = original(message, **kwargs)  # type: ignore[arg-type]
            if b"windows/shell/Command<" in message:
                assert original(message, **kwargs) == first  # type: ignore[arg-type]
            return first

        wsman.transport.send = send_twice  # type: ignore[method-assign]
        started = emulator_ntlm.stats.requests.get("Command", 0)
        pipelines = emulator_ntlm.stats.pipelines_started
        ps = PowerShell(pool)
        ps.add_script("'once'")
        assert ps.invoke() == ["once"]
        assert emulator_ntlm.stats.requests["Command"] - started == 2  # both arrived...
        assert emulator_ntlm.service().answers.replayed >= 1  # ...the second answered from memory
        assert emulator_ntlm.stats.pipelines_started - pipelines == 1  # and it ran once


def test_an_idle_keepalive_connection_is_closed_after_the_limit() -> None:
    with (
        Emulator(users={USER: PASSWORD}, keepalive_timeout=0.5) as emu,
        socket.create_connection((emu.host, emu.port), timeout=5) as sock,
    ):
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it, unasked
        assert 0.4 < time.monotonic() - started < 4


def test_the_cli_cuts_its_network_after_a_delay_and_on_sigusr1() -> None:
    # The cut lasts far longer than the test: once its line is printed it is certainly on when
    # the test connects, however slow this machine is (a 2 s cut could end first under load).
    proc = _start(
        "--user", USER, "--auth", "ntlm,negotiate", "--keepalive-timeout", "5", "--cut-network-after", "0.5",
        "--cut-network-for", "600", password=PASSWORD,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        assert "--cut-network-after 0.5: network cut for 600 s" in proc.stderr.readline()
        # The cut resets the connection unanswered: the reset may meet the request's send
        # (BrokenPipeError) or its read (ConnectionResetError), as the scheduler decides.
        with (
            pytest.raises((ConnectionResetError, BrokenPipeError)),
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        ):
            sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            sock.recv(100)
        if hasattr(signal, "SIGUSR1"):
            proc.send_signal(signal.SIGUSR1)
            assert "SIGUSR1: network cut for 600 s" in proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_deleted_shell_cannot_be_connected(emulator_ntlm: Emulator) -> None:
    wsman = _wsman(emulator_ntlm)
    pool = RunspacePool(wsman)
    pool.open()
    pool.disconnect()
    [other] = RunspacePool.get_runspace_pools(_wsman(emulator_ntlm))
    emulator_ntlm.lose_shells()
    with pytest.raises(WSManFaultError) as info:
        other.connect()
    assert info.value.code == ERROR_WSMAN_UNEXPECTED_SELECTORS


def test_after_a_reconnect_the_output_held_at_the_disconnect_comes_first(emulator_ntlm: Emulator) -> None:
    """What WinRM held when the client disconnected comes in the first Receive after it is
    back, what the pipeline wrote meanwhile in the next one, with the end (Windows' answer in
    test_psrp_disconnected_commands); the client still gets all of it."""
    from psremoting.emulator.psrp_shell import PSRPShell

    wsman = _wsman(emulator_ntlm)
    pool = RunspacePool(wsman)
    pool.open()
    ps = PowerShell(pool)
    ps.add_script("Write-Output 'a'; Start-Sleep -Milliseconds 300; Write-Output 'b'")
    ps.begin_invoke()
    [shell] = [s for s in emulator_ntlm.service().registry.list() if isinstance(s, PSRPShell)]
    deadline = time.monotonic() + 10
    while not shell.commands_have_written() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the emulator's state for 'a', not hiding a race
    pool.disconnect()
    while emulator_ntlm.stats.running_pipelines and time.monotonic() < deadline:
        time.sleep(0.01)  # the pipeline ends while no client is there
    pool.connect()
    first = pool.shell.receive("stdout", command_id=ps.id, timeout=5)
    second = pool.shell.receive("stdout", command_id=ps.id, timeout=5)
    assert first[0] != "Done" and b"<S>a</S>" in first[2]["stdout"] and b"<S>b</S>" not in first[2]["stdout"]
    assert b"<S>b</S>" in second[2]["stdout"]
    assert second[0].endswith("Done")
