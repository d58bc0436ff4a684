"""The everyday commands over Windows-shaped synthetic data: Get-Process, ConvertTo/From-Json,
Get-Random, Group-Object, Get-Help, Get-CimInstance."""

from __future__ import annotations

from pathlib import Path

import pytest

from psremoting.emulator.config import load_config
from psremoting.emulator.engine import Engine

from .engine_recorder import run


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(computer_name="server01", username="user", root=tmp_path / "C")


def test_get_process_lists_server_core_processes_as_process_objects(engine: Engine) -> None:
    processes = run(engine, "Get-Process")[1].output
    names = [p.ProcessName for p in processes]
    assert names == sorted(names, key=str.lower)
    assert {"System", "smss", "csrss", "wininit", "services", "lsass", "wsmprovhost"} <= set(names)
    assert names.count("svchost") >= 5 and "explorer" not in names
    (lsass,) = run(engine, "Get-Process -Name lsass")[1].output
    assert lsass.PSObject.type_names[0] == "System.Diagnostics.Process"
    assert (lsass.Id, lsass.Name, lsass.SI) == (636, "lsass", 0)
    assert lsass.Handles == lsass.HandleCount > 0 and lsass.WS == lsass.WorkingSet64 > 0
    assert lsass.PM > 0 and lsass.NPM > 0 and isinstance(lsass.CPU, float)
    assert lsass.Path == "C:\\Windows\\System32\\lsass.exe"
    assert str(lsass) == "System.Diagnostics.Process (lsass)"
    assert [p.Id for p in run(engine, "Get-Process -Id 4, 636")[1].output] == [4, 636]
    assert [p.ProcessName for p in run(engine, "gps sm*")[1].output] == ["smss"]


def test_get_process_unknown_name_and_id_are_windows_errors(engine: Engine) -> None:
    _, rec = run(engine, "Get-Process nosuch; Get-Process -Id 99999")
    first, second = rec.errors
    assert (
        str(first)
        == 'Cannot find a process with the name "nosuch". Verify the process name and call the cmdlet again.'
    )
    assert (
        first.FullyQualifiedErrorId
        == "NoProcessFoundForGivenName,Microsoft.PowerShell.Commands.GetProcessCommand"
    )
    assert str(second) == "Cannot find a process with the process identifier 99999."
    assert rec.output == []


def test_processes_come_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text('[[processes]]\nName = "w3wp"\nId = 4242\nWS = 52428800\n')
    kwargs = load_config(config)
    engine = Engine(root=tmp_path / "C", processes=kwargs["processes"])
    (w3wp,) = run(engine, "Get-Process")[1].output
    assert (w3wp.ProcessName, w3wp.Id, w3wp.WS) == ("w3wp", 4242, 52428800)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[processes]]\nName = "w3wp"\n')
    with pytest.raises(ValueError, match="needs a Name and an Id"):
        load_config(bad)


def test_get_process_is_shown_in_windows_process_table(engine: Engine) -> None:
    lines = run(engine, "Get-Process -Name lsass", out_default=True)[1].lines
    assert lines[1:4] == [
        "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName",
        "-------  ------    -----      -----     ------     --  -- -----------",
        "   1190      21     9396      18792       4.98    636   0 lsass",
    ]


def test_convertto_json_writes_51_layout(engine: Engine) -> None:
    (text,) = run(engine, "[ordered]@{Name='x'; Arr=1,2; Sub=@{b=$true}; N=$null} | ConvertTo-Json")[1].output
    assert text.split("\r\n") == [
        "{",
        '    "Name":  "x",',
        '    "Arr":  [',
        "                1,",
        "                2",
        "            ],",
        '    "Sub":  {',
        '                "b":  true',
        "            },",
        '    "N":  null',
        "}",
    ]
    assert run(engine, '[pscustomobject]@{a=1;b="it\'s <x>"} | ConvertTo-Json -Compress')[1].output == [
        '{"a":1,"b":"it\\u0027s \\u003cx\\u003e"}'
    ]
    assert run(engine, "1,2 | ConvertTo-Json")[1].output == ["[\r\n    1,\r\n    2\r\n]"]


