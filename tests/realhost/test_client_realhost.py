"""The client scenarios against a real Windows host (opt-in).

Set PSREMOTING_TEST_HOST, PSREMOTING_TEST_USERNAME and PSREMOTING_TEST_PASSWORD (and
optionally PSREMOTING_TEST_AUTH=negotiate|ntlm|kerberos|credssp|basic,
PSREMOTING_TEST_SSL=1, PSREMOTING_TEST_SKIP_CA_CHECK=1, PSREMOTING_TEST_PORT). Skipped
otherwise. The same scenarios run against the emulator in tests/client/.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

import psremoting
from psremoting.cmdlets import interactive
from psremoting.cmdlets import sessions as session
from psremoting.protocol.errors import AuthenticationFailedError, InvalidConfigurationNameError
from psremoting.runspace.host_ui import BufferedHostUI
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


def connect_kwargs(password: str | None = None) -> dict:
    ssl = os.environ.get("PSREMOTING_TEST_SSL", "") not in ("", "0")
    port = os.environ.get("PSREMOTING_TEST_PORT")
    return {
        "credential": (USER, password if password is not None else PASSWORD),
        "authentication": os.environ.get("PSREMOTING_TEST_AUTH", "negotiate"),
        "use_ssl": ssl,
        "port": int(port) if port else None,
        "session_option": SessionOption(
            skip_ca_check=os.environ.get("PSREMOTING_TEST_SKIP_CA_CHECK", "") not in ("", "0"),
            skip_cn_check=os.environ.get("PSREMOTING_TEST_SKIP_CA_CHECK", "") not in ("", "0"),
        ),
    }


@pytest.fixture(autouse=True)
def fresh_registry():
    session._reset_for_tests()
    interactive._reset_for_tests()
    yield
    interactive._reset_for_tests()
    session._reset_for_tests()


def test_seed_example_2() -> None:
    s = psremoting.new_pssession(HOST, **connect_kwargs())
    assert (s.id, s.name, s.state.value) == (1, "Session1", "Opened")
    entered = psremoting.enter_pssession(session=s)
    assert entered.prompt().startswith(f"[{HOST}]: PS ")
    psremoting.exit_pssession()
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    row = psremoting.format_table(psremoting.get_pssession()).splitlines()[2]
    assert row.split()[:3] == ["1", "Session1", "WSMan"] and "Opened" in row and "Microsoft.PowerShell" in row
    psremoting.remove_pssession(s)
    assert s.state.value == "Closed"


def test_seed_example_1_temporary_session() -> None:
    entered = psremoting.enter_pssession(HOST, **connect_kwargs())
    assert entered.run("exit").exited
    assert entered.session.state.value == "Closed" and psremoting.get_pssession() == []


def test_objects_errors_and_interactive_output() -> None:
    s = psremoting.new_pssession(HOST, **connect_kwargs())
    result = s.invoke("Get-Date; 42; @{a=1}; Get-Item C:\\nope")
    assert isinstance(result.output[0], dt.datetime) and result.output[1:3] == [42, {"a": 1}]
    assert result.error and result.error[0].fully_qualified_error_id.startswith("PathNotFound")
    ui = BufferedHostUI()
    entered = psremoting.enter_pssession(session=s, ui=ui)
    entered.run("1..3")
    assert ui.lines[-3:] == ["1", "2", "3"]
    assert entered.run("exit 4").exit_code == 4


def test_open_failures() -> None:
    with pytest.raises(AuthenticationFailedError):
        psremoting.new_pssession(HOST, **connect_kwargs(password="definitely-wrong"))
    with pytest.raises(InvalidConfigurationNameError):
        psremoting.new_pssession(HOST, configuration_name="NoSuchEndpoint", **connect_kwargs())


@pytest.mark.slow
def test_many_sequential_commands() -> None:
    s = psremoting.new_pssession(HOST, **connect_kwargs())
    for i in range(1100):  # past MaxConcurrentCommandsPerShell (1000) if pipelines leaked
        assert s.invoke(str(i)).output == [i]
    psremoting.remove_pssession(s)
