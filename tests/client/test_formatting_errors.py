"""The PSSession table and the error wording, as PowerShell shows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psremoting.cmdlets.formatting import format_table
from psremoting.protocol.errors import (
    AuthenticationFailedError,
    ConnectionFailedError,
    InvalidConfigurationNameError,
    PSRemotingError,
    RemoteError,
    RemoteErrorRecord,
    SessionBrokenError,
    SessionStateError,
)
from psremoting.runspace.pool import Availability, SessionState


@dataclass
class FakeSession:
    """Only the attributes the table reads (the real PSSession is tested end to end)."""

    id: int
    name: str
    computer_name: str
    state: SessionState = SessionState.OPENED
    availability: Availability = Availability.AVAILABLE
    configuration_name: str = "Microsoft.PowerShell"
    transport: str = "WSMan"
    computer_type: str = "RemoteMachine"
    instance_id: uuid.UUID = uuid.UUID(int=0)


def test_table_matches_powershell_7() -> None:
    text = format_table([FakeSession(1, "Runspace1", "Server01")])
    assert text.splitlines() == [
        " Id Name            Transport ComputerName    ComputerType    State         ConfigurationName     Availability",
        " -- ----            --------- ------------    ------------    -----         -----------------     ------------",
        "  1 Runspace1       WSMan     Server01        RemoteMachine   Opened        Microsoft.PowerShell     Available",
    ]


def test_table_truncates_and_shows_states() -> None:
    rows = format_table(
        [
            FakeSession(
                12,
                "AVeryLongSessionName",
                "server01.example.com",
                SessionState.BROKEN,
                Availability.NONE,
                configuration_name="Some.Very.Long.Configuration",
            ),  # fmt: skip
            FakeSession(3, "Session3", "Server02", SessionState.CLOSED, Availability.NONE),
        ]
    ).splitlines()
    assert rows[2].startswith(" 12 AVeryLongSessi… WSMan     server01.examp… RemoteMachine   Broken ")
    assert "Some.Very.Long.Conf…" in rows[2] and rows[2].endswith("None")
    assert rows[3].startswith("  3 Session3 ") and " Closed " in rows[3]
    assert format_table([]) == ""
    assert format_table(FakeSession(1, "S", "C")).count("\n") == 3  # one session alone works too


def test_connection_failure_wording() -> None:
    error = ConnectionFailedError("Server01", "WinRM cannot complete the operation.")
    assert str(error) == (
        "Connecting to remote server Server01 failed with the following error message : WinRM cannot complete "
        "the operation. For more information, see the about_Remote_Troubleshooting Help topic."
    )
    assert error.fully_qualified_error_id == "CannotConnect,PSSessionOpenFailed"
    assert error.computer_name == "Server01"
    assert AuthenticationFailedError("S", "Access is denied.").fully_qualified_error_id.startswith(
        "AccessDenied,"
    )
    config = InvalidConfigurationNameError("Server01", "Nope")
    assert "Cannot find the Nope session configuration in the WSMan: drive on the Server01 computer." in str(
        config
    )
    for cls in (ConnectionFailedError, SessionStateError, SessionBrokenError):
        assert issubclass(cls, PSRemotingError)


def test_remote_error_record_display() -> None:
    record = RemoteErrorRecord(
        message="Cannot find path 'C:\\nope' because it does not exist.",
        category="ObjectNotFound",
        activity="Get-Item",
        reason="ItemNotFoundException",
        target_name="C:\\nope",
        target_type="String",
        fully_qualified_error_id="PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
        computer_name="Server01",
    )
    assert record.category_info == "ObjectNotFound: (C:\\nope:String) [Get-Item], ItemNotFoundException"
    lines = record.format().splitlines()
    assert lines[0].startswith("Cannot find path")
    assert "    + PSComputerName        : Server01" in lines
    error = RemoteError(record)
    assert str(error) == record.message and error.record is record
    assert error.fully_qualified_error_id.startswith("PathNotFound,")
