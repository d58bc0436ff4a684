"""The boundary between the command engine and the PSRP shell glue.

The engine never touches psrpcore's pipeline objects or the WSMan layer: everything a
running pipeline sends to the client (output, the six streams, host calls) goes through a
:class:`PipelineIO` that ``emulator/pipelines.py`` implements per pipeline. Tests drive the
engine through a small recorder implementing the same protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from psrpcore.types import ErrorRecord, HostMethodIdentifier

__all__ = ["InvocationResult", "PipelineIO", "PipelineStopped"]


class PipelineStopped(Exception):
    """The client stopped the pipeline (Signal ctrl_c) while the engine was running it.

    Raised by :meth:`PipelineIO.host_call` when a stop arrives while waiting for a host
    response, and by the engine itself when it notices ``io.stopping``; the engine turns
    it into the Stopped end of the pipeline.
    """


@runtime_checkable
class PipelineIO(Protocol):
    """What a running pipeline can do to its client. Implemented by the shell glue."""

    #: True when the client supplied a host (pypsrp ``host=``); False means Windows'
    #: behaviour for a null host: writes through host calls are dropped, prompts fail.
    has_host: bool
    #: Set when the client asked to stop the pipeline; long-running commands poll it.
    stopping: threading.Event

    def write_output(self, obj: Any) -> None:
        """Send one object on the output stream."""

    def write_error(self, error_record: ErrorRecord) -> None:
        """Send one non-terminating error record on the error stream."""

    def write_warning(self, message: str) -> None:
        """Send a warning record."""

    def write_verbose(self, message: str) -> None:
        """Send a verbose record."""

    def write_debug(self, message: str) -> None:
        """Send a debug record."""

    def write_information(self, data: Any, source: str) -> None:
        """Send an information record (Write-Information, Write-Host)."""

    def write_progress(
        self,
        activity: str,
        status: str,
        percent_complete: int,
        activity_id: int,
        record_type: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Send a progress record."""

    def host_call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        """Call a method on the client's host; blocks for the answer of non-void methods.

        Raises :class:`PipelineStopped` if the pipeline is stopped while waiting.
        """

    def input(self) -> Iterator[Any]:
        """Pipeline input sent by the client, until its end."""


@dataclass
class InvocationResult:
    """How a pipeline ended: ``failed`` is the terminating error (state Failed) or None."""

    failed: ErrorRecord | None = None
    #: True when the pipeline ended because it was stopped (state Stopped).
    stopped: bool = False
