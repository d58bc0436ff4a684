"""The credential rules every sub-command shares (psremoting.cli.common)."""

from __future__ import annotations

import argparse
import io

import pytest

from psremoting.cli.common import UsageError, add_connection_arguments, connection_kwargs, read_credential


class _Stdin(io.StringIO):
    def __init__(self, text: str = "", tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)


def test_stdin_first_then_environment_then_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSREMOTING_PASSWORD", "from-env")
    assert read_credential(_args("-u", "alice", "--password-stdin"), _Stdin("from-stdin\nrest")) == (
        "alice",
        "from-stdin",
    )
    assert read_credential(_args("-u", "alice"), _Stdin()) == ("alice", "from-env")
    monkeypatch.delenv("PSREMOTING_PASSWORD")
    asked: list[str] = []
    prompt = lambda text: asked.append(text) or "typed"  # noqa: E731
    assert read_credential(_args("-u", "alice"), _Stdin(tty=True), prompt=prompt) == ("alice", "typed")
    assert asked == ["Password for alice: "]
    assert (
        read_credential(_args("-u", "alice"), _Stdin(tty=False), prompt=prompt) is None
    )  # no prompt without a tty


def test_mistakes_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="first line of stdin is empty"):
        read_credential(_args("-u", "alice", "--password-stdin"), _Stdin("\n"))
    monkeypatch.setenv("PSREMOTING_PASSWORD", "pw")
    with pytest.raises(UsageError, match="no user name"):
        read_credential(_args(), _Stdin())


def test_a_password_flag_does_not_exist() -> None:
    with pytest.raises(SystemExit):
        _args("--password", "hunter2")


def test_connection_flags_become_session_arguments() -> None:
    kwargs = connection_kwargs(
        _args("--port", "5986", "--ssl", "--auth", "ntlm", "--skip-cn-check"), ("u", "p")
    )
    assert kwargs["port"] == 5986 and kwargs["use_ssl"] is True and kwargs["authentication"] == "ntlm"
    assert kwargs["credential"] == ("u", "p") and kwargs["configuration_name"] == "Microsoft.PowerShell"
    assert kwargs["session_option"].skip_cn_check and not kwargs["session_option"].skip_ca_check
