"""The failures issue 15 reported, each a user's view of it: a Receive delayed past
open_timeout while the session opens, a Receive carrying truncated base64 or a bad exit code."""

from __future__ import annotations

import re
import time

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import PSRemotingError
from psremoting.transport.options import SessionOption


@pytest.mark.parametrize("count", [1, None], ids=["one Receive late", "every Receive late"])
def test_a_receive_later_than_open_timeout_fails_the_open_and_leaves_no_shell(
    emu: Emulator, count: int | None
) -> None:
    emu.faults.delay(4.0, action="Receive", count=count)
    started = time.monotonic()
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01", session_option=SessionOption(open_timeout=2))
    elapsed = time.monotonic() - started
    emu.faults.reset()
    assert elapsed < 2.0 + 1.0, elapsed  # ended at open_timeout, not when the late answer came
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "within the time specified" in message, message
    assert psremoting.get_pssession() == []  # no half-opened session
    assert emu.stats.open_shells == 0  # the shell was deleted on the server
    # And the next session to that host opens and runs as usual.
    session = psremoting.new_pssession("Server01")
    assert [str(x) for x in psremoting.invoke_command("'fine'", session=session)] == ["fine"]
    psremoting.remove_pssession(session)


def _truncate_streams(body: bytes) -> bytes:
    """Every rsp:Stream's base64 cut by one character (its padding no longer adds up)."""
    return re.sub(
        rb"(<rsp:Stream[^>]*>[A-Za-z0-9+/=]*?)[A-Za-z0-9+/=]</rsp:Stream>", rb"\1</rsp:Stream>", body
    )


def test_truncated_base64_in_a_receive_is_the_servers_invalid_answer(emu: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    try:
        emu.faults.rewrite_answer("Receive", _truncate_streams)
        result = psremoting.invoke_command("'hello'", session=session)
        assert list(result) == []
        [error] = result.errors
        assert "Server01" in error.message, error.message
        assert "The server's answer was invalid" in error.message and "not valid base64" in error.message
        assert "Incorrect padding" not in error.message.split("(")[0]
        assert session.state in ("Opened", "Broken")
    finally:
        psremoting.remove_pssession(session)


def test_a_truncated_base64_answer_while_opening_is_named(emu: Emulator) -> None:
    emu.faults.rewrite_answer("Receive", _truncate_streams)
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    message = str(info.value)
    assert message.startswith("Connecting to remote server Server01 failed"), message
    assert "The server's answer was invalid: a Receive's rsp:Stream is not valid base64" in message, message
    assert type(info.value).__name__ != "InvalidOptionError"
    assert psremoting.get_pssession() == []
    assert emu.stats.open_shells == 0
