"""State transitions under failure: each open failure has its own clear error; a session
whose shell the server lost becomes Broken and says so; deadlines and Ctrl+C end commands."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import (
    AuthenticationFailedError,
    CertificateError,
    CommandDisconnectedError,
    ConnectionFailedError,
    ConnectTimeoutError,
    HostNotFoundError,
    InvalidConfigurationNameError,
    PSRemotingTimeoutError,
    SessionBrokenError,
    SessionStateError,
)
from psremoting.transport.options import EndpointOverride, SessionOption, set_endpoint_override

from .conftest import UNRESOLVABLE, credentials, route_to

TROUBLESHOOT = "For more information, see the about_Remote_Troubleshooting Help topic."


def test_bad_host_name(emu: Emulator) -> None:
    with pytest.raises(HostNotFoundError) as info:
        psremoting.new_pssession(UNRESOLVABLE, credential=("u", "p"))
    text = str(info.value)
    assert text.startswith(
        f"Connecting to remote server {UNRESOLVABLE} failed with the following error message : "
    )
    assert "could not be found" in text and text.endswith(TROUBLESHOOT)
    assert info.value.fully_qualified_error_id == "ComputerNotFound,PSSessionOpenFailed"
    assert psremoting.get_pssession() == []


def test_nothing_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the client connects
    set_endpoint_override(
        lambda name: EndpointOverride(f"http://127.0.0.1:{port}/wsman", "u", "p", "negotiate")
    )
    with pytest.raises(ConnectionFailedError) as info:
        psremoting.new_pssession("Server01")
    assert "WinRM cannot complete the operation" in str(info.value)
    assert not isinstance(info.value, (HostNotFoundError, AuthenticationFailedError))


@pytest.mark.parametrize("auth", ["basic", "negotiate"])
def test_wrong_password(emu: Emulator, auth: str) -> None:
    route_to(emu, auth=auth, password="not-the-password")
    with pytest.raises(AuthenticationFailedError) as info:
        psremoting.new_pssession("Server01")
    user, _password = credentials(emu)
    assert "Access is denied." in str(info.value) and user in str(info.value)
    assert "not-the-password" not in str(info.value) and "not-the-password" not in repr(info.value)


def test_untrusted_certificate(emulator_https: Emulator) -> None:
    user, password = credentials(emulator_https)
    url = emulator_https.url_for("Server01")

    def route(ca_file: str | None) -> None:
        set_endpoint_override(lambda name: EndpointOverride(url, user, password, "basic", ca_file))

    route(None)
    with pytest.raises(CertificateError) as info:
        psremoting.new_pssession("Server01")
    text = str(info.value)
    assert "not signed by a trusted certificate authority" in text and "psremoting trust server01:" in text
    # Trusting the CA, or explicitly skipping the check, both work.
    route(emulator_https.ca_file)
    assert psremoting.new_pssession("Server01", use_ssl=True).state.value == "Opened"
    route(None)
    skipping = SessionOption(skip_ca_check=True)
    assert psremoting.new_pssession("Server01", session_option=skipping).invoke("1").output == [1]


def test_https_to_the_http_port_fails_at_once_and_says_so(emu: Emulator) -> None:
    """HTTP.sys answers a ClientHello on WinRM's HTTP port with its 400 page at once; the
    client names the mistake instead of waiting for the open timeout."""
    user, password = credentials(emu)
    http_url = emu.url_for("Server01")
    set_endpoint_override(
        lambda name: EndpointOverride(http_url.replace("http://", "https://"), user, password, "basic")
    )
    with pytest.raises(CertificateError) as info:
        psremoting.new_pssession("Server01", session_option=SessionOption(open_timeout=300))
    text = str(info.value)
    port = http_url.split(":")[2].split("/")[0]
    assert "the server answered in plain HTTP" in text and f"Port {port} is an HTTP listener" in text
    assert psremoting.get_pssession() == []


def test_the_http_listener_answers_bytes_that_are_no_request_as_http_sys_does(emu: Emulator) -> None:
    host, port = emu.url_for("Server01").split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS ClientHello begins so
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Server: Microsoft-HTTPAPI/2.0" in head and b"Connection: close" in head
    assert b"<h2>Bad Request - Invalid Verb</h2>" in body


def test_unknown_configuration_name(emu: Emulator) -> None:
    with pytest.raises(InvalidConfigurationNameError) as info:
        psremoting.new_pssession("Server01", configuration_name="NoSuchEndpoint")
    assert (
        "Cannot find the NoSuchEndpoint session configuration in the WSMan: drive on the Server01 computer"
        in str(info.value)
    )
    assert emu.shells() == 0


def test_open_timeout(emu: Emulator) -> None:
    emu.faults.delay(4.0, action="Create", count=1)
    started = time.monotonic()
    with pytest.raises(ConnectTimeoutError) as info:
        psremoting.new_pssession(
            "Server01", session_option=SessionOption(open_timeout=1, operation_timeout=1)
        )
    assert time.monotonic() - started < 4.0
    assert isinstance(info.value, TimeoutError) and "within the time specified" in str(info.value)


def test_server_forgets_the_shell_session_becomes_broken(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    assert s.invoke("1").output == [1]
    emu.lose_shells()  # the WinRM service restarted
    with pytest.raises(SessionBrokenError) as info:
        s.invoke("2")
    assert "Broken" in str(info.value) and "no longer has" in str(info.value)
    assert (s.state.value, s.availability.value) == ("Broken", "None")
    assert s.broken_reason and "no longer has" in s.broken_reason
    assert psremoting.get_pssession(state="Broken") == [s]
    assert " Broken " in psremoting.format_table(s)
    with pytest.raises(SessionStateError, match="The session state is Broken"):
        s.invoke("3")
    psremoting.remove_pssession(s)  # removing a Broken session still works
    assert s.state.value == "Closed" and psremoting.get_pssession() == []


def test_check_alive_notices_a_lost_shell(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    assert s.check_alive()
    emu.lose_shells()
    assert not s.check_alive()
    assert s.state.value == "Broken"


def test_check_alive_notices_a_shell_reaped_after_its_idle_timeout(emu: Emulator) -> None:
    """Windows reaps a shell idle past its IdleTimeOut and answers the Get with InvalidSelectors
    (test_psrp_is_alive_invalid_selectors); the session then says it is Broken, and why."""
    s = psremoting.new_pssession("Server01")
    emu.pass_idle_time(24 * 3600)
    assert not s.check_alive()
    assert s.state.value == "Broken"
    with pytest.raises(SessionStateError, match="The session state is Broken"):
        s.invoke("1")


def test_dropped_receive_is_ridden_out(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    emu.faults.drop_connection(after=1)  # the Receive after the Command is cut
    assert s.invoke("1..3", timeout=20).output == [1, 2, 3]
    assert s.state.value == "Opened" and s.invoke("4").output == [4]


def test_a_cut_command_request_is_sent_again_and_runs_once(emu: Emulator) -> None:
    """The Command request itself is cut (the connection drops before an answer): the
    client sends it again on a new, authenticated connection, and it runs once."""
    s = psremoting.new_pssession("Server01")
    assert s.invoke("$n = 0").output == []
    emu.faults.drop_connection(after=0)  # the Command request is cut before the server read it
    assert s.invoke("$n = $n + 1; $n", timeout=20).output == [1]
    assert s.invoke("$n").output == [1]
    assert s.state.value == "Opened"


def test_a_lost_command_answer_does_not_run_the_command_twice(emu: Emulator) -> None:
    """The server ran the Command but its answer was lost in flight: the client sends the
    same request (same MessageID) again, and the server answers it from what it kept
    (MS-WSMV robust connection support) instead of starting the command a second time."""
    s = psremoting.new_pssession("Server01")
    assert s.invoke("$n = 0").output == []
    replayed = emu.service().answers.replayed
    emu.faults.lose_answer("Command")
    assert s.invoke("$n = $n + 1; $n", timeout=20).output == [1]
    assert s.invoke("$n").output == [1]
    assert emu.service().answers.replayed == replayed + 1


def test_a_lost_receive_answer_loses_no_output(emu: Emulator) -> None:
    """A Receive's answer lost in flight: the output it carried arrives anyway, once."""
    s = psremoting.new_pssession("Server01")
    emu.faults.lose_answer("Receive")
    assert s.invoke("1..5", timeout=20).output == [1, 2, 3, 4, 5]


