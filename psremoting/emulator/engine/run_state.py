"""What a pipeline stage sees of the pipeline run it belongs to (`runtime.PipelineRun`).

Commands, processors and the native transfer stages are driven by `PipelineRun`, which in
turn builds them: they depend on this protocol, and `runtime` on them, so there is no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from psrpcore.types import ErrorRecord

from .io import PipelineIO

if TYPE_CHECKING:
    from psremoting.pslang.evaluator import Evaluator
    from psremoting.pslang.parser import ParseError

    from . import Engine

__all__ = ["Emit", "RunState"]

Emit = Callable[[Any], None]


class RunState(Protocol):
    """The state of one client pipeline while the engine runs it (see `runtime.PipelineRun`)."""

    engine: Engine
    io: PipelineIO
    error_route: Emit
    script_text: str
    in_expression: int
    evaluator: Evaluator

    def write_error(self, record: ErrorRecord) -> None:
        """A non-terminating error, to the error stream or where the client merged it."""

    def write_file(self, path: Any, items: list[Any], append: bool) -> None:
        """``> file``: the items as Out-File writes them, in the sandbox."""

    def parse_error(self, exc: ParseError) -> ErrorRecord:
        """A ParseException ErrorRecord for a script that does not parse."""
