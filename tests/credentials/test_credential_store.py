"""`psremoting credential add|list|remove` and the use of stored credentials, with a real
keyring backend kept in the test's folder (tests/credentials/keyring_backend.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

import psremoting
from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.transport import credential_store

from .keyring_backend import FolderKeyring

USER, PASSWORD = "keeper", "Keyr1ng-Passw0rd"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    previous = keyring.get_keyring()  # whatever this machine has, chosen before the test's folder exists
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("PSREMOTING_TEST_KEYRING", str(path))
    for name in ("PSREMOTING_USERNAME", "PSREMOTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    keyring.set_keyring(FolderKeyring())
    yield path
    keyring.set_keyring(previous)
    credential_store.enable(False)


def _cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_add_list_remove(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _cli(
            monkeypatch,
            ["credential", "add", "Server01", "-u", "CONTOSO\\alice", "--password-stdin"],
            "s3cret-A\n",
        )
        == 0
    )
    assert (
        _cli(monkeypatch, ["credential", "add", "web1", "-u", "bob", "--password-stdin"], "s3cret-B\n") == 0
    )
    capsys.readouterr()
    assert _cli(monkeypatch, ["credential", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Host     UserName",
        "----     --------",
        "server01 CONTOSO\\alice",
        "web1     bob",
    ]
    assert "s3cret" not in out and "s3cret-A" in store.read_text()  # the secret is in the keyring only
    assert credential_store.lookup("SERVER01").get_password() == "s3cret-A"
    assert _cli(monkeypatch, ["credential", "remove", "server01"]) == 0
    assert credential_store.lookup("server01") is None and "s3cret-A" not in store.read_text()
    assert _cli(monkeypatch, ["credential", "remove", "server01"]) == 1
    assert "no credential is stored for server01" in capsys.readouterr().err


def test_a_stored_credential_is_used_when_none_is_given(store: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    with Emulator(users={USER: PASSWORD}, auth=("ntlm",), computer_name="localhost") as emu:
        assert (
            _cli(
                monkeypatch,
                ["credential", "add", "127.0.0.1", "-u", USER, "--password-stdin"],
                PASSWORD + "\n",
            )
            == 0
        )
        capsys.readouterr()
        code = _cli(monkeypatch, ["invoke", "-H", "127.0.0.1", "--port", str(emu.port), "--auth", "ntlm",
                                  "-c", "whoami", "--output", "json"])  # fmt: skip
        out, err = capsys.readouterr()
        assert code == 0, err
        assert USER in out and PASSWORD not in out + err
        # The Python API does not open the keyring on its own:
        assert not credential_store.enabled()
        with pytest.raises(psremoting.InvalidOptionError, match="needs a credential"):
            psremoting.new_pssession("127.0.0.1", port=emu.port, authentication="ntlm")


def test_a_child_process_uses_the_same_keyring_and_no_password_is_missing(store: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PSREMOTING_")},
           "PSREMOTING_TEST_KEYRING": str(store), "PYTHONPATH": str(REPO),
           "PYTHON_KEYRING_BACKEND": "tests.credentials.keyring_backend.FolderKeyring"}  # fmt: skip
    add = subprocess.run([sys.executable, "-m", "psremoting", "credential", "add", "h1", "-u", "ann", "--password-stdin"],
                         input="pw-1\n", capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert add.returncode == 0, add.stderr
    listed = subprocess.run([sys.executable, "-m", "psremoting", "credential", "list"],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert "h1   ann" in listed.stdout and "pw-1" not in listed.stdout


def test_without_a_keyring_the_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert _cli(monkeypatch, ["credential", "list"]) == 1
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "No operating-system keyring is available" in err and "PSREMOTING_PASSWORD" in err
