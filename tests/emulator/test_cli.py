"""``psremoting emulator`` as a subprocess: its first line, serving, and a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan


def _start(*args: str, password: str | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("PSREMOTING_PASSWORD", None)
    if password is not None:
        env["PSREMOTING_PASSWORD"] = password
    return subprocess.Popen(
        [sys.executable, "-m", "psremoting", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_prints_its_url_and_serves() -> None:
    proc = _start(
        "--listen", "127.0.0.1:0", "--user", "admin", "--allow-unencrypted", password="Cli-Passw0rd"
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().rstrip("\n")
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/wsman")
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        wsman = WSMan(
            "127.0.0.1",
            port=port,
            ssl=False,
            auth="basic",
            encryption="never",
            username="admin",
            password="Cli-Passw0rd",
        )
        with wsman, RunspacePool(wsman) as pool:
            ps = PowerShell(pool)
            ps.add_cmdlet("Write-Output").add_parameter("InputObject", "from the cli")
            assert ps.invoke() == ["from the cli"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert "Cli-Passw0rd" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_default_user_is_announced_on_stderr() -> None:
    proc = _start("--https")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("listening on https://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "accepting user 'user'" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_user_without_password_is_refused() -> None:
    proc = _start("--user", "admin")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert out == ""
    assert "PSREMOTING_PASSWORD" in err


def test_cli_config_file_declares_endpoints_and_protocol(tmp_path: Path) -> None:
    config = tmp_path / "host.toml"
    config.write_text(
        '[users]\nops = "Cfg-Passw0rd"\n\n'
        '[[configurations]]\nname = "Helpdesk"\nvisible_cmdlets = ["Get-Service"]\n\n'
        '[[services]]\nName = "W3SVC"\nStatus = "Stopped"\n'
    )
    proc = _start("--listen", "127.0.0.1:0", "--config", str(config), "--protocol-version", "2.2")
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().rstrip("\n").rsplit(":", 1)[1].split("/")[0])
        wsman = WSMan("127.0.0.1", port=port, ssl=False, auth="ntlm", username="ops", password="Cfg-Passw0rd")
        with wsman, RunspacePool(wsman, configuration_name="Helpdesk") as pool:
            assert pool.protocol_version == "2.2"
            ps = PowerShell(pool)
            ps.add_cmdlet("Get-Service").add_parameter("Name", "W3SVC")
            (service,) = ps.invoke()
            assert service.adapted_properties["Status"] == "Stopped"
            ps = PowerShell(pool)
            ps.add_cmdlet("Get-ChildItem")
            ps.invoke()
            assert "'Get-ChildItem' is not recognized" in str(ps.streams.error[0])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        assert "Cfg-Passw0rd" not in stderr and "no --user given" not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
