"""Parameter binding for the local shell's cmdlets, with pslang's PowerShell binder.

The cmdlet table (`cmdlets.SPECS`) becomes pslang `CommandSignature`s; a parsed command's
elements are evaluated and handed to `psremoting.pslang.binder.bind`, which applies
PowerShell's rules: case-insensitive names, unique prefixes (`-comp`), aliases (`-Cn`),
`-Switch:$false`, positions within the chosen parameter set, mandatory parameters.

One rule is added here: when the parameter set is not fixed by named parameters, the
value's type picks it, as PowerShell's binder does by trying exact type matches first:
`Enter-PSSession $s` binds -Session, `Enter-PSSession 3` binds -Id, `icm $s {..}` binds
-Session. A session never silently becomes a computer name.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import Any

from psremoting.console.cmdlets import CmdletSpec, Param
from psremoting.console.errors import ShellError
from psremoting.pslang import arguments_from_command
from psremoting.pslang import ast as A
from psremoting.pslang.binder import (
    CommandSignature,
    Parameter,
    ParameterBindingError,
    ParameterToken,
)
from psremoting.pslang.binder import bind as pslang_bind
from psremoting.pslang.evaluator import Evaluator
from psremoting.pslang.values import ScriptBlock

_PSSESSION = "System.Management.Automation.Runspaces.PSSession"


def _is_session(value: Any) -> bool:
    from psremoting.console.display import is_session

    return is_session(value)


class _SessionType:
    """A parameter type accepting PSSession objects only (one, or a list for `[]`)."""

    def __init__(self, many: bool) -> None:
        self.many = many
        self.type_display = _PSSESSION + ("[]" if many else "")

    def __call__(self, value: Any) -> Any:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items or not all(_is_session(v) for v in items):
            raise ValueError("not a PSSession")
        if self.many:
            return items
        if len(items) != 1:
            raise ValueError("one PSSession expected")
        return items[0]


class _JobType:
    """A parameter type accepting background jobs only (one, or a list for `[]`)."""

    def __init__(self, many: bool) -> None:
        self.many = many
        self.type_display = "System.Management.Automation.Job" + ("[]" if many else "")

    def __call__(self, value: Any) -> Any:
        from psremoting.console.display import is_job

        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items or not all(is_job(v) for v in items):
            raise ValueError("not a Job")
        if self.many:
            return items
        if len(items) != 1:
            raise ValueError("one Job expected")
        return items[0]


class _StringType:
    """`string` / `string[]` that refuse a PSSession (so that its set is chosen instead)."""

    def __init__(self, many: bool) -> None:
        self.many = many
        self.type_display = "System.String" + ("[]" if many else "")

    def __call__(self, value: Any) -> Any:
        from psremoting.pslang.values import to_string

        items = list(value) if isinstance(value, (list, tuple)) else [value]
        from psremoting.console.display import is_job

        if any(_is_session(v) or is_job(v) or isinstance(v, ScriptBlock) for v in items):
            raise ValueError("not a string")
        if self.many:
            return [to_string(v) for v in items]
        if len(items) != 1:
            raise ValueError("one value expected")
        return to_string(items[0])


def _type_of(param: Param) -> Any:
    kind = param.kind
    if kind in ("session", "session[]"):
        return _SessionType(kind.endswith("[]"))
    if kind in ("job", "job[]"):
        return _JobType(kind.endswith("[]"))
    if kind in ("string", "string[]"):
        return _StringType(kind.endswith("[]"))
    if kind == "credential":
        return "pscredential"
    if kind == "option":
        return "object"
    return kind


def exact(param: Param, value: Any) -> bool:
    """Whether `value` already has the parameter's type (such parameter sets are tried first)."""
    kind = param.kind.removesuffix("[]")
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        return False
    if kind == "session":
        return all(_is_session(v) for v in items)
    if kind == "job":
        from psremoting.console.display import is_job

        return all(is_job(v) for v in items)
    if kind == "int":
        return all(isinstance(v, int) and not isinstance(v, bool) for v in items)
    if kind == "string":
        # InstanceId is a [Guid] in PowerShell (the shell keeps it as text): a Guid fits it as is
        guid = param.name == "InstanceId"
        return all(isinstance(v, str) or (guid and isinstance(v, uuid.UUID)) for v in items)
    if kind == "scriptblock":
        return all(isinstance(v, ScriptBlock) for v in items)
    return False


@functools.cache
def signature_of(spec: CmdletSpec) -> CommandSignature:
    """The pslang signature of a cmdlet of the table."""
    parameters = tuple(
        Parameter(
            name=p.name,
            type=_type_of(p),
            aliases=p.aliases,
            position=p.position,
            mandatory=p.mandatory,
            sets=p.sets,
            value_from_pipeline=p.pipeline,
            value_from_pipeline_by_property_name=p.by_property_name,
            value_from_remaining_arguments=spec.remaining == p.name,
            help=p.help,
        )
        for p in spec.params
    )
    return CommandSignature(spec.name, parameters, default_set=spec.default_set, common=spec.common)


def _set_order(
    spec: CmdletSpec, signature: CommandSignature, positional: list[Any], expecting_input: bool
) -> list[str | None]:
    """Default sets to try: the declared one, preceded by sets whose first slot fits exactly,
    followed (for pipeline input) by the sets that take pipeline input."""
    order: list[str | None] = [spec.default_set]
    if expecting_input:
        order += [s for s in signature.set_names if any(p.pipeline and s in p.sets for p in spec.params)]
    if positional and len(signature.set_names) > 1:
        first = positional[0]
        fitting: list[str | None] = []
        for set_name in signature.set_names:
            slots = sorted(
                (p for p in spec.params if p.position is not None and (not p.sets or set_name in p.sets)),
                key=lambda p: p.position or 0,
            )
            if slots and exact(slots[0], first):
                fitting.append(set_name)
        order = (
            [s for s in fitting if s == spec.default_set]
            + [s for s in fitting if s != spec.default_set]
            + order
        )
    seen: list[str | None] = []
    for s in order:
        if s not in seen:
            seen.append(s)
    return seen


def bind_arguments(spec: CmdletSpec, arguments: list[Any], expecting_input: bool = False) -> dict[str, Any]:
    """Bind evaluated arguments (`ParameterToken`s and values) to `spec`: {canonical name: value}."""
    signature = signature_of(spec)
    positional = [a for a in arguments if not isinstance(a, ParameterToken)]
    first_error: ParameterBindingError | None = None
    for default_set in _set_order(spec, signature, positional, expecting_input):
        attempt = (
            signature
            if default_set == spec.default_set
            else dataclasses.replace(signature, default_set=default_set)
        )
        try:
            bound = pslang_bind(attempt, arguments, expecting_input=expecting_input)
        except ParameterBindingError as error:
            first_error = first_error or error
            continue
        return dict(bound.values.items())
    assert first_error is not None
    hint = f" Get-Help {spec.name} shows its syntax." if first_error.error_id != "AmbiguousParameter" else ""
    raise ShellError(first_error.message + hint, spec.name)


def bind(
    spec: CmdletSpec, command: A.Command, evaluator: Evaluator, expecting_input: bool = False
) -> dict[str, Any]:
    """Evaluate `command`'s arguments with `evaluator` and bind them to `spec`."""
    return bind_arguments(spec, arguments_from_command(evaluator, command), expecting_input)
