"""What the user sees while a session rides out a network failure (robust connections).

The transport retries a request on fresh connections and reports `NetworkEvent`s; this
turns them into what PowerShell shows: the warnings ("The network connection to X has been
interrupted. Attempting to reconnect for up to 4 minutes...", "Attempting to reconnect to
X ...", "The network connection to X has been restored.") and a progress bar, activity
"Network connection interrupted", counting down the retry period, removed when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from psremoting.protocol.objects import ProgressRecord
from psremoting.protocol.session_texts import (
    RC_AUTO_DISCONNECTED,
    RC_AUTO_DISCONNECTING_WARNING,
    RC_CONNECTION_RETRY_ATTEMPT,
    RC_NETWORK_FAILURE_DETECTED,
    RC_PROGRESS_ACTIVITY,
    RC_PROGRESS_STATUS,
    RC_RECONNECT_SUCCEEDED,
)
from psremoting.runspace.host_ui import HostUI
from psremoting.transport.robust import NetworkEvent

__all__ = ["ReconnectDisplay"]

#: The progress bar's source id (PowerShell's ActivityId 0 of its own host, not a remote one).
PROGRESS_SOURCE_ID = 0


class ReconnectDisplay:
    """Writes PowerShell's robust-connection warnings and progress to whatever `ui()` gives
    (the HostUI of the running command), for one computer."""

    def __init__(self, computer_name: str, ui: Callable[[], HostUI | None]) -> None:
        self.computer_name = computer_name
        self._ui = ui
        self._lock = threading.Lock()
        #: Every warning written, in order (also for callers without a UI).
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        ui = self._ui()
        if ui is not None:
            ui.write_warning_line(text)

    def _progress(self, event: NetworkEvent, *, done: bool = False) -> None:
        ui = self._ui()
        if ui is None:
            return
        total = max(event.total, 1.0)
        remaining = max(0, int(round(total - event.elapsed)))
        record = ProgressRecord(
            activity=RC_PROGRESS_ACTIVITY,
            status_description=RC_PROGRESS_STATUS.format(self.computer_name),
            activity_id=0,
            percent_complete=min(100, int(event.elapsed * 100 / total)),
            seconds_remaining=remaining,
            record_type="Completed" if done else "Processing",
        )
        ui.write_progress(PROGRESS_SOURCE_ID, record)

    def __call__(self, event: NetworkEvent) -> None:
        with self._lock:
            name = self.computer_name
            if event.kind == "detected":
                self.warn(RC_NETWORK_FAILURE_DETECTED.format(name, int(event.total // 60)))
                self._progress(event)
            elif event.kind == "attempt":
                self.warn(RC_CONNECTION_RETRY_ATTEMPT.format(name))
                self._progress(event)
            elif event.kind == "tick":
                self._progress(event)
            elif event.kind == "restored":
                self._progress(event, done=True)
                self.warn(RC_RECONNECT_SUCCEEDED.format(name))
            elif event.kind == "failed":
                self._progress(event, done=True)

    def auto_disconnecting(self) -> None:
        self.warn(RC_AUTO_DISCONNECTING_WARNING.format(self.computer_name))

    def auto_disconnected(self) -> None:
        self.warn(RC_AUTO_DISCONNECTED.format(self.computer_name))
