"""psremoting's own ``authentication="kerberos"`` end to end: ``new_pssession`` against the
emulator, with tickets from a real MIT KDC on loopback (:class:`TestRealm`).

Two ways a user logs on with Kerberos: a credential ``("user@REALM", password)`` (pyspnego gets
the ticket from the KDC itself), or a ticket already in the credential cache (``kinit``, here
with the password on standard input) and no credential at all. The emulator answers for every
computer name on 127.0.0.1; with an endpoint override the client still asks for the SPN of the
computer the user named, ``host/server01`` (``negotiate_hostname_override``), not
``host/127.0.0.1``; the realm has only that service principal in its keytab.

Skips, saying why, without the MIT KDC tools or the Python Kerberos bindings
(``pip install pyspnego[kerberos]``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import spnego

import psremoting
from psremoting.emulator import Emulator
from psremoting.emulator.kerberos import KerberosUnavailable, TestRealm
from psremoting.protocol.errors import AuthenticationFailedError, ConnectionFailedError
from psremoting.transport.options import EndpointOverride, set_endpoint_override

pytest.importorskip("gssapi", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")
pytest.importorskip("krb5", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")

REALM = "PSREMOTING.TEST"
PRINCIPAL = f"alice@{REALM}"
PASSWORD = "Kerb3ros-Cl1ent!"


def test_outside_a_test_realm_kerberos_is_refused_on_loopback() -> None:
    """The root conftest.py's guard: the session's only KDC is a refusing port on 127.0.0.1, so a
    Kerberos logon outside a TestRealm fails at once instead of asking DNS or a remote KDC."""
    if os.environ.get("PSREMOTING_TEST_KRB5_CONFIG"):
        pytest.skip("PSREMOTING_TEST_KRB5_CONFIG replaces the loopback-only krb5.conf on purpose")
    config = Path(os.environ["KRB5_CONFIG"]).read_text(encoding="utf-8")
    kdcs = [line.split("=", 1)[1].strip() for line in config.splitlines() if line.strip().startswith("kdc =")]
    assert len(kdcs) == 1 and kdcs[0].startswith("127.0.0.1:")
    assert "dns_lookup_kdc = false" in config and "dns_canonicalize_hostname = false" in config
    started = time.monotonic()
    with pytest.raises(Exception, match="(?i)contact any KDC"):  # pyspnego asks for a TGT at once
        spnego.client("someone", "Passw0rd", hostname="server01", protocol="kerberos").step()
    assert time.monotonic() - started < 5
    with pytest.raises(socket.gaierror):  # and names outside /etc/hosts are not sent to DNS
        socket.getaddrinfo("kerberos.mit.edu", 88)


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestRealm]:
    test_realm = TestRealm(tmp_path_factory.mktemp("krb-client"), realm=REALM)
    try:
        test_realm.start()
    except KerberosUnavailable as exc:
        pytest.skip(f"no MIT KDC here: {exc}")
    try:
        test_realm.add_user("alice", PASSWORD)
        test_realm.add_service("server01")  # host/<the computer name typed>, not host/<override address>
        with test_realm.activated():
            yield test_realm
    finally:
        test_realm.stop()


@pytest.fixture(params=[False, True], ids=["http", "https"])
def kerberos_emulator(realm: TestRealm, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An emulator that takes only Kerberos (and Negotiate), answering for every computer name.

    The users' passwords are not the Kerberos ones: a logon can only succeed through the KDC.
    """
    with Emulator(
        users={"alice": "not-the-kerberos-password"}, auth=("kerberos", "negotiate"), https=request.param
    ) as emu:

        def override(name: str) -> EndpointOverride:
            return EndpointOverride(emu.url_for(name), ca_file=emu.ca_file)

        set_endpoint_override(override)  # removed again by the client conftest's autouse fixture
        yield emu


@pytest.fixture
def no_ticket(realm: TestRealm, monkeypatch: pytest.MonkeyPatch) -> TestRealm:
    """No credential from the environment and an empty credential cache."""
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)
    realm.ccache.unlink(missing_ok=True)
    return realm


def test_kerberos_with_a_credential(kerberos_emulator: Emulator, no_ticket: TestRealm) -> None:
    s = psremoting.new_pssession("Server01", credential=(PRINCIPAL, PASSWORD), authentication="kerberos")
    try:
        assert s.invoke("$env:USERNAME").output == ["alice"]
        assert s.invoke("$env:COMPUTERNAME").output == ["SERVER01"]
    finally:
        s.close()
    assert not no_ticket.ccache.exists()  # pyspnego kept its ticket in memory


def test_kerberos_with_a_ticket_from_kinit(kerberos_emulator: Emulator, no_ticket: TestRealm) -> None:
    no_ticket.kinit(PRINCIPAL, PASSWORD)
    s = psremoting.new_pssession("Server01", authentication="kerberos")
    try:
        assert s.invoke("$env:USERNAME").output == ["alice"]
    finally:
        s.close()


def test_wrong_kerberos_password_is_refused_by_the_kdc(
    kerberos_emulator: Emulator, no_ticket: TestRealm
) -> None:
    """The KDC refuses the pre-authentication; the error says so and never shows the password."""
    wrong = "Not-The-Password-42"
    with pytest.raises(ConnectionFailedError) as caught:
        psremoting.new_pssession("Server01", credential=(PRINCIPAL, wrong), authentication="kerberos")
    message = str(caught.value)
    assert "the user name or password is incorrect" in message and wrong not in message
    assert "Krb5Error" not in message and "integrity check" not in message  # no library text
    assert not psremoting.get_pssession()


def test_wrong_kerberos_password_is_access_denied(kerberos_emulator: Emulator, no_ticket: TestRealm) -> None:
    with pytest.raises(AuthenticationFailedError):
        psremoting.new_pssession(
            "Server01", credential=(PRINCIPAL, "Wrong-Passw0rd"), authentication="kerberos"
        )


def test_kerberos_without_ticket_or_credential_fails_clearly(
    kerberos_emulator: Emulator, no_ticket: TestRealm
) -> None:
    """No ticket in the cache: access denied, saying there is no ticket and to run kinit."""
    with pytest.raises(AuthenticationFailedError) as caught:
        psremoting.new_pssession("Server01", authentication="kerberos")
    assert "no valid Kerberos ticket" in str(caught.value) and "kinit" in str(caught.value)


@pytest.mark.slow
def test_twenty_commands_after_idle_gaps_past_the_keepalive_limit_over_kerberos(
    realm: TestRealm, no_ticket: TestRealm
) -> None:
    """keep-alive 2 s, 20 times: wait 3 s, run a command. Each new connection gets a new
    Kerberos context (a new AP-REQ from the ticket) before anything sealed goes on it."""
    with Emulator(
        users={"alice": "not-the-kerberos-password"}, auth=("kerberos", "negotiate"), keepalive_timeout=2
    ) as emu:
        set_endpoint_override(lambda name: EndpointOverride(emu.url_for(name)))
        s = psremoting.new_pssession("Server01", credential=(PRINCIPAL, PASSWORD), authentication="kerberos")
        transport = s.runspace.channel.transport
        handshakes = transport.handshakes
        good = 0
        for n in range(20):
            time.sleep(3.0)  # the idle gap is the scenario: the emulator drops the connection
            if s.invoke(f"'{n}'").output == [str(n)]:
                good += 1
        assert good == 20
        assert transport.handshakes - handshakes >= 20
        s.close()
