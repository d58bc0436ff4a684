"""Pipeline utilities: ForEach-Object, Where-Object, Select-Object, Sort-Object, Measure-Object."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.dotnet import call_method
from psremoting.pslang.evaluator import invoke_script_block
from psremoting.pslang.flow import EvaluationError
from psremoting.pslang.operators import binary
from psremoting.pslang.values import (
    PSCustom,
    ScriptBlock,
    enumerate_value,
    get_member,
    member_names,
    to_bool,
    to_number,
    to_string,
)

from .commands import Builtin, CommandContext, builtin, register_builtin
from .objects import make_object, type_names

__all__: list[str] = []


def _run_block(ctx: CommandContext, block: ScriptBlock, item: Any) -> None:
    result = invoke_script_block(ctx.evaluator, block, [], dollar_under=item, use_under=True)
    for value in enumerate_value(result) if not isinstance(result, dict) else [result]:
        ctx.emit(value)


class _ForEachObject(Builtin):
    signature = CommandSignature(
        "ForEach-Object",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Begin", "scriptblock", sets=("ScriptBlockSet",)),
            Parameter(
                "Process",
                "object[]",
                position=0,
                mandatory=True,
                sets=("ScriptBlockSet",),
                value_from_remaining_arguments=True,
            ),
            Parameter("End", "scriptblock", sets=("ScriptBlockSet",)),
            Parameter("MemberName", "string", position=0, mandatory=True, sets=("PropertyAndMethodSet",)),
            Parameter("ArgumentList", "object[]", sets=("PropertyAndMethodSet",)),
        ),
        default_set="ScriptBlockSet",
    )
    aliases = ("%", "foreach")

    def begin(self, ctx: CommandContext) -> None:
        begin = ctx.get("Begin")
        if isinstance(begin, ScriptBlock):
            _run_block(ctx, begin, None)

    def process(self, ctx: CommandContext, item: Any) -> None:
        ctx.check_stopped()
        ctx.state["seen"] = True
        member, args = _member_form(ctx)
        if member is not None:
            for value in enumerate_value(_member_value(item, member, args)):
                ctx.emit(value)
            return
        for block in _blocks(ctx.get("Process")):
            _run_block(ctx, block, item)

    def end(self, ctx: CommandContext) -> None:
        if ctx.bound is not None and "InputObject" in ctx.bound:
            self.process(ctx, ctx.bound["InputObject"])
        elif not ctx.state.get("seen") and _member_form(ctx)[0] is None:
            # Without pipeline input the process block runs once, with $_ = $null.
            for block in _blocks(ctx.get("Process")):
                _run_block(ctx, block, None)
        end = ctx.get("End")
        if isinstance(end, ScriptBlock):
            _run_block(ctx, end, None)


def _member_form(ctx: CommandContext) -> tuple[str | None, list[Any]]:
    """``ForEach-Object Name [args]``: a member name and a method's arguments. PowerShell binds a
    first positional that is no script block to -MemberName (the PropertyAndMethodSet)."""
    member = ctx.get("MemberName")
    if member is not None:
        return to_string(member), list(enumerate_value(ctx.get("ArgumentList")))
    process = ctx.get("Process")
    flat = _flatten(process) if process is not None else []
    if flat and isinstance(flat[0], str) and not any(isinstance(b, ScriptBlock) for b in flat):
        return flat[0], flat[1:]
    return None, []


def _member_value(item: Any, name: str, args: list[Any]) -> Any:
    """A property's value, else the result of the method of that name (nothing if neither)."""
    if not args:
        value = get_member(item, name, None)
        if value is not None and not callable(value):
            return value
    try:
        return call_method(item, name, args)
    except EvaluationError:
        return None


def _flatten(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _blocks(value: Any) -> list[ScriptBlock]:
    return [b for b in _flatten(value) if isinstance(b, ScriptBlock)]


register_builtin(_ForEachObject())

_OPERATORS = (
    "EQ",
    "NE",
    "GT",
    "GE",
    "LT",
    "LE",
    "Like",
    "NotLike",
    "Match",
    "NotMatch",
    "Contains",
    "NotContains",
    "In",
    "NotIn",
)


class _WhereObject(Builtin):
    signature = CommandSignature(
        "Where-Object",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("FilterScript", "scriptblock", position=0, mandatory=True, sets=("ScriptBlockSet",)),
            Parameter(
                "Property", "string", position=0, mandatory=True, sets=tuple(f"{o}Set" for o in _OPERATORS)
            ),
            Parameter("Value", "object", position=1, sets=tuple(f"{o}Set" for o in _OPERATORS)),
            *(Parameter(op, "switch", mandatory=True, sets=(f"{op}Set",)) for op in _OPERATORS),
        ),
        default_set="EQSet",
    )
    aliases = ("?", "where")

    def process(self, ctx: CommandContext, item: Any) -> None:
        ctx.check_stopped()
        block = ctx.get("FilterScript")
        if isinstance(block, ScriptBlock):
            keep = to_bool(invoke_script_block(ctx.evaluator, block, [], dollar_under=item, use_under=True))
        else:
            assert ctx.bound is not None
            op = ctx.bound.parameter_set[:-3].lower()
            value = get_member(item, ctx.get("Property"), None)
            keep = (
                to_bool(binary("-" + op, value, ctx.get("Value"))) if "Value" in ctx.bound else to_bool(value)
            )
        if keep:
            ctx.emit(item)


