"""Authentication end to end: pypsrp (the real client stack: requests, pyspnego, its message
encryption) against the emulator over real loopback HTTP and HTTPS.

The command engine is not what these tests are about, so the emulator runs a tiny stand-in
engine (``_WhoAmIEngine``, below) that answers every pipeline with who the server thinks the
user is, the computer name and, on request, a large string (to push sealed messages past
16 KiB and across several WSMan fragments).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.negotiate import HTTPNegotiateAuth, NoCertificateRetrievedWarning
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import SelectorSet, WSMan

from psremoting.emulator import Emulator
from psremoting.emulator.engine.io import InvocationResult

USERS = {"user": "Password01"}
BIG = 200_000


class _WhoAmIEngine:
    """Stand-in engine (test-only): outputs ``user@COMPUTER`` and, for a script ``big``, a
    string of BIG characters. Accepts the real Engine's constructor keywords."""

    def __init__(self, *, computer_name: str, username: str, root: Path, commands: Any, **_: Any) -> None:
        self.computer_name = computer_name
        self.username = username

    def invoke(self, commands: list[Any], io: Any) -> InvocationResult:
        io.write_output(f"{self.username}@{self.computer_name}")
        if any(getattr(c, "command_text", "") == "big" for c in commands):
            io.write_output("x" * BIG)
        return InvocationResult(failed=None)


def _emulator(**kwargs: Any) -> Emulator:
    emulator = Emulator(users=USERS, **kwargs)
    emulator.engine_factory = _WhoAmIEngine
    return emulator


@pytest.fixture(scope="module")
def http_emulator() -> Iterator[Emulator]:
    with _emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def https_emulator() -> Iterator[Emulator]:
    with _emulator(https=True) as emulator:
        yield emulator


def _run(wsman: WSMan, script: str = "whoami") -> list[Any]:
    with RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_script(script)
        output = ps.invoke()
        assert not ps.had_errors
        return list(output)


def _wsman(emulator: Emulator, auth: str, password: str = "Password01", **kwargs: Any) -> WSMan:
    kwargs.setdefault("cert_validation", emulator.ca_file if emulator.https else False)
    return WSMan(
        "127.0.0.1",
        port=emulator.port,
        ssl=emulator.https,
        auth=auth,
        username=kwargs.pop("username", "user"),
        password=password,
        operation_timeout=10,
        read_timeout=20,
        **kwargs,
    )


# -- HTTP: NTLM/Negotiate with message encryption ------------------------------------------
@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_sealed_session_over_http(http_emulator: Emulator, auth: str) -> None:
    output = _run(_wsman(http_emulator, auth, username="SERVER01\\user"), "big")
    assert output[0] == "user@SERVER01"
    assert output[1] == "x" * BIG


def test_http_traffic_is_really_sealed(http_emulator: Emulator) -> None:
    """Look at the wire: the SOAP never travels in the clear after authentication."""
    seen: list[tuple[str, bytes]] = []
    wsman = _wsman(http_emulator, "ntlm")
    session = wsman.transport._build_session()
    wsman.transport.session = session

    def record(response: requests.Response, **_: Any) -> None:
        seen.append((response.headers.get("Content-Type", ""), response.content))

    session.hooks["response"].append(record)
    assert _run(wsman) == ["user@SERVER01"]
    sealed = [body for ctype, body in seen if ctype.startswith("multipart/encrypted")]
    assert len(sealed) >= 3  # Create, Receive(s), Command, ... Delete
    assert all(b"Envelope" not in body for body in sealed)
    assert all(ctype.startswith("multipart/encrypted") for ctype, body in seen if body)


def test_ntlm_without_encryption_over_http_is_refused(http_emulator: Emulator) -> None:
    with pytest.raises(AuthenticationError):
        _run(_wsman(http_emulator, "ntlm", encryption="never"))


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_wrong_password_over_http(http_emulator: Emulator, auth: str) -> None:
    with pytest.raises(AuthenticationError, match="Failed to authenticate the user user"):
        _run(_wsman(http_emulator, auth, password="wrong"))


def test_basic_over_http_refused_by_default(http_emulator: Emulator) -> None:
    with pytest.raises(AuthenticationError):
        _run(_wsman(http_emulator, "basic", encryption="never"))


def test_basic_over_http_when_unencrypted_allowed() -> None:
    with _emulator(allow_unencrypted=True) as emulator:
        assert _run(_wsman(emulator, "basic", encryption="never", username=".\\USER")) == ["user@SERVER01"]
        with pytest.raises(AuthenticationError):
            _run(_wsman(emulator, "basic", password="password01", encryption="never"))


def test_only_offered_methods_are_accepted() -> None:
    with (
        _emulator(auth=("basic",), allow_unencrypted=True) as emulator,
        pytest.raises(AuthenticationError, match="did not response with one of"),
    ):
        _run(_wsman(emulator, "ntlm"))


# -- HTTPS ---------------------------------------------------------------------------------
def test_basic_over_https_with_ca_verified(https_emulator: Emulator) -> None:
    assert https_emulator.url.startswith("https://")
    assert https_emulator.ca_file
    assert _run(_wsman(https_emulator, "basic")) == ["user@SERVER01"]


def test_https_without_the_ca_fails_verification(https_emulator: Emulator) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        _run(_wsman(https_emulator, "basic", cert_validation=True))


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_ntlm_over_https_with_channel_bindings(https_emulator: Emulator, auth: str) -> None:
    with warnings.catch_warnings():
        # pypsrp warns (and sends no CBT) when it cannot read the certificate: make that fail.
        warnings.simplefilter("error", NoCertificateRetrievedWarning)
        assert _run(_wsman(https_emulator, auth), "big") == ["user@SERVER01", "x" * BIG]


def test_ntlm_over_https_refuses_bindings_of_another_certificate(
    https_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a TLS-intercepting proxy would produce: the client binds to a different certificate."""
    monkeypatch.setattr(
        HTTPNegotiateAuth,
        "_get_cbt_data",
        staticmethod(lambda response: b"tls-server-end-point:" + b"\x00" * 31 + b"\x01"),
    )
    with pytest.raises(AuthenticationError):
        _run(_wsman(https_emulator, "ntlm"))


def test_ntlm_over_https_with_encryption_always(https_emulator: Emulator) -> None:
    assert _run(_wsman(https_emulator, "ntlm", encryption="always")) == ["user@SERVER01"]


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
def test_wrong_password_over_https(https_emulator: Emulator, auth: str) -> None:
    with pytest.raises(AuthenticationError):
        _run(_wsman(https_emulator, auth, password="wrong"))


def test_unknown_user_over_https(https_emulator: Emulator) -> None:
    with pytest.raises(AuthenticationError):
        _run(_wsman(https_emulator, "ntlm", username="nobody"))


def test_sealed_fault_reaches_the_client_decrypted(http_emulator: Emulator) -> None:
    """A WSMan fault (HTTP 500) on a sealed connection is sealed too, and pypsrp reads it."""
    selectors = SelectorSet()
    selectors.add_option("ShellId", "00000000-0000-0000-0000-000000000001")
    wsman = _wsman(http_emulator, "ntlm")
    with pytest.raises(WSManFaultError) as caught:
        wsman.delete("http://schemas.microsoft.com/powershell/Microsoft.PowerShell", selector_set=selectors)
    assert caught.value.code == 2150858843  # the shell does not exist (invalid selectors)
