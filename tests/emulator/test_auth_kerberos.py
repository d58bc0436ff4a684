"""Kerberos against the emulator: a real MIT KDC on loopback (``TestRealm``), pypsrp with
``auth="kerberos"`` and ``auth="negotiate"``, the emulator's acceptor reading the service keytab.

Skips, saying why, where the KDC tools (Debian: krb5-kdc, krb5-admin-server) or the Python
Kerberos bindings (``pip install pyspnego[kerberos]``: gssapi, krb5; ``.ci/setup-kdc.sh``) are
missing. With gssapi importable, pyspnego's Negotiate tries Kerberos for every client of every
test; the repository's root conftest.py therefore points KRB5_CONFIG at a private loopback-only
krb5.conf for the whole session (Debian's /etc/krb5.conf would send it to the ATHENA.MIT.EDU KDCs
through DNS), and the ``realm`` fixture below switches to the test realm and back.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spnego
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from psremoting.emulator import Emulator
from psremoting.emulator.auth import AuthPolicy
from psremoting.emulator.engine.io import InvocationResult
from psremoting.emulator.kerberos import KerberosUnavailable, TestRealm

pytest.importorskip("gssapi", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")
pytest.importorskip("krb5", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")

HOSTNAME = "server01.psremoting.test"
PASSWORD = "Kerb3ros!"


class _WhoAmIEngine:
    """Stand-in engine (test-only): outputs the user name the server authenticated."""

    def __init__(self, *, username: str, **_: Any) -> None:
        self.username = username

    def invoke(self, commands: list[Any], io: Any) -> InvocationResult:
        io.write_output(self.username)
        return InvocationResult(failed=None)


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestRealm]:
    test_realm = TestRealm(tmp_path_factory.mktemp("krb"), hostname=HOSTNAME)
    try:
        test_realm.start()
    except KerberosUnavailable as exc:
        pytest.skip(f"no MIT KDC here: {exc}")
    try:
        test_realm.add_user("user", PASSWORD)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in test_realm.environment().items():
                patch.setenv(name, value)
            yield test_realm
    finally:
        test_realm.stop()


@pytest.fixture(scope="module", params=[False, True], ids=["http", "https"])
def emulator(realm: TestRealm, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(
        users={"user": "not-the-kerberos-password"}, auth=("negotiate", "kerberos"), https=request.param
    ) as emu:
        emu.engine_factory = _WhoAmIEngine
        yield emu


def _ca(emulator: Emulator) -> Any:
    """The emulator's CA bundle on HTTPS (pypsrp accepts a path where it types a bool)."""
    return emulator.ca_file if emulator.https else False


def _run(emulator: Emulator, auth: str, **kwargs: Any) -> list[Any]:
    wsman = WSMan(
        "127.0.0.1",
        port=emulator.port,
        ssl=emulator.https,
        cert_validation=_ca(emulator),
        auth=auth,
        username=kwargs.pop("username", "user@PSREMOTING.TEST"),
        password=kwargs.pop("password", PASSWORD),
        negotiate_hostname_override=HOSTNAME,
        operation_timeout=10,
        read_timeout=20,
        **kwargs,
    )
    with RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_script("whoami")
        return list(ps.invoke())


@pytest.mark.parametrize("auth", ["kerberos", "negotiate"])
def test_kerberos_session_with_message_encryption(emulator: Emulator, auth: str) -> None:
    assert _run(emulator, auth) == ["user"]


def test_wrong_kerberos_password_fails_at_the_kdc(emulator: Emulator) -> None:
    """MIT reports a wrong password as a failed pre-authentication decrypt."""
    with pytest.raises(Exception, match="(?i)integrity|password|preauth"):
        _run(emulator, "kerberos", password="wrong")


def test_acceptor_negotiates_kerberos_not_ntlm(realm: TestRealm) -> None:
    policy = AuthPolicy(["negotiate"], {}, https=False, allow_unencrypted=False)
    conn = policy.new_connection()
    client = spnego.client(
        "user@PSREMOTING.TEST",
        PASSWORD,
        hostname=HOSTNAME,
        service="host",
        protocol="negotiate",
        options=spnego.NegotiateOptions.wrapping_winrm,
    )
    outcome = conn.accept(
        {"Authorization": "Negotiate " + base64.b64encode(client.step() or b"").decode()}, b""
    )
    assert (outcome.accepted, outcome.username) == (True, "user")
    final = [v for k, v in outcome.headers if v.startswith("Negotiate ")]
    if final:
        client.step(base64.b64decode(final[0].split(" ", 1)[1]))
    assert client.complete and client.negotiated_protocol == "kerberos"


def test_realm_files_are_owner_only(realm: TestRealm) -> None:
    assert Path(realm.keytab).stat().st_mode & 0o777 == 0o600
    assert Path(realm.directory).stat().st_mode & 0o777 == 0o700
