"""The stages of a running pipeline, in PowerShell's begin / process / end model.

A :class:`Processor` is one stage: a built-in, a registered handler, a script function, an
expression at the head of a pipeline, a client's script command; :class:`Redirected` and
:class:`Routed` wrap a stage to send its output or errors elsewhere (``> file``, ``2>&1``,
the client's merge settings).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang import ast as A
from psremoting.pslang.evaluator import EvaluationError, Evaluator, ExitRequest, FlowControl
from psremoting.pslang.values import enumerate_value, to_string

from .commands import Builtin, CommandContext
from .errors import PSError, make_error_record
from .io import PipelineStopped
from .run_state import RunState

__all__ = [
    "KEEP",
    "CommandProcessor",
    "ExpressionSource",
    "HandlerProcessor",
    "Processor",
    "Redirected",
    "Routed",
    "using_values",
]

Emit = Callable[[Any], None]


class Processor:
    """One stage of a running pipeline (begin / process / end)."""

    downstream: Emit

    def begin(self) -> None:
        """Before any input."""

    def process(self, item: Any) -> None:
        """One input object."""

    def end(self) -> None:
        """After the input ended."""


class CommandProcessor(Processor):
    def __init__(self, command: Builtin, ctx: CommandContext) -> None:
        self.command = command
        self.ctx = ctx

    def begin(self) -> None:
        self.command.begin(self.ctx)

    def process(self, item: Any) -> None:
        self.ctx.check_stopped()
        self._guarded(self.command.process, self.ctx, item)

    def end(self) -> None:
        self.ctx.check_stopped()
        self._guarded(self.command.end, self.ctx)

    def _guarded(self, fn: Callable[..., None], *args: Any) -> None:
        """Run a built-in's method: its non-terminating errors are written, and an unexpected
        Python error (a file the host refuses...) becomes that command's terminating error."""
        try:
            fn(*args)
        except PSError as exc:
            if exc.terminating:
                raise
            self.ctx.write_error(exc.record)
        except (PipelineStopped, FlowControl, EvaluationError):
            raise
        except OSError as exc:
            raise PSError(
                self.ctx.error(
                    f"{exc.strerror or exc}: '{exc.filename}'" if exc.filename else str(exc),
                    "System.IO.IOException",
                    ErrorCategory.WriteError,
                    "System.IO.IOException",
                )
            ) from exc
        except Exception as exc:
            raise PSError(
                self.ctx.error(
                    str(exc) or type(exc).__name__,
                    "System.Management.Automation.RuntimeException",
                    ErrorCategory.NotSpecified,
                    type(exc).__name__,
                )
            ) from exc


class HandlerProcessor(Processor):
    def __init__(self, handler: Callable[[CommandContext], Any], ctx: CommandContext) -> None:
        self.handler = handler
        self.ctx = ctx

    def process(self, item: Any) -> None:
        self.ctx.input.append(item)

    def end(self) -> None:
        try:
            result = self.handler(self.ctx)
        except (PSError, PipelineStopped, ExitRequest):
            raise
        except Exception as exc:
            raise PSError(
                make_error_record(
                    str(exc) or type(exc).__name__,
                    "System.Management.Automation.RuntimeException",
                    ErrorCategory.NotSpecified,
                    type(exc).__name__,
                    None,
                    line=self.ctx.line,
                    position=self.ctx.position,
                )
            ) from exc
        if result is None:
            return
        if isinstance(result, (str, bytes, dict)) or not isinstance(result, Iterable):
            self.ctx.emit(result)
            return
        for item in result:
            self.ctx.emit(item)


class ExpressionSource(Processor):
    def __init__(self, evaluator: Evaluator, expr: A.Expr) -> None:
        self.evaluator = evaluator
        self.expr = expr

    def end(self) -> None:
        value = self.evaluator.evaluate(self.expr)
        for item in enumerate_value(value) if not isinstance(value, dict) else [value]:
            self.downstream(item)


class Redirected(Processor):
    """A command with redirections: ``> $null``, ``> file``, ``>> file``, ``2> $null``, ``2>&1``, ``*> ...``."""

    def __init__(
        self,
        run: RunState,
        inner: Processor,
        ctx: CommandContext | None,
        targets: list[tuple[A.Redirection, Any]],
    ) -> None:
        self.run = run
        self.inner = inner
        self.ctx = ctx
        self.targets = targets
        self.files: dict[str, tuple[list[Any], bool]] = {}
        self.output_target: Any = KEEP
        #: Where errors go for a stage without a command context (a script block, a
        #: function): the run's error route while it runs.
        self.error_route: Emit | None = None
        for redirection, target in targets:
            if redirection.stream in ("1", "*") and not redirection.merge_to_output:
                self.output_target = target
            if redirection.stream in ("2", "*"):
                if redirection.merge_to_output:
                    sink: Emit = lambda record: self.downstream(record)  # noqa: E731
                elif target is None:
                    sink = lambda record: None  # noqa: E731
                else:
                    sink = self._collector(target, redirection.append)
                if ctx is not None:
                    ctx.error_sink = sink
                else:
                    self.error_route = sink
        if self.output_target is not KEEP:
            append = any(r.append for r, t in targets if t is self.output_target)
            self.inner.downstream = (
                (lambda obj: None)
                if self.output_target is None
                else self._collector(self.output_target, append)
            )

    def _collector(self, target: Any, append: bool) -> Emit:
        path = to_string(target)
        items, _ = self.files.setdefault(path, ([], append))
        return items.append

    def link(self, emit: Emit) -> None:
        self.downstream = emit
        if self.output_target is KEEP:
            self.inner.downstream = emit

    def _routed(self, fn: Callable[..., None], *args: Any) -> None:
        if self.error_route is None:
            fn(*args)
            return
        saved = self.run.error_route
        self.run.error_route = self.error_route
        try:
            fn(*args)
        finally:
            self.run.error_route = saved

    def begin(self) -> None:
        self._routed(self.inner.begin)

    def process(self, item: Any) -> None:
        self._routed(self.inner.process, item)

    def end(self) -> None:
        self._routed(self.inner.end)
        for path, (items, append) in self.files.items():
            self.run.write_file(path, items, append)


KEEP = object()


class Routed(Processor):
    """Wraps a client-level stage so that errors written while it runs go to its route."""

    def __init__(self, run: RunState, inner: Processor, route: Emit) -> None:
        self.run = run
        self.inner = inner
        self.route = route

    @property
    def downstream(self) -> Emit:
        return self.inner.downstream

    @downstream.setter
    def downstream(self, emit: Emit) -> None:
        self.inner.downstream = emit

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        saved = self.run.error_route
        self.run.error_route = self.route
        try:
            fn(*args)
        finally:
            self.run.error_route = saved

    def begin(self) -> None:
        self._call(self.inner.begin)

    def process(self, item: Any) -> None:
        self._call(self.inner.process, item)

    def end(self) -> None:
        self._call(self.inner.end)


def using_values(table: dict[Any, Any]) -> dict[str, Any]:
    """``$using:`` values from the ``--%`` parameter Invoke-Command sends.

    Its keys are Base64(UTF-16LE("$using:name")), as PowerShell 5+ writes them.
    """
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            text = base64.b64decode(str(key)).decode("utf-16-le")
        except (ValueError, UnicodeDecodeError):
            continue
        if text.lower().startswith("$using:"):
            values[text[len("$using:") :].strip("{}")] = value
    return values