def test_convertto_json_depth_turns_deeper_objects_into_strings(engine: Engine) -> None:
    script = "@{a=@{b=@{c=@{d=1}}}} | ConvertTo-Json -Compress"
    assert run(engine, script)[1].output == ['{"a":{"b":{"c":"System.Collections.Hashtable"}}}']
    assert run(engine, script.replace("-Compress", "-Compress -Depth 5"))[1].output == [
        '{"a":{"b":{"c":{"d":1}}}}'
    ]
    (text,) = run(engine, "Get-Process -Id 636 | ConvertTo-Json -Compress")[1].output
    assert '"ProcessName":"lsass"' in text and '"Id":636' in text


def test_convertfrom_json_gives_pscustomobjects(engine: Engine) -> None:
    _, rec = run(
        engine,
        """$o = '{"a":1,"b":[1,2],"c":{"d":"e"}}' | ConvertFrom-Json; $o.c.d; $o.b.Count; $o.GetType().Name""",
    )
    assert rec.output[:2] == ["e", 2]
    (obj,) = run(engine, """'{"a":1}' | ConvertFrom-Json""")[1].output
    assert obj["a"] == 1
    # 5.1 writes a JSON array as one object down the pipeline.
    assert run(engine, "('[1,2,3]' | ConvertFrom-Json | Measure-Object).Count")[1].output == [1]
    assert [str(e) for e in run(engine, "'nope' | ConvertFrom-Json")[1].errors] == [
        "Invalid JSON primitive: nope."
    ]


def test_get_random_ranges_count_and_input(engine: Engine) -> None:
    values = run(engine, "1..50 | ForEach-Object { Get-Random -Minimum 1 -Maximum 4 }")[1].output
    assert set(values) <= {1, 2, 3} and len(set(values)) > 1
    picked = run(engine, "1..10 | Get-Random -Count 3")[1].output
    assert len(picked) == 3 and len(set(picked)) == 3 and set(picked) <= set(range(1, 11))
    assert run(engine, "Get-Random -InputObject 'a','b' -SetSeed 1")[1].output[0] in ("a", "b")
    (error,) = run(engine, "Get-Random -Minimum 5 -Maximum 5")[1].errors
    assert str(error) == "The Minimum value (5) cannot be greater than or equal to the Maximum value (5)."
    assert (
        error.FullyQualifiedErrorId
        == "MinGreaterThanOrEqualMax,Microsoft.PowerShell.Commands.GetRandomCommand"
    )


def test_group_object_writes_groupinfo_in_first_seen_order(engine: Engine) -> None:
    groups = run(engine, "'b','a','B','c' | Group-Object")[1].output
    assert [(g.Name, g.Count) for g in groups] == [("b", 2), ("a", 1), ("c", 1)]
    assert groups[0].PSObject.type_names[0] == "Microsoft.PowerShell.Commands.GroupInfo"
    assert groups[0].Group == ["b", "B"]
    (svchost,) = run(engine, "Get-Process | Group-Object ProcessName | Where-Object Name -eq svchost")[
        1
    ].output
    assert svchost.Count == 8
    lines = run(engine, "Get-Process -Name csrss | Group-Object ProcessName", out_default=True)[1].lines
    assert lines[1:4] == [
        "Count Name                      Group",
        "----- ----                      -----",
        "    2 csrss                     {System.Diagnostics.Process (csrss), System.Diagnostics.Process (csrss)}",
    ]


