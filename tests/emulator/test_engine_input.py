"""Pipeline input in the engine, as Windows runs a script with input from the client.

A script's end block reads ``$input`` as the client's objects arrive (the external reader of
ScriptCommandProcessor), named blocks run begin / process (``$_``) / end, functions with a
process block stream, and without a host UI SetShouldExit still reaches the client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psrpcore.types import HostMethodIdentifier

from psremoting.emulator.engine import Engine

from .engine_recorder import Recorder, run, script


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path)


def test_input_reaches_dollar_input_and_named_blocks(engine: Engine) -> None:
    assert run(engine, "$input | ForEach-Object { $_ * 2 }", input_items=[1, 2, 3])[1].output == [2, 4, 6]
    blocks = "begin { 'b' } process { \"p$_\"; \"count $($input.Count)\" } end { 'e' }"
    assert run(engine, blocks, input_items=["x", "y"])[1].output == [
        "b",
        "px",
        "count 1",
        "py",
        "count 1",
        "e",
    ]
    # Without input the process block runs once, with $_ = $null (as in PowerShell).
    assert run(engine, 'process { "[$_]" }')[1].output == ["[]"]


def test_the_end_block_reads_input_as_it_arrives(engine: Engine) -> None:
    """The second object is given only after the first one's output was written: a script
    that waited for all of its input before running would never get it (bounded wait)."""
    first_out = threading.Event()

    class Streaming(Recorder):
        def write_output(self, obj: Any) -> None:
            super().write_output(obj)
            first_out.set()

        def input(self) -> Iterator[Any]:
            yield 1
            assert first_out.wait(10), "the script did not run before its input ended"
            yield 2

    rec = Streaming()
    result = engine.invoke(script("$input | ForEach-Object { $_ * 10 }"), rec)
    assert result.failed is None and rec.output == [10, 20]


def test_functions_with_a_process_block_stream_pipeline_input(engine: Engine) -> None:
    run(
        engine,
        "function Double { process { $_ * 2 } }; function Sum { begin { $t = 0 } process { $t += $_ } end { $t } }",
    )
    assert run(engine, "1..4 | Double")[1].output == [2, 4, 6, 8]
    assert run(engine, "1..4 | Double | Sum")[1].output == [20]
    # First in its pipeline (no input expected), a process block runs once, with $_ = $null.
    assert run(engine, 'function Show { process { "[$_]" } }; Show')[1].output == ["[]"]


def test_exit_code_reaches_a_client_without_host_ui(engine: Engine) -> None:
    rec = run(engine, "exit 3", has_host=False)[1]
    assert (HostMethodIdentifier.SetShouldExit, [3]) in rec.host_calls
