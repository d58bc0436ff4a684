"""A PipelineIO that records what the engine sends, for driving the Engine in tests.

This is the engine's own boundary (the shell glue implements the same protocol over
psrpcore), so recording it is what the unit tests of the engine observe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from psrpcore import Command
from psrpcore.types import HostMethodIdentifier

from psremoting.emulator.engine import Engine, InvocationResult


class Recorder:
    """Records output, streams and host calls; answers host calls through ``answers``."""

    def __init__(
        self,
        has_host: bool = True,
        answers: dict[HostMethodIdentifier, Any] | None = None,
        input_items: list[Any] | None = None,
        on_host_call: Callable[[HostMethodIdentifier, list[Any]], Any] | None = None,
    ) -> None:
        self.has_host = has_host
        self.stopping = threading.Event()
        self.output: list[Any] = []
        self.errors: list[Any] = []
        self.warnings: list[str] = []
        self.verbose: list[str] = []
        self.debug: list[str] = []
        self.information: list[tuple[Any, str]] = []
        self.progress: list[tuple[Any, ...]] = []
        self.host_calls: list[tuple[HostMethodIdentifier, list[Any]]] = []
        self.answers = answers or {}
        self.input_items = input_items or []
        self.on_host_call = on_host_call

    def write_output(self, obj: Any) -> None:
        self.output.append(obj)

    def write_error(self, error_record: Any) -> None:
        self.errors.append(error_record)

    def write_warning(self, message: str) -> None:
        self.warnings.append(message)

    def write_verbose(self, message: str) -> None:
        self.verbose.append(message)

    def write_debug(self, message: str) -> None:
        self.debug.append(message)

    def write_information(self, data: Any, source: str) -> None:
        self.information.append((data, source))

    def write_progress(self, *args: Any, **kwargs: Any) -> None:
        self.progress.append(args)

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        self.host_calls.append((method, list(args)))
        if self.on_host_call is not None:
            return self.on_host_call(method, args)
        return self.answers.get(method)

    def input(self) -> Iterator[Any]:
        return iter(self.input_items)

    # -- helpers for assertions ------------------------------------------------------
    @property
    def lines(self) -> list[str]:
        """Text written with WriteLine2 (Out-Default's lines)."""
        return [a[0] for m, a in self.host_calls if m == HostMethodIdentifier.WriteLine2]

    @property
    def error_lines(self) -> list[str]:
        return [a[0] for m, a in self.host_calls if m == HostMethodIdentifier.WriteErrorLine]

    def methods(self) -> list[HostMethodIdentifier]:
        return [m for m, _ in self.host_calls]


def script(text: str, out_default: bool = False) -> list[Command]:
    """Commands for one interactive line: the script, plus Out-Default as clients add it."""
    commands = [Command(text, is_script=True)]
    if out_default:
        od = Command("Out-Default")
        od.merge_unclaimed = True
        commands.append(od)
    return commands


def run(
    engine: Engine, text: str, out_default: bool = False, **kwargs: Any
) -> tuple[InvocationResult, Recorder]:
    """Run ``text`` as a script on ``engine``; returns the result and the recorder."""
    rec = Recorder(**kwargs)
    result = engine.invoke(script(text, out_default), rec)
    return result, rec
