"""The emulator's acceptors, driven by the real clients' code: pyspnego's initiator for NTLM and
SPNEGO, pypsrp's WinRMEncryption for the sealed MIME bodies. No mocks: every token is real."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
import spnego
from pypsrp.encryption import WinRMEncryption
from spnego.channel_bindings import GssChannelBindings

from psremoting.emulator.auth import AuthOutcome, AuthPolicy, ConnectionAuth, bare_user_name

USERS = {"user": "Password01", "Admin": "S3cret!"}
SOAP = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'
SOAP_HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8"}


def _policy(
    methods: Sequence[str] = ("basic", "ntlm", "negotiate"), *, https: bool = False, allow: bool = False
) -> AuthPolicy:
    return AuthPolicy(methods, USERS, https=https, allow_unencrypted=allow)


def _basic(user: str, password: str) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
        **SOAP_HEADERS,
    }


def _handshake(
    conn: ConnectionAuth,
    username: str,
    password: str,
    protocol: str = "ntlm",
    *,
    body: bytes = b"",
    bindings: bytes | None = None,
) -> tuple[AuthOutcome, spnego.ContextProxy]:
    """Run the client's legs against ``conn`` the way pypsrp's HTTPNegotiateAuth does."""
    client = spnego.client(
        username,
        password,
        hostname="server01",
        service="host",
        protocol=protocol,
        channel_bindings=GssChannelBindings(application_data=bindings) if bindings else None,
        options=spnego.NegotiateOptions.wrapping_winrm,
    )
    token = client.step()
    outcome = AuthOutcome(False, None, b"", 0, [])
    for _ in range(4):
        assert token is not None
        headers = {"Authorization": "Negotiate " + base64.b64encode(token).decode()}
        if body:
            headers.update(SOAP_HEADERS)
        outcome = conn.accept(headers, body)
        answer = [v for k, v in outcome.headers if k == "WWW-Authenticate" and v.startswith("Negotiate ")]
        if not answer:
            break
        token = client.step(base64.b64decode(answer[0].split(" ", 1)[1]))
        if outcome.status != 401:
            break
    return outcome, client


def _sealed_request(
    client: spnego.ContextProxy, message: bytes
) -> tuple[dict[str, str], bytes, WinRMEncryption]:
    encryption = WinRMEncryption(client, WinRMEncryption.SPNEGO)
    content_type, payload = encryption.wrap_message(message)
    headers = {
        "Content-Type": f'{content_type};protocol="{encryption.protocol}";boundary="Encrypted Boundary"'
    }
    return headers, payload, encryption


def _challenges(outcome: AuthOutcome) -> list[str]:
    return [v for k, v in outcome.headers if k == "WWW-Authenticate"]


# -- Basic ----------------------------------------------------------------------------------
def test_no_credentials_get_a_challenge_per_enabled_method() -> None:
    outcome = _policy().new_connection().accept(SOAP_HEADERS, SOAP)
    assert (outcome.accepted, outcome.status) == (False, 401)
    assert _challenges(outcome) == ["Negotiate", 'Basic realm="WSMAN"']
    assert _challenges(_policy(["basic"], https=True).new_connection().accept({}, SOAP)) == [
        'Basic realm="WSMAN"'
    ]


@pytest.mark.parametrize("username", ["user", "USER", ".\\user", "SERVER01\\user", "user@server01.local"])
def test_basic_over_https_accepts_every_windows_user_form(username: str) -> None:
    outcome = _policy(https=True).new_connection().accept(_basic(username, "Password01"), SOAP)
    assert (outcome.accepted, outcome.status, outcome.username, outcome.body) == (True, 200, "user", SOAP)


def test_basic_password_is_compared_exactly() -> None:
    outcome = _policy(https=True).new_connection().accept(_basic("user", "password01"), SOAP)
    assert (outcome.accepted, outcome.status) == (False, 401)
    assert 'Basic realm="WSMAN"' in _challenges(outcome) and "Negotiate" in _challenges(outcome)


def test_basic_unknown_user_and_garbage_header_are_denied() -> None:
    conn = _policy(https=True).new_connection()
    assert conn.accept(_basic("nobody", "Password01"), SOAP).status == 401
    assert conn.accept({"Authorization": "Basic !!!not-base64"}, SOAP).status == 401
    assert (
        conn.accept({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, SOAP).status == 401
    )


def test_basic_over_http_refused_unless_unencrypted_allowed() -> None:
    refused = _policy(https=False, allow=False).new_connection().accept(_basic("user", "Password01"), SOAP)
    assert (refused.accepted, refused.status) == (False, 401)
    allowed = _policy(https=False, allow=True).new_connection().accept(_basic("user", "Password01"), SOAP)
    assert (allowed.accepted, allowed.username) == (True, "user")


def test_basic_refused_when_not_enabled() -> None:
    outcome = _policy(["ntlm"], https=True).new_connection().accept(_basic("user", "Password01"), SOAP)
    assert outcome.status == 401
    assert _challenges(outcome) == ["Negotiate"]


def test_basic_response_is_not_sealed() -> None:
    conn = _policy(https=True).new_connection()
    conn.accept(_basic("user", "Password01"), SOAP)
    assert conn.wrap(b"<answer/>") == (b"<answer/>", "application/soap+xml;charset=UTF-8")


def test_policy_validates_methods_and_hides_passwords() -> None:
    with pytest.raises(ValueError, match="unknown authentication method.*digest"):
        AuthPolicy(["digest"], USERS, https=True, allow_unencrypted=False)
    with pytest.raises(ValueError, match="at least one"):
        AuthPolicy([], USERS, https=True, allow_unencrypted=False)
    shown = repr(_policy()) + repr(_policy().new_connection())
    assert "Password01" not in shown and "S3cret" not in shown


@pytest.mark.parametrize(
    ("given", "bare"),
    [("user", "user"), (".\\user", "user"), ("DOM\\user", "user"), ("user@dom.test", "user")],
)
def test_bare_user_name(given: str, bare: str) -> None:
    assert bare_user_name(given) == bare


# -- NTLM / Negotiate -----------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
@pytest.mark.parametrize("username", ["user", ".\\user", "SERVER01\\User", "user@server01.local", "ADMIN"])
def test_ntlm_handshake_then_sealed_round_trip(protocol: str, username: str) -> None:
    password = "S3cret!" if username == "ADMIN" else "Password01"
    conn = _policy().new_connection()
    first = conn.accept({}, b"")  # pypsrp's empty POST without credentials
    assert first.status == 401 and "Negotiate" in _challenges(first)

    outcome, client = _handshake(conn, username, password, protocol)
    assert (outcome.accepted, outcome.status, outcome.body) == (True, 200, b"")
    assert outcome.username == ("Admin" if username == "ADMIN" else "user")
    assert client.complete

    headers, payload, encryption = _sealed_request(client, SOAP)
    assert SOAP not in payload
    request = conn.accept(headers, payload)
    assert (request.accepted, request.body, request.username) == (True, SOAP, outcome.username)

    answer = b"<s:Envelope>" + b"x" * 70000 + b"</s:Envelope>"
    body, content_type = conn.wrap(answer)
    assert (
        content_type
        == 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
    )
    assert answer not in body
    assert encryption.unwrap_message(body, "Encrypted Boundary") == answer

    # Sequence numbers advance on both sides: a second exchange still works.
    headers, payload, _ = _sealed_request(client, SOAP + b" ")
    assert conn.accept(headers, payload).body == SOAP + b" "
    assert encryption.unwrap_message(conn.wrap(b"<two/>")[0], "Encrypted Boundary") == b"<two/>"


@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
def test_ntlm_wrong_password_is_denied_with_fresh_challenges(protocol: str) -> None:
    conn = _policy().new_connection()
    outcome, _ = _handshake(conn, "user", "wrong", protocol)
    assert (outcome.accepted, outcome.status) == (False, 401)
    assert _challenges(outcome) == ["Negotiate", 'Basic realm="WSMAN"']
    # The connection is not authenticated afterwards.
    assert conn.accept(SOAP_HEADERS, SOAP).status == 401


def test_ntlm_unknown_user_is_denied() -> None:
    outcome, _ = _handshake(_policy().new_connection(), "stranger", "Password01")
    assert (outcome.accepted, outcome.status) == (False, 401)


def test_plain_soap_after_ntlm_over_http_is_refused_like_windows() -> None:
    conn = _policy(allow=False).new_connection()
    outcome, _ = _handshake(conn, "user", "Password01")
    assert outcome.accepted
    refused = conn.accept(SOAP_HEADERS, SOAP)
    assert (refused.accepted, refused.status) == (False, 401)


def test_plain_soap_after_ntlm_allowed_when_unencrypted_allowed() -> None:
    conn = _policy(allow=True).new_connection()
    outcome, _ = _handshake(conn, "user", "Password01", body=SOAP)
    assert (outcome.accepted, outcome.body) == (True, SOAP)
    assert conn.accept(SOAP_HEADERS, SOAP).body == SOAP
    assert conn.wrap(b"<a/>") == (b"<a/>", "application/soap+xml;charset=UTF-8")


def test_sealed_body_that_does_not_decrypt_is_a_bad_request() -> None:
    conn = _policy().new_connection()
    _, client = _handshake(conn, "user", "Password01")
    headers, payload, _ = _sealed_request(client, SOAP)
    tampered = payload.replace(b"Length=", b"Length=9")
    assert conn.accept(headers, tampered).status == 400
    assert conn.accept(headers, b"not a mime body").status == 400


def test_sealed_body_with_basic_is_a_bad_request() -> None:
    conn = _policy(https=True).new_connection()
    headers = _basic("user", "Password01")
    headers["Content-Type"] = (
        'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
    )
    assert conn.accept(headers, b"--Encrypted Boundary\r\n").status == 400


@pytest.mark.parametrize(
    "header", ["Negotiate", "Negotiate !!!", "Negotiate " + base64.b64encode(b"garbage").decode()]
)
def test_garbage_negotiate_tokens_get_a_challenge_not_a_crash(header: str) -> None:
    outcome = _policy().new_connection().accept({"Authorization": header}, b"")
    assert (outcome.accepted, outcome.status) == (False, 401)


def test_ntlm_over_https_checks_channel_bindings() -> None:
    bindings = b"tls-server-end-point:" + b"\x01" * 32
    policy = _policy(https=True)
    good = ConnectionAuth(policy, bindings)
    outcome, _ = _handshake(good, "user", "Password01", body=SOAP, bindings=bindings)
    assert (outcome.accepted, outcome.body) == (True, SOAP)
    assert good.wrap(b"<plain/>") == (b"<plain/>", "application/soap+xml;charset=UTF-8")

    bad = ConnectionAuth(policy, bindings)
    outcome, _ = _handshake(
        bad, "user", "Password01", body=SOAP, bindings=b"tls-server-end-point:" + b"\x02" * 32
    )
    assert (outcome.accepted, outcome.status) == (False, 401)


def test_reauthentication_on_one_connection_starts_a_new_context() -> None:
    conn = _policy().new_connection()
    first, _ = _handshake(conn, "user", "Password01")
    second, client = _handshake(conn, "Admin", "S3cret!")
    assert (first.username, second.username) == ("user", "Admin")
    headers, payload, _ = _sealed_request(client, SOAP)
    assert conn.accept(headers, payload).username == "Admin"


def test_acceptor_users_do_not_leak_into_other_pyspnego_users(monkeypatch: pytest.MonkeyPatch) -> None:
    _handshake(_policy().new_connection(), "user", "Password01")  # installs the hooks
    monkeypatch.delenv("NTLM_USER_FILE", raising=False)
    with pytest.raises(spnego.exceptions.OperationNotAvailableError, match="NTLM_USER_FILE"):
        spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    assert "NTLM_USER_FILE" not in os.environ


def test_two_listeners_with_different_passwords_in_parallel_threads() -> None:
    first = AuthPolicy(["ntlm"], {"user": "one"}, https=False, allow_unencrypted=False)
    second = AuthPolicy(["ntlm"], {"user": "two"}, https=False, allow_unencrypted=False)
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def run(policy: AuthPolicy, password: str) -> None:
        for _ in range(15):
            outcome, _ = _handshake(policy.new_connection(), "user", password)
            with lock:
                results.append((password, outcome.accepted))

    threads = [
        threading.Thread(target=run, args=(first, "one")),
        threading.Thread(target=run, args=(second, "two")),
        threading.Thread(target=run, args=(first, "two")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 45
    assert all(ok for pw, ok in results if pw == "one")
    assert sum(ok for pw, ok in results if pw == "two") == 15  # accepted by `second`, refused by `first`


def test_pyspnego_own_user_file_still_works_outside_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hooks defer to pyspnego's NTLM_USER_FILE lookup when no emulator is stepping."""
    _handshake(_policy().new_connection(), "user", "Password01")  # installs the hooks
    users = tmp_path / "ntlm-users"
    users.write_text(":someone:Other01\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    server = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    client = spnego.client("someone", "Other01", protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    token = client.step()
    while not server.complete:
        answer = server.step(token)
        if answer is None:
            break
        token = client.step(answer)
    assert server.complete and server.client_principal == "someone"
