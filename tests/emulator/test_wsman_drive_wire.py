"""The WSMan: drive's items on the wire, as a Windows host serializes them.

A WSManConfigLeafElement is the provider's PSObject wrapped by WriteItemObject: Windows writes
the inner object nested, unnamed, in the outer one (pypsrp's ``property_sets[0]``), which is what
pypsrp's JEA test reads. The expected shape is that of a Windows Server 2016 answer (pypsrp's
recording ``test_psrp_with_jea_configuration``). Through pypsrp over loopback HTTP with NTLM and
message encryption, to a JEA endpoint that allows Get-Item only.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from psremoting.emulator import Emulator
from psremoting.emulator.engine import Engine
from psremoting.emulator.engine.wrapped import wrapped_clixml

from .engine_recorder import run

SETTING = r"WSMan:\localhost\Service\AllowUnencrypted"
LEAF = "Microsoft.WSMan.Management.WSManConfigLeafElement"


@pytest.fixture
def emu(tmp_path: Path):
    with Emulator(
        users={"admin": "Secret123"},
        root=tmp_path,
        allow_unencrypted=True,
        configurations=[{"name": "JEARole", "visible_cmdlets": ["Get-Item"], "run_as_virtual_account": True}],
    ) as started:
        yield started


def test_get_item_of_a_wsman_setting_carries_the_leaf_element_nested(emu: Emulator) -> None:
    wsman = WSMan("127.0.0.1", port=emu.port, ssl=False, auth="ntlm", username="admin", password="Secret123")
    with wsman, RunspacePool(wsman, configuration_name="JEARole") as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Item").add_parameter("Path", SETTING)
        ps.add_statement().add_cmdlet("Set-Item").add_parameters({"Path": SETTING, "Value": "False"})
        (item,) = ps.invoke()
    assert str(item) == LEAF
    assert item.types[:2] == [LEAF, "Microsoft.WSMan.Management.WSManConfigElement"]
    (leaf,) = item.property_sets
    assert leaf.adapted_properties == {
        "SourceOfValue": None,
        "Value": "true",
        "Name": "AllowUnencrypted",
        "TypeNameOfElement": "System.String",
        "Type": "System.String",
    }
    assert item.adapted_properties == {}
    notes = item.extended_properties
    assert notes["PSChildName"] == "AllowUnencrypted"
    assert notes["PSParentPath"] == r"Microsoft.WSMan.Management\WSMan::localhost\Service"
    # The drive and provider are objects, written once and referenced from the outer notes.
    assert notes["PSDrive"] is leaf.extended_properties["PSDrive"]
    assert str(notes["PSDrive"]) == "WSMan"
    assert notes["PSDrive"].adapted_properties["Description"] == "Root of WsMan Config Storage."
    assert str(notes["PSProvider"]) == r"Microsoft.WSMan.Management\WSMan"
    assert ps.had_errors is True
    assert "'Set-Item' is not recognized" in str(ps.streams.error[0])


def test_the_leaf_element_has_windows_element_order(tmp_path: Path) -> None:
    engine = Engine(computer_name="server01", username="user", root=tmp_path)
    (item,) = run(engine, f"Get-Item {SETTING}")[1].output
    outer = ElementTree.fromstring(wrapped_clixml(item, None))
    assert [child.tag for child in outer] == ["TN", "ToString", "Obj", "MS"]
    inner = outer.find("Obj")
    assert inner is not None
    assert [child.tag for child in inner] == ["TNRef", "ToString", "Props", "MS"]
    assert (outer.get("RefId"), inner.get("RefId"), inner.find("TNRef").get("RefId")) == ("0", "1", "0")  # type: ignore[union-attr]
    props = inner.find("Props")
    assert [(p.tag, p.get("N")) for p in props] == [  # type: ignore[union-attr]
        ("Nil", "SourceOfValue"),
        ("S", "Value"),
        ("S", "Name"),
        ("S", "TypeNameOfElement"),
        ("S", "Type"),
    ]
    outer_notes = [(n.tag, n.get("N")) for n in outer.find("MS")]  # type: ignore[union-attr]
    assert outer_notes == [
        ("S", "PSPath"),
        ("S", "PSParentPath"),
        ("S", "PSChildName"),
        ("Ref", "PSDrive"),
        ("Ref", "PSProvider"),
        ("B", "PSIsContainer"),
    ]
    refs = {n.get("RefId") for n in outer.find("MS") if n.tag == "Ref"}  # type: ignore[union-attr]
    defined = {o.get("RefId") for o in inner.iter("Obj")}
    assert refs <= defined


def test_out_default_shows_the_wsmanconfig_table_grouped_by_container(tmp_path: Path) -> None:
    engine = Engine(computer_name="server01", username="user", root=tmp_path)
    script = rf"Get-Item {SETTING}; Get-Item WSMan:\localhost\Shell\IdleTimeout"
    (text,) = run(engine, f"& {{ {script} }} | Out-String")[1].output
    assert text.split("\r\n") == [
        "",
        "",
        r"   WSManConfig: Microsoft.WSMan.Management\WSMan::localhost\Service",
        "",
        "Type            Name                           SourceOfValue   Value",
        "----            ----                           -------------   -----",
        "System.String   AllowUnencrypted                               false",
        "",
        "",
        r"   WSManConfig: Microsoft.WSMan.Management\WSMan::localhost\Shell",
        "",
        "Type            Name                           SourceOfValue   Value",
        "----            ----                           -------------   -----",
        "System.String   IdleTimeout                                    7200000",
        "",
        "",
        "",
    ]
