"""What a PowerShell shell tells its engine about the session: ``$PSSenderInfo`` (who
connected, the pool's ApplicationArguments) and the Get-History entries of pipelines the
client ran with AddToHistory, as Windows keeps them."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["record_history", "set_sender_info"]


def set_sender_info(engine: Any, shell: Any) -> None:
    """``$PSSenderInfo`` of `shell`'s session in `engine`."""
    from psremoting.emulator.engine.objects import from_wire
    from psremoting.pslang.values import PSCustom

    scope = getattr(engine, "scope", None)
    if scope is None:
        return
    arguments = from_wire(getattr(shell.pool, "application_arguments", None))
    scope.set(
        "PSSenderInfo",
        PSCustom(
            [
                ("UserInfo", shell.owner),
                ("ClientTimeZone", None),
                ("ConnectionString", f"http://{shell.client_ip}/wsman"),
                ("ApplicationArguments", arguments if arguments else None),
                ("ConfigurationName", shell.resource_uri.rsplit("/", 1)[-1]),
            ]
        ),
    )


def record_history(engine: Any, command: Any, commands: list[Any], result: Any) -> None:
    """A pipeline run with AddToHistory becomes a Get-History entry of `engine`."""
    metadata = getattr(command.pipeline, "metadata", None)
    if metadata is None or not getattr(metadata, "add_to_history", False):
        return
    history = getattr(engine, "history", None)
    if history is None:
        return
    text = getattr(metadata, "history", None) or " | ".join(
        str(getattr(c, "command_text", c)) for c in commands
    )
    status = (
        "Stopped"
        if getattr(result, "stopped", False)
        else ("Failed" if getattr(result, "failed", None) is not None else "Completed")
    )
    now = dt.datetime.now()
    history.append(
        {
            "Id": len(history) + 1,
            "CommandLine": text,
            "ExecutionStatus": status,
            "StartExecutionTime": now,
            "EndExecutionTime": now,
        }
    )
