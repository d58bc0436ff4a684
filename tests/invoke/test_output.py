"""The writers and the exit-code rule of `psremoting invoke`, and the JSON Schema they follow.

These build HostResults by hand (no network); tests/invoke/test_cli.py checks the same
documents produced by real runs against the emulator.
"""

from __future__ import annotations

import io
import json
import uuid

import jsonschema
import pytest

from psremoting.cli.invoke_output import (
    EXIT_CONNECTION,
    EXIT_OK,
    EXIT_REMOTE_ERROR,
    EXIT_TIMEOUT,
    JsonLinesWriter,
    JsonWriter,
    TextWriter,
    exit_code_for,
)
from psremoting.cmdlets.invoke.results import (
    HostResult,
    HostStatus,
    InvokeEvent,
    connection_failure_record,
    load_schema,
    timeout_record,
    to_jsonable,
)
from psremoting.protocol.errors import ConnectionFailedError, RemoteErrorRecord
from psremoting.protocol.objects import PSObject, annotate


def schema() -> dict:
    return load_schema()


def host_schema() -> dict:
    return load_schema("hostResult")


def sample_results() -> list[HostResult]:
    rid = uuid.uuid4()
    obj = annotate(PSObject(["System.Diagnostics.Process"], {"Name": "pwsh", "Id": 42}), "web1", rid)
    ok = HostResult(
        "web1",
        output=["hello", obj, 3, None, True],
        runspace_id=rid,
        duration=0.5,
        warning=["careful"],
        exit_code=None,
    )
    error = RemoteErrorRecord(
        message="boom",
        category="NotSpecified",
        activity="Write-Error",
        reason="WriteErrorException",
        fully_qualified_error_id="Microsoft.PowerShell.Commands.WriteErrorException",
        computer_name="web2",
        script_stack_trace="at <ScriptBlock>, <No file>: line 1",
    )
    failed = HostResult("web2", HostStatus.FAILED, error=[error], reason="1 error: boom", duration=0.2)
    down_record = connection_failure_record(
        "web3", ConnectionFailedError("web3", "The connection was refused.")
    )
    down = HostResult(
        "web3", HostStatus.CONNECTION_FAILED, error=[down_record], reason="The connection was refused."
    )
    slow = HostResult(
        "web4",
        HostStatus.TIMED_OUT,
        error=[timeout_record("web4", 5, started=True)],
        reason="did not finish within the timeout of 5 seconds",
    )
    return [ok, failed, down, slow]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_json_output_validates_against_the_schema_and_has_one_document_per_host() -> None:
    out = io.StringIO()
    code = JsonWriter(out).finish(sample_results(), 1.25)
    report = json.loads(out.getvalue())
    jsonschema.validate(report, schema())
    assert code == EXIT_CONNECTION == report["exit_code"]
    assert [h["host"] for h in report["hosts"]] == ["web1", "web2", "web3", "web4"]
    web1 = report["hosts"][0]
    # Objects become their properties; the remoting note properties are in the host document instead.
    assert web1["output"] == ["hello", {"Name": "pwsh", "Id": 42}, 3, None, True]
    assert report["summary"] == {
        "hosts": 4,
        "completed": 1,
        "failed": 1,
        "connection_failed": 1,
        "timed_out": 1,
        "stopped": 0,
        "disconnected": 0,
        "duration": 1.25,
    }
    err = report["hosts"][1]["errors"][0]
    assert err["category_info"]["activity"] == "Write-Error"
    assert err["script_stack_trace"].startswith("at <ScriptBlock>")


def test_jsonl_writes_one_valid_line_per_host_as_each_finishes() -> None:
    out = io.StringIO()
    writer = JsonLinesWriter(out)
    for result in sample_results():
        writer.event(InvokeEvent("output", result.computer_name, "ignored"))
        writer.event(InvokeEvent("finished", result.computer_name, result))
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    for line in lines:
        jsonschema.validate(json.loads(line), host_schema())


