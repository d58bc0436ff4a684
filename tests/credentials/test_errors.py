"""Errors that say what went wrong and what to do, before any connection is tried."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

import psremoting
from psremoting.cli.main import main


def _cli(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    for name in ("PSREMOTING_USERNAME", "PSREMOTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return main(argv)


@pytest.mark.parametrize("auth", ["ntlm", "basic", "credssp"])
def test_a_user_without_a_password_is_told_where_a_password_can_come_from(
    auth: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _cli(monkeypatch, ["invoke", "-H", "server01", "-c", "1", "-u", "alice", "--auth", auth, "--ssl"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"no password for alice ({auth} authentication needs one)" in err
    assert "--password-stdin" in err and "PSREMOTING_PASSWORD" in err
    assert "psremoting credential add server01 -u alice" in err


def test_basic_over_http_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("PSREMOTING_PASSWORD", "pw")
    code = main(["enter", "server01", "-u", "alice", "--auth", "basic"])
    err = capsys.readouterr().err
    assert code == 1 and "Basic authentication over HTTP would send the password unencrypted" in err
    assert "--ssl on the command line" in err
    with pytest.raises(psremoting.InvalidOptionError, match="use_ssl=True in Python"):
        psremoting.new_pssession("server01", credential=("alice", "pw"), authentication="basic")


def test_kerberos_without_gssapi_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gssapi", None)  # as on a machine where it is not installed
    with pytest.raises(psremoting.InvalidOptionError) as raised:
        psremoting.new_pssession("server01", authentication="kerberos")
    assert "gssapi Python package" in str(raised.value) and "pip install 'psremoting[kerberos]'" in str(
        raised.value
    )
