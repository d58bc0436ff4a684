"""The shell's local formatting cmdlets: Format-Table, Format-List, Format-Wide, Out-String,
Select-Object, laid out by `psremoting.cmdlets.formatting` as PowerShell's would.

-Property takes names (wildcards too) and calculated properties
(``@{Name='KB'; Expression={$_.Length / 1KB}; Width=8; Alignment='Right'; FormatString='N1'}``,
also spelt n/l/Label and e); script blocks run here, with ``$_`` the object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psremoting.cmdlets.formatting import FormatRequest, Property, format_lines
from psremoting.cmdlets.formatting.values import prop, type_names_of
from psremoting.console import display
from psremoting.console.builtins import Call
from psremoting.console.cmdlet_types import CmdletSpec, Param
from psremoting.console.errors import ShellError
from psremoting.protocol.psobject import PSObject

__all__ = ["IMPLEMENTATIONS", "SPECS"]

_INPUT = Param("InputObject", "object", pipeline=True)
_PROPERTY = Param("Property", "object[]", (), 0)
_GROUP = Param("GroupBy", "object")

SPECS: tuple[CmdletSpec, ...] = (
    CmdletSpec(
        "Format-Table",
        "Formats the output as a table.",
        (
            _INPUT,
            _PROPERTY,
            Param("AutoSize", "switch"),
            Param("Wrap", "switch"),
            _GROUP,
            Param("HideTableHeaders", "switch"),
        ),
        ("ft",),
    ),
    CmdletSpec(
        "Format-List", "Formats the output as a list of properties.", (_INPUT, _PROPERTY, _GROUP), ("fl",)
    ),
    CmdletSpec(
        "Format-Wide",
        "Formats objects as a wide table that displays only one property of each object.",
        (
            _INPUT,
            Param("Property", "object", (), 0),
            Param("AutoSize", "switch"),
            Param("Column", "int"),
            _GROUP,
        ),
        ("fw",),
    ),
    CmdletSpec(
        "Out-String",
        "Sends objects to the host as a series of strings.",
        (_INPUT, Param("Width", "int"), Param("Stream", "switch")),
        (),
    ),
    CmdletSpec(
        "Select-Object",
        "Selects objects or object properties.",
        (
            _INPUT,
            _PROPERTY,
            Param("ExcludeProperty", "string[]"),
            Param("ExpandProperty", "string"),
            Param("First", "int"),
            Param("Last", "int"),
            Param("Skip", "int"),
            Param("Unique", "switch"),
        ),
        ("select",),
    ),
)


def _script(call: Call, block: Any) -> Callable[[Any], Any]:
    from psremoting.pslang.evaluator import invoke_script_block

    evaluator = call.context.evaluator

    def run(obj: Any) -> Any:
        return invoke_script_block(evaluator, block, [], dollar_under=obj, use_under=True)

    return run


def _entry(call: Call, entry: Any) -> str | Property:
    """A -Property entry: a name, or a calculated property from its hashtable."""
    if not isinstance(entry, dict):
        if hasattr(entry, "script"):
            return Property(str(entry).strip(), _script(call, entry))
        return str(entry)
    keys = {str(k).lower(): v for k, v in entry.items()}

    def pick(*names: str) -> Any:
        for key, value in keys.items():
            if any(n.startswith(key) or key == n for n in names):
                return value
        return None

    expression = pick("expression")
    name = pick("name", "label")
    if expression is None:
        raise ShellError(f'The "Expression" key is missing from the hashtable {sorted(entry)}.', call.name)
    if hasattr(expression, "script"):
        shown = str(name) if name is not None else str(expression).strip()
        return Property(
            shown,
            _script(call, expression),
            int(pick("width") or 0),
            str(pick("alignment") or ""),
            pick("formatstring"),
        )
    shown = str(name) if name is not None else str(expression)
    return Property(
        shown, str(expression), int(pick("width") or 0), str(pick("alignment") or ""), pick("formatstring")
    )


def _properties(call: Call, name: str = "Property") -> list[str | Property] | None:
    value = call.get(name)
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    return [_entry(call, v) for v in items]


def _input(call: Call) -> list[Any]:
    items = call.input if call.input else [call.get("InputObject")]
    return list(display.flatten(items))


def _text(call: Call, request: FormatRequest) -> list[Any]:
    items = _input(call)
    if not items:
        return []
    request.view_source = display.server_views  # a remote type's own view (Get-FormatData)
    lines = format_lines(items, width=display.console_width(), request=request)
    return ["\n".join(lines).rstrip("\n") + "\n"]  # a table or list ends with a blank line


def _group(call: Call) -> str | Property | None:
    value = call.get("GroupBy")
    return None if value is None else _entry(call, value)


def format_table(call: Call) -> list[Any]:
    request = FormatRequest(
        "table",
        _properties(call),
        autosize=bool(call.get("AutoSize")),
        wrap=bool(call.get("Wrap")),
        group_by=_group(call),
        hide_table_headers=bool(call.get("HideTableHeaders")),
    )
    return _text(call, request)


def format_list(call: Call) -> list[Any]:
    return _text(call, FormatRequest("list", _properties(call), group_by=_group(call)))


def format_wide(call: Call) -> list[Any]:
    props = _properties(call)
    return _text(
        call,
        FormatRequest(
            "wide",
            props[:1] if props else None,
            autosize=bool(call.get("AutoSize")),
            group_by=_group(call),
            columns=call.get("Column"),
        ),
    )


def out_string(call: Call) -> list[Any]:
    items = _input(call)
    if not items:
        return []
    width = int(call.get("Width") or display.console_width())
    lines = format_lines(items, width=width)
    if call.get("Stream"):
        return lines
    return ["".join(line + "\n" for line in lines)]


def _selected(obj: Any, props: list[str | Property]) -> PSObject:
    import fnmatch

    from psremoting.cmdlets.formatting.values import properties_of

    names = type_names_of(obj)
    base = ["System.Management.Automation.PSCustomObject", "System.Object"]
    out = PSObject(["Selected." + names[0].removeprefix("Deserialized."), *base] if names else base)
    available = [n for n, _ in properties_of(obj)]
    for entry in props:
        if isinstance(entry, Property):
            expression = entry.expression
            value = expression(obj) if callable(expression) else prop(obj, str(expression or entry.name))
            out.set_property(entry.name, value)
        elif any(ch in entry for ch in "*?["):
            for name in available:
                if fnmatch.fnmatch(name.lower(), entry.lower()):
                    out.set_property(name, prop(obj, name))
        else:
            found = next((n for n in available if n.lower() == entry.lower()), entry)
            out.set_property(found, prop(obj, found))
    return out


def select_object(call: Call) -> list[Any]:
    items = _input(call)
    skip = int(call.get("Skip") or 0)
    items = items[skip:]
    if call.has("First") and call.has("Last"):
        first, last = int(call.get("First")), int(call.get("Last"))
        items = items[:first] + (items[-last:] if last else [])
    elif call.has("First"):
        items = items[: int(call.get("First"))]
    elif call.has("Last"):
        last = int(call.get("Last"))
        items = items[-last:] if last else []
    expand = call.get("ExpandProperty")
    props = _properties(call)
    excluded = [str(x).lower() for x in (call.get("ExcludeProperty") or [])]
    if props:
        items = [_selected(o, props) for o in items]
        if excluded:
            for obj in items:
                for name in list(obj.properties):
                    if name.lower() in excluded:
                        obj.remove_property(name)
    if expand:
        expanded: list[Any] = []
        for obj in items:
            value = prop(obj, str(expand))
            if value is None and not (isinstance(obj, PSObject) and obj.has_property(str(expand))):
                raise ShellError(f'Property "{expand}" cannot be found.', call.name)
            expanded += list(display.flatten([value]))
        items = expanded
    if call.get("Unique"):
        seen: list[str] = []
        unique = []
        for obj in items:
            key = str(obj.to_dict() if isinstance(obj, PSObject) else obj)
            if key not in seen:
                seen.append(key)
                unique.append(obj)
        items = unique
    return items


IMPLEMENTATIONS: dict[str, Callable[[Call], list[Any]]] = {
    "Format-Table": format_table,
    "Format-List": format_list,
    "Format-Wide": format_wide,
    "Out-String": out_string,
    "Select-Object": select_object,
}
