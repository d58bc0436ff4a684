"""The exceptions of evaluation: runtime errors and the non-local exits (exit, return, throw)."""

from __future__ import annotations

from typing import Any

from .values import to_string

__all__ = ["EvaluationError", "ExitRequest", "FlowControl", "ReturnRequest", "ThrowRequest"]


class EvaluationError(Exception):
    """A runtime error in an expression (PowerShell's RuntimeException), with its position.

    ``error_id`` is PowerShell's FullyQualifiedErrorId for the same error where known.
    """

    def __init__(self, message: str, pos: int = 0, error_id: str = "RuntimeException") -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.error_id = error_id


class FlowControl(Exception):
    """Base of the non-local exits (exit, return, break, continue, throw)."""


class ExitRequest(FlowControl):
    """``exit N``: ends the script; ``code`` is N (0 when omitted)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit {code}")
        self.code = code


class ReturnRequest(FlowControl):
    """``return``, ``break`` or ``continue`` leaving a script block or loop."""

    def __init__(self, keyword: str = "return") -> None:
        super().__init__(keyword)
        self.keyword = keyword


class ThrowRequest(FlowControl):
    """``throw value``: a terminating error carrying the thrown value."""

    def __init__(self, value: Any) -> None:
        super().__init__(to_string(value) or "ScriptHalted")
        self.value = value
