"""`psremoting invoke` end to end: the real command line, client and emulator over loopback HTTP."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest

from psremoting.cli.main import main
from psremoting.cmdlets.invoke.results import load_schema


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    monkeypatch.delenv("PSREMOTING_PASSWORD", raising=False)


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["invoke", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_for_mixed_failures_validates_and_has_the_documented_exit_code(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    def slow(ctx: Any) -> list[Any]:
        if str(ctx.args[0]).lower() == "slow":
            ctx.io.stopping.wait(60)
        return [f"done {ctx.args[0]}"]

    fleet = make_fleet("ok1", "ok2", "badpw", "slow", handlers={"Wait-Slow": slow})
    fleet.down.add("down")
    fleet.wrong_password.add("badpw")
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        "-H",
        "ok1",
        "-H",
        "down",
        "-H",
        "badpw",
        "-H",
        "slow",
        "-H",
        "ok2",
        "-c",
        "Wait-Slow $env:COMPUTERNAME",
        "--timeout",
        "4",
        "--output",
        "json",
    )
    report = json.loads(out)
    jsonschema.validate(report, load_schema())
    assert code == 255 == report["exit_code"]  # a connection failure wins over the timeout
    hosts = {h["host"]: h for h in report["hosts"]}
    assert [h["host"] for h in report["hosts"]] == ["ok1", "down", "badpw", "slow", "ok2"]
    assert hosts["ok1"]["status"] == hosts["ok2"]["status"] == "Completed"
    assert hosts["ok1"]["output"] == ["done OK1"] and hosts["ok2"]["output"] == ["done OK2"]
    assert hosts["down"]["status"] == hosts["badpw"]["status"] == "ConnectionFailed"
    assert hosts["down"]["errors"][0]["message"].startswith("[down] Connecting to remote server down failed")
    assert hosts["badpw"]["errors"][0]["fully_qualified_error_id"] == "AccessDenied,PSSessionStateBroken"
    assert hosts["slow"]["status"] == "TimedOut" and "4 seconds" in hosts["slow"]["reason"]
    assert report["summary"]["completed"] == 2 and report["summary"]["timed_out"] == 1
    assert "Passw0rd" not in out + err


def test_jsonl_streams_one_valid_document_per_host(make_fleet: Any, capsys: Any, monkeypatch: Any) -> None:
    make_fleet("a1", "a2", "a3")
    code, out, _ = run_cli(
        capsys, monkeypatch, "-H", "a1,a2", "-H", "a3", "-c", "$env:COMPUTERNAME; 7", "--output", "jsonl"
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert sorted(d["host"] for d in lines) == ["a1", "a2", "a3"]
    for doc in lines:
        jsonschema.validate(doc, load_schema("hostResult"))
        assert doc["output"] == [doc["host"].upper(), 7] and doc["status"] == "Completed"


def test_text_output_and_remote_exit_code_of_one_host(make_fleet: Any, capsys: Any, monkeypatch: Any) -> None:
    make_fleet("web1")
    code, out, err = run_cli(
        capsys, monkeypatch, "-H", "web1", "-c", "'deploying'; Write-Error 'disk full'; exit 3"
    )
    assert code == 3
    assert out == "deploying\n"
    assert "disk full\n" in err and "+ PSComputerName        : web1" in err


def test_remote_errors_on_several_hosts_give_exit_code_1(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    make_fleet("web1", "web2")
    code, _, err = run_cli(capsys, monkeypatch, "-H", "web1", "-H", "web2", "-c", "Write-Error 'nope'")
    assert code == 1
    assert err.count("nope\n") == 2


def test_timeout_alone_gives_exit_code_124(make_fleet: Any, capsys: Any, monkeypatch: Any) -> None:
    make_fleet("slow", handlers={"Wait-Forever": lambda ctx: ctx.io.stopping.wait(60) and []})
    code, _, err = run_cli(capsys, monkeypatch, "-H", "slow", "-c", "Wait-Forever", "--timeout", "1")
    assert code == 124
    assert "[slow] The command did not finish within the timeout of 1 seconds" in err


def test_arguments_hosts_file_and_stdin_hosts(
    make_fleet: Any, capsys: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    make_fleet("f1", "f2", "s1")
    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text("# lab\nf1\n\nf2  # second\n", encoding="utf-8")
    script = tmp_path / "run.ps1"
    script.write_text('param($Tag, $N)\n"$Tag on $N"\n', encoding="utf-8")
    code, out, _ = run_cli(
        capsys,
        monkeypatch,
        "--hosts-file",
        str(hosts_file),
        "-H",
        "-",
        "-f",
        str(script),
        "--arg",
        'it\'s "v2"',
        "--arg",
        "x",
        "--output",
        "jsonl",
        stdin="s1\nf1\n",
    )
    assert code == 0
    docs = {d["host"]: d for d in map(json.loads, out.splitlines())}
    assert sorted(docs) == ["f1", "f2", "s1"]  # f1 listed twice runs once
    assert docs["f2"]["output"] == ['it\'s "v2" on x']


def test_using_values_from_the_command_line(make_fleet: Any, capsys: Any, monkeypatch: Any) -> None:
    make_fleet("web1")
    code, out, _ = run_cli(
        capsys, monkeypatch, "-H", "web1", "-c", '"deploying to $using:Stage"', "--using", "Stage=prod"
    )
    assert (code, out) == (0, "deploying to prod\n")
    code, _, err = run_cli(capsys, monkeypatch, "-H", "web1", "-c", "$using:Stage")
    assert code == 2 and "$using:Stage" in err


def test_password_from_stdin_before_hosts(make_fleet: Any, capsys: Any, monkeypatch: Any) -> None:
    make_fleet("web1")
    code, out, _ = run_cli(
        capsys,
        monkeypatch,
        "-u",
        "someone",
        "--password-stdin",
        "-H",
        "-",
        "-c",
        "1",
        "--output",
        "jsonl",
        stdin="secret-pw\nweb1\n",
    )
    assert code == 0 and json.loads(out)["host"] == "web1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-c", "1"], "no hosts"),
        (["-H", "x", "-f", "/nonexistent/deploy.ps1"], "cannot read the script file"),
        (["-H", "x", "-c", "1", "--hosts-file", "/nonexistent/hosts"], "cannot read the hosts file"),
        (["-H", "x", "-c", "1", "--password-stdin"], "first line of stdin is empty"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(
    capsys: Any, monkeypatch: Any, argv: list[str], message: str
) -> None:
    code, _, err = run_cli(capsys, monkeypatch, *argv)
    assert code == 2 and message in err


def test_settings_that_cannot_work_are_usage_errors(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PSREMOTING_PASSWORD", "S3cr3t-Value")
    code, out, err = run_cli(capsys, monkeypatch, "-H", "x", "-c", "1", "-u", "me", "--auth", "basic")
    assert code == 2 and "Basic authentication over HTTP" in err
    assert "S3cr3t-Value" not in out + err


def test_a_password_is_never_accepted_as_an_argument(capsys: Any, monkeypatch: Any) -> None:
    code, out, err = run_cli(capsys, monkeypatch, "-H", "x", "-c", "1", "--password", "hunter2")
    assert code == 2 and "--password-stdin" in err and "hunter2" not in out + err


def test_password_without_a_user_name_is_a_usage_error(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PSREMOTING_PASSWORD", "pw")
    code, _, err = run_cli(capsys, monkeypatch, "-H", "x", "-c", "1")
    assert code == 2 and "no user name" in err


def test_help_documents_the_exit_codes(capsys: Any, monkeypatch: Any) -> None:
    with pytest.raises(SystemExit):
        run_cli(capsys, monkeypatch, "--help")
    out = capsys.readouterr().out
    for code in ("124", "255", "usage error"):
        assert code in out


def test_emulator_mode_needs_no_windows_and_no_credentials(capsys: Any, monkeypatch: Any) -> None:
    code, out, _ = run_cli(
        capsys,
        monkeypatch,
        "--emulator",
        "-H",
        "vm1",
        "-H",
        "vm2",
        "-c",
        "$env:COMPUTERNAME",
        "--output",
        "json",
    )
    report = json.loads(out)
    assert code == 0
    assert sorted(o for h in report["hosts"] for o in h["output"]) == ["VM1", "VM2"]
