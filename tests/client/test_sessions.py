"""New/Get/Remove-PSSession and commands on sessions, against the emulator over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import HostNotFoundError, RemoteError, SessionNotFoundError, SessionStateError
from psremoting.protocol.objects import PSObject

from .conftest import UNRESOLVABLE

SESSION1_ROW = "  1 Session1        WSMan     Server01        RemoteMachine   Opened        Microsoft.PowerShell     Available"


def test_seed_example_2_session_survives_enter_and_exit(emu: Emulator) -> None:
    # PS C:\> $s = new-pssession -computername Server01
    s = psremoting.new_pssession("Server01")
    assert (s.id, s.name, s.computer_name, str(s)) == (1, "Session1", "Server01", "[PSSession]Session1")
    # PS C:\> Enter-PSSession -session $s ; Server01\PS> Exit-PSSession
    entered = psremoting.enter_pssession(session=s)
    assert entered.prompt().startswith("[Server01]: PS C:\\")
    psremoting.exit_pssession()
    assert not entered.is_active and psremoting.cmdlets.interactive.current() is None
    # PS C:\> $s  -> still Opened and Available
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    assert psremoting.format_table(s).splitlines()[2] == SESSION1_ROW
    assert psremoting.format_table(psremoting.get_pssession()).splitlines()[2] == SESSION1_ROW
    assert emu.shells() == 1


def test_new_pssession_opens_and_registers(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01", name="Mine")
    assert s.name == "Mine" and s.id == 1
    assert s.state == psremoting.SessionState.OPENED
    assert s.availability == psremoting.Availability.AVAILABLE
    assert isinstance(s.instance_id, uuid.UUID) and s.configuration_name == "Microsoft.PowerShell"
    assert psremoting.get_pssession() == [s]
    second = psremoting.new_pssession("Server02")
    assert (second.id, second.name) == (2, "Session2")


def test_several_computers_concurrently_failures_kept_apart(emu: Emulator) -> None:
    result = psremoting.new_pssession(["Server01", f"bad.{UNRESOLVABLE}", "Server02", "Server03"])
    assert sorted(s.computer_name for s in result) == ["Server01", "Server02", "Server03"]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert isinstance(error, HostNotFoundError) and error.computer_name == f"bad.{UNRESOLVABLE}"
    # Ids are taken in input order, the failed computer's included.
    assert sorted(s.id for s in result) == [1, 3, 4]
    assert sorted(s.name for s in psremoting.get_pssession()) == ["Session1", "Session3", "Session4"]
    for s in result:
        assert s.invoke("$env:COMPUTERNAME").output  # every one works


def test_get_pssession_filters_and_powershell_errors(emu: Emulator) -> None:
    a = psremoting.new_pssession("Server01", name="WebA")
    b = psremoting.new_pssession("Server02", name="WebB")
    c = psremoting.new_pssession("Server03", name="Db1")
    assert psremoting.get_pssession(id=2) == [b]
    assert psremoting.get_pssession(id=[1, 3]) == [a, c]
    assert psremoting.get_pssession(name="web*") == [a, b]
    assert psremoting.get_pssession(name="DB1") == [c]
    assert psremoting.get_pssession(name="nothing*") == []  # a wildcard that matches nothing is silent
    assert psremoting.get_pssession(instance_id=str(b.instance_id)) == [b]
    assert psremoting.get_pssession(state="Opened") == [a, b, c]
    c.close()
    assert psremoting.get_pssession(state="closed") == [c]  # kept in the registry until removed
    with pytest.raises(SessionNotFoundError) as info:
        psremoting.get_pssession(id=[1, 7])
    assert str(info.value) == "The remote session with the session ID 7 is not available."
    assert info.value.sessions == [a]
    with pytest.raises(
        SessionNotFoundError, match=r"The remote session with the name Nope  is not available\."
    ):
        psremoting.get_pssession(name="Nope")
    missing = uuid.uuid4()
    with pytest.raises(SessionNotFoundError, match=f"Remote session is not available for {missing}."):
        psremoting.get_pssession(instance_id=missing)
    assert psremoting.get_pssession(id=[2, 9], error_action="continue") == [b]


def test_remove_closes_on_the_server(emu: Emulator) -> None:
    a = psremoting.new_pssession("Server01")
    b = psremoting.new_pssession("Server02")
    assert emu.shells() == 2
    removed = psremoting.remove_pssession(a)
    assert removed == [a] and a.state.value == "Closed" and a.availability.value == "None"
    assert emu.shells() == 1
    assert psremoting.get_pssession() == [b]
    psremoting.remove_pssession(name="Session*")
    assert emu.shells() == 0 and psremoting.get_pssession() == []
    with pytest.raises(SessionStateError, match="is not equal to Open"):
        b.invoke("1")
    with pytest.raises(SessionNotFoundError):
        psremoting.remove_pssession(id=42)


def test_invoke_returns_python_objects(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    result = s.invoke(
        "Get-Date; 42; 'text'; @{a=1; b='x'}; 1..3; [pscustomobject]@{Name='n'; Size=3}; Get-Location"
    )
    when, number, text, table, one, two, three, custom, location = result.output
    assert isinstance(when, dt.datetime) and when.year >= 2026
    assert number == 42 and text == "text" and table == {"a": 1, "b": "x"} and [one, two, three] == [1, 2, 3]
    assert isinstance(custom, PSObject) and custom.Name == "n" and custom.size == 3
    assert location.type_names[0] == "System.Management.Automation.PathInfo"
    assert str(location) == "C:\\Users\\user\\Documents" == location.Path
    assert result.state == "Completed" and not result.had_errors


def test_output_annotated_and_errors_in_order(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    items = list(s.start("1; Write-Error first; 'two'; Write-Error second"))
    outputs = [i.value for i in items if i.stream == "output"]
    errors = [i.value for i in items if i.stream == "error"]
    assert outputs == [1, "two"]
    assert all(o.PSComputerName == "Server01" and o.RunspaceId == s.instance_id for o in outputs)
    assert all(o.PSShowComputerName is True for o in outputs)
    assert [e.message for e in errors] == ["first", "second"]
    assert errors[0].computer_name == "Server01" and errors[0].runspace_id == s.instance_id
    assert errors[0].fully_qualified_error_id.startswith("Microsoft.PowerShell.Commands.WriteErrorException")
    hidden = next(iter(s.start("1", show_computer_name=False)))
    assert hidden.value.PSShowComputerName is False
    with pytest.raises(RemoteError) as info:
        s.invoke("1; Write-Error stop-here; 2", error_action="stop")
    assert info.value.record.message == "stop-here"
    assert s.availability.value == "Available"  # the stopped pipeline was cleaned up
    assert s.invoke("Write-Warning careful; Write-Verbose chatty").warning == ["careful"]


def test_unknown_command_is_a_remote_error(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    result = s.invoke("Get-Nothing")
    assert result.had_errors
    record = result.error[0]
    assert record.message.startswith("The term 'Get-Nothing' is not recognized")
    assert record.fully_qualified_error_id.startswith("CommandNotFoundException")
    assert record.category == "ObjectNotFound"


def test_arguments_and_iterator_and_list(emu: Emulator) -> None:
    emu.register("Echo-Args", lambda ctx: [*ctx.args, *ctx.input])
    s = psremoting.new_pssession("Server01")
    command = psremoting.runspace.pipeline.Command("Echo-Args", is_script=False, arguments=["a", 2])
    assert s.runspace.start(commands=[command]).result().output == ["a", 2]
    assert s.invoke("$input | Echo-Args", input=["x", "y"]).output == ["x", "y"]
    streamed = list(s.start("1..5").output())
    assert streamed == [1, 2, 3, 4, 5]


def test_disconnect_and_reconnect(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    psremoting.disconnect_pssession(s)
    assert (s.state.value, s.availability.value) == ("Disconnected", "None")
    with pytest.raises(SessionStateError):
        s.invoke("1")
    psremoting.connect_pssession(s)
    assert (s.state.value, s.availability.value) == ("Opened", "Available")
    assert s.invoke("7").output == [7]
    psremoting.disconnect_pssession(s)
    psremoting.remove_pssession(s)  # reconnects first so the server side goes too
    assert s.state.value == "Closed" and emu.shells() == 0


def test_psobject_output(emu: Emulator) -> None:
    s = psremoting.new_pssession("Server01")
    completion = s.invoke("x").error  # warm: an unknown command
    assert completion
    found = s.runspace.start(
        commands=[
            psremoting.runspace.pipeline.Command(
                "TabExpansion2", is_script=False, parameters={"inputScript": "Get-Da", "cursorColumn": 6}
            )
        ]
    ).result()
    obj = found.output[0]
    assert isinstance(obj, PSObject)
    assert obj.type_names[0].endswith("CommandCompletion")
    assert obj.ReplacementIndex == 0 and obj.CompletionMatches[0].CompletionText == "Get-Date"


def test_one_session_shared_by_threads_is_serialized(emu: Emulator) -> None:
    import threading

    s = psremoting.new_pssession("Server01")
    results: dict[int, list[object]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            results[n] = [s.invoke(str(n * 100 + i)).output[0] for i in range(10)]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert results == {n: [n * 100 + i for i in range(10)] for n in range(3)}


def test_sessions_are_yielded_in_completion_order(emu: Emulator) -> None:
    import time

    emu.faults.delay(1.5, action="Create", count=1)  # one computer is slow to answer
    started = time.monotonic()
    arrivals = []
    for item in psremoting.cmdlets.sessions.iter_new_pssession(["Server01", "Server02", "Server03"]):
        assert isinstance(item, psremoting.PSSession)
        arrivals.append((item.computer_name, time.monotonic() - started))
    assert len(arrivals) == 3
    assert arrivals[0][1] < 1.2  # the quick ones were not held back by the slow one
    assert arrivals[-1][1] >= 1.4
