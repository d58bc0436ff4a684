"""Host names on the command line (issue 15): a name that cannot be a host is a usage error
(exit 2) shown with its control characters escaped; HOST:PORT is a host and its port."""

from __future__ import annotations

import io

import pytest

from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.protocol.errors import InvalidOptionError
from psremoting.protocol.hostnames import parse_computer_name


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


BAD = {
    "a..b": "empty label",
    "a" * 300: "at most 253",
    "a" * 64 + ".example": "at most 63",
    "a\x01b": "control characters",
    "evil\x1b[2Jhost": "control characters",
    "web1:0": "from 1 to 65535",
    "web1:http": "from 1 to 65535",
    "web1-": "may not start or end with '-'",
    "[::1": "no closing",
}


@pytest.mark.parametrize("name", list(BAD), ids=[repr(n[:12]) for n in BAD])
@pytest.mark.parametrize("command", ["invoke", "enter"])
def test_a_malformed_host_name_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, command: str
) -> None:
    argv = ["invoke", "-H", name, "-c", "1"] if command == "invoke" else ["enter", name]
    code, out, err = run(capsys, monkeypatch, *argv)
    assert code == 2, (code, out, err)
    assert "is not valid" in err and BAD[name] in err, err
    assert "\x1b" not in out + err and "\x01" not in out + err  # echoed escaped, never raw
    if "\x1b" in name:
        assert "evil\\x1b[2Jhost" in err


def test_the_python_api_refuses_them_with_its_own_error() -> None:
    for name in BAD:
        with pytest.raises(InvalidOptionError):
            parse_computer_name(name)
    assert parse_computer_name("10.0.0.5:15985") == ("10.0.0.5", 15985)
    assert parse_computer_name("[fe80::1]:5986") == ("fe80::1", 5986)
    assert parse_computer_name("fe80::1") == ("fe80::1", None)
    assert parse_computer_name("web_1.corp.example") == ("web_1.corp.example", None)


def test_host_colon_port_connects_to_that_port(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator(users={"admin": "Secret-123"}, computer_name="PORTED") as emu:
        monkeypatch.setenv("PSREMOTING_USERNAME", "admin")
        monkeypatch.setenv("PSREMOTING_PASSWORD", "Secret-123")
        code, out, err = run(
            capsys,
            monkeypatch,
            "invoke",
            "-H",
            f"127.0.0.1:{emu.port}",
            "-c",
            "$env:COMPUTERNAME",
            "--auth",
            "ntlm",
        )
        assert (code, out.strip().splitlines()[-1:]) == (0, ["PORTED"]), (code, out, err)
        code, out, err = run(
            capsys, monkeypatch, "invoke", "-H", f"127.0.0.1:{emu.port}", "--port", "5985", "-c", "1"
        )
        assert code == 2 and "give one" in err, (code, out, err)