def test_get_help_shows_partial_help_and_unknown_topic_error(engine: Engine) -> None:
    (help_info,) = run(engine, "Get-Help Get-Process")[1].output
    assert help_info.Name == "Get-Process" and help_info.Category == "Cmdlet"
    text = str(help_info).split("\r\n")
    assert text[1:3] == ["NAME", "    Get-Process"]
    assert text[5].startswith("    Get-Process [[-Name] <string[]>]")
    assert "    gps" in text and "    ps" in text
    (error,) = run(engine, "Get-Help nosuch")[1].errors
    assert str(error).startswith("Get-Help could not find nosuch in a help file in this session.")
    assert error.FullyQualifiedErrorId == "HelpNotFound,Microsoft.PowerShell.Commands.GetHelpCommand"


def test_cim_and_wmi_operating_system_and_disks(engine: Engine) -> None:
    (os_info,) = run(engine, "Get-CimInstance Win32_OperatingSystem")[1].output
    assert (
        os_info.PSObject.type_names[0]
        == "Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_OperatingSystem"
    )
    assert (os_info.Caption, os_info.Version, os_info.BuildNumber) == (
        "Microsoft Windows Server 2019 Datacenter", "10.0.17763", "17763")  # fmt: skip
    assert os_info.LastBootUpTime < os_info.LocalDateTime and os_info.CSName == "SERVER01"
    lines = run(engine, "Get-CimInstance Win32_OperatingSystem", out_default=True)[1].lines
    assert lines[1].split() == [
        "SystemDirectory",
        "Organization",
        "BuildNumber",
        "RegisteredUser",
        "SerialNumber",
        "Version",
    ]
    lines = run(engine, "Get-WmiObject -Class Win32_OperatingSystem", out_default=True)[1].lines
    assert lines[1:7] == [
        "SystemDirectory : C:\\Windows\\system32",
        "Organization    :",
        "BuildNumber     : 17763",
        "RegisteredUser  : Windows User",
        "SerialNumber    : 00430-00000-00000-AA823",
        "Version         : 10.0.17763",
    ]
    (wmi,) = run(engine, "gwmi Win32_OperatingSystem")[1].output
    assert wmi.__CLASS == "Win32_OperatingSystem"
    assert (
        wmi.PSObject.type_names[0] == "System.Management.ManagementObject#root\\cimv2\\Win32_OperatingSystem"
    )
    disks = run(engine, "Get-CimInstance -ClassName Win32_LogicalDisk")[1].output
    assert [(d.DeviceID, d.DriveType) for d in disks] == [("C:", 3), ("D:", 5)]
    assert 0 < disks[0].FreeSpace < disks[0].Size and disks[0].VolumeName == ""
    (c_drive,) = run(engine, "Get-WmiObject Win32_LogicalDisk -Filter \"DeviceID='C:'\"")[1].output
    assert c_drive.FreeSpace == disks[0].FreeSpace
    assert [
        d.DeviceID for d in run(engine, "Get-CimInstance -Query 'SELECT * FROM Win32_LogicalDisk'")[1].output
    ] == ["C:", "D:"]
    (error,) = run(engine, "Get-CimInstance Win32_Nope")[1].errors
    assert str(error) == 'Invalid class "Win32_Nope"'


def test_convertto_json_never_writes_a_secret(engine: Engine) -> None:
    script = "$c = New-Object PSCredential 'u', (ConvertTo-SecureString 'p4ss' -AsPlainText -Force); $c | ConvertTo-Json -Compress"
    assert run(engine, script)[1].output == ['{"UserName":"u","Password":{"Length":4}}']


def test_powershell_7_json_layout_array_enumeration_and_sorted_groups(tmp_path: Path) -> None:
    engine = Engine(root=tmp_path / "C", version="7")
    (text,) = run(engine, "[ordered]@{a=1,2; b=@{c=1}} | ConvertTo-Json")[1].output
    assert text.split("\r\n") == [
        "{",
        '  "a": [',
        "    1,",
        "    2",
        "  ],",
        '  "b": {',
        '    "c": 1',
        "  }",
        "}",
    ]
    assert run(engine, "('[1,2,3]' | ConvertFrom-Json | Measure-Object).Count")[1].output == [3]
    assert [g.Name for g in run(engine, "'b','a','B' | Group-Object")[1].output] == ["a", "b"]


