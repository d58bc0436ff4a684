"""invoke_command against a real Windows host (opt-in, marked `realhost`).

Set PSREMOTING_TEST_HOST, PSREMOTING_TEST_USERNAME and PSREMOTING_TEST_PASSWORD (and
optionally PSREMOTING_TEST_AUTH, PSREMOTING_TEST_SSL=1, PSREMOTING_TEST_SKIP_CA_CHECK=1,
PSREMOTING_TEST_PORT), as for tests/realhost/. The same scenarios run against the emulator in
test_invoke_command.py.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from psremoting.cmdlets.invoke.command import invoke_command
from psremoting.cmdlets.invoke.results import HostStatus
from psremoting.transport.options import SessionOption

HOST = os.environ.get("PSREMOTING_TEST_HOST")
USER = os.environ.get("PSREMOTING_TEST_USERNAME")
PASSWORD = os.environ.get("PSREMOTING_TEST_PASSWORD")

pytestmark = [
    pytest.mark.realhost,
    pytest.mark.skipif(
        not (HOST and USER and PASSWORD),
        reason="set PSREMOTING_TEST_HOST, PSREMOTING_TEST_USERNAME and PSREMOTING_TEST_PASSWORD to run",
    ),
]


def connect() -> dict[str, Any]:
    skip = os.environ.get("PSREMOTING_TEST_SKIP_CA_CHECK", "") not in ("", "0")
    port = os.environ.get("PSREMOTING_TEST_PORT")
    return {
        "credential": (USER, PASSWORD),
        "authentication": os.environ.get("PSREMOTING_TEST_AUTH", "negotiate"),
        "use_ssl": os.environ.get("PSREMOTING_TEST_SSL", "") not in ("", "0"),
        "port": int(port) if port else None,
        "session_option": SessionOption(skip_ca_check=skip, skip_cn_check=skip),
    }


def test_arguments_using_and_annotations_on_windows() -> None:
    assert HOST is not None
    result = invoke_command(
        'param($A, $B) "$A|$B"; $using:Tag',
        computer_name=[HOST],
        argument_list=["x'y", 2],
        using={"Tag": "from python"},
        **connect(),
    )
    assert not result.errors
    assert list(result) == ["x'y|2", "from python"]
    assert all(o.PSComputerName == HOST and o.PSShowComputerName is True for o in result)


def test_exit_code_and_timeout_on_windows() -> None:
    assert HOST is not None
    result = invoke_command("exit 7", computer_name=HOST, **connect())
    assert result.hosts[HOST].exit_code == 7
    slow = invoke_command("Start-Sleep -Seconds 60", computer_name=HOST, timeout=5, **connect())
    assert slow.hosts[HOST].status is HostStatus.TIMED_OUT
