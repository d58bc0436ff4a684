"""What an emulated computer counts, for tests and benchmarks to read.

:class:`Stats` is shared by every computer of an :class:`~psremoting.emulator.Emulator`:
requests per WSMan action (by its last path segment), open shells, and the peak of
concurrently running pipelines (what throttle tests check).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

__all__ = ["Stats", "short_action"]


def short_action(action: str) -> str:
    """The last path segment of a WSMan action URI (``.../Command`` -> ``Command``)."""
    return action.rsplit("/", 1)[-1] if action else "(none)"


class Stats:
    """Counters a test can read: requests per action, open shells, running, queued and peak
    running pipelines."""

    def __init__(
        self, open_shells: Callable[[], int] | None = None, open_connections: Callable[[], int] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.running_pipelines = 0
        self.peak_running_pipelines = 0
        self.pipelines_started = 0
        self.queued_pipelines = 0
        self._open_shells = open_shells or (lambda: 0)
        self._open_connections = open_connections or (lambda: 0)

    def count(self, action: str) -> None:
        with self._lock:
            self.requests[short_action(action)] += 1

    def pipeline_started(self) -> None:
        with self._lock:
            self.running_pipelines += 1
            self.pipelines_started += 1
            self.peak_running_pipelines = max(self.peak_running_pipelines, self.running_pipelines)

    def pipeline_ended(self) -> None:
        with self._lock:
            self.running_pipelines -= 1

    def pipeline_queued(self, change: int) -> None:
        """A pipeline begins (+1) or ends (-1) waiting for a free runspace of its pool."""
        with self._lock:
            self.queued_pipelines += change

    @property
    def open_shells(self) -> int:
        return self._open_shells()

    @property
    def open_connections(self) -> int:
        """TCP connections the listeners hold open now (a client's idle keep-alive ones too)."""
        return self._open_connections()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.peak_running_pipelines = self.running_pipelines
            self.pipelines_started = 0

    def __repr__(self) -> str:
        return (
            f"Stats(requests={dict(self.requests)}, open_shells={self.open_shells}, "
            f"open_connections={self.open_connections}, "
            f"peak_running_pipelines={self.peak_running_pipelines})"
        )