register_builtin(_WhereObject())


def _calculated(ctx: CommandContext, prop: dict[Any, Any], obj: Any) -> tuple[str, Any]:
    """A calculated property ``@{Name=...; Expression=...}``: its label and its value for `obj`.
    As in PowerShell, a key may be any prefix of Name, Label or Expression (``n``, ``l``, ``e``)."""
    label: Any = None
    expression: Any = None
    for key, value in prop.items():
        word = to_string(key).lower()
        if word and ("name".startswith(word) or "label".startswith(word)):
            label = value
        elif word and "expression".startswith(word):
            expression = value
    if isinstance(expression, ScriptBlock):
        value = invoke_script_block(ctx.evaluator, expression, [], dollar_under=obj, use_under=True)
    else:
        value = get_member(obj, to_string(expression), None) if expression is not None else None
    if label is None:
        label = expression.text.strip() if isinstance(expression, ScriptBlock) else to_string(expression)
    return to_string(label), value


def _selected(ctx: CommandContext, obj: Any, properties: list[Any]) -> Any:
    out = PSCustom()
    names: list[str] = []
    for prop in properties:
        if isinstance(prop, dict):
            label, value = _calculated(ctx, prop, obj)
            out[label] = value
            continue
        pattern = str(prop)
        for name in member_names(obj):
            if fnmatch.fnmatchcase(name.lower(), pattern.lower()) and name not in names:
                names.append(name)
                out[name] = get_member(obj, name, None)
        if not any(fnmatch.fnmatchcase(n.lower(), pattern.lower()) for n in names) and not any(
            c in pattern for c in "*?"
        ):
            out[pattern] = get_member(obj, pattern, None)
    first = type_names(obj)[:1]
    if first:
        return make_object(
            [f"Selected.{first[0]}", "System.Management.Automation.PSCustomObject", "System.Object"],
            dict(out.items()),
        )
    return out


@builtin(
    CommandSignature(
        "Select-Object",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Property", "object[]", position=0),
            Parameter("ExpandProperty", "string"),
            Parameter("First", "int"),
            Parameter("Last", "int"),
            Parameter("Skip", "int"),
            Parameter("Unique", "switch"),
        ),
    ),
    aliases=("select",),
)
def _select_object(ctx: CommandContext) -> Iterable[Any]:
    items = list(ctx.input)
    skip = ctx.get("Skip") or 0
    items = items[skip:]
    if ctx.get("First") is not None:
        items = items[: ctx.get("First")]
    if ctx.get("Last") is not None:
        items = items[-ctx.get("Last") :] if ctx.get("Last") else []
    expand = ctx.get("ExpandProperty")
    props = ctx.get("Property")
    out: list[Any] = []
    for item in items:
        if expand:
            out.extend(enumerate_value(get_member(item, expand, None)))
        elif props:
            out.append(_selected(ctx, item, list(props)))
        else:
            out.append(item)
    return _unique(out) if ctx.switch("Unique") else out


def _unique(items: list[Any]) -> list[Any]:
    """-Unique: the first of each group of equal items, in order (items need not be hashable)."""
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


@builtin(
    CommandSignature(
        "Sort-Object",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Property", "object[]", position=0),
            Parameter("Descending", "switch"),
            Parameter("Unique", "switch"),
        ),
    ),
    aliases=("sort",),
)
def _sort_object(ctx: CommandContext) -> Iterable[Any]:
    props = ctx.get("Property")

    def key(item: Any) -> Any:
        values = [get_member(item, str(p), None) for p in props] if props else [item]
        return [
            (0, v.lower()) if isinstance(v, str) else (1, v) if v is not None else (-1, 0) for v in values
        ]

    items = sorted(ctx.input, key=key, reverse=ctx.switch("Descending"))
    return _unique(items) if ctx.switch("Unique") else items


