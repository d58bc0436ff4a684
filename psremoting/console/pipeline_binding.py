"""Pipeline input bound as PowerShell binds it to the shell's local cmdlets.

Each parameter declares PowerShell's attributes: `Param.pipeline` is ValueFromPipeline (the
object itself binds, when it has the parameter's type), `Param.by_property_name` is
ValueFromPipelineByPropertyName (the object's property of that name, or of an alias, binds).
For each input object, as PowerShell's binder does: the parameters bound on the command line
take no input and fix the parameter sets; then ByValue without conversion, ByPropertyName
(the properties of one parameter set), ByValue with conversion (a number or text to a
string or int parameter). An object that binds to nothing, or input to a cmdlet that takes
none (Exit-PSSession: "You cannot pipe objects to Exit-PSSession"), gives PowerShell's
InputObjectNotBound error, once per object, and the cmdlet does not run for it.

How the cmdlet then runs (`dispatch`): objects bound to an `object` parameter (InputObject)
go to it together as `Call.input`; objects bound ByValue to an array parameter (-Session
PSSession[], -Job Job[]) go to it together, so `Get-Job | Wait-Job -Any` waits for them all;
any other binding (ByPropertyName, a scalar parameter) runs the cmdlet once for the object.
A function (Clear-Host) takes any input in `$input`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from psremoting.console.binding import exact, signature_of
from psremoting.console.cmdlet_types import CmdletSpec, Param
from psremoting.protocol.errors import RemoteErrorRecord
from psremoting.protocol.session_texts import INPUT_OBJECT_NOT_BOUND
from psremoting.pslang.binder import ParameterBindingError, convert

__all__ = ["NOT_BOUND", "bind_item", "dispatch", "not_bound_record"]

#: PowerShell's text for ParameterBindingException InputObjectNotBound.
NOT_BOUND = INPUT_OBJECT_NOT_BOUND

_MISSING = object()


def _property(item: Any, name: str) -> Any:
    """The property `name` of a pipeline object, or _MISSING. A number or a string has none
    we bind, nor has a hashtable (its keys are not properties; a [pscustomobject]'s are)."""
    from psremoting.cmdlets.formatting.values import prop
    from psremoting.pslang.values import PSCustom

    if isinstance(item, (str, int, float, bool)) or item is None:
        return _MISSING
    if isinstance(item, dict) and not isinstance(item, PSCustom):
        return _MISSING
    return prop(item, name, _MISSING)


def _converted(spec: CmdletSpec, param: Param, value: Any, *, strict: bool) -> Any:
    """`value` as the parameter takes it, or _MISSING. `strict`: only a value of the
    parameter's type (a session for -Session, a string for a string, an int for an int)."""
    if value is None or value is _MISSING:
        return _MISSING
    if strict and param.kind not in ("object", "object[]") and not exact(param, value):
        return _MISSING
    parameter = signature_of(spec).parameter(param.name)
    assert parameter is not None
    try:
        return convert(parameter, value)
    except (ParameterBindingError, ValueError, TypeError):
        return _MISSING


def _sets_of(spec: CmdletSpec) -> list[str]:
    names: list[str] = []
    for p in spec.params:
        names += [s for s in p.sets if s not in names]
    if spec.default_set in names:
        names.remove(spec.default_set)
        names.insert(0, spec.default_set)
    return names or [""]


def _in(param: Param, set_name: str) -> bool:
    return not param.sets or not set_name or set_name in param.sets


def _open_sets(spec: CmdletSpec, params: tuple[Param, ...], given: dict[str, Any]) -> list[str]:
    """The parameter sets the command line leaves open (every given parameter is in them)."""
    named = [p for p in params if p.name in given and p.sets]
    return [s for s in _sets_of(spec) if all(s in p.sets for p in named)]


@dataclass(frozen=True)
class Bound:
    """How one object bound: {parameter: value}, and whether it bound ByValue (`by_value`)."""

    values: dict[str, Any]
    by_value: Param | None = None


def bind_item(spec: CmdletSpec, params: tuple[Param, ...], given: dict[str, Any], item: Any) -> Bound | None:
    """Bind one pipeline object to the cmdlet's pipeline parameters (None: it binds to none)."""
    sets = _open_sets(spec, params, given)
    free = [p for p in params if p.name not in given and not p.unsupported and any(_in(p, s) for s in sets)]
    by_value = [p for p in free if p.pipeline]
    for param in by_value:  # ByValue, without conversion
        value = _converted(spec, param, item, strict=True)
        if value is not _MISSING:
            return Bound({param.name: value, **_also_by_name(spec, free, item, param, sets)}, param)
    found = _by_name(spec, free, item, sets)
    if found:
        return Bound(found)
    for param in by_value:  # ByValue, with conversion
        value = _converted(spec, param, item, strict=False)
        if value is not _MISSING:
            return Bound({param.name: value, **_also_by_name(spec, free, item, param, sets)}, param)
    return None


def _also_by_name(
    spec: CmdletSpec, free: list[Param], item: Any, bound: Param, sets: list[str]
) -> dict[str, Any]:
    """After `bound` took the object ByValue, the ByPropertyName parameters of its sets that
    also bind (Invoke-Command's -ConfigurationName beside -InputObject). Only parameters
    declared for some sets count: a filter of every set (Receive-Job -ComputerName) does not
    bind from the object its set's ByValue parameter took."""
    kept = [p for p in free if p is not bound and p.sets]
    return _by_name(spec, kept, item, [s for s in sets if _in(bound, s)])


def _by_name(spec: CmdletSpec, free: list[Param], item: Any, sets: list[str]) -> dict[str, Any]:
    """ByPropertyName: the properties of the first parameter set where any binds."""
    for set_name in sets:
        found: dict[str, Any] = {}
        for param in (p for p in free if p.by_property_name and _in(p, set_name)):
            for name in (param.name, *param.aliases):
                value = _property(item, name)
                taken = _converted(spec, param, value, strict=True)
                if taken is _MISSING:
                    taken = _converted(spec, param, value, strict=False)
                if taken is not _MISSING:
                    found[param.name] = taken
                    break
        if found:
            return found
    return {}


def not_bound_record(spec: CmdletSpec, item: Any) -> RemoteErrorRecord:
    """The ErrorRecord PowerShell writes for an object no parameter takes."""
    from psremoting.pslang.values import to_string

    command_class = "Microsoft.PowerShell.Commands." + spec.name.replace("-", "") + "Command"
    type_names = getattr(item, "type_names", None) or [type(item).__name__]
    return RemoteErrorRecord(
        NOT_BOUND,
        category="InvalidArgument",
        activity=spec.name,
        reason="ParameterBindingException",
        target_name=to_string(item),
        target_type=str(type_names[0]).rsplit(".", 1)[-1],
        fully_qualified_error_id=f"InputObjectNotBound,{command_class}",
        target_object=item,
        exception_type="System.Management.Automation.ParameterBindingException",
    )


@dataclass
class _Run:
    """One run of the cmdlet: its parameters and its input objects."""

    params: dict[str, Any]
    input: list[Any] = field(default_factory=list)


_INPUT = ""  # the key of the run whose objects go to the cmdlet as its input


def dispatch(
    spec: CmdletSpec,
    params: tuple[Param, ...],
    given: dict[str, Any],
    items: Iterable[Any],
    run: Callable[[dict[str, Any], list[Any]], Iterable[Any]],
    refuse: Callable[[Any], None],
) -> Iterator[Any]:
    """Bind each input object and run the cmdlet (`run(params, input)`) for them; `refuse(item)`
    for an object that binds to nothing."""
    items = list(items)
    if spec.function:
        yield from run(given, items)
        return
    runs: list[_Run] = []
    together: dict[str, _Run] = {}
    for item in items:
        bound = bind_item(spec, params, given, item)
        if bound is None:
            refuse(item)
            continue
        param = bound.by_value
        if param is not None and len(bound.values) > 1:  # ByValue and ByPropertyName: its own run
            object_input = param.kind in ("object", "object[]")
            values = {k: v for k, v in bound.values.items() if not (object_input and k == param.name)}
            runs.append(_Run({**given, **values}, [item] if object_input else []))
            continue
        if param is not None and param.kind in ("object", "object[]"):
            key = _INPUT
        elif param is not None and param.kind.endswith("[]"):
            key = param.name
        else:
            runs.append(_Run({**given, **bound.values}))
            continue
        if key not in together:
            together[key] = _Run(dict(given))
            runs.append(together[key])
        if key == _INPUT:
            together[key].input.append(item)
        else:
            together[key].params.setdefault(key, []).extend(bound.values[key])
    for each in runs:
        yield from run(each.params, each.input)
