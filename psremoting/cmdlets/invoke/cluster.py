"""Invoke-Command on a Dask cluster: the hosts sharded over the workers of ``distributed``.

    from distributed import Client
    invoke_command(script, computer_name=fleet, cluster=Client("tcp://scheduler:8786"))
    psremoting invoke --hosts-file fleet.txt --cluster tcp://scheduler:8786 -c 'Get-Service WinRM'

Needs the ``[cluster]`` extra (``dask[distributed]``) here and on the workers, with psremoting
installed on each. One shard per worker (or `processes` shards, pinned round-robin), each a
task pinned to its worker that runs the ordinary throttled fan-out over its hosts with its
share of the throttle limit. What a shard produces comes back as it happens, in small pickled
batches through a ``distributed.Queue`` named for the run; the caller yields the events in
order of arrival.

A worker lost mid-run: the caller watches the scheduler's list of workers; when the worker of a
shard leaves it, what that worker had sent is read, and every host of the shard that had not
finished is reported (`shards.Ledger`): started (its script may have run in part) or not. The
tasks are pinned (not allowed on other workers) and each shard takes a one-time ticket (a
``distributed.Variable``) before it runs anything, so that a task the scheduler starts again
elsewhere runs nothing twice; a host that still reports twice says so in its result.

Secrets: the targets (with their credentials) are the tasks' arguments, so they travel through
the cluster's connections: use a scheduler address with TLS (``tls://``) beyond one machine.
The deadline is an absolute wall-clock time: the workers' clocks should agree with ours.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import threading
import time
import uuid
from collections.abc import Generator, Sequence
from typing import Any

from psremoting.cmdlets.invoke.on_host import STOP_GRACE, Target
from psremoting.cmdlets.invoke.results import InvokeEvent
from psremoting.cmdlets.invoke.shards import (
    Ledger,
    Message,
    ShardSpec,
    portable,
    run_shard,
    split,
    throttle_share,
)
from psremoting.protocol.errors import InvalidOptionError

__all__ = ["iter_on_cluster"]

#: How often the caller looks at the scheduler's workers, and a shard flushes its messages.
_WATCH_EVERY = 0.5
_FLUSH_EVERY = 0.05
_SLACK = 30.0
#: How long the caller waits between two looks at an empty queue (doubling up to the max).
_POLL_MIN, _POLL_MAX = 0.01, 0.2


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise InvalidOptionError(
            "Running on a cluster needs Dask's distributed scheduler: pip install 'psremoting[cluster]'."
        ) from exc
    return distributed


def iter_on_cluster(
    spec: ShardSpec, targets: Sequence[Target], cluster: Any, shards: int | None = None
) -> Generator[InvokeEvent, None, None]:
    """The events of the invocation run on `cluster` (a ``distributed.Client`` or a scheduler
    address), in order of arrival; see the module doc."""
    distributed = _distributed()
    own = isinstance(cluster, str)
    client = distributed.Client(cluster, set_as_default=False) if own else cluster
    try:
        yield from _run(distributed, client, spec, targets, shards)
    finally:
        if own:
            client.close()


def _workers(client: Any) -> list[str]:
    """The addresses of the cluster's workers, asked of the scheduler now. Not
    ``scheduler_info()["workers"]``: that is a cache the client's own loop refreshes every few
    seconds without the workers, so it can read empty while every worker is there."""
    return sorted(client.nthreads())


def _run(
    distributed: Any, client: Any, spec: ShardSpec, targets: Sequence[Target], shards: int | None
) -> Generator[InvokeEvent, None, None]:
    workers = _workers(client)
    if not workers:
        raise InvalidOptionError("The cluster has no workers to run on.")
    plan = split(targets, shards or len(workers))
    spec.throttle_limit = throttle_share(spec.throttle_limit, len(plan))
    ledger = Ledger(targets, plan)
    run = f"psremoting-invoke-{uuid.uuid4().hex}"
    inbox = distributed.Queue(run, client=client)
    stop = distributed.Variable(f"{run}-stop", client=client)
    stop.set("run")
    tickets = [distributed.Variable(f"{run}-{k}", client=client) for k in range(len(plan))]
    placed = {k: workers[k % len(workers)] for k in range(len(plan))}
    futures = []
    for k, indexes in enumerate(plan):
        tickets[k].set("fresh")
        futures.append(
            client.submit(
                _shard_task,
                run,
                k,
                spec,
                [(i, targets[i]) for i in indexes],
                key=f"{run}-shard-{k}",
                workers=[placed[k]],
                allow_other_workers=False,
                pure=False,
            )
        )
    give_up = None if spec.deadline is None else spec.deadline + STOP_GRACE + _SLACK
    completed = False
    try:
        next_watch = time.monotonic() + _WATCH_EVERY
        idle = _POLL_MIN
        while not ledger.complete:
            # Polled, not a blocking get with a timeout: the scheduler logs every such timeout
            # as an error.
            items = inbox.get(batch=True)
            for item in items:
                yield from _deliver(ledger, item)
            idle = _POLL_MIN if items else min(_POLL_MAX, idle * 2)
            if not items:
                time.sleep(idle)
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + _WATCH_EVERY
                yield from _watch(ledger, client, inbox, futures, placed)
            if give_up is not None and time.time() > give_up:
                yield from ledger.lose_all("the cluster did not report this shard after the deadline")
        completed = True
    finally:
        if not completed:  # closed early (a break, error_action="stop", Ctrl+C): stop every host
            with contextlib.suppress(Exception):
                stop.set("stop")
        with contextlib.suppress(Exception):
            client.cancel(futures)
        for variable in (*tickets, *([] if not completed else [stop])):
            with contextlib.suppress(Exception):
                variable.delete()
        with contextlib.suppress(Exception):
            inbox.close()


def _deliver(ledger: Ledger, item: Any) -> Generator[InvokeEvent, None, None]:
    shard, batch = pickle.loads(item)
    for message in batch:
        if message[0] == "refused":
            yield from ledger.lose(shard, f"the cluster started this shard again ({message[1]})")
        else:
            yield from ledger.receive(shard, message)


def _watch(
    ledger: Ledger, client: Any, inbox: Any, futures: list[Any], placed: dict[int, str]
) -> Generator[InvokeEvent, None, None]:
    """Shards whose worker left the cluster, or whose task failed, are lost."""
    try:
        alive = set(_workers(client))
    except Exception:  # the scheduler itself is gone
        alive = set()
    lost = {k for k in ledger.open_shards if placed[k] not in alive}
    failed = {
        k: f for k, f in enumerate(futures) if k in ledger.open_shards and f.status in ("error", "lost")
    }
    if not lost and not failed:
        return
    with contextlib.suppress(Exception):  # what the lost worker sent before it went
        for item in inbox.get(batch=True):
            yield from _deliver(ledger, item)
    for k in sorted(lost):
        yield from ledger.lose(k, f"the Dask worker {placed[k]} was lost")
    for k, future in failed.items():
        why = (
            f"the cluster's task for this shard failed ({future.exception()!r})"
            if future.status == "error"
            else "the cluster lost this shard's task"
        )
        yield from ledger.lose(k, why)


def _shard_task(run: str, shard: int, spec: ShardSpec, targets: list[tuple[int, Target]]) -> str:
    """On a worker: take the shard's ticket, run its hosts, send their messages in batches."""
    distributed: Any = importlib.import_module("distributed")

    client = distributed.get_client()
    outbox = distributed.Queue(run, client=client)
    ticket = distributed.Variable(f"{run}-{shard}", client=client)
    if ticket.get(timeout=30) != "fresh":  # started again after a worker was lost: run nothing twice
        outbox.put(pickle.dumps((shard, [("refused", "it had started on a worker that was lost")])))
        return "refused"
    ticket.set("taken")
    pending: list[Message] = []
    lock = threading.Lock()
    done = threading.Event()
    fans: list[Any] = []

    def send(message: Message) -> None:
        with lock:
            pending.append(portable(message))

    def flush() -> None:
        with lock:
            batch = pending[:]
            pending.clear()
        if batch:
            outbox.put(pickle.dumps((shard, batch)))

    def pump() -> None:  # sends what came, and stops the hosts when the caller says so
        stop = distributed.Variable(f"{run}-stop", client=client)
        last_check = 0.0
        while not done.wait(_FLUSH_EVERY):
            flush()
            if time.monotonic() - last_check > _WATCH_EVERY:
                last_check = time.monotonic()
                with contextlib.suppress(Exception):
                    if stop.get(timeout=5) == "stop":
                        for fan in fans:
                            fan.cancel()

    pumper = threading.Thread(target=pump, name=f"{run}-{shard}-pump", daemon=True)
    pumper.start()
    try:
        run_shard(spec, targets, send, fans.append)
    finally:
        done.set()
        pumper.join()
        flush()
    return "done"