@builtin(
    CommandSignature(
        "Measure-Object",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Property", "string[]", position=0),
            Parameter("Sum", "switch"),
            Parameter("Average", "switch"),
            Parameter("Maximum", "switch"),
            Parameter("Minimum", "switch"),
        ),
    ),
    aliases=("measure",),
)
def _measure_object(ctx: CommandContext) -> Iterable[Any]:
    props = ctx.get("Property") or [None]
    results = []
    for prop in props:
        values = [get_member(i, prop, None) if prop else i for i in ctx.input]
        numbers = (
            [to_number(v) for v in values if v is not None]
            if any(ctx.switch(s) for s in ("Sum", "Average", "Maximum", "Minimum"))
            else []
        )
        results.append(
            make_object(
                [
                    "Microsoft.PowerShell.Commands.GenericMeasureInfo",
                    "Microsoft.PowerShell.Commands.MeasureInfo",
                    "System.Object",
                ],
                {
                    "Count": len(values),
                    "Average": (sum(numbers) / len(numbers)) if ctx.switch("Average") and numbers else None,
                    "Sum": sum(numbers) if ctx.switch("Sum") else None,
                    "Maximum": max(numbers) if ctx.switch("Maximum") and numbers else None,
                    "Minimum": min(numbers) if ctx.switch("Minimum") and numbers else None,
                    "Property": prop,
                },
            )
        )
    return results


def _format_selection(ctx: CommandContext) -> list[Any]:
    props = ctx.get("Property")
    items = list(ctx.input)
    if ctx.bound is not None and "InputObject" in ctx.bound:
        items.append(ctx.bound["InputObject"])
    if not props:
        return items
    return [_selected(ctx, item, list(props)) for item in items]


_FORMAT_PARAMS = (
    Parameter("Property", "object[]", position=0),
    Parameter("InputObject", "object", value_from_pipeline=True),
    Parameter("AutoSize", "switch"),
    Parameter("Wrap", "switch"),
    Parameter("GroupBy", "object"),
    Parameter("HideTableHeaders", "switch"),
)


@builtin(CommandSignature("Format-Table", _FORMAT_PARAMS), aliases=("ft",))
def _format_table(ctx: CommandContext) -> Iterable[Any]:
    """Rendered as text lines here (PowerShell emits format objects that Out-Default renders)."""
    from .formatting import table_lines

    return table_lines(_format_selection(ctx))


@builtin(CommandSignature("Format-List", _FORMAT_PARAMS[:2]), aliases=("fl",))
def _format_list(ctx: CommandContext) -> Iterable[Any]:
    """Rendered as text lines here (PowerShell emits format objects that Out-Default renders)."""
    from .formatting import list_lines

    return list_lines(_format_selection(ctx))


@builtin(CommandSignature("Clear-Host", (), common=False), aliases=("cls", "clear"))
def _clear_host(ctx: CommandContext) -> None:
    """A no-op: a remote console cannot be cleared through the emulator's host calls."""
    return None


_OBJECT_METHODS = [
    ("Equals", "bool Equals(System.Object obj)"),
    ("GetHashCode", "int GetHashCode()"),
    ("GetType", "type GetType()"),
    ("ToString", "string ToString()"),
]
_CONVERTIBLE = "System.IFormatProvider provider"
#: System.Int32's methods as Windows PowerShell 5.1's ``5 | Get-Member`` lists them.
_INT32_METHODS = [
    ("CompareTo", "int CompareTo(System.Object value), int CompareTo(int value), "
                  "int IComparable.CompareTo(System.Object obj), int IComparable[int].CompareTo(int other)"),
    ("Equals", "bool Equals(System.Object obj), bool Equals(int obj), bool IEquatable[int].Equals(int other)"),
    ("GetHashCode", "int GetHashCode()"),
    ("GetType", "type GetType()"),
    ("GetTypeCode", "System.TypeCode GetTypeCode(), System.TypeCode IConvertible.GetTypeCode()"),
    *(
        (f"To{name}", f"{short} IConvertible.To{name}({_CONVERTIBLE})")
        for name, short in (("Boolean", "bool"), ("Byte", "byte"), ("Char", "char"), ("DateTime", "datetime"),
                            ("Decimal", "decimal"), ("Double", "double"), ("Int16", "int16"), ("Int32", "int"),
                            ("Int64", "long"), ("SByte", "sbyte"), ("Single", "float"))
    ),
    ("ToString", "string ToString(), string ToString(string format), string ToString(System.IFormatProvider "
                 "provider), string ToString(string format, System.IFormatProvider provider), "
                 f"string IConvertible.ToString({_CONVERTIBLE})"),
    ("ToType", f"System.Object IConvertible.ToType(type conversionType, {_CONVERTIBLE})"),
    *((f"To{name}", f"{name.lower()} IConvertible.To{name}({_CONVERTIBLE})") for name in ("UInt16", "UInt32", "UInt64")),
]  # fmt: skip
_STRING_METHODS = [
    ("Contains", "bool Contains(string value)"),
    ("EndsWith", "bool EndsWith(string value)"),
    ("IndexOf", "int IndexOf(string value)"),
    ("Replace", "string Replace(string oldValue, string newValue)"),
    ("Split", "string[] Split(Params char[] separator)"),
    ("StartsWith", "bool StartsWith(string value)"),
    ("Substring", "string Substring(int startIndex)"),
    ("ToLower", "string ToLower()"),
    ("ToUpper", "string ToUpper()"),
    ("Trim", "string Trim()"),
]


