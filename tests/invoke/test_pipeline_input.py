"""Pipeline input to Invoke-Command (-InputObject, ``$data | Invoke-Command``) and the
non-interactive host, end to end against emulated computers over loopback.

Input reaches the remote ``$input`` and ``process {}`` one object at a time while it is read:
a generator that would be far too big for memory is consumed as it goes (the memory figure
for 1 GB is in bench/bench_input.py). Without a host UI, Read-Host and Get-Credential fail on
the server with PowerShell's non-interactive-host error instead of reading "".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psremoting


def test_input_object_reaches_dollar_input_and_process_blocks(make_fleet: Any) -> None:
    make_fleet("a")
    doubled = psremoting.invoke_command(
        "$input | ForEach-Object { $_ * 2 }", computer_name="a", input_object=range(1, 6)
    )
    assert list(doubled) == [2, 4, 6, 8, 10] and not doubled.errors
    blocks = psremoting.invoke_command(
        "begin { 'begin' } process { \"item $_\" } end { 'end' }", computer_name="a", input_object=["x", "y"]
    )
    assert [str(o) for o in blocks] == ["begin", "item x", "item y", "end"]
    # A string is one object, not its characters; so is a dict.
    assert list(psremoting.invoke_command("@($input).Count", computer_name="a", input_object="abc")) == [1]


def test_every_computer_gets_all_of_a_one_shot_iterator(make_fleet: Any) -> None:
    make_fleet("a", "b")
    result = psremoting.invoke_command(
        "($input | Measure-Object -Sum).Sum", computer_name=["a", "b"], input_object=(n for n in range(10))
    )
    assert sorted(result) == [45, 45]


def test_input_is_read_while_the_remote_command_already_runs(make_fleet: Any) -> None:
    """The generator below does not give its third item until the server has processed the
    first two: a client that read all input before starting would deadlock (bounded wait)."""
    seen: list[Any] = []
    processed = threading.Condition()

    def note(ctx: Any) -> list[Any]:
        with processed:
            seen.extend(ctx.input or ctx.args)
            processed.notify_all()
        return []

    make_fleet("a", handlers={"Note-Item": note})
    read: list[int] = []

    def source() -> Iterator[str]:
        for n in range(3):
            if n == 2:
                with processed:
                    assert processed.wait_for(lambda: len(seen) >= 2, timeout=20), (
                        "items 0 and 1 never arrived"
                    )
            read.append(n)
            yield "x" * 200_000 + str(n)  # big: each item goes in Sends of its own

    result = psremoting.invoke_command("process { Note-Item $_ }", computer_name="a", input_object=source())
    assert not result.errors, [e.message for e in result.errors]
    assert read == [0, 1, 2] and [s[-1] for s in seen] == ["0", "1", "2"]


def test_read_host_and_get_credential_fail_as_on_a_non_interactive_host(make_fleet: Any) -> None:
    make_fleet("a")
    read = psremoting.invoke_command("$x = Read-Host 'Name'; \"got [$x]\"", computer_name="a")
    # Read-Host's error ends its statement only, as a cmdlet's terminating error does.
    assert list(read) == ["got []"]
    (error,) = read.errors
    assert (
        error.fully_qualified_error_id
        == "HostFunctionNotImplemented,Microsoft.PowerShell.Commands.ReadHostCommand"
    )
    assert error.category == "NotImplemented"
    assert error.message.startswith(
        "A command that prompts the user failed because the host program or the command type does not "
        "support user interaction."
    )
    credential = psremoting.invoke_command("Get-Credential -UserName admin", computer_name="a")
    (error,) = credential.errors
    assert error.message.endswith(
        "The host was attempting to request confirmation with the following message: Enter your credentials."
    )
    # The same without a HostUI in a session's own pipelines; `exit N` still reports its code.
    s = psremoting.new_pssession("a")
    try:
        assert "HostFunctionNotImplemented" in s.invoke("Read-Host").error[0].fully_qualified_error_id
        result = psremoting.invoke_command("Write-Host 'shown'; exit 4", session=s)
        assert result.hosts["a"].exit_code == 4
        assert [str(i.message_data) for i in result.hosts["a"].information] == ["shown"]
    finally:
        psremoting.remove_pssession(s)


def test_an_interactive_host_still_answers_read_host(make_fleet: Any) -> None:
    make_fleet("a")
    ui = psremoting.BufferedHostUI(["typed"])
    s = psremoting.new_pssession("a")
    try:
        assert s.invoke("Read-Host", ui=ui).output == ["typed"]
    finally:
        psremoting.remove_pssession(s)
