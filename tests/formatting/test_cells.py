"""How values read in table cells and on their own lines (Out-String)."""

from __future__ import annotations

from psremoting.protocol.psobject import PSObject


def test_nested_values_in_cells_read_as_powershell_writes_them() -> None:
    from psremoting import out_string

    obj = PSObject(["X"], {"A": {"k": 1}, "B": b"\x01\x02\x03\x04\x05", "C": [1, 2], "D": None})
    assert out_string([obj]).split("\n")[3].split() == [
        "System.Collections.Hashtable",
        "{1,",
        "2,",
        "3,",
        "4...}",
        "{1,",
        "2}",
    ]
    assert out_string([b"\x01\x02"]) == "1\n2\n"  # a byte[] on its own: a number a line
