"""A CI pipeline whose steps are separate processes: ``psremoting invoke
--in-disconnected-session`` in one, ``psremoting receive`` in another, ``psremoting sessions``
to look, all against a ``psremoting emulator`` process that outlives them (as a Windows host
does), with NTLM and message encryption over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import jsonschema
import pytest

from psremoting.cmdlets.invoke.results import load_schema

USER = "ci"
PASSWORD = "Ci-Pipel1ne-Pw"


@pytest.fixture(scope="module")
def emulator_port() -> Iterator[int]:
    env = {**os.environ, "PSREMOTING_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-m", "psremoting", "emulator", "--user", USER, "--auth", "ntlm,negotiate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield int(line.rsplit(":", 1)[1].split("/")[0])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def step(port: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One CI step: a fresh `psremoting` process with the credentials in the environment."""
    env = {**os.environ, "PSREMOTING_USERNAME": USER, "PSREMOTING_PASSWORD": PASSWORD}
    return subprocess.run(
        [sys.executable, "-m", "psremoting", *args, "--port", str(port), "--auth", "ntlm"],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_one_process_starts_it_another_prints_all_of_it_once(emulator_port: int) -> None:
    script = "1..100 | ForEach-Object { $_; Start-Sleep -Milliseconds 100 }"
    first = step(
        emulator_port,
        "invoke",
        "-H",
        "127.0.0.1",
        "-c",
        script,
        "--in-disconnected-session",
        "--output",
        "json",
    )
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    jsonschema.validate(report, load_schema())
    [host] = report["hosts"]
    assert host["status"] == "Disconnected" and host["session"]["state"] == "Disconnected"
    name = host["session"]["name"]

    listed = step(emulator_port, "sessions", "-H", "127.0.0.1", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    [entry] = [s for s in json.loads(listed.stdout) if s["name"] == name]
    assert (entry["state"], entry["availability"], entry["instance_id"]) == (
        "Disconnected",
        "None",
        host["session"]["instance_id"],
    )

    second = step(emulator_port, "receive", "-H", "127.0.0.1", "--name", name)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == [str(n) for n in range(1, 101)]  # once each, in order
    again = step(emulator_port, "receive", "-H", "127.0.0.1", "--name", name)
    assert again.returncode == 1 and again.stdout == ""  # nothing left to receive
    assert "no session named" in again.stderr


def test_receive_exits_with_the_remote_exit_code_in_the_invoke_envelope(emulator_port: int) -> None:
    first = step(
        emulator_port, "invoke", "-H", "127.0.0.1", "-c", "'built'; exit 7", "--in-disconnected-session",
        "--session-name", "Build42", "--output", "json",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    instance_id = json.loads(first.stdout)["hosts"][0]["session"]["instance_id"]
    table = step(emulator_port, "sessions", "-H", "127.0.0.1")
    assert "Build42" in table.stdout and "Disconnected" in table.stdout
    second = step(
        emulator_port, "receive", "-H", "127.0.0.1", "--instance-id", instance_id, "--output", "json"
    )
    assert second.returncode == 7, second.stdout + second.stderr
    report = json.loads(second.stdout)
    jsonschema.validate(report, load_schema())
    assert report["exit_code"] == 7 and report["hosts"][0]["output"] == ["built"]
    assert report["hosts"][0]["exit_code"] == 7