def test_new_guid_and_new_temporary_file_work_as_on_windows(engine: Engine, tmp_path: Path) -> None:
    """New-Guid gives a new System.Guid each time; New-TemporaryFile makes an empty
    tmpXXXX.tmp in $env:TEMP and gives its FileInfo (-WhatIf makes none)."""
    import uuid

    first, second = run(engine, "New-Guid; (New-Guid).Guid")[1].output
    assert isinstance(first, uuid.UUID) and uuid.UUID(str(second)) != first
    (shown,) = run(engine, "New-Guid | Out-String")[1].output
    assert shown.split("\r\n")[:3] == ["", "Guid", "----"] and uuid.UUID(shown.split("\r\n")[3])
    (item,) = run(engine, "New-TemporaryFile")[1].output
    temp = "C:\\Users\\user\\AppData\\Local\\Temp"
    assert item.FullName.startswith(temp + "\\tmp") and item.FullName.endswith(".tmp")
    assert item.Length == 0 and item.PSObject.type_names[0] == "System.IO.FileInfo"
    assert run(engine, f"Test-Path '{item.FullName}'")[1].output == [True]
    listed = run(
        engine, f"(Get-ChildItem '{temp}').Count; New-TemporaryFile -WhatIf; (Get-ChildItem '{temp}').Count"
    )
    assert listed[1].output[0] == listed[1].output[-1] == 1
    _, rec = run(engine, "New-PSSessionOption -IdleTimeout 60000")
    assert "does not implement New-PSSessionOption" in str(rec.errors[0])


def test_get_file_hash_hashes_files_as_windows_does(engine: Engine, tmp_path: Path) -> None:
    """SHA256 by default, upper-case hex, the path as given resolved; -Algorithm from 5.1's
    ValidateSet; the FileHash table view (15, 70, rest); a missing path is Windows' error."""
    import hashlib

    folder = tmp_path / "C" / "Deploy"
    folder.mkdir(parents=True)
    (folder / "app.zip").write_bytes(b"payload" * 1000)
    (item,) = run(engine, "Get-FileHash C:\\Deploy\\app.zip")[1].output
    assert item.PSObject.type_names[0] == "Microsoft.Powershell.Utility.FileHash"
    assert run(engine, "(Get-Command Get-FileHash).CommandType")[1].output[0].name == "Function"
    assert (item.Algorithm, item.Path) == ("SHA256", "C:\\Deploy\\app.zip")
    assert item.Hash == hashlib.sha256(b"payload" * 1000).hexdigest().upper()
    (md5,) = run(engine, "(Get-FileHash -LiteralPath C:\\Deploy\\app.zip -Algorithm md5).Hash")[1].output
    assert md5 == hashlib.md5(b"payload" * 1000).hexdigest().upper()
    lines = run(engine, "Get-FileHash C:\\Deploy\\app.zip", out_default=True)[1].lines
    assert lines[1:4] == [
        "Algorithm       Hash                                                                   Path",
        "---------       ----                                                                   ----",
        f"SHA256          {item.Hash}       C:\\Deploy\\app.zip",
    ]
    _, rec = run(
        engine, "Get-FileHash C:\\Deploy\\missing.zip; Get-FileHash C:\\Deploy\\app.zip -Algorithm SHA3"
    )
    missing, bad = rec.errors
    assert str(missing) == "Cannot find path 'C:\\Deploy\\missing.zip' because it does not exist."
    assert (
        'The argument "SHA3" does not belong to the set "SHA1,SHA256,SHA384,SHA512,MACTripleDES,MD5,RIPEMD160"'
        in str(bad)
    )
