"""View definitions from the server (Get-FormatData on the session, once per type, kept), over
real HTTP with NTLM against the emulator: an object of a type only the server has a view for
prints with that view's columns, widths and alignment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import psremoting
from psremoting.cmdlets.formatting.server_views import session_views
from psremoting.emulator import Emulator
from psremoting.emulator.engine import builtins_formatdata
from psremoting.emulator.engine.objects import make_object

USER, PASSWORD = "admin", "Views-Passw0rd"
WIDGET = "Contoso.Inventory.Widget"


def get_widget(ctx: Any) -> list[Any]:
    return [
        make_object(
            [WIDGET, "System.Object"], {"Serial": serial, "Model": model, "Stock": stock, "Site": site}
        )
        for serial, model, stock, site in (
            ("W-1001", "Sprocket", 12, "Berlin"),
            ("W-1002", "Gear", 7, "Oslo"),
        )
    ]


@pytest.fixture
def session() -> Iterator[Any]:
    # the server's view: Model first, Stock right-aligned in 8, no Site column
    builtins_formatdata.register_table_view(
        WIDGET,
        [("Model", 12, "Left", "Model"), ("Stock", 8, "Right", "Stock"), ("Serial No", 0, "Left", "Serial")],
    )
    try:
        with Emulator(users={USER: PASSWORD}, auth=("ntlm",)) as emu:
            emu.register("Get-Widget", get_widget)
            s = psremoting.new_pssession(
                connection_uri=emu.url, credential=(USER, PASSWORD), authentication="ntlm"
            )
            try:
                yield s
            finally:
                psremoting.remove_pssession(s)
    finally:
        builtins_formatdata.FORMAT_TABLES.pop(WIDGET, None)


def test_the_server_answers_get_format_data_with_extended_type_definitions(session: Any) -> None:
    result = session.invoke(f"Get-FormatData -TypeName {WIDGET}")
    [definition] = result.output
    assert (
        definition.type_names[0].removeprefix("Deserialized.")
        == "System.Management.Automation.ExtendedTypeDefinition"
    )
    assert definition["TypeName"] == WIDGET
    [view] = definition["FormatViewDefinition"]
    control = view["Control"]
    assert control.type_names[0].removeprefix("Deserialized.") == "System.Management.Automation.TableControl"
    assert [h["Label"] for h in control["Headers"]] == ["Model", "Stock", "Serial No"]
    assert [c["DisplayEntry"]["Value"] for c in control["Rows"][0]["Columns"]] == ["Model", "Stock", "Serial"]


def test_a_type_only_the_server_defines_prints_with_the_servers_view(session: Any) -> None:
    widgets = psremoting.invoke_command("Get-Widget", session=session, hide_computer_name=True)
    # without the server's view: the generated table of all four properties
    assert psremoting.out_string(widgets).split("\n")[1].split() == ["Serial", "Model", "Stock", "Site"]
    text = psremoting.out_string(widgets, session=session)
    assert text.split("\n")[1:5] == [
        "Model           Stock Serial No",
        "-----           ----- ---------",
        "Sprocket           12 W-1001",
        "Gear                7 W-1002",
    ]
    # asked once for the type (its names less System.Object), then kept for the session
    psremoting.out_string(widgets, session=session)
    assert session_views(session).asked == [[WIDGET]]


def test_types_the_server_has_no_view_for_are_asked_once_and_fall_back(session: Any) -> None:
    objects = psremoting.invoke_command(
        "[pscustomobject]@{PSTypeName='Contoso.NoView'; A=1; B=2}", session=session, hide_computer_name=True
    )
    assert objects[0].type_names[0] == "Contoso.NoView"
    first = psremoting.out_string(objects, session=session)
    assert first == psremoting.out_string(objects)
    psremoting.out_string(objects, session=session)
    assert session_views(session).asked == [["Contoso.NoView"]]


def test_types_windows_has_no_format_data_for_cost_no_question(session: Any) -> None:
    # a PSCustomObject, Select-Object's Selected.* copies, System.Object: nothing to ask
    objects = psremoting.invoke_command(
        "[pscustomobject]@{A=1; B=2}; Get-Widget | Select-Object Serial",
        session=session,
        hide_computer_name=True,
    )
    psremoting.out_string(objects, session=session)
    assert session_views(session).asked == []


def test_a_list_control_from_the_server_gives_a_list_view() -> None:
    """A ListControl (Entries: Items with Label and DisplayEntry) as Windows serializes it; a
    ScriptBlock entry cannot run locally and shows the property named as its label."""
    from psremoting.cmdlets.formatting import FormatRequest, format_lines
    from psremoting.cmdlets.formatting.server_views import ServerViews
    from psremoting.protocol.psobject import PSObject

    def sma(name: str) -> list[str]:
        return [f"Deserialized.System.Management.Automation.{name}", "Deserialized.System.Object"]

    def entry(kind: str, value: str) -> PSObject:
        return PSObject(sma("DisplayEntry"), {"ValueType": kind, "Value": value})

    items = [
        PSObject(
            sma("ListControlEntryItem"), {"Label": "Serial No", "DisplayEntry": entry("Property", "Serial")}
        ),
        PSObject(
            sma("ListControlEntryItem"), {"Label": "Model", "DisplayEntry": entry("ScriptBlock", "$_.Model")}
        ),
    ]
    control = PSObject(sma("ListControl"), {"Entries": [PSObject(sma("ListControlEntry"), {"Items": items})]})
    definition = PSObject(
        sma("ExtendedTypeDefinition"),
        {
            "TypeName": WIDGET,
            "TypeNames": [WIDGET],
            "FormatViewDefinition": [
                PSObject(sma("FormatViewDefinition"), {"Name": "w", "Control": control})
            ],
        },
    )
    asked: list[list[str]] = []
    source = ServerViews(lambda names: asked.append(names) or [definition])
    widget = PSObject(
        [f"Deserialized.{WIDGET}", "Deserialized.System.Object"],
        {"Serial": "W-1", "Model": "Gear", "Stock": 3},
    )
    lines = format_lines([widget, widget], request=FormatRequest(view_source=source))
    assert lines[:6] == ["", "Serial No : W-1", "Model     : Gear", "", "Serial No : W-1", "Model     : Gear"]
    assert asked == [[WIDGET]]
