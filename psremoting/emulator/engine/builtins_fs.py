"""File-system built-ins over the sandbox: locations, items and content.

Paths are Windows paths relative to the session's location; wildcards (``*``, ``?``) expand
over the sandbox; a missing literal path is PowerShell's ItemNotFoundException
(``PathNotFound,Microsoft.PowerShell.Commands.<Cmdlet>Command``), another drive is a
DriveNotFoundException, and nothing resolves outside the sandbox root.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .commands import CommandContext, builtin
from .errors import PSError
from .filesystem import SandboxEscape, is_hidden
from .objects import file_item, make_object, path_info
from .wsman_drive import is_wsman_path, wsman_items

__all__ = ["resolve_paths"]

_WILDCARD = set("*?[")


def _path_not_found(ctx: CommandContext, path: str) -> PSError:
    return PSError(
        ctx.error(
            f"Cannot find path '{path}' because it does not exist.",
            "System.Management.Automation.ItemNotFoundException",
            ErrorCategory.ObjectNotFound,
            "PathNotFound",
            path,
        ),
        terminating=False,
    )


def _drive_not_found(ctx: CommandContext, path: str) -> PSError:
    drive = path.split(":", 1)[0]
    return PSError(
        ctx.error(
            f"Cannot find drive. A drive with the name '{drive}' does not exist.",
            "System.Management.Automation.DriveNotFoundException",
            ErrorCategory.ObjectNotFound,
            "DriveNotFound",
            drive,
        ),
        terminating=False,
    )


def _normalize(ctx: CommandContext, path: str) -> str:
    try:
        return ctx.engine.sandbox.normalize(path, ctx.engine.location)
    except SandboxEscape as exc:
        raise _drive_not_found(ctx, path) from exc


def _host(ctx: CommandContext, windows: str) -> Path | None:
    try:
        return ctx.engine.sandbox.host_path(windows)
    except SandboxEscape:
        return None


def resolve_paths(
    ctx: CommandContext, path: str, literal: bool = False, must_exist: bool = True
) -> list[tuple[str, Path]]:
    """``(windows_path, host_path)`` pairs for ``path``, expanding wildcards unless ``literal``.

    A literal path that does not exist raises the cmdlet's PathNotFound error when
    ``must_exist``; a wildcard that matches nothing gives an empty list, as in PowerShell.
    """
    windows = _normalize(ctx, path)
    if literal or not (_WILDCARD & set(windows)):
        host = _host(ctx, windows)
        if host is None or (must_exist and not (host.exists() or host.is_symlink())):
            if must_exist:
                raise _path_not_found(ctx, windows)
            if host is None:
                raise _path_not_found(ctx, windows)
        return [(windows, host)]
    parts = windows[len("C:\\") :].split("\\")
    matches: list[tuple[str, Path]] = [("C:", ctx.engine.sandbox.root)]
    for part in parts:
        if not part:
            continue
        nxt: list[tuple[str, Path]] = []
        for win, host in matches:
            if not host.is_dir():
                continue
            if _WILDCARD & set(part):
                for entry in sorted(os.listdir(host), key=str.upper):
                    if fnmatch.fnmatchcase(entry.lower(), part.lower()):
                        nxt.append((win + "\\" + entry, host / entry))
            else:
                child = _host(ctx, win + "\\" + part)
                if child is not None and child.exists():
                    nxt.append((win + "\\" + child.name, child))
        matches = nxt
    safe = []
    for win, host in matches:
        try:
            ctx.engine.sandbox.check_inside(host)
        except SandboxEscape:
            continue
        safe.append((win, host))
    return safe


def _paths_param(ctx: CommandContext) -> tuple[list[str], bool]:
    literal = ctx.get("LiteralPath")
    if literal is not None:
        return [to_string(p) for p in enumerate_value(literal)], True
    paths = ctx.get("Path")
    if paths is None and ctx.input:
        paths = [_input_path(i) for i in ctx.input]
    if paths is None:
        return [ctx.engine.location], True
    return [to_string(p) for p in enumerate_value(paths)], False


def _input_path(item: Any) -> str:
    full = get_member(item, "FullName", None) if not isinstance(item, str) else None
    return to_string(full if full is not None else item)


def _each_path(ctx: CommandContext, must_exist: bool = True) -> Iterator[tuple[str, Path]]:
    paths, literal = _paths_param(ctx)
    for path in paths:
        try:
            yield from resolve_paths(ctx, path, literal, must_exist)
        except PSError as exc:
            ctx.write_error(exc.record)


_PATH = Parameter(
    "Path",
    "string[]",
    position=0,
    value_from_pipeline=True,
    value_from_pipeline_by_property_name=True,
    sets=("Items",),
)
_LITERAL = Parameter(
    "LiteralPath",
    "string[]",
    ("PSPath", "LP"),
    mandatory=True,
    value_from_pipeline_by_property_name=True,
    sets=("LiteralItems",),
)


@builtin(
    CommandSignature(
        "Get-Location",
        (Parameter("PSProvider", "string[]"), Parameter("PSDrive", "string[]"), Parameter("Stack", "switch")),
    ),
    aliases=("gl", "pwd"),
)
def _get_location(ctx: CommandContext) -> Iterable[Any]:
    return [path_info(ctx.engine.location)]


@builtin(
    CommandSignature(
        "Set-Location",
        (
            Parameter(
                "Path",
                "string",
                position=0,
                value_from_pipeline=True,
                value_from_pipeline_by_property_name=True,
                sets=("Path",),
            ),
            Parameter("LiteralPath", "string", ("PSPath", "LP"), mandatory=True, sets=("LiteralPath",)),
            Parameter("PassThru", "switch"),
        ),
        default_set="Path",
    ),
    aliases=("cd", "sl", "chdir"),
)
def _set_location(ctx: CommandContext) -> Iterable[Any] | None:
    target = ctx.get("LiteralPath") or ctx.get("Path")
    if target is None and ctx.input:
        target = _input_path(ctx.input[0])
    if target is None:
        target = ctx.engine.home if ctx.engine.version.startswith("7") else ctx.engine.location
    matches = resolve_paths(ctx, to_string(target), literal=ctx.get("LiteralPath") is not None)
    if not matches:
        raise _path_not_found(ctx, _normalize(ctx, to_string(target)))
    windows, host = matches[0]
    if not host.is_dir():
        raise _path_not_found(ctx, windows)
    ctx.engine.set_location(
        ctx.engine.sandbox.windows_path(host) if host != ctx.engine.sandbox.root else "C:\\"
    )
    return [path_info(ctx.engine.location)] if ctx.switch("PassThru") else None


def _children(host: Path, windows: str) -> list[tuple[str, Path]]:
    try:
        entries = list(os.scandir(host))
    except OSError:
        return []
    dirs = sorted((e for e in entries if e.is_dir()), key=lambda e: e.name.upper())
    files = sorted((e for e in entries if not e.is_dir()), key=lambda e: e.name.upper())
    base = windows.rstrip("\\")
    return [(base + "\\" + e.name, host / e.name) for e in dirs + files]


def _env_items(ctx: CommandContext, path: str) -> Iterator[Any]:
    """``Get-ChildItem env:`` / ``env:NAME``: the environment as DictionaryEntry objects."""
    pattern = path.split(":", 1)[1].lstrip("\\/") or "*"
    env = ctx.engine.scope.env
    matches = sorted((k for k in env if fnmatch.fnmatchcase(k.lower(), pattern.lower())), key=str.lower)
    if not matches and not (_WILDCARD & set(pattern)):
        ctx.write_error(
            ctx.error(
                f"Cannot find path '{pattern}' because it does not exist.",
                "System.Management.Automation.ItemNotFoundException",
                ErrorCategory.ObjectNotFound,
                "PathNotFound",
                pattern,
            )
        )
    for key in matches:
        yield make_object(
            ["System.Collections.DictionaryEntry", "System.ValueType", "System.Object"],
            {
                "PSPath": "Microsoft.PowerShell.Core\\Environment::" + key,
                "PSDrive": "Env",
                "Name": key,
                "Key": key,
                "Value": env[key],
            },
            "System.Collections.DictionaryEntry",
        )


@builtin(
    CommandSignature(
        "Get-ChildItem",
        (
            _PATH,
            _LITERAL,
            Parameter("Filter", "string", position=1),
            Parameter("Include", "string[]"),
            Parameter("Exclude", "string[]"),
            Parameter("Recurse", "switch", ("s",)),
            Parameter("Depth", "int"),
            Parameter("Force", "switch"),
            Parameter("Name", "switch"),
            Parameter("Directory", "switch", ("ad", "d")),
            Parameter("File", "switch", ("af",)),
            Parameter("Hidden", "switch", ("ah", "h")),
        ),
        default_set="Items",
    ),
    aliases=("gci", "ls", "dir"),
)
def _get_child_item(ctx: CommandContext) -> Iterator[Any]:
    paths, _ = _paths_param(ctx)
    if paths and all(p.lower().startswith("env:") for p in paths):
        for path in paths:
            yield from _env_items(ctx, path)
        return
    sandbox = ctx.engine.sandbox
    recurse = ctx.switch("Recurse") or ctx.get("Depth") is not None
    max_depth = ctx.get("Depth")
    pattern = ctx.get("Filter")
    include = [p.lower() for p in ctx.get("Include") or []]
    exclude = [p.lower() for p in ctx.get("Exclude") or []]

    def wanted(win: str, host: Path) -> bool:
        name = win.rsplit("\\", 1)[-1].lower()
        if pattern and not fnmatch.fnmatchcase(name, pattern.lower()):
            return False
        if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
            return False
        if exclude and any(fnmatch.fnmatchcase(name, p) for p in exclude):
            return False
        if ctx.switch("Directory") and not host.is_dir():
            return False
        if not ctx.switch("Force") and is_hidden(win) != ctx.switch("Hidden"):
            return False  # hidden items only with -Force; -Hidden lists only them
        return not (ctx.switch("File") and host.is_dir())

    def emit(win: str, host: Path, base: str) -> Any:
        if ctx.switch("Name"):
            return win[len(base.rstrip("\\")) + 1 :]
        return file_item(host, win)

    def walk(win: str, host: Path, base: str, depth: int) -> Iterator[Any]:
        children = _children(host, win)
        for cwin, chost in children:
            ctx.check_stopped()
            try:
                sandbox.check_inside(chost)
            except SandboxEscape:
                continue
            if wanted(cwin, chost):
                yield emit(cwin, chost, base)
        if recurse and (max_depth is None or depth < max_depth):
            for cwin, chost in children:
                if chost.is_dir() and not chost.is_symlink():
                    yield from walk(cwin, chost, base, depth + 1)

    for win, host in _each_path(ctx):
        win = "C:\\" if win in ("C:", "C:\\") else win
        if host.is_dir():
            yield from walk(win, host, win, 0)
        elif wanted(win, host):
            yield emit(win, host, win.rsplit("\\", 1)[0])


@builtin(
    CommandSignature(
        "Test-Path",
        (
            Parameter(
                "Path", "string[]", position=0, mandatory=True, value_from_pipeline=True, sets=("Path",)
            ),
            Parameter("LiteralPath", "string[]", ("PSPath", "LP"), mandatory=True, sets=("LiteralPath",)),
            Parameter("PathType", "string", ("Type",), choices=("Any", "Container", "Leaf")),
            Parameter("IsValid", "switch"),
        ),
        default_set="Path",
    )
)
def _test_path(ctx: CommandContext) -> Iterator[bool]:
    paths, literal = _paths_param(ctx)
    kind = (ctx.get("PathType") or "Any").lower()
    for path in paths:
        if ctx.switch("IsValid"):
            yield True
            continue
        try:
            matches = resolve_paths(ctx, path, literal, must_exist=False)
        except PSError:
            yield False
            continue
        found = [h for _, h in matches if h is not None and h.exists()]
        if kind == "container":
            found = [h for h in found if h.is_dir()]
        elif kind == "leaf":
            found = [h for h in found if not h.is_dir()]
        yield bool(found)


@builtin(
    CommandSignature(
        "Remove-Item",
        (
            Parameter(
                "Path",
                "string[]",
                position=0,
                mandatory=True,
                value_from_pipeline=True,
                value_from_pipeline_by_property_name=True,
                sets=("Path",),
            ),
            Parameter(
                "LiteralPath",
                "string[]",
                ("PSPath", "LP"),
                mandatory=True,
                value_from_pipeline_by_property_name=True,
                sets=("LiteralPath",),
            ),
            Parameter("Recurse", "switch", ("r",)),
            Parameter("Force", "switch"),
            Parameter("Filter", "string"),
        ),
        default_set="Path",
    ),
    aliases=("rm", "del", "erase", "rd", "rmdir", "ri"),
)
def _remove_item(ctx: CommandContext) -> None:
    for win, host in _each_path(ctx):
        if host == ctx.engine.sandbox.root:
            continue
        if host.is_dir() and not host.is_symlink():
            if any(host.iterdir()) and not ctx.switch("Recurse"):
                ctx.write_error(
                    ctx.error(
                        f"Cannot remove item {win}: The directory is not empty.",
                        "System.IO.IOException",
                        ErrorCategory.WriteError,
                        "RemoveFileSystemItemIOError",
                        win,
                    )
                )
                continue
            shutil.rmtree(host)
        else:
            host.unlink()


def _new_environment_variable(ctx: CommandContext, path: str, name: Any) -> Iterator[Any]:
    """``New-Item -Path env: -Name N -Value V``: an environment variable (the Environment
    provider), output as the DictionaryEntry Windows returns."""
    from .objects import make_object

    key = to_string(name) if name else path
    env = ctx.engine.scope.env
    if key in env and not ctx.switch("Force"):
        ctx.write_error(
            ctx.error(
                f"An environment variable with the specified name {key} already exists.",
                "System.IO.IOException",
                ErrorCategory.ResourceExists,
                "EnvironmentVariableExist",
                key,
            )
        )
        return
    value = to_string(ctx.get("Value")) if ctx.get("Value") is not None else ""
    env[key] = value
    yield make_object(["System.Collections.DictionaryEntry", "System.ValueType", "System.Object"],
                      {"Name": key, "Key": key, "Value": value}, f"[{key}, {value}]")  # fmt: skip


@builtin(
    CommandSignature(
        "New-Item",
        (
            Parameter("Path", "string[]", position=0, value_from_pipeline_by_property_name=True),
            Parameter("Name", "string", value_from_pipeline_by_property_name=True),
            Parameter("ItemType", "string", ("Type",)),
            Parameter("Value", "object", value_from_pipeline=True),
            Parameter("Force", "switch"),
        ),
    ),
    aliases=("ni",),
)
def _new_item(ctx: CommandContext) -> Iterator[Any]:
    paths = [to_string(p) for p in enumerate_value(ctx.get("Path"))] or [ctx.engine.location]
    name = ctx.get("Name")
    kind = (ctx.get("ItemType") or "File").lower()
    for path in paths:
        if path.lower().startswith("env:"):
            yield from _new_environment_variable(ctx, path[4:].strip("\\/"), name)
            continue
        full = path.rstrip("\\/") + "\\" + name if name else path
        try:
            ((win, host),) = resolve_paths(ctx, full, literal=True, must_exist=False)
        except PSError as exc:
            ctx.write_error(exc.record)
            continue
        if host.exists() and not ctx.switch("Force"):
            ctx.write_error(
                ctx.error(
                    f"The file '{win}' already exists."
                    if kind != "directory"
                    else f"An item with the specified name {win} already exists.",
                    "System.IO.IOException",
                    ErrorCategory.WriteError if kind != "directory" else ErrorCategory.ResourceExists,
                    "NewItemIOError" if kind != "directory" else "DirectoryExist",
                    win,
                )
            )
            continue
        if kind in ("directory", "container"):
            host.mkdir(parents=ctx.switch("Force") or True, exist_ok=True)
        else:
            if not host.parent.is_dir():
                if not ctx.switch("Force"):
                    ctx.write_error(
                        ctx.error(
                            f"Could not find a part of the path '{win}'.",
                            "System.IO.DirectoryNotFoundException",
                            ErrorCategory.WriteError,
                            "NewItemIOError",
                            win,
                        )
                    )
                    continue
                host.parent.mkdir(parents=True, exist_ok=True)
            value = ctx.get("Value")
            host.write_bytes(to_string(value).encode("utf-8") if value is not None else b"")
        yield file_item(host, win)


@builtin(
    CommandSignature(
        "mkdir",
        (Parameter("Path", "string[]", position=0, value_from_pipeline=True), Parameter("Force", "switch")),
    ),
    aliases=("md",),
)
def _mkdir(ctx: CommandContext) -> Iterator[Any]:
    for path in enumerate_value(ctx.get("Path")):
        try:
            ((win, host),) = resolve_paths(ctx, to_string(path), literal=True, must_exist=False)
        except PSError as exc:
            ctx.write_error(exc.record)
            continue
        if host.exists() and not ctx.switch("Force"):
            ctx.write_error(
                ctx.error(
                    f"An item with the specified name {win} already exists.",
                    "System.IO.IOException",
                    ErrorCategory.ResourceExists,
                    "DirectoryExist",
                    win,
                )
            )
            continue
        host.mkdir(parents=True, exist_ok=True)
        yield file_item(host, win)


@builtin(
    CommandSignature(
        "Get-Item",
        (_PATH, _LITERAL, Parameter("Force", "switch"), Parameter("Filter", "string")),
        default_set="Items",
    ),
    aliases=("gi",),
)
def _get_item(ctx: CommandContext) -> Iterator[Any]:
    paths, _ = _paths_param(ctx)
    if paths and all(is_wsman_path(p) for p in paths):
        for path in paths:
            yield from wsman_items(ctx, path, ctx.engine.wsman_settings)
        return
    for win, host in _each_path(ctx):
        yield file_item(host, "C:\\" if win in ("C:", "C:\\") else win)
