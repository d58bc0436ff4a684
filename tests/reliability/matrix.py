"""The fault matrix's machinery: one emulator (NTLM, sealed messages, over loopback HTTP), a
session per cell, each WSMan operation driven through the public API, and what the user
saw recorded as a `CellOutcome`.

A cell arms one fault (`FaultKnobs`), runs the operation it targets and checks what every
cell must hold whatever its expected ending:

- it ends within `DEADLINE` seconds;
- a command never runs twice on the server (the handler counts its runs);
- an error is a psremoting error naming the host (``Server01``), never a raw exception;
- the session's state afterwards is true: Opened means the next command runs, Broken and
  Disconnected mean it is refused with that state named.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import PSRemotingError
from psremoting.transport.options import SessionOption

HOST = "Server01"
#: No cell may take longer than this (the slowest cells wait out a 6 s read timeout once).
DEADLINE = 20.0
OPTION = SessionOption(open_timeout=8, operation_timeout=1, max_retry_connection_time=6, cancel_timeout=5)

#: The WSMan operations a session sends, in the order a session's life sends them.
OPERATIONS = (
    "Create",
    "Command",
    "Send",
    "Receive",
    "Signal",
    "Delete",
    "Disconnect",
    "Reconnect",
    "Enumerate",
)


@dataclass
class CellOutcome:
    """How a cell ended, as the user saw it."""

    ended: str  # "recovered" (the operation did what was asked) or "error"
    message: str = ""
    state: str = ""  # the session's state afterwards ("" when no session was made)
    seconds: float = 0.0
    runs: int = 0  # how many times the command ran on the server
    output: list[str] = field(default_factory=list)


class Counter:
    """A command handler counting its runs on the server (``Count-Run``)."""

    def __init__(self) -> None:
        self.runs = 0
        self._lock = threading.Lock()

    def __call__(self, ctx: Any) -> list[Any]:
        with self._lock:
            self.runs += 1
        return [f"ran {len(list(ctx.input or []))}"]


def _error_of(result: Any) -> str | None:
    errors = list(getattr(result, "errors", []) or [])
    return errors[0].message if errors else None


def run_operation(
    emu: Emulator, counter: Counter, operation: str, arm: Callable[[], None]
) -> tuple[CellOutcome, Any]:
    """Open a session (unless the cell targets Create), arm the fault, run `operation`."""
    started = time.monotonic()
    session: Any = None
    counter.runs = 0
    output: list[str] = []
    error: str | None = None
    try:
        if operation == "Create":
            arm()
            session = psremoting.new_pssession(HOST, session_option=OPTION)
            output = [str(x) for x in psremoting.invoke_command("Count-Run", session=session)]
        else:
            session = psremoting.new_pssession(HOST, session_option=OPTION)
            if operation == "Reconnect":
                psremoting.disconnect_pssession(session)
            arm()
            if operation in ("Command", "Receive", "Signal"):
                result = psremoting.invoke_command("Count-Run", session=session)
                output, error = [str(x) for x in result], _error_of(result)
            elif operation == "Send":
                result = psremoting.invoke_command(
                    "$input | Count-Run", session=session, input_object=[1, 2, 3]
                )
                output, error = [str(x) for x in result], _error_of(result)
            elif operation == "Delete":
                psremoting.remove_pssession(session)
            elif operation == "Disconnect":
                psremoting.disconnect_pssession(session)
            elif operation == "Reconnect":
                psremoting.connect_pssession(session)
            elif operation == "Enumerate":
                found = psremoting.get_pssession(computer_name=HOST, session_option=OPTION)
                output = [str(s.instance_id) for s in found]
            else:  # pragma: no cover
                raise AssertionError(operation)
    except PSRemotingError as exc:
        error = exc.message
    seconds = time.monotonic() - started
    state = str(getattr(getattr(session, "state", ""), "value", getattr(session, "state", "")) or "")
    unused = emu.faults.pending()
    emu.faults.reset()
    assert unused == 0, f"the fault armed for {operation} never struck"
    outcome = CellOutcome(
        ended="error" if error else "recovered",
        message=error or "",
        state=state,
        seconds=seconds,
        runs=counter.runs,
        output=output,
    )
    return outcome, session


def check_state_is_true(session_state: str, session: Any) -> None:
    """What the state says holds: an Opened session runs the next command."""
    if session_state == "Opened":
        assert [str(x) for x in psremoting.invoke_command("'next'", session=session)] == ["next"]