def test_connection_failure_is_worded_as_invoke_command_words_it() -> None:
    record = connection_failure_record("web3", ConnectionFailedError("web3", "The connection was refused."))
    assert record.message == (
        "[web3] Connecting to remote server web3 failed with the following error message : "
        "The connection was refused. For more information, see the about_Remote_Troubleshooting Help topic."
    )
    assert record.fully_qualified_error_id == "CannotConnect,PSSessionStateBroken"
    assert record.category_info == "OpenError: (web3:String) [], PSRemotingTransportException"


@pytest.mark.parametrize(
    ("statuses", "exit_code", "expected"),
    [
        ([HostStatus.COMPLETED], None, EXIT_OK),
        ([HostStatus.COMPLETED], 0, EXIT_OK),
        ([HostStatus.FAILED], 7, 7),  # one host: its `exit 7`
        ([HostStatus.FAILED], 256, EXIT_REMOTE_ERROR),  # never a false success
        ([HostStatus.FAILED], -1, 255),
        ([HostStatus.FAILED], None, EXIT_REMOTE_ERROR),
        ([HostStatus.COMPLETED, HostStatus.FAILED], None, EXIT_REMOTE_ERROR),
        ([HostStatus.COMPLETED, HostStatus.TIMED_OUT, HostStatus.FAILED], None, EXIT_TIMEOUT),
        ([HostStatus.TIMED_OUT, HostStatus.CONNECTION_FAILED], None, EXIT_CONNECTION),
        ([HostStatus.TIMED_OUT], 3, EXIT_TIMEOUT),
    ],
)
def test_exit_code_rule(statuses: list[HostStatus], exit_code: int | None, expected: int) -> None:
    results = [
        HostResult(f"h{i}", s, exit_code=exit_code if i == 0 else None) for i, s in enumerate(statuses)
    ]
    assert exit_code_for(results) == expected


def test_text_output_shows_the_computer_name_column_for_objects_and_plain_scalars() -> None:
    out, err = io.StringIO(), io.StringIO()
    writer = TextWriter(out, err)
    rid = uuid.UUID(int=1)
    for host in ("web1", "web2"):
        writer.event(
            InvokeEvent("output", host, annotate(PSObject(["X"], {"LCID": 1033, "Name": "en-US"}), host, rid))
        )
    writer.event(InvokeEvent("output", "web1", annotate("plain text", "web1", rid)))
    writer.event(InvokeEvent("warning", "web1", "disk almost full"))
    writer.event(InvokeEvent("error", "web2", sample_results()[1].errors[0]))
    writer.finish([], 0.0)
    assert out.getvalue().splitlines() == [
        "",
        # Invoke-Command's output in a table: PSComputerName and RunspaceId, as PowerShell shows them
        "LCID Name  PSComputerName RunspaceId",
        "---- ----  -------------- ----------",
        "1033 en-US web1           00000000-0000-0000-0000-000000000001",
        "1033 en-US web2           00000000-0000-0000-0000-000000000001",
        "",
        "plain text",
    ]
    assert "WARNING: disk almost full" in err.getvalue()
    assert "    + PSComputerName        : web2" in err.getvalue()


def test_text_output_hides_the_computer_name_when_asked() -> None:
    out = io.StringIO()
    writer = TextWriter(out, io.StringIO(), hide_computer_name=True)
    writer.event(InvokeEvent("output", "web1", PSObject(["X"], {"LCID": 1033})))
    assert "PSComputerName" not in out.getvalue()


def test_to_jsonable_handles_nested_and_odd_values() -> None:
    import datetime

    value = {
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "bytes": b"\x00\x01",
        "nan": float("nan"),
        "list": (1, [2, {"x": uuid.UUID(int=1)}]),
    }
    assert to_jsonable(value) == {
        "when": "2026-01-02T03:04:05",
        "bytes": "AAE=",
        "nan": "nan",
        "list": [1, [2, {"x": "00000000-0000-0000-0000-000000000001"}]],
    }
    deep: list = []
    cur = deep
    for _ in range(20):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    json.dumps(to_jsonable(deep))  # depth-limited, never recursion errors
