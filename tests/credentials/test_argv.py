"""No command-line option takes a password, and no mistake on the command line leaks one.

`--password X`, `--pass X`, `--passw X` (and `=X` forms) are refused by every sub-command
before anything happens: the secret is not repeated, not resolved as a host name, not sent.
Option names match exactly on every parser (no abbreviation turns `--pass` into
`--password-stdin`), and usage errors never echo a value.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from psremoting.cli.main import SUBCOMMANDS, build_parser, main

SECRET = "S3CRET-in-argv"
PASSWORD_FORMS = [["--password", SECRET], ["--pass", SECRET], ["--passw", SECRET], [f"--password={SECRET}"],
                  ["--passwd", SECRET], ["--pw", SECRET]]  # fmt: skip


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records (and blocks) every name lookup and connection attempt of the process."""
    attempts: list[Any] = []

    def lookup(*args: Any, **kwargs: Any) -> Any:
        attempts.append(("getaddrinfo", args))
        raise socket.gaierror("blocked by the test")

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(("connect", address))
        raise OSError("blocked by the test")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket, "gethostbyname", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


def _argv(command: str, form: list[str]) -> list[str]:
    """A plausible command line of `command` with the password option in the middle."""
    positional = {"enter": ["server01"], "copy": ["server01:C:\\a.txt", "."], "invoke": ["-H", "server01", "-c", "1"],
                  "credential": ["add", "server01"], "trust": ["server01"]}  # fmt: skip
    return [command, *form, *positional.get(command, [])]


@pytest.mark.parametrize("command", [*SUBCOMMANDS, None])
@pytest.mark.parametrize("form", PASSWORD_FORMS, ids=lambda f: f[0].split("=")[0])
def test_every_subcommand_refuses_a_password_option_without_echo_or_lookup(
    command: str | None, form: list[str], no_network: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(command, form) if command else form
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert SECRET not in out + err
    assert "--password-stdin" in err and "PSREMOTING_PASSWORD" in err
    assert no_network == []


def test_a_real_process_refuses_it_too() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "psremoting", "enter", "--pass", SECRET, "server01"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert "passwords are not taken from the command line" in done.stderr


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


@pytest.mark.parametrize("command", list(SUBCOMMANDS))
def test_no_parser_matches_option_prefixes(command: str) -> None:
    parsers = list(_all_parsers(build_parser(command)))
    assert len(parsers) >= len(SUBCOMMANDS) + 1
    assert all(p.allow_abbrev is False for p in parsers)


@pytest.mark.parametrize(
    "argv",
    [
        ["invoke", "-H", "h", "-c", "1", SECRET],
        ["invoke", "-H", "h", "-c", "1", f"--bogus={SECRET}"],
        ["copy", "--port", SECRET, "a", "b"],
        ["enter", "--auth", SECRET, "h"],
        [SECRET],
        ["enter", "--password-std", "h"],  # no abbreviation of --password-stdin either
    ],
)
def test_usage_errors_never_echo_a_value(
    argv: list[str], no_network: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    out, err = capsys.readouterr()
    assert raised.value.code == 2 and "error:" in err
    assert SECRET not in out + err and no_network == []
