"""What every WinRS shell has, and the registry of one emulated computer's shells.

:class:`Shell` is the part common to the PowerShell shell (``psrp_shell.py``) and the cmd
shell (``cmdshell.py``): identity, owner, idle bookkeeping, a lock and its condition.
:class:`ShellRegistry` holds the shells of one computer: lookup by id and owner, the
MaxShellsPerUser quota, and the reaper thread that closes shells idle past IdleTimeout, as
WinRM does.
"""

from __future__ import annotations

import logging
import threading
import time

from psremoting.emulator import faults

log = logging.getLogger(__name__)

__all__ = ["Shell", "ShellRegistry"]


class Shell:
    """What every WinRS shell has: identity, owner, idle bookkeeping, a lock and a condition."""

    input_streams = "stdin pr"
    output_streams = "stdout"

    def __init__(self, shell_id: str, resource_uri: str, owner: str, client_ip: str) -> None:
        self.shell_id = shell_id.upper()
        self.resource_uri = resource_uri
        self.owner = owner
        self.client_ip = client_ip
        self.created = time.monotonic()
        self.last_activity = self.created
        self.state = "Connected"
        #: The client's name for the shell (rsp:Name of the Create: PowerShell's session name).
        self.name = ""
        #: Seconds without a client request after which the shell is deleted (the Create's or
        #: the Disconnect's IdleTimeOut, else the service's); set by the registry on add.
        self.idle_timeout = 0.0
        #: OutputBufferingMode while disconnected: Block or Drop.
        self.buffer_mode = "Block"
        #: wsmv:SessionId of the client connected to the shell (a Reconnect must match it).
        self.client_session: str | None = None
        self.closed = False
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def close(self) -> None:  # pragma: no cover - overridden
        self.closed = True

    def command_ids(self) -> list[tuple[str, str]]:
        """(CommandId, state) of the commands of this shell, for Enumerate."""
        return []


class ShellRegistry:
    """All shells of one emulated computer: lookup, the per-user quota and the idle reaper."""

    def __init__(self, *, idle_timeout: float, max_shells_per_user: int) -> None:
        self.idle_timeout = idle_timeout
        self.max_shells_per_user = max_shells_per_user
        self._shells: dict[str, Shell] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def start(self) -> None:
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_loop, name="emulator-reaper", daemon=True)
            self._reaper.start()

    def stop(self) -> None:
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
            self._reaper = None
        self.forget_all()

    def add(self, shell: Shell) -> None:
        with self._lock:
            if shell.shell_id in self._shells:
                raise faults.already_exists(f"shell {shell.shell_id}", "on the server")
            owned = sum(1 for s in self._shells.values() if s.owner.lower() == shell.owner.lower())
            if owned >= self.max_shells_per_user:
                raise faults.quota_max_shells(shell.owner, self.max_shells_per_user)
            if not shell.idle_timeout:
                shell.idle_timeout = self.idle_timeout
            self._shells[shell.shell_id] = shell

    def get(self, shell_id: str, owner: str) -> Shell:
        with self._lock:
            shell = self._shells.get(shell_id.upper())
        if shell is None or shell.closed or shell.owner.lower() != owner.lower():
            raise faults.shell_not_found(shell_id.upper())
        shell.touch()
        return shell

    def remove(self, shell_id: str) -> Shell | None:
        with self._lock:
            return self._shells.pop(shell_id.upper(), None)

    def list(self, owner: str | None = None) -> list[Shell]:
        with self._lock:
            shells = list(self._shells.values())
        return [s for s in shells if owner is None or s.owner.lower() == owner.lower()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._shells)

    def forget_all(self) -> None:
        """Close and forget every shell (a service restart)."""
        with self._lock:
            shells = list(self._shells.values())
            self._shells.clear()
        for shell in shells:
            try:
                shell.close()
            except Exception:
                log.exception("closing shell %s failed", shell.shell_id)

    def pass_idle_time(self, seconds: float) -> None:
        """Let ``seconds`` pass without a client request to any shell (the shells age, those
        past their IdleTimeOut are reaped now), so a test meets a reaped shell without the wait."""
        with self._lock:
            shells = list(self._shells.values())
        for shell in shells:
            shell.last_activity -= seconds
        self._reap(time.monotonic())

    def _reap_loop(self) -> None:
        interval = max(0.05, min(5.0, self.idle_timeout / 4))
        while not self._stop.wait(interval):
            self._reap(time.monotonic())

    def _reap(self, now: float) -> None:
        with self._lock:
            idle = [
                s
                for s in self._shells.values()
                if now - s.last_activity > (s.idle_timeout or self.idle_timeout)
            ]
            for shell in idle:
                self._shells.pop(shell.shell_id, None)
        for shell in idle:
            log.info("shell %s idle for more than %.0f s: closed", shell.shell_id, shell.idle_timeout)
            shell.close()
