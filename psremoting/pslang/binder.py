"""PowerShell's parameter binding over declarative command signatures.

A :class:`CommandSignature` lists a command's parameters the way a cmdlet's attributes do
(names, aliases, positions, switch, mandatory, parameter sets, pipeline input, type).
:func:`bind` applies PowerShell's rules to the arguments of one invocation and returns
:class:`BoundParameters`, or raises :class:`ParameterBindingError` with PowerShell's text and
error id, so that the local shell and the emulator reject bad input exactly as PowerShell does:

- names are case-insensitive; an exact name or alias wins, else a unique prefix of a name or
  alias (``-comp`` -> ComputerName); an ambiguous prefix lists the candidates;
- ``-Switch``, ``-Switch:$false``; ``-Name value`` and ``-Name:value``;
- positional arguments fill the parameters with positions, lowest first, in the set chosen;
- the parameter set is the one all named parameters belong to (the default set on a tie).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .values import CaseInsensitiveDict, ScriptBlock, to_bool, to_number, to_string

__all__ = [
    "NO_VALUE",
    "BoundParameters",
    "CommandSignature",
    "Parameter",
    "ParameterBindingError",
    "ParameterToken",
    "bind",
]

ALL_SETS = "__AllParameterSets"


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()

_TYPE_DISPLAY = {
    "string": "System.String",
    "string[]": "System.String[]",
    "int": "System.Int32",
    "int[]": "System.Int32[]",
    "double": "System.Double",
    "bool": "System.Boolean",
    "switch": "System.Management.Automation.SwitchParameter",
    "object": "System.Object",
    "object[]": "System.Object[]",
    "scriptblock": "System.Management.Automation.ScriptBlock",
    "hashtable": "System.Collections.Hashtable",
    "pscredential": "System.Management.Automation.PSCredential",
    "datetime": "System.DateTime",
}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a command, as its [Parameter()] attributes declare it.

    ``type`` is one of ``string``, ``string[]``, ``int``, ``int[]``, ``double``, ``bool``,
    ``switch``, ``object``, ``object[]``, ``scriptblock``, ``hashtable``, ``pscredential``,
    ``datetime``, or a callable converting a value (raising ValueError when it cannot).
    ``sets`` empty means every parameter set. ``choices`` is a ValidateSet.
    """

    name: str
    type: str | Callable[[Any], Any] = "object"
    aliases: tuple[str, ...] = ()
    position: int | None = None
    mandatory: bool = False
    sets: tuple[str, ...] = ()
    value_from_pipeline: bool = False
    value_from_pipeline_by_property_name: bool = False
    value_from_remaining_arguments: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def is_switch(self) -> bool:
        """True for a [switch] parameter (needs no argument)."""
        return self.type == "switch"

    @property
    def type_display(self) -> str:
        """The .NET type name used in PowerShell's messages."""
        if isinstance(self.type, str):
            return _TYPE_DISPLAY.get(self.type, self.type)
        return getattr(self.type, "type_display", "System.Object")

    def in_set(self, set_name: str) -> bool:
        """Whether the parameter belongs to ``set_name``."""
        return not self.sets or set_name in self.sets


COMMON_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("Verbose", "switch", ("vb",)),
    Parameter("Debug", "switch", ("db",)),
    Parameter("ErrorAction", "string", ("ea",)),
    Parameter("WarningAction", "string", ("wa",)),
    Parameter("InformationAction", "string", ("infa",)),
    Parameter("ProgressAction", "string", ("proga",)),
    Parameter("ErrorVariable", "string", ("ev",)),
    Parameter("WarningVariable", "string", ("wv",)),
    Parameter("InformationVariable", "string", ("iv",)),
    Parameter("OutVariable", "string", ("ov",)),
    Parameter("OutBuffer", "int", ("ob",)),
    Parameter("PipelineVariable", "string", ("pv",)),
)


