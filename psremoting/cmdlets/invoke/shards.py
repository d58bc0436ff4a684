"""An Invoke-Command split into shards of hosts, each run elsewhere (a worker process, a Dask worker).

What both ways of running share:

- `ShardSpec`: what every shard runs (the script, its arguments and `$using:` values, the
  deadline as an absolute wall-clock time, each shard's throttle share), planned once in the
  caller's process, so that the endpoint override and the validation of connection settings
  happen there, once;
- `run_shard`: the worker's side, the ordinary throttled fan-out over its shard's targets,
  sending ``("started", index)`` when a host starts and ``("event", InvokeEvent)`` for what it
  produced, then ``("done", None)``;
- `Ledger`: the caller's side, which turns the messages of all shards into one stream of
  `InvokeEvent`s in completion order, with the global target indexes, and, when a shard is
  lost (its worker died), reports each of its unfinished hosts: started (it may have run part
  of the script) or never started, and never run again. A host reported finished twice
  (a cluster that re-ran a task against our refusal) is said so in its second result.

Messages and specs are pickled (a credential in a `ConnectionInfo` travels with its target,
through a pipe or the cluster's connections, never argv or the environment).
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from psremoting.cmdlets.invoke.on_host import STOP_GRACE, Target, fan_events, run_on_host
from psremoting.cmdlets.invoke.results import HostResult, HostStatus, InvokeEvent
from psremoting.cmdlets.invoke.throttle import FanOut, TargetContext
from psremoting.protocol.errors import RemoteErrorRecord
from psremoting.runspace.pipeline import Command

__all__ = ["ShardSpec", "Ledger", "portable", "run_shard", "split", "throttle_share"]

#: A message from a shard: ("started", index), ("event", InvokeEvent), ("done", None).
Message = tuple[str, Any]


@dataclass
class ShardSpec:
    """What every shard of one invocation runs (picklable)."""

    script: str | Command
    arguments: list[Any]
    using_values: dict[str, Any] | None
    hide_computer_name: bool
    #: The invocation's timeout in seconds (for the messages) and its deadline (time.time()).
    timeout: float | None
    deadline: float | None
    throttle_limit: int
    input_items: list[Any] | None = None

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())


def throttle_share(throttle_limit: int, shards: int) -> int:
    """Each shard's part of the throttle limit (0: no limit stays no limit)."""
    if throttle_limit <= 0:
        return throttle_limit
    return max(1, math.ceil(throttle_limit / max(1, shards)))


def split(targets: Sequence[Target], shards: int) -> list[list[int]]:
    """The target indexes of each shard, dealt round-robin (hosts started in list order
    are spread over the shards), empty shards left out."""
    count = max(1, min(shards, len(targets)))
    return [list(range(i, len(targets), count)) for i in range(count) if i < len(targets)]


def run_shard(
    spec: ShardSpec,
    targets: Sequence[tuple[int, Target]],
    send: Callable[[Message], None],
    attach: Callable[[Any], None] | None = None,
) -> None:
    """Run the fan-out over one shard (in the worker), sending its messages as they come.

    `targets` are (global index, target) pairs; `attach(fan)` gets the running `FanOut`
    (to cancel it)."""
    timeout = spec.remaining() if spec.deadline is not None else None
    index_of = {id(t): i for i, t in targets}

    def work(target: Target, ctx: TargetContext[Target]) -> HostResult:
        send(("started", index_of[id(target)]))
        return run_on_host(
            target,
            ctx,
            spec.script,
            spec.arguments,
            spec.using_values,
            spec.hide_computer_name,
            spec.timeout,
            spec.input_items,
            None,
        )

    plain = [t for _, t in targets]
    fan = FanOut(plain, work, throttle_limit=spec.throttle_limit, timeout=timeout, stop_grace=STOP_GRACE)
    if attach is not None:
        attach(fan)
    for event in fan_events(fan, spec.timeout if timeout is None else timeout):
        local = event.target_index
        glob = targets[local][0] if local is not None else None
        send(("event", InvokeEvent(event.kind, event.computer_name, event.value, glob)))
    send(("done", None))


def portable(message: Message) -> Message:
    """`message`, or a copy that pickles and unpickles: error records lose the live exception
    objects in their `extra` (kept only for this process's `error_action="stop"`)."""
    kind, value = message
    if kind != "event" or value.kind not in ("error", "finished"):
        return message
    try:
        pickle.loads(pickle.dumps(message))
        return message
    except Exception:  # an exception object or a live session that cannot travel
        pass
    event: InvokeEvent = value
    item = event.value
    if isinstance(item, RemoteErrorRecord):
        item = _plain_record(item)
    elif isinstance(item, HostResult):
        item = dataclasses.replace(item, session=None)
        item.error = [_plain_record(r) if isinstance(r, RemoteErrorRecord) else r for r in item.error]
    return kind, dataclasses.replace(event, value=item)


def _plain_record(record: RemoteErrorRecord) -> RemoteErrorRecord:
    extra = {}
    for key, value in record.extra.items():
        try:
            pickle.loads(pickle.dumps(value))
        except Exception:
            value = repr(value)
        extra[key] = value
    return dataclasses.replace(record, extra=extra)


@dataclass
class _Host:
    shard: int
    started: bool = False
    finished: int = 0


@dataclass
class Ledger:
    """The caller's account of every host of a sharded invocation (see the module doc)."""

    targets: Sequence[Target]
    shards: list[list[int]]
    hosts: dict[int, _Host] = field(default_factory=dict)
    open_shards: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        for shard, indexes in enumerate(self.shards):
            for index in indexes:
                self.hosts[index] = _Host(shard)
        self.open_shards = set(range(len(self.shards)))

    @property
    def complete(self) -> bool:
        return not self.open_shards

    def receive(self, shard: int, message: Message) -> Iterator[InvokeEvent]:
        """The events one message of `shard` gives the caller."""
        kind, value = message
        if kind == "started":
            self.hosts[value].started = True
        elif kind == "event":
            event: InvokeEvent = value
            host = self.hosts.get(event.target_index) if event.target_index is not None else None
            if event.kind == "finished" and host is not None:
                host.finished += 1
                if host.finished > 1:
                    result: HostResult = event.value
                    result.warnings.append(
                        "this host ran more than once: the cluster ran its shard again after "
                        "a worker was lost (this is its later result)"
                    )
            yield event
        elif kind == "done":
            self.open_shards.discard(shard)

    def lose(self, shard: int, why: str) -> Iterator[InvokeEvent]:
        """Shard `shard` will send nothing more (`why`): report each of its unfinished hosts."""
        if shard not in self.open_shards:
            return
        self.open_shards.discard(shard)
        for index in self.shards[shard]:
            host = self.hosts[index]
            if host.finished:
                continue
            name = self.targets[index].computer_name
            if host.started:
                reason = (
                    f"{why} while this host was running: the script may have run in part; "
                    "it was not run again"
                )
            else:
                reason = f"{why} before this host started: the script did not run on it"
            record = RemoteErrorRecord(
                message=f"[{name}] {reason}.",
                category="ResourceUnavailable",
                target_name=name,
                target_type="String",
                reason="WorkerLostException",
                fully_qualified_error_id="PSRemotingWorkerLost",
                target_object=name,
                computer_name=name,
            )
            result = HostResult(name, HostStatus.FAILED, error=[record], reason=reason)
            yield InvokeEvent("error", name, record, index)
            yield InvokeEvent("finished", name, result, index)

    def lose_all(self, why: str) -> Iterator[InvokeEvent]:
        for shard in sorted(self.open_shards):
            yield from self.lose(shard, why)
