"""Deserialized output as Python objects: CLIXML as Windows sends it, converted."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from psremoting.protocol.objects import (
    PSEnumValue,
    PSObject,
    annotate,
    from_clixml,
    note_properties,
    parse_duration,
)


def test_primitives() -> None:
    assert from_clixml("<S>caf_x00E9_ _x000A_line</S>") == "café \nline"
    assert from_clixml("<I32>-5</I32>") == -5
    assert from_clixml("<B>true</B>") is True
    assert from_clixml("<Db>1.5</Db>") == 1.5
    assert from_clixml("<D>12.50</D>") == Decimal("12.50")
    assert from_clixml("<Nil />") is None
    assert from_clixml("<C>65</C>") == "A"
    assert from_clixml("<BA>AAEC</BA>") == b"\x00\x01\x02"
    guid = uuid.uuid4()
    assert from_clixml(f"<G>{guid}</G>") == guid
    assert from_clixml("<TS>PT1M30.5S</TS>") == dt.timedelta(minutes=1, seconds=30.5)
    assert parse_duration("-P1DT2H") == -dt.timedelta(days=1, hours=2)
    # A surrogate pair escaped as two UTF-16 units.
    assert from_clixml("<S>_xD83D__xDE00_</S>") == "\U0001f600"


def test_datetimes() -> None:
    value = from_clixml("<DT>2026-11-24T23:25:21.1234567+01:00</DT>")
    assert value == dt.datetime(2026, 11, 24, 23, 25, 21, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert from_clixml("<DT>2026-11-24T23:25:21Z</DT>").tzinfo == dt.timezone.utc
    assert from_clixml("<DT>2026-11-24T23:25:21</DT>").tzinfo is None


def test_lists_and_hashtables() -> None:
    xml = (
        '<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN>'
        '<LST><I32>1</I32><S>two</S><Obj RefId="1"><TN RefId="1"><T>System.Collections.Hashtable</T>'
        '<T>System.Object</T></TN><DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En>'
        '<En><S N="Key">b</S><Nil N="Value" /></En></DCT></Obj></LST></Obj>'
    )
    assert from_clixml(xml) == [1, "two", {"a": 1, "b": None}]


def test_psobject_properties_types_and_tostring() -> None:
    xml = (
        '<Obj RefId="0"><TN RefId="0"><T>System.Diagnostics.Process</T><T>System.Object</T></TN>'
        "<ToString>System.Diagnostics.Process (pwsh)</ToString>"
        '<Props><S N="ProcessName">pwsh</S><I32 N="Id">42</I32></Props>'
        '<MS><S N="PSComputerName">srv</S><Ref N="Self" RefId="0" /></MS></Obj>'
    )
    obj = from_clixml(xml)
    assert isinstance(obj, PSObject)
    assert obj.ProcessName == "pwsh" and obj.processname == "pwsh" and obj["Id"] == 42
    assert obj.type_names == ["System.Diagnostics.Process", "System.Object"]
    assert str(obj) == "System.Diagnostics.Process (pwsh)"
    assert obj.Self is obj  # references resolve to the same object
    assert list(obj.properties) == ["ProcessName", "Id", "PSComputerName", "Self"]
    assert "ProcessName" in obj and "Nope" not in obj
    with pytest.raises(AttributeError, match="Nope"):
        getattr(obj, "Nope")  # noqa: B009
    assert obj.to_dict()["Id"] == 42


def test_type_name_references_are_shared() -> None:
    xml = (
        '<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T></TN><LST>'
        '<Obj RefId="1"><TN RefId="1"><T>My.Type</T><T>System.Object</T></TN><Props><I32 N="X">1</I32></Props></Obj>'
        '<Obj RefId="2"><TNRef RefId="1" /><Props><I32 N="X">2</I32></Props></Obj></LST></Obj>'
    )
    first, second = from_clixml(xml)
    assert second.type_names == ["My.Type", "System.Object"] and second.X == 2


def test_enums_print_their_name() -> None:
    xml = (
        '<Obj RefId="0"><TN RefId="0"><T>System.ConsoleColor</T><T>System.Enum</T><T>System.ValueType</T>'
        "<T>System.Object</T></TN><ToString>Red</ToString><I32>12</I32></Obj>"
    )
    value = from_clixml(xml)
    assert isinstance(value, PSEnumValue) and value == 12 and str(value) == "Red"


def test_string_with_note_properties_stays_a_string() -> None:
    xml = (
        '<Obj RefId="0"><TN RefId="0"><T>System.String</T><T>System.Object</T></TN><ToString>line</ToString>'
        '<S>line</S><MS><S N="PSPath">C:\\x.txt</S><I64 N="ReadCount">1</I64></MS></Obj>'
    )
    value = from_clixml(xml)
    assert value == "line" and isinstance(value, str)
    assert note_properties(value) == {"PSPath": "C:\\x.txt", "ReadCount": 1}


def test_annotate_like_invoke_command() -> None:
    rid = uuid.uuid4()
    text = annotate("hello", "Server01", rid)
    assert text == "hello" and text.upper() == "HELLO"
    assert text.PSComputerName == "Server01" and text.RunspaceId == rid and text.PSShowComputerName is True
    number = annotate(5, "Server01", rid, show_computer_name=False)
    assert number + 1 == 6 and number.PSShowComputerName is False
    when = annotate(dt.datetime(2026, 1, 2, 3, 4, 5), "S", rid)
    assert when.year == 2026 and when.PSComputerName == "S"
    obj = PSObject(["T"], {"PSComputerName": "inner", "PSShowComputerName": False})
    annotate(obj, "outer", rid)
    # The client replaces PSComputerName; PSShowComputerName set by the server is kept.
    assert obj.PSComputerName == "outer" and obj.PSShowComputerName is False
    assert annotate(True, "S", rid) is True and annotate(None, "S", rid) is None


def test_output_objects_pickle_with_their_notes() -> None:
    """Worker processes and cluster workers send output back pickled: values, type names,
    ToString() and the remoting note properties survive."""
    import datetime as dt
    import pickle
    import uuid

    from psremoting.protocol.objects import PSEnumValue, PSObject, annotate

    runspace = uuid.uuid4()
    values = [
        "text",
        7,
        2.5,
        dt.datetime(2026, 1, 2, 3, 4, 5),
        uuid.UUID(int=5),
        PSEnumValue(4, "Running", ["System.ServiceProcess.ServiceControllerStatus"]),
        PSObject(
            ["System.Diagnostics.Process"], {"Name": "pwsh", "Id": 42}, "System.Diagnostics.Process (pwsh)"
        ),
    ]
    for value in values:
        back = pickle.loads(pickle.dumps(annotate(value, "web01", runspace)))
        assert str(back) == str(value) and isinstance(back, type(value))
        assert back == value or isinstance(value, PSObject)
        assert back.PSComputerName == "web01" and back.RunspaceId == runspace
    service = pickle.loads(pickle.dumps(values[5]))
    assert service == 4 and str(service) == "Running" and service.type_names == values[5].type_names
    process = pickle.loads(pickle.dumps(values[6]))
    assert process.Name == "pwsh" and process.type_names == ["System.Diagnostics.Process"]
