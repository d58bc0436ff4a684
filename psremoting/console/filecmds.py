"""Copy-Item -ToSession / -FromSession at the local prompt.

The same verified, chunked transfer as ``psremoting.copy_item`` (every file checked by its
SHA-256, memory flat in the file size), with Copy-Item's parameters: -Path / -LiteralPath,
-Destination, -Recurse, -Force (replace read-only files), -Container (``-Container:$false``
copies a folder tree's files without its folders), -PassThru, -WhatIf, -Confirm. Progress
shows as PowerShell's progress bar. A copy between two local paths is not the shell's to do.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable
from typing import Any

from psremoting.console.builtins import Call, _list
from psremoting.console.cmdlet_types import CmdletSpec, Param, refused
from psremoting.console.errors import ShellError
from psremoting.console.should_process import confirmed

__all__ = ["IMPLEMENTATIONS", "SPECS"]

_SELECT = (
    "it is not supported with -ToSession/-FromSession yet; give the files to copy in -Path instead, "
    "for example -Path (Get-ChildItem *.log)"
)

SPECS: tuple[CmdletSpec, ...] = (
    CmdletSpec(
        "Copy-Item",
        "Copies files and folders to and from PowerShell sessions (-ToSession, -FromSession).",
        (
            Param(
                "Path",
                "string[]",
                (),
                0,
                True,
                True,
                help="The files or folders to copy.",
                sets=("Path",),
                by_property_name=True,
            ),
            Param(
                "LiteralPath",
                "string[]",
                ("PSPath", "LP"),
                None,
                True,
                help="The files or folders, without wildcards.",
                sets=("LiteralPath",),
                by_property_name=True,
            ),
            Param(
                "Destination",
                "string",
                (),
                1,
                help="Where to copy them (a remote path with -ToSession).",
                by_property_name=True,
            ),
            Param("ToSession", "session", help="Copy to this session's computer."),
            Param("FromSession", "session", help="Copy from this session's computer."),
            Param("Recurse", "switch", help="Copy folders with everything in them."),
            Param("Force", "switch", help="Replace read-only files too."),
            Param(
                "Container",
                "switch",
                help="Keep the folder structure (default; -Container:$false flattens it).",
            ),
            Param("PassThru", "switch", help="Write the paths of the files copied."),
            Param("WhatIf", "switch", ("wi",)),
            Param("Confirm", "switch", ("cf",)),
            refused("Filter", "string", _SELECT),
            refused("Include", "string[]", _SELECT),
            refused("Exclude", "string[]", _SELECT),
            refused(
                "Credential",
                "credential",
                "the FileSystem provider does not support the use of credentials; give them to "
                "New-PSSession, and copy with -ToSession or -FromSession",
            ),
        ),
        ("copy", "cp", "cpi"),
        api="copy_item",
        default_set="Path",
    ),
)


def _sources(call: Call) -> list[str]:
    literal = call.has("LiteralPath")
    values = _list(call.get("LiteralPath" if literal else "Path")) or []
    values += [str(i) for i in call.input if i is not None]
    if not values:
        raise ShellError(
            "Cannot process command because of one or more missing mandatory parameters: Path. "
            "For example: Copy-Item -Path .\\app.zip -Destination C:\\Temp -ToSession $s.",
            call.name,
        )
    if literal or call.has("FromSession"):
        return [str(v) for v in values]
    expanded: list[str] = []
    for value in values:
        text = os.path.expanduser(str(value))
        hits = sorted(glob.glob(text)) if any(c in text for c in "*?[") else [text]
        if not hits:
            call.write_error(f"Cannot find path '{text}' because it does not exist.")
        expanded += hits
    return expanded


def copy_item(call: Call) -> list[Any]:
    to_session, from_session = call.get("ToSession"), call.get("FromSession")
    if to_session is None and from_session is None:
        raise ShellError(
            "The local shell copies files to and from sessions only: add -ToSession $s or -FromSession $s "
            "(a session from New-PSSession). To copy between local folders, use the system's cp.",
            call.name,
        )
    sources = _sources(call)
    destination = call.get("Destination")
    if destination is None:
        if from_session is None:
            raise ShellError(
                "Copy-Item -ToSession needs -Destination, the absolute path on the remote computer, "
                "for example -Destination C:\\Temp.",
                call.name,
            )
        destination = os.getcwd()
    if to_session is None:
        destination = os.path.expanduser(str(destination))
    session = to_session if to_session is not None else from_session
    where = f"{'to' if to_session is not None else 'from'} {getattr(session, 'computer_name', session)}"
    if call.get("WhatIf"):
        for source in sources:
            call.context.ui.write_line(
                f'What if: Performing the operation "Copy File" on target "Item: {source} Destination: '
                f'{destination}" ({where}).'
            )
        return []
    from psremoting.cmdlets.transfer import copy_item as api

    container = call.get("Container", True) is not False
    written: list[str] = []
    answers: dict[str, bool] = {}
    for source in sources:
        if not confirmed(call, "Copy File", f"Item: {source} Destination: {destination}", answers):
            continue
        try:
            written += api(
                source,
                str(destination),
                to_session=to_session,
                from_session=from_session,
                recurse=bool(call.get("Recurse")),
                force=bool(call.get("Force")),
                container=container,
            )
        except KeyboardInterrupt:
            raise
        except Exception as error:
            from psremoting.protocol.errors import InvalidOptionError

            if isinstance(error, InvalidOptionError):
                raise ShellError(error.message, call.name) from error
            call.write_error(getattr(error, "message", None) or str(error), error)
    end = getattr(call.context.ui, "end_command", None)
    if callable(end):
        end()
    return written if call.get("PassThru") else []


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {"Copy-Item": copy_item}
