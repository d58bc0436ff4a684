"""-Confirm, as PowerShell's ShouldProcess asks it: Yes, Yes to All, No, No to All."""

from __future__ import annotations

from typing import Any

__all__ = ["confirmed"]


def confirmed(call: Any, operation: str, target: str, answers: dict[str, bool]) -> bool:
    """Whether to go on with `operation` on `target`: always without -Confirm; else the user's
    answer. `answers` (one dict per call) remembers a "to All" answer for the rest of the call."""
    if not call.get("Confirm"):
        return True
    if "all" in answers:
        return answers["all"]
    from psremoting.runspace.host_ui import ChoiceDescription

    choices = [
        ChoiceDescription("&Yes", "Continue with only the next step of the operation."),
        ChoiceDescription("Yes to &All", "Continue with all the steps of the operation."),
        ChoiceDescription("&No", "Skip this operation and proceed with the next operation."),
        ChoiceDescription("No to A&ll", "Skip this operation and all subsequent operations."),
    ]
    answer = call.context.ui.prompt_for_choice(
        "Confirm",
        f'Are you sure you want to perform this action?\nPerforming the operation "{operation}" on target "{target}".',
        choices,
        0,
    )
    if answer in (1, 3):
        answers["all"] = answer == 1
    return answer in (0, 1)
