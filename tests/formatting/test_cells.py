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


def test_an_error_record_among_the_output_reads_as_the_error_view() -> None:
    from psremoting import out_string

    record = PSObject(
        ["Deserialized.System.Management.Automation.ErrorRecord", "Deserialized.System.Object"],
        {
            "FullyQualifiedErrorId": "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
            "ErrorCategory_Message": "ObjectNotFound: (C:\\nope:String) [Get-Item], ItemNotFoundException",
            "PSComputerName": "srv1",
            "PSShowComputerName": True,
        },
        "Cannot find path 'C:\\nope' because it does not exist.",
    )
    assert out_string([record]).split("\n")[:4] == [
        "Cannot find path 'C:\\nope' because it does not exist.",
        "    + CategoryInfo          : ObjectNotFound: (C:\\nope:String) [Get-Item], ItemNotFoundException",
        "    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
        "    + PSComputerName        : srv1",
    ]
