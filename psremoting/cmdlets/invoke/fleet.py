"""Where a big Invoke-Command runs: here, over this machine's cores, or on a Dask cluster.

`spreads` decides (``processes`` given, a ``cluster`` given, or, by default, enough hosts to
pay for worker processes: `processes.auto_processes`); `iter_fleet` plans the targets here (so
that settings are validated once and the endpoint override applies), makes the `ShardSpec`
every shard runs, and hands it to `processes.iter_in_processes` or `cluster.iter_on_cluster`.
PSSessions live in this process: they always run here.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from typing import Any

from psremoting.cmdlets.invoke.processes import auto_processes, iter_in_processes
from psremoting.cmdlets.invoke.results import InvokeEvent
from psremoting.cmdlets.invoke.shards import ShardSpec, throttle_share
from psremoting.cmdlets.invoke.targets import plan_targets
from psremoting.protocol.errors import InvalidOptionError
from psremoting.runspace.pipeline import Command

__all__ = ["iter_fleet", "spreads"]


def _host_count(request: Mapping[str, Any]) -> int:
    names = request.get("computer_name") or request.get("connection_uri") or ()
    return 1 if isinstance(names, str) else len(names)


def spreads(request: Mapping[str, Any], processes: int | None, cluster: Any) -> bool:
    """Whether `request` runs elsewhere than in this process."""
    if processes is not None and processes < 1:
        raise InvalidOptionError(f"processes must be 1 or more, not {processes}.")
    if request.get("session") is not None:
        if cluster is not None or (processes or 1) > 1:
            raise InvalidOptionError(
                "processes and cluster run computer names or connection URIs, not PSSessions "
                "(a PSSession lives in this process)."
            )
        return False
    if cluster is not None:
        return True
    if processes is None:
        processes = auto_processes(_host_count(request))
    return processes > 1


def iter_fleet(
    script: str | Command,
    using_values: dict[str, Any] | None,
    input_items: list[Any] | None,
    request: Mapping[str, Any],
    processes: int | None,
    cluster: Any,
) -> Generator[InvokeEvent, None, None]:
    """The events of the invocation `request` (keywords of `iter_invoke_command`) run over
    worker processes or `cluster`, in order of completion, each host ending with "finished"."""
    targets, _refused = plan_targets(request)  # computer names or URIs: nothing is refused
    timeout = request.get("timeout")
    spec = ShardSpec(
        script=script,
        arguments=list(request.get("argument_list", ())),
        using_values=using_values,
        hide_computer_name=bool(request.get("hide_computer_name")),
        timeout=timeout,
        deadline=None if timeout is None else time.time() + timeout,
        throttle_limit=int(request.get("throttle_limit", 32)),
        input_items=input_items,
    )
    if cluster is not None:
        from psremoting.cmdlets.invoke.cluster import iter_on_cluster

        return iter_on_cluster(spec, targets, cluster, processes)
    count = processes if processes is not None else auto_processes(len(targets))
    spec.throttle_limit = throttle_share(spec.throttle_limit, count)
    return iter_in_processes(spec, targets, count)
