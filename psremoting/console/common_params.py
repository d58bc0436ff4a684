"""PowerShell's common parameters for the local shell's cmdlets (about_CommonParameters).

`CommonSettings.from_params` reads -ErrorAction, -WarningAction, -InformationAction,
-ProgressAction, -ErrorVariable, -WarningVariable, -InformationVariable, -OutVariable,
-Verbose and -Debug from a cmdlet's bound parameters; a cmdlet writes its non-terminating
errors, warnings, information and progress through them (`builtins.Call.write_error` and
friends), so that each parameter does what it does in PowerShell:

- an action of Continue shows the record, SilentlyContinue hides it (still kept in the
  -...Variable), Ignore drops it, Stop turns it into a terminating error; Inquire and Suspend
  are refused (they need PowerShell's debugger and workflows);
- -ErrorVariable / -WarningVariable / -InformationVariable / -OutVariable get what the
  command wrote (``+name`` appends to the variable instead of replacing it);
- -Verbose and -Debug show the command's own verbose and debug messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psremoting.console.errors import ShellError

__all__ = ["ACTIONS", "CommonSettings"]

#: ActionPreference values this client honours, lower-case.
ACTIONS = ("continue", "silentlycontinue", "ignore", "stop")
_REFUSED_ACTIONS = {
    "inquire": "it asks at every record, which needs PowerShell's interactive debugger",
    "suspend": "it suspends a workflow, and workflows are not part of PowerShell 7",
    "break": "it enters PowerShell's script debugger, which the psremoting shell does not have",
}


def _action(params: dict[str, Any], name: str, command: str) -> str:
    value = params.get(name)
    if value is None:
        return "continue"
    text = str(getattr(value, "value", value)).strip().lower()
    if text in ACTIONS:
        return text
    if text in _REFUSED_ACTIONS:
        raise ShellError(
            f"-{name} {value} is not supported on this client: {_REFUSED_ACTIONS[text]}.", command
        )
    raise ShellError(
        f"Cannot bind parameter '{name}'. Cannot convert value \"{value}\" to type "
        '"System.Management.Automation.ActionPreference". Error: "Unable to match the identifier name '
        f"{value} to a valid enumerator name. Specify one of the following enumerator names and try again: "
        'SilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend, Break"',
        command,
    )


def _variable(params: dict[str, Any], name: str) -> tuple[str, bool] | None:
    """(variable name, append) for an -...Variable parameter."""
    value = params.get(name)
    if value is None:
        return None
    text = str(value).strip()
    append = text.startswith("+")
    text = text.lstrip("+").lstrip("$")
    return (text, append) if text else None


@dataclass
class CommonSettings:
    """The common parameters of one cmdlet call, and what the call wrote through them."""

    error_action: str = "continue"
    warning_action: str = "continue"
    information_action: str | None = None  # None: not given (Write-Host shows, other information not)
    progress_action: str = "continue"
    verbose: bool = False
    debug: bool = False
    variables: dict[str, tuple[str, bool]] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)
    information: list[Any] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict[str, Any], command: str) -> CommonSettings:
        settings = cls(
            error_action=_action(params, "ErrorAction", command),
            warning_action=_action(params, "WarningAction", command),
            information_action=(
                _action(params, "InformationAction", command) if params.get("InformationAction") else None
            ),
            progress_action=_action(params, "ProgressAction", command),
            verbose=bool(params.get("Verbose")),
            debug=bool(params.get("Debug")),
        )
        for kind in ("ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable"):
            target = _variable(params, kind)
            if target is not None:
                settings.variables[kind] = target
        return settings

    def assign(self, scope: Any, output: list[Any] | None) -> None:
        """Set the -...Variable variables after the call (``+name`` appends)."""
        collected = {
            "ErrorVariable": self.errors,
            "WarningVariable": self.warnings,
            "InformationVariable": self.information,
            "OutVariable": output if output is not None else [],
        }
        for kind, (name, append) in self.variables.items():
            value = list(collected[kind])
            if append:
                before = scope.lookup(name)
                if before is not None:
                    value = (list(before) if isinstance(before, (list, tuple)) else [before]) + value
            scope.set(name, value)

    @property
    def wants_output(self) -> bool:
        return "OutVariable" in self.variables
