"""Out-Default for output arriving one object at a time: a table is laid out from its first
objects and then written row by row as they come, the same text as the whole output at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psremoting.cmdlets.formatting import format_lines
from psremoting.cmdlets.formatting.stream import OutDefault
from psremoting.protocol.psobject import PSObject


def _file(name: str, folder: str = "C:\\Logs") -> PSObject:
    return PSObject(
        [
            "Deserialized.System.IO.FileInfo",
            "Deserialized.System.IO.FileSystemInfo",
            "Deserialized.System.Object",
        ],
        {
            "PSParentPath": "Microsoft.PowerShell.Core\\FileSystem::" + folder,
            "Mode": "-a----",
            "Name": name,
            "Length": 1024,
            "LastWriteTime": dt.datetime(2023, 2, 7, 8, 6),
        },
    )


def _stream(items: list[Any], window: int) -> tuple[list[str], list[int]]:
    out = OutDefault(width=120, window=window)
    lines: list[str] = []
    shown_after: list[int] = []  # how many lines were out after each object
    for item in items:
        lines += out.add(item)
        shown_after.append(len(lines))
    return lines + out.close(), shown_after


def test_a_long_table_is_written_as_its_rows_come() -> None:
    files = [_file(f"app{n:03}.log") for n in range(120)]
    lines, shown_after = _stream(files, window=50)
    assert lines == format_lines(files, width=120)  # the same text as all at once
    assert shown_after[48] == 0  # held until the layout is known...
    assert shown_after[49] > 0 and shown_after[50] == shown_after[49] + 1  # ...then a row each


def test_a_new_folder_starts_its_own_table_and_short_runs_read_as_out_string() -> None:
    items = [_file("a.log"), _file("b.log"), _file("c.log", "C:\\Temp"), "done"]
    lines, _ = _stream(items, window=50)
    assert lines == format_lines(items, width=120)
    assert [line for line in lines if "Directory:" in line] == [
        "    Directory: C:\\Logs",
        "    Directory: C:\\Temp",
    ]
    assert lines[-1] == "done"


def test_lists_stream_each_object_after_the_first_ones() -> None:
    objects = [PSObject(["X"], {f"P{i}": n for i in range(6)}) for n in range(5)]
    lines, shown_after = _stream(objects, window=2)
    assert lines == format_lines(objects, width=120)
    assert shown_after[0] == 0 and shown_after[1] > 0 and shown_after[2] > shown_after[1]


def test_a_slow_command_shows_its_table_when_an_object_comes_after_the_hold(monkeypatch: Any) -> None:
    import psremoting.cmdlets.formatting.stream as stream

    clock = [100.0]
    monkeypatch.setattr(stream.time, "monotonic", lambda: clock[0])
    out = OutDefault(width=120, window=50, hold=2.0)
    assert out.add(_file("a.log")) == []
    clock[0] += 0.5
    assert out.add(_file("b.log")) == []  # within the hold: still laying out
    clock[0] += 2.0
    shown = out.add(_file("c.log"))  # late: the table is laid out from what came
    assert [line for line in shown if line.endswith(".log")] == [
        "-a----         2/7/2023   8:06 AM           1024 a.log",
        "-a----         2/7/2023   8:06 AM           1024 b.log",
        "-a----         2/7/2023   8:06 AM           1024 c.log",
    ]
    assert out.add(_file("d.log")) == ["-a----         2/7/2023   8:06 AM           1024 d.log"]
