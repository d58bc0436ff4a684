"""The CLI's connection flags beyond the basics (--url, --application-name, --open-timeout,
--operation-timeout, --proxy, --culture, --ui-culture), and a host listed twice, end to end."""

from __future__ import annotations

import io
from typing import Any

import pytest

from psremoting.cli.main import main
from psremoting.emulator import Emulator

USER, PASSWORD = "flags", "Fl4gs-Passw0rd"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSREMOTING_USERNAME", USER)
    monkeypatch.setenv("PSREMOTING_PASSWORD", PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.fixture
def server() -> Any:
    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate")) as emu:
        yield emu


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_url_and_application_name_say_where_to_connect(server: Emulator, capsys: Any) -> None:
    url = f"http://127.0.0.1:{server.port}/wsman"
    code, out, err = _run(capsys, "invoke", "--url", url, "--auth", "ntlm", "-c", "6 * 7")
    assert (code, out.strip(), err) == (0, "42", "")
    by_name = ["invoke", "-H", "127.0.0.1", "--port", str(server.port), "--auth", "ntlm", "-c", "1"]
    assert _run(capsys, *by_name, "--application-name", "wsman")[0] == 0
    code, out, err = _run(capsys, *by_name, "--application-name", "elsewhere")
    assert code != 0 and "HTTP 404" in out + err  # the application name is the URL's path
    code, _out, err = _run(capsys, "invoke", "--url", url, "--port", "5985", "-c", "1")
    assert code == 2 and "cannot be used with --url" in err


def test_timeouts_culture_and_proxy_reach_the_session(
    server: Emulator, capsys: Any, monkeypatch: Any
) -> None:
    seen: list[Any] = []
    from psremoting.cmdlets.invoke import command

    real = command.iter_invoke_command

    def recording(*args: Any, **kwargs: Any) -> Any:  # the real call, its options noted
        seen.append(kwargs.get("session_option"))
        return real(*args, **kwargs)

    monkeypatch.setattr(command, "iter_invoke_command", recording)
    argv = ["invoke", "-H", "127.0.0.1", "--port", str(server.port), "--auth", "ntlm", "-c", "'ok'"]
    flags = ["--open-timeout", "7", "--operation-timeout", "9", "--culture", "de-DE", "--ui-culture", "fr-FR"]
    code, out, _err = _run(capsys, *argv, *flags)
    assert (code, out.strip()) == (0, "ok")
    (option,) = seen
    assert (option.open_timeout, option.operation_timeout, option.culture, option.ui_culture) == (
        7.0,
        9.0,
        "de-DE",
        "fr-FR",
    )
    # A proxy that does not answer: the connection goes through it, so the same host that just
    # answered cannot be reached.
    code, out, err = _run(capsys, *argv, "--proxy", "http://127.0.0.1:1", "--open-timeout", "5")
    assert code != 0 and "Connecting to remote server 127.0.0.1 failed" in err and out == ""
    code, _out, err = _run(capsys, *argv, "--proxy", "not a url")
    assert code == 2 and "is not a proxy URL" in err
    with pytest.raises(SystemExit) as usage:
        main([*argv, "--open-timeout", "0"])
    assert usage.value.code == 2 and "must be more than 0 seconds" in capsys.readouterr().err


def test_a_host_listed_twice_warns_and_runs_once(make_fleet: Any, capsys: Any) -> None:
    fleet = make_fleet("web1", "web2")
    before = fleet.emulator.stats.pipelines_started
    code, out, err = _run(
        capsys, "invoke", "-H", "web1", "-H", "web2,WEB1", "-H", "web1", "-c", "$env:COMPUTERNAME"
    )
    assert code == 0
    assert sorted(out.split()) == ["WEB1", "WEB2"]
    assert (
        err.count("warning: WEB1 is listed more than once; it runs once")
        + err.count("warning: web1 is listed more than once; it runs once")
        == 1
    )
    assert fleet.emulator.stats.pipelines_started - before == 2


def test_enter_takes_a_url_instead_of_a_host(capsys: Any) -> None:
    code, _out, err = _run(capsys, "enter", "--url", "http://a/wsman", "--url", "http://b/wsman")
    assert code == 2 and "one --url" in err
    code, _out, err = _run(capsys, "enter", "web1", "--url", "http://a/wsman")
    assert code == 2 and "not both" in err


def test_read_host_in_psremoting_invoke_fails_as_on_a_non_interactive_host(
    make_fleet: Any, capsys: Any
) -> None:
    make_fleet("web1")
    code, out, err = _run(capsys, "invoke", "-H", "web1", "-c", "$n = Read-Host 'Name'; \"[$n]\"")
    assert code == 1  # a remote error
    assert (
        "FullyQualifiedErrorId : HostFunctionNotImplemented,Microsoft.PowerShell.Commands.ReadHostCommand"
        in err
    )
    assert out.strip() == "[]"  # the statement failed, the script went on, as PowerShell's does