@dataclass(frozen=True)
class CommandSignature:
    """A command's parameters and parameter sets. ``common`` adds PowerShell's common parameters."""

    name: str
    parameters: tuple[Parameter, ...] = ()
    default_set: str | None = None
    common: bool = True
    _lookup: dict[str, Parameter] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for p in self.all_parameters:
            self._lookup[p.name.lower()] = p
            for alias in p.aliases:
                self._lookup.setdefault(alias.lower(), p)

    @property
    def all_parameters(self) -> tuple[Parameter, ...]:
        """The command's own parameters, then the common parameters when ``common``."""
        return self.parameters + (COMMON_PARAMETERS if self.common else ())

    @property
    def set_names(self) -> list[str]:
        """Every named parameter set (``__AllParameterSets`` when none is declared)."""
        names: list[str] = []
        for p in self.parameters:
            for s in p.sets:
                if s not in names:
                    names.append(s)
        return names or [ALL_SETS]

    def parameter(self, name: str) -> Parameter | None:
        """The parameter named or aliased exactly ``name`` (case-insensitive), or None."""
        return self._lookup.get(name.lower())

    def resolve(self, written: str) -> Parameter:
        """The parameter ``-written`` designates: exact name or alias, else a unique prefix."""
        exact = self._lookup.get(written.lower())
        if exact is not None:
            return exact
        lower = written.lower()
        matches: list[Parameter] = []
        for p in self.all_parameters:
            if any(n.lower().startswith(lower) for n in (p.name, *p.aliases)) and p not in matches:
                matches.append(p)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ParameterBindingError(
                f"A parameter cannot be found that matches parameter name '{written}'.",
                "NamedParameterNotFound",
                written,
            )
        names = " ".join("-" + p.name for p in matches)
        raise ParameterBindingError(
            f"Parameter cannot be processed because the parameter name '{written}' is ambiguous. "
            f"Possible matches include: {names}.",
            "AmbiguousParameter",
            written,
        )


@dataclass(frozen=True)
class ParameterToken:
    """``-Name`` as written (``value`` set for ``-Name:value`` or a named API parameter)."""

    name: str
    value: Any = NO_VALUE