def _dotnet_type(value: Any) -> str:
    from psremoting.pslang.dotnet import type_name_of

    return type_name_of(value).removeprefix("Deserialized.")


def _short_type(value: Any) -> str:
    name = _dotnet_type(value).rsplit(".", 1)[-1]
    return {
        "String": "string",
        "Int32": "int",
        "Int64": "long",
        "Boolean": "bool",
        "Double": "double",
        "DateTime": "datetime",
    }.get(name, name)


def _members(obj: Any) -> tuple[str, list[tuple[str, str, str]]]:
    """``(TypeName, [(Name, MemberType, Definition)])`` for Get-Member."""
    from psremoting.pslang.values import PSCustom

    type_name = _dotnet_type(obj)
    members: list[tuple[str, str, str]] = [(n, "Method", d) for n, d in _OBJECT_METHODS]
    ps = getattr(obj, "PSObject", None)
    if ps is not None and not isinstance(obj, (str, int, float)):
        for prop in getattr(ps, "extended_properties", []):
            value = prop.get_value(obj)
            members.append(
                (prop.name, "NoteProperty", f"{_short_type(value)} {prop.name}={to_string(value)}")
            )
        for prop in getattr(ps, "adapted_properties", []):
            value = prop.get_value(obj)
            members.append((prop.name, "Property", f"{_short_type(value)} {prop.name} {{get;set;}}"))
    elif isinstance(obj, PSCustom):
        for key, value in obj.items():
            members.append((str(key), "NoteProperty", f"{_short_type(value)} {key}={to_string(value)}"))
    elif isinstance(obj, dict):
        members += [
            ("Count", "Property", "int Count {get;}"),
            ("Keys", "Property", "System.Collections.ICollection Keys {get;}"),
        ]
        members += [
            ("Add", "Method", "void Add(System.Object key, System.Object value)"),
            ("ContainsKey", "Method", "bool ContainsKey(System.Object key)"),
        ]
    elif isinstance(obj, int) and not isinstance(obj, bool) and type_name == "System.Int32":
        members = [(n, "Method", d) for n, d in _INT32_METHODS]
    elif isinstance(obj, str):
        members += [(n, "Method", d) for n, d in _STRING_METHODS] + [
            ("Length", "Property", "int Length {get;}")
        ]
    order = {"AliasProperty": 0, "Method": 1, "NoteProperty": 2, "Property": 3}
    return type_name, sorted(members, key=lambda m: (order.get(m[1], 9), m[0].lower()))


@builtin(
    CommandSignature(
        "Get-Member",
        (
            Parameter("InputObject", "object", value_from_pipeline=True),
            Parameter("Name", "string[]", position=0),
            Parameter("MemberType", "string[]", ("Type",)),
        ),
    ),
    aliases=("gm",),
)
def _get_member(ctx: CommandContext) -> Iterable[Any]:
    items = list(ctx.input)
    if ctx.bound is not None and "InputObject" in ctx.bound:
        items.append(ctx.bound["InputObject"])
    names = [n.lower() for n in ctx.get("Name") or ["*"]]
    kinds = {k.lower() for k in ctx.get("MemberType") or []}
    seen: set[str] = set()
    out: list[Any] = []
    for item in items:
        type_name, members = _members(item)
        if type_name in seen:
            continue
        seen.add(type_name)
        for name, kind, definition in members:
            if not any(fnmatch.fnmatchcase(name.lower(), n) for n in names):
                continue
            if (
                kinds
                and kind.lower() not in kinds
                and not ("properties" in kinds and "property" in kind.lower())
            ):
                continue
            out.append(
                make_object(
                    ["Microsoft.PowerShell.Commands.MemberDefinition", "System.Object"],
                    {"TypeName": type_name, "Name": name, "MemberType": kind, "Definition": definition},
                    name,
                )
            )
    if not items:
        from psrpcore.types import ErrorCategory

        ctx.write_error(
            ctx.error(
                "You must specify an object for the Get-Member cmdlet.",
                "System.InvalidOperationException",
                ErrorCategory.CloseError,
                "NoObjectInGetMember",
            )
        )
    return out
