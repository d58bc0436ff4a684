"""The everyday commands end to end: psremoting.invoke_command against an emulated Windows host,
the objects deserialized with Windows' type names and shown by the client's default views."""

from __future__ import annotations

from typing import Any

import psremoting
from psremoting.cmdlets.formatting import out_string


def test_get_process_and_cim_reach_the_client_as_windows_objects(make_fleet: Any) -> None:
    make_fleet("web01")
    processes = psremoting.invoke_command("Get-Process -Name lsass, nosuch", computer_name="web01")
    (lsass,) = list(processes)
    assert lsass.type_names[0] == "System.Diagnostics.Process"
    assert (lsass.Id, lsass.ProcessName, lsass.Handles) == (636, "lsass", 1190)
    assert [str(e) for e in processes.errors] == [
        'Cannot find a process with the name "nosuch". Verify the process name and call the cmdlet again.'
    ]
    table = out_string(lsass).splitlines()
    # Process's table view, with the PSComputerName column Invoke-Command's output gets.
    assert table[1].split() == [
        "Handles",
        "NPM(K)",
        "PM(K)",
        "WS(K)",
        "CPU(s)",
        "Id",
        "SI",
        "ProcessName",
        "PSComputerName",
    ]
    assert table[3].split() == ["1190", "21", "9396", "18792", "4.98", "636", "0", "lsass", "web01"]
    (os_info,) = psremoting.invoke_command("Get-CimInstance Win32_OperatingSystem", computer_name="web01")
    assert os_info.Caption == "Microsoft Windows Server 2019 Datacenter" and os_info.CSName == "WEB01"
    (text,) = psremoting.invoke_command("@{a=1,2} | ConvertTo-Json", computer_name="web01")
    assert text == '{\r\n    "a":  [\r\n              1,\r\n              2\r\n          ]\r\n}'
    groups = psremoting.invoke_command(
        "Get-Process | Group-Object ProcessName | Sort-Object Count -Descending | Select-Object -First 1",
        computer_name="web01",
    )
    (top,) = list(groups)
    assert (top.Name, top.Count) == ("svchost", 8)


def test_the_shell_shows_get_cim_instance_with_the_servers_cim_view(make_fleet: Any) -> None:
    make_fleet("web01")
    with psremoting.new_pssession("web01") as session:
        disks = psremoting.invoke_command(
            "Get-CimInstance Win32_LogicalDisk", session=session, hide_computer_name=True
        )
        lines = psremoting.out_string(disks, session=session).split("\n")
    assert lines[1].split() == ["DeviceID", "DriveType", "ProviderName", "VolumeName", "Size", "FreeSpace"]
    assert lines[3].split() == ["C:", "3", "136912564224", "92716556288"]


def test_a_scripts_parameters_take_their_defaults_and_types_across_the_wire(make_fleet: Any) -> None:
    make_fleet("web01")
    script = "param([int]$Count = 3, [string]$Label = 'item') 1..$Count | ForEach-Object { \"$Label $_\" }"
    assert list(psremoting.invoke_command(script, computer_name="web01")) == ["item 1", "item 2", "item 3"]
    given = psremoting.invoke_command(script, computer_name="web01", argument_list=["2", "disk"])
    assert list(given) == ["disk 1", "disk 2"]


def test_a_copy_checked_with_get_file_hash_matches_the_local_file(make_fleet: Any, tmp_path: Any) -> None:
    """What a user types after Copy-Item -ToSession: the server's Get-FileHash of the copy is
    the local file's SHA-256, shown in Windows' FileHash table."""
    import hashlib
    import os

    make_fleet("web01")
    local = tmp_path / "app.zip"
    local.write_bytes(os.urandom(3_000_000))
    with psremoting.new_pssession("web01") as session:
        psremoting.copy_item(str(local), "C:\\app.zip", to_session=session)
        (remote,) = psremoting.invoke_command("Get-FileHash C:\\app.zip", session=session)
    assert remote.Hash == hashlib.sha256(local.read_bytes()).hexdigest().upper()
    table = out_string(remote).splitlines()
    assert table[1].split() == ["Algorithm", "Hash", "Path", "PSComputerName"]
    assert table[1].index("Hash") == 16 and table[1].index("Path") == 87
    assert table[3].split() == ["SHA256", remote.Hash, "C:\\app.zip", "web01"]