class ParameterBindingError(Exception):
    """A binding failure with PowerShell's message and error id (``NamedParameterNotFound``...).

    ``category`` is PowerShell's ErrorCategory name (InvalidArgument for all but a few);
    ``missing`` lists the names of missing mandatory parameters for MissingMandatoryParameter.
    """

    def __init__(
        self,
        message: str,
        error_id: str,
        parameter: str | None = None,
        category: str = "InvalidArgument",
        missing: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id
        self.parameter = parameter
        self.category = category
        self.missing = tuple(missing)


@dataclass
class BoundParameters:
    """The result of binding: the chosen set and the converted values by canonical name."""

    parameter_set: str
    values: CaseInsensitiveDict
    signature: CommandSignature

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def get(self, name: str, default: Any = None) -> Any:
        """The bound value of ``name`` or ``default`` when it was not given."""
        return self.values.get(name, default)

    def switch(self, name: str) -> bool:
        """True when switch ``-name`` was given (and not ``-name:$false``)."""
        return bool(self.values.get(name, False))

    def pipeline_parameters(self) -> list[Parameter]:
        """The parameters of the chosen set that take pipeline input (ByValue first)."""
        params = [p for p in self.signature.parameters if p.in_set(self.parameter_set)]
        return [p for p in params if p.value_from_pipeline] + [
            p for p in params if p.value_from_pipeline_by_property_name and not p.value_from_pipeline
        ]


def convert(parameter: Parameter, value: Any) -> Any:
    """Convert ``value`` to the parameter's type, with PowerShell's error text when it cannot."""
    kind = parameter.type
    try:
        if callable(kind):
            return kind(value)
        if kind in ("object", "pscredential", "hashtable", "datetime"):
            if kind == "hashtable" and value is not None and not isinstance(value, dict):
                raise ValueError("not a hashtable")
            return value
        if kind == "object[]":
            return list(value) if isinstance(value, (list, tuple)) else [value]
        if kind == "string":
            if isinstance(value, (list, tuple)):
                return " ".join(to_string(v) for v in value)
            return to_string(value)
        if kind == "string[]":
            items = value if isinstance(value, (list, tuple)) else [value]
            return [to_string(v) for v in items]
        if kind in ("int", "double"):
            number = to_number(value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value)
            if kind == "int":
                if isinstance(number, float):
                    if not number.is_integer():
                        number = round(number)
                    number = int(number)
                return number
            return float(number)
        if kind == "int[]":
            items = value if isinstance(value, (list, tuple)) else [value]
            return [int(to_number(v)) for v in items]
        if kind in ("bool", "switch"):
            return to_bool(value)
        if kind == "scriptblock":
            if not isinstance(value, ScriptBlock):
                raise TypeError
            return value
    except (ValueError, TypeError, IndexError) as exc:
        shown = to_string(value)
        raise ParameterBindingError(
            f"Cannot bind parameter '{parameter.name}'. Cannot convert value \"{shown}\" to type "
            f'"{parameter.type_display}". Error: "Input string was not in a correct format."'
            if kind in ("int", "double", "int[]")
            else f"Cannot bind parameter '{parameter.name}'. Cannot convert the \"{shown}\" value of type "
            f'"{_type_of(value)}" to type "{parameter.type_display}".',
            "CannotConvertArgumentNoMessage"
            if kind in ("int", "double", "int[]")
            else "CannotConvertArgument",
            parameter.name,
        ) from exc
    return value


def _type_of(value: Any) -> str:
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32"
    if isinstance(value, (list, tuple)):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return "System.Object"


def _check_choices(parameter: Parameter, value: Any) -> Any:
    if not parameter.choices:
        return value
    items = value if isinstance(value, list) else [value]
    canonical = []
    for item in items:
        match = next((c for c in parameter.choices if c.lower() == to_string(item).lower()), None)
        if match is None:
            raise ParameterBindingError(
                f"Cannot validate argument on parameter '{parameter.name}'. The argument \"{to_string(item)}\" "
                f'does not belong to the set "{",".join(parameter.choices)}" specified by the ValidateSet '
                "attribute. Supply an argument that is in the set and then try the command again.",
                "ParameterArgumentValidationError",
                parameter.name,
            )
        canonical.append(match if isinstance(item, str) else item)
    return canonical if isinstance(value, list) else canonical[0]


def bind(
    signature: CommandSignature,
    arguments: Iterable[Any],
    *,
    expecting_input: bool = False,
    check_mandatory: bool = True,
) -> BoundParameters:
    """Bind one invocation's arguments to ``signature`` with PowerShell's rules.

    ``arguments`` is the command's elements in order: :class:`ParameterToken` for each
    ``-Name`` (with ``value`` when written ``-Name:value``) and plain Python values for the
    rest. ``expecting_input`` (the command is not first in a pipeline) lets mandatory
    pipeline parameters stay unbound. Raises :class:`ParameterBindingError`.
    """
    items = list(arguments)
    named: list[tuple[Parameter, Any]] = []
    positional: list[Any] = []
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if not isinstance(item, ParameterToken):
            positional.append(item)
            continue
        param = signature.resolve(item.name)
        value = item.value
        if value is NO_VALUE:
            if param.is_switch:
                value = True
            elif i < len(items) and not isinstance(items[i], ParameterToken):
                value = items[i]
                i += 1
            else:
                raise ParameterBindingError(
                    f"Missing an argument for parameter '{param.name}'. Specify a parameter of type "
                    f"'{param.type_display}' and try again.",
                    "MissingArgument",
                    param.name,
                )
        if any(p is param for p, _ in named):
            raise ParameterBindingError(
                f"Cannot bind parameter because parameter '{param.name}' is specified more than once. "
                "To provide multiple values to parameters that can accept multiple values, use the array "
                'syntax. For example, "-parameter value1,value2,value3".',
                "ParameterAlreadyBound",
                param.name,
            )
        named.append((param, value))

    candidates = [s for s in signature.set_names if all(p.in_set(s) for p, _ in named)]
    if not candidates:
        raise _ambiguous_set()

    values = CaseInsensitiveDict()
    for param, value in named:
        values[param.name] = _check_choices(param, convert(param, value))

    chosen = _choose_set(signature, candidates, values, positional, expecting_input)
    _bind_positional(signature, chosen, values, positional)

    if check_mandatory:
        missing = [
            p.name
            for p in signature.parameters
            if p.mandatory
            and p.in_set(chosen)
            and p.name not in values
            and not (expecting_input and (p.value_from_pipeline or p.value_from_pipeline_by_property_name))
        ]
        if missing:
            raise ParameterBindingError(
                "Cannot process command because of one or more missing mandatory parameters: "
                + " ".join(missing)
                + ".",
                "MissingMandatoryParameter",
                missing[0],
                missing=missing,
            )
    return BoundParameters(chosen, values, signature)


def _ambiguous_set() -> ParameterBindingError:
    return ParameterBindingError(
        "Parameter set cannot be resolved using the specified named parameters. One or more parameters "
        "issued cannot be used together or an insufficient number of parameters were provided.",
        "AmbiguousParameterSet",
    )


def _positional_params(signature: CommandSignature, set_name: str) -> list[Parameter]:
    params = [p for p in signature.parameters if p.position is not None and p.in_set(set_name)]
    return sorted(params, key=lambda p: p.position if p.position is not None else 0)


def _choose_set(
    signature: CommandSignature,
    candidates: list[str],
    values: CaseInsensitiveDict,
    positional: list[Any],
    expecting_input: bool,
) -> str:
    if len(candidates) == 1:
        return candidates[0]
    # Keep the sets whose positional slots can take the positional arguments given.
    fitting = [
        s
        for s in candidates
        if len([p for p in _positional_params(signature, s) if p.name not in values]) >= len(positional)
        or any(p.value_from_remaining_arguments and p.in_set(s) for p in signature.parameters)
    ] or candidates
    if len(fitting) > 1 and positional:
        # PowerShell first tries to bind positional arguments without type coercion.
        strict = [s for s in fitting if _positional_fits_strictly(signature, s, values, positional)]
        if strict:
            fitting = strict
    if len(fitting) == 1:
        return fitting[0]
    satisfied = [
        s
        for s in fitting
        if all(
            p.name in values or (expecting_input and p.value_from_pipeline)
            for p in signature.parameters
            if p.mandatory and p.in_set(s) and p.position is None
        )
    ]
    # Sets in which a named parameter is specific (not shared by all sets) are preferred.
    named_sets = [p.sets for p in (signature.parameter(n) for n in values) if p is not None]
    specific = [s for s in satisfied if any(sets for sets in named_sets)]
    default = signature.default_set
    for group in (specific, satisfied):
        if default is not None and default in group:
            return default
        if len(group) == 1:
            return group[0]
    if default is not None and default in fitting:
        return default
    raise _ambiguous_set()


def _strict_ok(parameter: Parameter, value: Any) -> bool:
    """Whether ``value`` fits the parameter's type without coercion."""
    kind = parameter.type
    if callable(kind):
        try:
            kind(value)
        except (ValueError, TypeError):
            return False
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "string[]":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if kind in ("int", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int[]":
        items = value if isinstance(value, list) else [value]
        return all(isinstance(v, int) and not isinstance(v, bool) for v in items)
    if kind in ("switch", "bool"):
        return isinstance(value, bool)
    if kind == "scriptblock":
        return isinstance(value, ScriptBlock)
    if kind == "hashtable":
        return isinstance(value, dict)
    return True


def _positional_fits_strictly(
    signature: CommandSignature, set_name: str, values: CaseInsensitiveDict, positional: list[Any]
) -> bool:
    slots = [p for p in _positional_params(signature, set_name) if p.name not in values]
    return all(_strict_ok(p, v) for p, v in zip(slots, positional, strict=False))


def _bind_positional(
    signature: CommandSignature, set_name: str, values: CaseInsensitiveDict, positional: list[Any]
) -> None:
    slots = [p for p in _positional_params(signature, set_name) if p.name not in values]
    remaining = list(positional)
    for param in slots:
        if not remaining:
            break
        if param.value_from_remaining_arguments:
            values[param.name] = _check_choices(param, convert(param, remaining))
            remaining = []
            break
        values[param.name] = _check_choices(param, convert(param, remaining.pop(0)))
    if remaining:
        rest = next(
            (p for p in signature.parameters if p.value_from_remaining_arguments and p.in_set(set_name)), None
        )
        if rest is not None and rest.name not in values:
            values[rest.name] = remaining
            return
        raise ParameterBindingError(
            f"A positional parameter cannot be found that accepts argument '{to_string(remaining[0])}'.",
            "PositionalParameterNotFound",
        )
