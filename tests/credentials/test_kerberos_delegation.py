"""Kerberos delegation (the second hop without a password) against a real MIT KDC on loopback.

With ``SessionOption(kerberos_delegate=True)`` the client forwards its TGT in the AP-REQ; the
emulator's acceptor receives it as GSSAPI's delegated credential, and its Invoke-Command on the
server logs on at the second computer for real: it asks the KDC, with the forwarded TGT, for a
ticket to ``host/<second computer>``. Without delegation the second hop is denied (the double
hop); with it, a computer the realm does not know is denied too (the KDC refuses).

Skips, saying why, without the MIT KDC tools or the Python Kerberos bindings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import psremoting
from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.emulator.kerberos import KerberosUnavailable, TestRealm
from psremoting.transport.options import EndpointOverride, set_endpoint_override

pytest.importorskip("gssapi", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")
pytest.importorskip("krb5", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")

REALM = "PSREMOTING.TEST"
PRINCIPAL = f"alice@{REALM}"
PASSWORD = "Kerb3ros-Deleg4te!"
HOPS = "whoami; Invoke-Command -ComputerName server02 { whoami }"


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestRealm]:
    test_realm = TestRealm(tmp_path_factory.mktemp("krb-deleg"), realm=REALM)
    try:
        test_realm.start()
    except KerberosUnavailable as exc:
        pytest.skip(f"no MIT KDC here: {exc}")
    try:
        test_realm.add_user("alice", PASSWORD)
        test_realm.add_service("server01")
        test_realm.add_service("server02")  # the second hop's computer is in the realm
        with test_realm.activated():
            yield test_realm
    finally:
        test_realm.stop()


@pytest.fixture(params=[False, True], ids=["http", "https"])
def emu(
    realm: TestRealm, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulator]:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)
    realm.ccache.unlink(missing_ok=True)
    # The emulator's own passwords are not the Kerberos ones: only the KDC's tickets log on.
    with Emulator(users={"alice": "not-the-kerberos-password"}, auth=("kerberos", "negotiate"),
                  https=request.param) as server:  # fmt: skip
        set_endpoint_override(lambda name: EndpointOverride(server.url_for(name), ca_file=server.ca_file))
        try:
            yield server
        finally:
            set_endpoint_override(None)


def _run(script: str, **kwargs: object) -> psremoting.PipelineResult:
    session = psremoting.new_pssession("Server01", authentication="kerberos", **kwargs)  # type: ignore[arg-type]
    try:
        return session.invoke(script)
    finally:
        psremoting.remove_pssession(session)


def test_a_forwarded_ticket_logs_on_at_the_second_hop(emu: Emulator) -> None:
    delegate = psremoting.SessionOption(kerberos_delegate=True)
    result = _run(HOPS, credential=(PRINCIPAL, PASSWORD), session_option=delegate)
    assert [str(v) for v in result.output] == ["server01\\alice", "server02\\alice"]
    assert not result.error
    # The KDC decides: a computer the realm does not know is denied even with the ticket.
    unknown = _run("Invoke-Command -ComputerName server03 { whoami }", credential=(PRINCIPAL, PASSWORD),
                   session_option=delegate)  # fmt: skip
    assert not unknown.output and "Access is denied" in str(unknown.error[0])


def test_without_delegation_the_second_hop_is_denied(emu: Emulator) -> None:
    result = _run(HOPS, credential=(PRINCIPAL, PASSWORD))
    assert [str(v) for v in result.output] == ["server01\\alice"]
    assert "Access is denied" in str(result.error[0])


def test_a_kinit_ticket_is_forwarded_from_the_cli(
    emu: Emulator, realm: TestRealm, capsys: pytest.CaptureFixture[str]
) -> None:
    realm.kinit(PRINCIPAL, PASSWORD)  # krb5.conf asks for forwardable tickets, as domains do
    argv = [
        "invoke",
        "-H",
        "Server01",
        "--auth",
        "kerberos",
        "-c",
        "Invoke-Command -ComputerName server02 { whoami }",
    ]
    assert main([*argv, "--kerberos-delegate"]) == 0
    assert "server02\\alice" in capsys.readouterr().out
    assert main(argv) != 0  # no delegation: denied
    assert "Access is denied" in capsys.readouterr().err
