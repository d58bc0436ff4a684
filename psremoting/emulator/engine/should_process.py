"""ShouldProcess as a cmdlet with SupportsShouldProcess runs it: -WhatIf, -Confirm, the preferences.

PowerShell's MshCommandRuntime decides per target, in this order:

- ``-WhatIf`` (or ``$WhatIfPreference``): write ``What if: Performing the operation "ACTION" on
  target "TARGET".`` to the host (WriteLine) and skip the target;
- ``-Confirm:$false``, or the command's ConfirmImpact below ``$ConfirmPreference`` (High by
  default; ``-Confirm`` lowers it to Low): go on, writing the same text as a verbose record
  with ``-Verbose``;
- otherwise ask the host (PromptForChoice, caption ``Confirm``, the message "Are you sure you
  want to perform this action?" and the operation): Yes, Yes to All, No, No to All. A remote
  session offers no Suspend. "... to All" holds for the rest of the command's targets.
"""

from __future__ import annotations

from typing import Any

from psrpcore.types import ChoiceDescription, HostMethodIdentifier

from psremoting.pslang.binder import Parameter
from psremoting.pslang.values import to_bool

from .commands import CommandContext

__all__ = ["SHOULD_PROCESS_PARAMETERS", "should_process"]

#: -WhatIf and -Confirm, as SupportsShouldProcess adds them.
SHOULD_PROCESS_PARAMETERS = (Parameter("WhatIf", "switch", ("wi",)), Parameter("Confirm", "switch", ("cf",)))

_IMPACT = {"none": 0, "low": 1, "medium": 2, "high": 3}
_CHOICES = (
    ("&Yes", "Continue with only the next step of the operation."),
    ("Yes to &All", "Continue with all the steps of the operation."),
    ("&No", "Skip this operation and proceed with the next operation."),
    ("No to A&ll", "Skip this operation and all subsequent operations."),
)


def _bound(ctx: CommandContext, name: str) -> bool:
    return ctx.bound is not None and name in ctx.bound


def should_process(ctx: CommandContext, target: str, impact: str = "Medium") -> bool:
    """Whether the command goes on with ``target`` (the action is the command's name)."""
    decided = ctx.state.get("should_process_all")
    if decided is not None:
        return bool(decided)
    description = f'Performing the operation "{ctx.name}" on target "{target}".'
    what_if = (
        ctx.switch("WhatIf")
        if _bound(ctx, "WhatIf")
        else to_bool(ctx.evaluator.scope.lookup("WhatIfPreference"))
    )
    if what_if:
        ctx.write_line(f"What if: {description}")
        return False
    if _bound(ctx, "Confirm"):
        threshold = "low" if ctx.switch("Confirm") else "none"
    else:
        threshold = str(ctx.evaluator.scope.lookup("ConfirmPreference") or "High").lower()
    level = _IMPACT.get(threshold, 3)
    if level == 0 or level > _IMPACT.get(impact.lower(), 2):
        if ctx.stream_enabled("Verbose", "VerbosePreference"):
            ctx.io.write_verbose(description)
        return True
    choices: list[Any] = [ChoiceDescription(Label=label, HelpMessage=text) for label, text in _CHOICES]
    message = f"Are you sure you want to perform this action?\n{description}"
    encoded = [ChoiceDescription.ToPSObjectForRemoting(c, for_host=True) for c in choices]
    answer = ctx.host_call(HostMethodIdentifier.PromptForChoice, ["Confirm", message, encoded, 0])
    try:
        chosen = int(answer)
    except (TypeError, ValueError):
        chosen = 0
    if chosen in (1, 3):
        ctx.state["should_process_all"] = chosen == 1
    return chosen in (0, 1)
