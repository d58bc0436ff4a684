"""Pipeline input bound as PowerShell binds it to the shell's local cmdlets.

A cmdlet with a ValueFromPipeline parameter (`Param.pipeline`) gets the input as a whole
(`Call.input`), as before. One whose parameters take input only ByPropertyName
(`Param.by_property_name`, e.g. Get-PSSession's ComputerName, Name, Id) runs once per input
object with the object's matching properties bound (and, for a string parameter that also
takes the value itself, a string object bound as it is). An object that binds to nothing, or
input to a cmdlet that takes none (Exit-PSSession: "You cannot pipe objects to
Exit-PSSession"), gives PowerShell's InputObjectNotBound error, once per object, and the
cmdlet does not run for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from psremoting.console.cmdlet_types import CmdletSpec, Param
from psremoting.protocol.session_texts import INPUT_OBJECT_NOT_BOUND

__all__ = ["NOT_BOUND", "binds_as_a_whole", "bind_each"]

#: PowerShell's text for ParameterBindingException InputObjectNotBound.
NOT_BOUND = INPUT_OBJECT_NOT_BOUND


def binds_as_a_whole(spec: CmdletSpec, params: tuple[Param, ...]) -> bool:
    """Whether the cmdlet takes its input as a whole (a ValueFromPipeline parameter, or a
    function reading $input)."""
    return spec.function or any(p.pipeline for p in params)


def _property(item: Any, name: str) -> tuple[bool, Any]:
    from psremoting.cmdlets.formatting.values import prop

    missing = object()
    value = prop(item, name, missing)
    if value is missing and isinstance(item, (str, int, float, bool)):
        return False, None
    return (value is not missing), value


def _bound(item: Any, by_name: list[Param], given: dict[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] = {}
    for param in by_name:
        if param.name in given:
            continue
        for name in (param.name, *param.aliases):
            ok, value = _property(item, name)
            if ok and value is not None:
                found[param.name] = value
                break
    if not found and isinstance(item, str):  # a by-value string parameter takes the string itself
        first = next((p for p in by_name if p.kind.startswith("string") and p.name not in given), None)
        if first is not None and first.position == 0:
            found[first.name] = [item] if first.kind.endswith("[]") else item
    return found or None


def bind_each(
    params: tuple[Param, ...],
    given: dict[str, Any],
    items: Iterable[Any],
    run: Callable[[dict[str, Any]], Iterable[Any]],
    refuse: Callable[[str], None],
) -> Iterator[Any]:
    """Run the cmdlet once per input object with its properties bound (`run(params)`), or
    `refuse(NOT_BOUND)` for an object that binds to nothing."""
    by_name = [p for p in params if p.by_property_name]
    for item in items:
        found = _bound(item, by_name, given) if by_name else None
        if found is None:
            refuse(NOT_BOUND)
            continue
        yield from run({**given, **found})
