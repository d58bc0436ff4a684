"""Invoke-Command over the cores of this machine: the hosts spread over worker processes.

    invoke_command(script, computer_name=hosts, processes=4)
    psremoting invoke --hosts-file fleet.txt --processes 4 -c 'Get-Service WinRM'

The client's work for a host (the NTLM handshake, message encryption, SOAP and CLIXML) is CPU
bound, and one Python process runs it on one core (one GIL). With ``processes=N`` the targets
are planned here (settings validated once, the endpoint override applied), dealt round-robin
into N shards, and each shard runs in a worker process (``python -m
psremoting.cmdlets.invoke.processes``) with its share of the throttle limit. Everything reaches
a worker through its stdin pipe (pickled: the script, the targets with their credentials), and
comes back through its stdout pipe as it happens; nothing is in argv or the environment. The
events come back in order of completion, with the same deadline (an absolute time every worker
keeps), and closing the iterator or Ctrl+C tells every worker to stop its hosts (the workers
are in their own process group: the terminal's Ctrl+C reaches only the caller, which stops
them). A worker that dies has its unfinished hosts reported (`shards.Ledger`), none run twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any

from psremoting.cmdlets.invoke.on_host import STOP_GRACE, Target
from psremoting.cmdlets.invoke.results import InvokeEvent
from psremoting.cmdlets.invoke.shards import Ledger, Message, ShardSpec, portable, run_shard, split

__all__ = ["auto_processes", "iter_in_processes"]

#: Below this many hosts per process, starting processes costs more than it gives.
HOSTS_PER_PROCESS = 100
#: How long after the deadline (and the stop grace) a silent worker is given up for lost.
_SLACK = 30.0


def auto_processes(hosts: int, cores: int | None = None) -> int:
    """The default number of worker processes for `hosts` hosts: the cores, when each gets
    at least `HOSTS_PER_PROCESS` hosts; 1 (run here) otherwise."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores, hosts // HOSTS_PER_PROCESS))


class _Worker:
    """One worker process and the thread reading its messages into the shared queue."""

    def __init__(self, shard: int, inbox: queue.Queue[tuple[int, Message | None]]) -> None:
        self.shard = shard
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "psremoting.cmdlets.invoke.processes"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_environment(),
            start_new_session=True,  # Ctrl+C reaches the caller, which stops the workers
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin: IO[bytes] = self.proc.stdin
        self._lock = threading.Lock()
        self._reader = threading.Thread(
            target=self._read, args=(self.proc.stdout, inbox), name=f"invoke-worker-{shard}", daemon=True
        )
        self._reader.start()

    def _read(self, stream: IO[bytes], inbox: queue.Queue[tuple[int, Message | None]]) -> None:
        try:
            while True:
                inbox.put((self.shard, pickle.load(stream)))
        except Exception:  # the end of the stream, or a message that cannot be read: the worker is lost
            pass
        finally:
            inbox.put((self.shard, None))  # the end of this worker's messages

    def send(self, message: Any) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            pickle.dump(message, self._stdin)
            self._stdin.flush()

    def stop(self) -> None:
        self.send(("cancel", None))

    def close(self, wait: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stdin.close()
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _worker_environment() -> dict[str, str]:
    """The caller's environment, with this psremoting first on the path (the caller may have
    imported it from a folder that is not installed)."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    return env


def iter_in_processes(
    spec: ShardSpec, targets: Sequence[Target], processes: int
) -> Generator[InvokeEvent, None, None]:
    """The events of the invocation run in `processes` worker processes (see the module doc)."""
    shards = split(targets, processes)
    ledger = Ledger(targets, shards)
    inbox: queue.Queue[tuple[int, Message | None]] = queue.Queue()
    workers: list[_Worker] = []
    completed = False
    try:
        for shard, indexes in enumerate(shards):
            worker = _Worker(shard, inbox)
            workers.append(worker)
            worker.send((spec, [(i, targets[i]) for i in indexes]))
        give_up = None if spec.deadline is None else spec.deadline + STOP_GRACE + _SLACK
        while not ledger.complete:
            wait = None if give_up is None else max(0.1, give_up - time.time())
            try:
                shard, message = inbox.get(timeout=wait)
            except queue.Empty:
                yield from ledger.lose_all("the worker process did not report after the deadline")
                break
            if message is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    workers[shard].proc.wait(5)
                code = workers[shard].proc.returncode
                yield from ledger.lose(shard, f"the worker process ended unexpectedly (exit code {code})")
                continue
            yield from ledger.receive(shard, message)
        completed = True
    finally:
        if not completed:  # closed early (a break, error_action="stop", Ctrl+C): stop every host
            for worker in workers:
                worker.stop()
        for worker in workers:
            worker.close(STOP_GRACE + 5.0 if not completed else 10.0)


def _worker_main() -> None:
    """A worker process: read (spec, targets) from stdin, run them, write the messages to stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller stops us (a "cancel" message)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to stderr, not into the message stream
    stdin = sys.stdin.buffer
    spec, targets = pickle.load(stdin)
    lock = threading.Lock()
    fans: list[Any] = []
    cancelled = threading.Event()

    def send(message: Message) -> None:
        with lock:
            pickle.dump(portable(message), out)
            out.flush()

    def attach(fan: Any) -> None:
        fans.append(fan)
        if cancelled.is_set():
            fan.cancel()

    def listen() -> None:  # a "cancel" message, or the caller gone (end of input): stop the hosts
        with contextlib.suppress(EOFError, OSError, pickle.UnpicklingError):
            while pickle.load(stdin)[0] != "cancel":
                pass
        cancelled.set()
        for fan in fans:
            fan.cancel()

    threading.Thread(target=listen, name="invoke-worker-control", daemon=True).start()
    run_shard(spec, targets, send, attach)
    out.close()
    sys.stderr.flush()
    os._exit(0)  # the control thread is blocked reading stdin: do not wait for it at shutdown


if __name__ == "__main__":
    _worker_main()
