"""What a pipeline needs of its runspace pool, as a protocol.

`pool.RunspacePoolConnection` implements it; `pipeline.Pipeline` uses only this, so that the
two modules do not import each other (the runspace layer has no import cycle).
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from psremoting.protocol.errors import SessionBrokenError

__all__ = ["PoolForPipelines"]

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.runspace.reconnect import ReconnectDisplay
    from psremoting.transport.options import ConnectionInfo
    from psremoting.transport.shell import ShellChannel


class PoolForPipelines(Protocol):
    """What a pipeline needs of its runspace pool (`pool.RunspacePoolConnection` is the one
    implementation; a protocol, so that pipelines and pools do not import each other)."""

    info: ConnectionInfo
    label: str
    lock: threading.RLock
    host: Any
    host_state: Any
    channel: ShellChannel
    pool: Any
    instance_id: uuid.UUID
    current: Any
    broken_reason: str | None
    host_key_at_open: tuple[Any, ...] | None
    disconnected_commands: dict[str, str | None]
    display: ReconnectDisplay

    @property
    def state(self) -> Any: ...

    def require_opened(self) -> None: ...

    def set_busy(self, busy: bool) -> None: ...

    def mark_broken(self, reason: str) -> SessionBrokenError: ...

    def check_alive(self, timeout: int = 10) -> bool: ...

    def auto_disconnect(self) -> None: ...

    def take_needs_command_connect(self, command_id: str) -> bool: ...
