"""The fault matrix (issue 15): every WSMan operation of a session's life under each fault the
emulator can inject, one case per cell, with the ending a user wants asserted.

- Connection reset before (the request is lost on its way), during (the server closes half way
  through its answer) and after (the whole answer arrives, then the connection is reset) each
  of Create, Command, Send, Receive, Signal, Delete, Disconnect, Reconnect, Enumerate;
- HTTP 500 with each WSMan fault Windows sends (OperationTimeout at open and during a
  command, AccessDenied, MaxShellsPerUser, shell not found, invalid selectors,
  MaxEnvelopeSize);
- answers slower than the read timeout; the emulator killed and started again mid-command.

Inside a running command (Command, Send, Receive, Signal) the client rides a failure out on
new connections with the same MessageID, which the server answers with what it kept: nothing
lost, nothing run twice. Outside one, only what is safe to repeat is sent again (Receive,
Signal, Delete, Disconnect, Reconnect, Enumerate); a Create whose answer was lost is an error
(the client deletes the shell it proposed, in case it ran).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import psremoting
from psremoting.emulator import Emulator, faults
from psremoting.protocol.errors import PSRemotingError, SessionStateError
from psremoting.transport.options import EndpointOverride, set_endpoint_override

from .matrix import DEADLINE, HOST, OPERATIONS, OPTION, CellOutcome, Counter, run_operation

USER, PASSWORD = "matrix", "Matrix-Passw0rd"

RECOVERED, ERROR = "recovered", "error"

#: (operation, when) -> how the cell ends. Every reset is ridden out or repeated except a
#: Create's: a lost Create cannot be told from one that never ran, and is not repeated.
RESET_OUTCOMES: dict[tuple[str, str], str] = {
    (op, when): (ERROR if op == "Create" and when != "after" else RECOVERED)
    for op in OPERATIONS
    for when in ("before", "during", "after")
}

STATE_AFTER = {"Delete": "Closed", "Disconnect": "Disconnected"}


@pytest.fixture(scope="module")
def matrix_emulator() -> Iterator[tuple[Emulator, Counter]]:
    counter = Counter()
    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"), computer_name="SERVER01") as emu:
        emu.register("Count-Run", counter)
        yield emu, counter


@pytest.fixture
def cell(
    matrix_emulator: tuple[Emulator, Counter],
) -> Iterator[Callable[[str, Callable[[], None]], CellOutcome]]:
    emu, counter = matrix_emulator
    set_endpoint_override(lambda name: EndpointOverride(emu.url_for(name), USER, PASSWORD, "ntlm", None))
    made: list[Any] = []

    def run(operation: str, arm: Callable[[], None]) -> CellOutcome:
        outcome, session = run_operation(emu, counter, operation, arm)
        if session is not None:
            made.append(session)
        _check_invariants(outcome, session)
        return outcome

    yield run
    emu.faults.reset()
    for session in made:
        psremoting.remove_pssession(session, error_action="silentlycontinue")
    # No shell is left behind by any cell, whatever it ended with.
    assert emu.stats.open_shells == 0


def _check_invariants(outcome: CellOutcome, session: Any) -> None:
    assert outcome.seconds < DEADLINE, outcome
    assert outcome.runs <= 1, outcome  # never a command run twice
    if outcome.ended == ERROR:
        assert HOST in outcome.message, outcome  # names the host...
        assert "Traceback" not in outcome.message and len(outcome.message) > 40, outcome  # ...and the cause
    if session is not None and outcome.state == "Opened":
        # Opened is true: the next command runs.
        assert [str(x) for x in psremoting.invoke_command("'next'", session=session)] == ["next"]
    if session is not None and outcome.state in ("Broken", "Disconnected"):
        # Broken and Disconnected are true: the next command is refused, the state named.
        with pytest.raises(PSRemotingError) as refused:
            psremoting.invoke_command("'next'", session=session)
        assert isinstance(refused.value, SessionStateError), refused.value
        [record] = refused.value.error_records if hasattr(refused.value, "error_records") else [None]
        assert session.state == outcome.state


def _expected_output(operation: str) -> list[str]:
    return {
        "Send": ["ran 3"],
        "Command": ["ran 0"],
        "Receive": ["ran 0"],
        "Signal": ["ran 0"],
        "Create": ["ran 0"],
    }.get(operation, [])


@pytest.mark.parametrize(
    ("operation", "when"), list(RESET_OUTCOMES), ids=[f"{o}-{w}" for o, w in RESET_OUTCOMES]
)
def test_connection_reset(
    cell: Callable[[str, Callable[[], None]], CellOutcome],
    matrix_emulator: tuple[Emulator, Counter],
    operation: str,
    when: str,
) -> None:
    emu, _ = matrix_emulator
    outcome = cell(operation, lambda: emu.faults.reset_connection(operation, when))
    assert outcome.ended == RESET_OUTCOMES[operation, when], outcome
    if outcome.ended == RECOVERED:
        assert outcome.output[: len(_expected_output(operation))] == _expected_output(operation), outcome
        assert outcome.runs == (1 if _expected_output(operation) else 0), outcome
        assert outcome.state == STATE_AFTER.get(operation, "Opened"), outcome
    else:
        assert "No WinRM answer" in outcome.message, outcome
        assert psremoting.get_pssession() == [] or outcome.state != "Opened"


#: (operation the fault is injected on, the fault, how the cell ends, words the error says, state after)
WSMAN_FAULTS: dict[str, tuple[str, str, Callable[[], faults.WSManFault], str, str, str]] = {
    "OperationTimeout at open": ("Create", "Receive", faults.operation_timed_out, RECOVERED, "", "Opened"),
    "OperationTimeout in a command": (
        "Receive",
        "Receive",
        faults.operation_timed_out,
        RECOVERED,
        "",
        "Opened",
    ),
    "AccessDenied": ("Create", "Create", faults.access_denied, ERROR, "Access is denied", ""),
    "MaxShellsPerUser": (
        "Create",
        "Create",
        lambda: faults.quota_max_shells(USER, 30),
        ERROR,
        "maximum number of 30 concurrent shells",
        "",
    ),
    "shell not found": (
        "Command",
        "Command",
        lambda: faults.shell_not_found("X"),
        ERROR,
        "no longer has",
        "Broken",
    ),
    "invalid selectors": (
        "Command",
        "Command",
        faults.invalid_selectors,
        ERROR,
        "invalid selectors",
        "Opened",
    ),
    "MaxEnvelopeSize": (
        "Send",
        "Send",
        lambda: faults.envelope_too_large(600000, 512000),
        ERROR,
        "maximum envelope size",
        "Opened",
    ),
}


@pytest.mark.parametrize("name", list(WSMAN_FAULTS))
def test_http_500_with_a_wsman_fault(
    cell: Callable[[str, Callable[[], None]], CellOutcome],
    matrix_emulator: tuple[Emulator, Counter],
    name: str,
) -> None:
    emu, _ = matrix_emulator
    operation, action, fault, ended, words, state = WSMAN_FAULTS[name]
    outcome = cell(operation, lambda: emu.faults.inject(action, fault()))
    if name == "shell not found":
        emu.faults.lose_shells()  # make the emulator agree with the fault it was told to answer
    assert outcome.ended == ended, outcome
    assert words in outcome.message, outcome
    assert outcome.state == state, outcome
    if ended == RECOVERED:
        assert outcome.output == _expected_output(operation), outcome


@pytest.mark.parametrize("operation", ["Create", "Receive"])
def test_an_answer_slower_than_the_read_timeout(
    cell: Callable[[str, Callable[[], None]], CellOutcome],
    matrix_emulator: tuple[Emulator, Counter],
    operation: str,
) -> None:
    """The read timeout is OperationTimeout + 5 s (6 s here). A late Create ends the open with
    a timeout error (its shell deleted); a late Receive is asked again, same MessageID, and its
    answer arrives once."""
    emu, _ = matrix_emulator
    outcome = cell(operation, lambda: emu.faults.delay(7.0, action=operation, count=1))
    if operation == "Create":
        assert outcome.ended == ERROR and "within the time specified" in outcome.message, outcome
    else:
        assert (outcome.ended, outcome.output, outcome.runs, outcome.state) == (
            RECOVERED,
            ["ran 0"],
            1,
            "Opened",
        ), outcome


def test_the_emulator_killed_and_started_again_mid_command() -> None:
    """A server restart under a running command: the connection drops, the client rides it out
    until the new service answers, which no longer has the shell: the session is Broken, said
    clearly, within the retry period."""
    release = threading.Event()
    started = threading.Event()

    def wait(ctx: Any) -> list[Any]:
        started.set()
        ctx.io.write_output("before the restart")
        release.wait(30)
        return []

    first = Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"))
    first.register("Wait-Restart", wait)
    first.start()
    port = first.port
    holder: dict[str, Emulator] = {}
    set_endpoint_override(
        lambda name: EndpointOverride(f"http://127.0.0.1:{port}/wsman", USER, PASSWORD, "ntlm", None)
    )

    def restart() -> None:
        started.wait(30)
        time.sleep(0.3)  # the client is long-polling its Receive
        first.stop()
        release.set()
        second = Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"), port=port)
        second.start()
        holder["second"] = second

    session = psremoting.new_pssession(HOST, session_option=OPTION)
    restarter = threading.Thread(target=restart, daemon=True)
    restarter.start()
    began = time.monotonic()
    try:
        result = psremoting.invoke_command("Wait-Restart", session=session)
        seconds = time.monotonic() - began
        restarter.join(10)
        assert seconds < DEADLINE
        assert [str(x) for x in result] == ["before the restart"]  # what came before, once
        [error] = result.errors
        assert HOST in error.message and "Broken" in error.message, error.message
        assert session.state == "Broken"
        assert holder["second"].stats.open_shells == 0
    finally:
        release.set()
        psremoting.remove_pssession(session, error_action="silentlycontinue")
        if "second" in holder:
            holder["second"].stop()
