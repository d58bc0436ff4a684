"""Loops and ``try``/``catch``/``finally`` for the evaluator.

Loops call the evaluator's ``check_interrupt`` hook on every turn, so a host can stop a
``while ($true) {}`` (the emulator raises its PipelineStopped there). ``catch`` receives
what the evaluator's ``catchable`` hook makes of a terminating error (an ErrorRecord in the
emulator) as ``$_``; without a hook, ``throw`` and runtime errors are caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from . import ast as A
from .flow import EvaluationError, FlowControl, ReturnRequest, ThrowRequest
from .scope import Scope
from .values import to_bool

__all__ = ["Evaluator", "default_catchable", "run_for", "run_try", "run_while"]

Emit = Callable[[Any], None]


class Evaluator(Protocol):
    """What loops and ``try`` need of the evaluator (pslang.evaluator.Evaluator is one)."""

    scope: Scope
    check_interrupt: Callable[[], None] | None
    catchable: Callable[[Exception], tuple[Any, list[str]] | None] | None

    def copy(self, scope: Scope | None = None, **changes: Any) -> Evaluator: ...

    def run_script(self, script: A.Script, emit: Emit) -> None: ...

    def run_statement(self, stmt: A.Statement, emit: Emit) -> None: ...

    def statement_value(self, stmt: A.Statement) -> Any: ...


_RUNTIME_EXCEPTION = [
    "System.Management.Automation.RuntimeException",
    "System.SystemException",
    "System.Exception",
]


def default_catchable(exc: Exception) -> tuple[Any, list[str]] | None:
    """``($_ value, exception type names)`` for a catchable error, or None."""
    if isinstance(exc, ThrowRequest):
        return exc.value, _RUNTIME_EXCEPTION
    if isinstance(exc, EvaluationError):
        return exc.message, _RUNTIME_EXCEPTION
    return None


def _loop_turn(ev: Evaluator, body: A.Script, emit: Emit) -> bool:
    """Run one turn of a loop body; False when ``break`` left the loop."""
    if ev.check_interrupt is not None:
        ev.check_interrupt()
    try:
        ev.run_script(body, emit)
    except ReturnRequest as req:
        if req.keyword == "break":
            return False
        if req.keyword != "continue":
            raise
    return True


def run_while(ev: Evaluator, stmt: A.While, emit: Emit) -> None:
    """``while``, ``do..while`` and ``do..until``."""
    if stmt.kind == "while":
        while to_bool(ev.statement_value(stmt.condition)):
            if not _loop_turn(ev, stmt.body, emit):
                return
        return
    while True:
        if not _loop_turn(ev, stmt.body, emit):
            return
        value = to_bool(ev.statement_value(stmt.condition))
        if value == (stmt.kind == "do-until"):
            return


def run_for(ev: Evaluator, stmt: A.For, emit: Emit) -> None:
    """``for (init; condition; iterator) { body }``."""
    if stmt.init is not None:
        ev.run_statement(stmt.init, lambda _: None)
    while stmt.condition is None or to_bool(ev.statement_value(stmt.condition)):
        if not _loop_turn(ev, stmt.body, emit):
            return
        if stmt.iterator is not None:
            ev.run_statement(stmt.iterator, lambda _: None)


def _matches(catch_types: tuple[str, ...], names: list[str]) -> bool:
    if not catch_types:
        return True
    normalized = {n.lower().removeprefix("deserialized.").removeprefix("system.") for n in names}
    return any(t.lower().removeprefix("system.") in normalized for t in catch_types)


def run_try(ev: Evaluator, stmt: A.Try, emit: Emit) -> None:
    """``try`` runs its body so that statement-terminating errors reach the ``catch`` clauses."""
    inner = ev.copy(on_statement_error=None)
    try:
        inner.run_script(stmt.body, emit)
    except Exception as exc:
        if isinstance(exc, FlowControl) and not isinstance(exc, ThrowRequest):
            raise
        caught = (ev.catchable or default_catchable)(exc)
        if caught is None:
            raise
        value, names = caught
        for types, body in stmt.catches:
            if _matches(types, names):
                ev.scope.set("_", value)
                ev.scope.set("PSItem", value)
                ev.run_script(body, emit)
                break
        else:
            raise
    finally:
        if stmt.finally_body is not None:
            ev.run_script(stmt.finally_body, emit)
