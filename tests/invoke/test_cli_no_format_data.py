"""`psremoting invoke --output text` (the CI command) against an endpoint that refuses
Get-FormatData (a JEA role without it: ``format_data = false`` in the emulator's config): the
objects still print with the client's built-in views (the "Directory:" table of files and
folders, Get-Process's and Get-Service's tables, Get-Date's long date), never as property
lists. Both sides are separate processes (a `psremoting emulator` and the `psremoting` CI
step), NTLM with message encryption over HTTP on loopback.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "ci"
PASSWORD = "NoV1ews-Pw"
ENDPOINT = "NoViews"
CONFIG = f"""
[[configurations]]
name = "{ENDPOINT}"
visible_cmdlets = ["Get-ChildItem", "Get-Process", "Get-Service", "Get-Date", "Get-Item"]
format_data = false
"""


@pytest.fixture(scope="module")
def emulator_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("root")
    (root / "Logs").mkdir()
    (root / "Logs" / "app.log").write_text("started\r\n")
    (root / "Logs" / "old").mkdir()
    config = root.parent / "no-views.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "PSREMOTING_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-m", "psremoting", "emulator", "--user", USER, "--auth", "ntlm",
         "--config", str(config), "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
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


def invoke(port: int, script: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PSREMOTING_USERNAME": USER, "PSREMOTING_PASSWORD": PASSWORD, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "psremoting", "invoke", "-H", "127.0.0.1", "--port", str(port),
         "--auth", "ntlm", "--configuration-name", ENDPOINT, "-c", script, "--output", "text"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _no_property_list(lines: list[str]) -> None:
    listed = [
        line for line in lines if re.match(r"^(PSPath|PSParentPath|Handles|RunspaceId|Status)\s+: ", line)
    ]
    assert not listed, lines


def test_the_endpoint_refuses_get_formatdata(emulator_port: int) -> None:
    done = invoke(emulator_port, "Get-FormatData -TypeName System.IO.FileInfo")
    assert done.returncode != 0
    assert "The term 'Get-FormatData' is not recognized" in done.stderr, done.stderr


def test_files_and_folders_print_as_the_directory_table(emulator_port: int) -> None:
    done = invoke(emulator_port, r"Get-ChildItem C:\Logs")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    _no_property_list(lines)
    assert lines[0] == r"    Directory: C:\Logs"
    assert re.match(r"^Mode\s+LastWriteTime\s+Length Name\s+PSComputerName$", lines[1]), lines
    assert re.match(r"^d-----\s+\d+/\d+/\d{4}\s+\d+:\d\d [AP]M\s+old\s+127\.0\.0\.1$", lines[3]), lines
    assert re.match(r"^-a----\s+\d+/\d+/\d{4}\s+\d+:\d\d [AP]M\s+9 app\.log\s+127\.0\.0\.1$", lines[4]), lines


def test_processes_and_services_print_as_their_tables(emulator_port: int) -> None:
    done = invoke(emulator_port, "Get-Process; Get-Service WinRM")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    _no_property_list(lines)
    assert re.match(r"^Handles\s+NPM\(K\)\s+PM\(K\)\s+WS\(K\)\s+CPU\(s\)\s+Id\s+SI ProcessName", lines[0]), (
        lines
    )
    header = next(i for i, line in enumerate(lines) if line.startswith("Status"))
    assert re.match(r"^Status\s+Name\s+DisplayName\s+PSComputerName$", lines[header]), lines
    assert re.match(
        r"^Running\s+WinRM\s+Windows Remote Management \(WS-Manag\.\.\.\s+127\.0\.0\.1$", lines[header + 2]
    )


def test_a_date_prints_as_its_long_date(emulator_port: int) -> None:
    done = invoke(emulator_port, "Get-Date -Year 2024 -Month 3 -Day 5 -Hour 14 -Minute 7 -Second 9")
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == ["Tuesday, March 5, 2024 2:07:09 PM"]


def test_the_config_knob_is_a_jea_setting(tmp_path: Path) -> None:
    from psremoting.emulator.config import session_configurations

    with pytest.raises(ValueError, match="JEA setting"):
        session_configurations([{"name": "X", "format_data": False}])
    [refusing] = [
        c
        for c in session_configurations([{"name": "X", "visible_cmdlets": [], "format_data": False}]).values()
        if c.name == "X"
    ]
    assert "Get-FormatData" not in refusing.engine_options()["allowed_commands"]