def test_unreachable_server_without_robust_retries_makes_the_session_broken(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01", session_option=SessionOption(max_retry_connection_time=0))
    emu.stop()  # the computer went away
    with pytest.raises(SessionBrokenError) as info:
        s.invoke("1", timeout=20)
    assert "could not be reached" in str(info.value)
    assert (s.state.value, s.availability.value) == ("Broken", "None")


def test_unreachable_server_past_the_retry_period_leaves_the_session_disconnected(emu: Emulator) -> None:
    """Robust connections: the server stays unreachable for the whole retry period, so the
    session becomes Disconnected (not Broken), with PowerShell's words."""
    s = psremoting.new_pssession("Server01", session_option=SessionOption(max_retry_connection_time=2))
    emu.stop()
    started = time.monotonic()
    with pytest.raises(CommandDisconnectedError) as info:
        s.invoke("1", timeout=20)
    assert time.monotonic() - started < 10
    assert str(info.value) == (
        "Network connectivity to Server01 has been lost and the reconnection attempt failed. Please repair "
        "the network connection and reconnect using Connect-PSSession or Receive-PSSession."
    )
    assert (s.state.value, s.availability.value) == ("Disconnected", "None")


def test_deadline_stops_the_command_and_keeps_the_session(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    started = time.monotonic()
    with pytest.raises(PSRemotingTimeoutError) as info:
        s.invoke("Start-Sleep -Seconds 30", timeout=1)
    assert time.monotonic() - started < 6
    assert "did not complete within 1 seconds" in str(info.value)
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    assert s.invoke("5").output == [5]


def test_stop_from_another_thread(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    pipeline = s.start("1; Start-Sleep -Seconds 30; 2")
    seen = []
    timer = threading.Timer(0.5, pipeline.stop)
    started = time.monotonic()
    timer.start()
    try:
        seen = [item.value for item in pipeline if item.stream == "output"]
    finally:
        timer.cancel()
    assert time.monotonic() - started < 6
    assert seen == [1] and pipeline.state == "Stopped"
    assert s.availability.value == "Available" and s.invoke("3").output == [3]


def test_busy_while_running(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    pipeline = s.start("1; Start-Sleep -Seconds 30")
    # Start-Sleep's module loads on first use: Windows' progress record comes along.
    items = (item for item in pipeline if item.stream != "progress")
    first = next(items)
    assert first.value == 1 and s.availability.value == "Busy"
    pipeline.stop()
    assert list(items) == []
    assert s.availability.value == "Available"


def test_ntlm_with_message_encryption(emu_ntlm: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    assert s.invoke("'over ntlm'").output == ["over ntlm"]
    # Basic is refused by this server; the error says it is about the credentials/method.
    route_to(emu_ntlm, auth="basic")
    with pytest.raises(ConnectionFailedError):
        psremoting.new_pssession("Server02", session_option=SessionOption(no_encryption=True))


def _other_loopback_name() -> str | None:
    """A host name that resolves to 127.0.0.1 but is not in the emulator's certificate."""
    for name in (socket.gethostname(), "vm", "runsc"):
        try:
            if (
                name
                and name.lower() not in ("localhost", "server01")
                and socket.gethostbyname(name) == "127.0.0.1"
            ):
                return name
        except OSError:
            continue
    return None


def test_certificate_for_another_name(emulator_https: Emulator) -> None:
    name = _other_loopback_name()
    if name is None:
        pytest.skip("no second name for 127.0.0.1 on this machine")
    user, password = credentials(emulator_https)
    url = f"https://{name}:{emulator_https.port}/wsman"
    ca = emulator_https.ca_file
    set_endpoint_override(lambda computer: EndpointOverride(url, user, password, "basic", ca))
    with pytest.raises(CertificateError) as info:
        psremoting.new_pssession("Server01")
    assert "does not match the hostname" in str(info.value) and "skip_cn_check" in str(info.value)
    s = psremoting.new_pssession("Server01", session_option=SessionOption(skip_cn_check=True))
    assert s.invoke("1").output == [1]


def test_server_text_in_an_error_cannot_drive_the_terminal() -> None:
    from psremoting.transport.guard import printable

    hostile = "fault \x1b[2J\x1b]0;title\x07\x00\x9b31m\u00e9 end\n\tnext"
    shown = printable(hostile)
    assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in shown)
    assert shown == "fault \\x1b[2J\\x1b]0;title\\x07\\x00\\x9b31m\u00e9 end\n\tnext"
    assert len(printable("\x1b" * 500, 10)) == 10  # cut after escaping, to the limit


def test_an_endpoint_override_keeps_the_kerberos_spn_of_the_computer_named() -> None:
    from psremoting.transport.options import ConnectionInfo

    pytest.importorskip(
        "gssapi", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])"
    )
    set_endpoint_override(
        lambda name: EndpointOverride("http://127.0.0.1:5985/wsman", "u", "p", "kerberos", None)
    )
    kwargs = ConnectionInfo.create("Server01", authentication="kerberos").wsman_kwargs()
    assert kwargs["server"] == "127.0.0.1" and kwargs["negotiate_hostname_override"] == "Server01"
    set_endpoint_override(None)
    plain = ConnectionInfo.create(
        "Server01", authentication="kerberos", credential=("u@R", "p")
    ).wsman_kwargs()
    assert "negotiate_hostname_override" not in plain  # pypsrp builds host/server01 from the URL itself
