"""Logon failures that teach, each against the emulator (and a real MIT KDC for Kerberos): what
went wrong and what to do, and never a library's own text (SpnegoError, Krb5Error, GSS
major/minor codes) in the message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.transport.options import EndpointOverride, set_endpoint_override

USERS = {"user": "Passw0rd!", "bob": "B0b-Passw0rd", "eve": "Eve-Passw0rd"}
LIBRARY_TEXT = (
    "SpnegoError",
    "Krb5Error",
    "Major (",
    "Minor (",
    "Context:",
    "Traceback",
    "NTStatus",
    "TSRequest",
)


def _refused(**kwargs: object) -> str:
    with pytest.raises(psremoting.ConnectionFailedError) as caught:
        psremoting.new_pssession(**kwargs)  # type: ignore[arg-type]
    text = str(caught.value)
    assert not [t for t in LIBRARY_TEXT if t in text], text
    return text


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(auth=("credssp", "ntlm", "basic"), users=USERS, https=True) as server:
        server.lock_account("bob")
        server.disable_account("eve")
        yield server


def _to(emu: Emulator, user: str, password: str, authentication: str) -> dict[str, object]:
    return dict(
        computer_name="127.0.0.1", port=emu.port, use_ssl=True, authentication=authentication,
        credential=(user, password), session_option=psremoting.SessionOption(skip_ca_check=True),
    )  # fmt: skip


@pytest.mark.parametrize("method", ["ntlm", "credssp", "basic"])
def test_a_wrong_password(emu: Emulator, method: str) -> None:
    text = _refused(**_to(emu, "user", "Wrong-Passw0rd", method))
    assert "Access is denied" in text and "the user name or password is incorrect" in text
    assert "Wrong-Passw0rd" not in text


def test_locked_and_disabled_accounts_are_named_where_the_protocol_says_so(emu: Emulator) -> None:
    # CredSSP carries Windows' NTSTATUS: the exact reason.
    locked = _refused(**_to(emu, "bob", USERS["bob"], "credssp"))
    assert "the account is locked out" in locked and "ask an administrator to unlock it" in locked
    disabled = _refused(**_to(emu, "eve", USERS["eve"], "credssp"))
    assert "the account is disabled" in disabled
    # NTLM and Basic only answer 401: every cause is listed, and the message says so.
    ntlm = _refused(**_to(emu, "bob", USERS["bob"], "ntlm"))
    assert "locked out or disabled (the server does not say which over NTLM)" in ntlm


# -- Kerberos, against a real KDC ---------------------------------------------------------------
REALM = "PSREMOTING.TEST"
PRINCIPAL = f"alice@{REALM}"
PASSWORD = "Kerb3ros-Err0rs!"


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip(
        "gssapi", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])"
    )
    pytest.importorskip("krb5", reason="Kerberos tests need gssapi and krb5 (pip install pyspnego[kerberos])")
    from psremoting.emulator.kerberos import KerberosUnavailable, TestRealm

    test_realm = TestRealm(tmp_path_factory.mktemp("krb-errors"), realm=REALM)
    try:
        test_realm.start()
    except KerberosUnavailable as exc:
        pytest.skip(f"no MIT KDC here: {exc}")
    try:
        test_realm.add_user("alice", PASSWORD)
        test_realm.add_service("server01")
        with test_realm.activated():
            yield test_realm
    finally:
        test_realm.stop()


@pytest.fixture
def kerberos(realm: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)
    realm.ccache.unlink(missing_ok=True)  # type: ignore[attr-defined]
    with Emulator(users={"alice": "not-the-kerberos-password"}, auth=("kerberos", "negotiate")) as server:
        set_endpoint_override(lambda name: EndpointOverride(server.url_for(name)))
        try:
            yield server
        finally:
            set_endpoint_override(None)


def test_kerberos_wrong_password(kerberos: Emulator) -> None:
    text = _refused(
        computer_name="Server01", credential=(PRINCIPAL, "Wrong-Passw0rd"), authentication="kerberos"
    )
    assert "the user name or password is incorrect" in text and "Wrong-Passw0rd" not in text


def test_kerberos_without_a_ticket_says_kinit(kerberos: Emulator) -> None:
    text = _refused(computer_name="Server01", authentication="kerberos")
    assert "there is no valid Kerberos ticket" in text and "kinit" in text


def test_an_unknown_server_principal_suggests_the_fqdn_and_the_spn_option(kerberos: Emulator) -> None:
    text = _refused(computer_name="Server09", credential=(PRINCIPAL, PASSWORD), authentication="kerberos")
    assert "does not know the service principal host/server09" in text.lower()
    assert "fully qualified domain name" in text and "SessionOption(spn=" in text and "--spn" in text
    # ... and the option does what the message says: the server is registered as host/server01.
    spn = psremoting.SessionOption(spn="host/server01")
    session = psremoting.new_pssession("Server09", credential=(PRINCIPAL, PASSWORD), authentication="kerberos",
                                       session_option=spn)  # fmt: skip
    try:
        assert session.invoke("$env:USERNAME").output == ["alice"]
    finally:
        psremoting.remove_pssession(session)


def test_a_realm_that_cannot_be_found(kerberos: Emulator) -> None:
    text = _refused(
        computer_name="Server01", credential=("alice@NOWHERE.TEST", PASSWORD), authentication="kerberos"
    )
    assert "the Kerberos realm of alice@NOWHERE.TEST could not be found" in text and "krb5.conf" in text


def test_an_unknown_kerberos_user(kerberos: Emulator) -> None:
    text = _refused(
        computer_name="Server01", credential=(f"mallory@{REALM}", PASSWORD), authentication="kerberos"
    )
    assert f"the domain does not know the user mallory@{REALM}" in text


def test_clock_skew_against_the_kdc(kerberos: Emulator, realm: object) -> None:
    """This computer's clock half an hour ahead of the KDC's: MIT keeps the offset it uses in the
    credential cache header (the KDC time offset, tag 1 of a version 4 FILE cache), so writing
    +1800 s there is the client's clock being wrong, for this process only. The real KDC then
    refuses the TGS request's authenticator: KRB_AP_ERR_SKEW. (Not +3600: the realm's tickets
    live one hour, so the client would find its ticket expired once a second had passed since
    kinit, which made this test fail one run in three.)"""
    import struct

    realm.kinit(PRINCIPAL, PASSWORD)  # type: ignore[attr-defined]
    cache = realm.ccache  # type: ignore[attr-defined]
    data = cache.read_bytes()
    assert data[:2] == b"\x05\x04"  # MIT FILE cache, version 4
    (header_length,) = struct.unpack(">H", data[2:4])
    offset = struct.pack(">HHii", 1, 8, 1800, 0)  # tag 1 (KDC time offset), 8 bytes: seconds, microseconds
    cache.write_bytes(data[:2] + struct.pack(">H", len(offset)) + offset + data[4 + header_length :])
    text = _refused(computer_name="Server01", authentication="kerberos")
    assert "the clocks of this computer and the domain controller differ" in text and "timedatectl" in text


def test_clock_skew_is_named_from_mit_s_code() -> None:
    """MIT's KRB5KRB_AP_ERR_SKEW as GSSAPI reports it (when it cannot word it, only the code)."""
    gssapi_raw = pytest.importorskip("gssapi.raw")
    import spnego.exceptions

    from psremoting.transport.auth_errors import authentication_error
    from psremoting.transport.options import ConnectionInfo

    skew = gssapi_raw.GSSError(851968, -1765328347 & 0xFFFFFFFF)
    error = spnego.exceptions.SpnegoError(base_error=skew, context_msg="Processing security token")
    text = str(authentication_error(error, ConnectionInfo.create("server01", authentication="negotiate")))
    assert "the clocks of this computer and the domain controller differ" in text and "Minor" not in text


def test_basic_over_http_refused_by_the_server_says_the_fix() -> None:
    """The client was told to allow it (no_encryption); the server (AllowUnencrypted off, as
    Windows by default) answers 401: the message says why that is likely, and the fix."""
    with Emulator(auth=("basic", "ntlm"), users=USERS) as server:
        text = _refused(computer_name="127.0.0.1", port=server.port, authentication="basic",
                        credential=("user", USERS["user"]),
                        session_option=psremoting.SessionOption(no_encryption=True))  # fmt: skip
    assert "refuses Basic over HTTP unless it allows unencrypted traffic (AllowUnencrypted" in text
    assert "connect over HTTPS" in text
