"""Content built-ins over the sandbox: Get-Content, Set-Content, Add-Content, Get-FileHash,
``> file``; path strings.

Text is written as Windows PowerShell 5.1's Set-Content/Out-File do on a default system here:
UTF-8, lines ended by CRLF.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import PSCustom, enumerate_value, to_string

from .builtins_fs import _LITERAL, _PATH, _each_path, _paths_param, resolve_paths
from .commands import CommandContext, builtin
from .errors import PSError
from .filesystem import SandboxEscape
from .objects import make_object

__all__ = ["write_text_file"]


@builtin(
    CommandSignature(
        "Get-Content",
        (
            _PATH,
            _LITERAL,
            Parameter("TotalCount", "int", ("First", "Head")),
            Parameter("Tail", "int", ("Last",)),
            Parameter("Raw", "switch"),
            Parameter("Encoding", "string"),
            Parameter("ReadCount", "int"),
        ),
        default_set="Items",
    ),
    aliases=("gc", "cat", "type"),
)
def _get_content(ctx: CommandContext) -> Iterator[Any]:
    for win, host in _each_path(ctx):
        if host.is_dir():
            ctx.write_error(
                ctx.error(
                    f"Unable to get content because it is a directory: '{win}'. Please use 'Get-ChildItem' instead.",
                    "System.UnauthorizedAccessException",
                    ErrorCategory.InvalidOperation,
                    "GetContentReaderUnauthorizedAccessError",
                    win,
                )
            )
            continue
        text = host.read_bytes().decode("utf-8-sig", errors="replace")
        if ctx.switch("Raw"):
            yield text
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if ctx.get("TotalCount") is not None:
            lines = lines[: max(0, ctx.get("TotalCount"))]
        if ctx.get("Tail") is not None:
            lines = lines[-ctx.get("Tail") :] if ctx.get("Tail") else []
        yield from lines


#: Get-FileHash's -Algorithm (its ValidateSet in 5.1's Microsoft.PowerShell.Utility) -> hashlib's name.
_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512",
           "MACTripleDES": "", "MD5": "md5", "RIPEMD160": "ripemd160"}  # fmt: skip
FILE_HASH_TYPE = "Microsoft.Powershell.Utility.FileHash"


@builtin(
    CommandSignature(
        "Get-FileHash",
        (
            Parameter("Path", "string[]", position=0, mandatory=True, sets=("Path",)),
            Parameter("LiteralPath", "string[]", ("PSPath",), mandatory=True, sets=("LiteralPath",),
                      value_from_pipeline_by_property_name=True),
            Parameter("Algorithm", "string", choices=tuple(_HASHES)),
        ),
        default_set="Path",
    ),
    command_type="Function",  # a function of 5.1's Microsoft.PowerShell.Utility module
)  # fmt: skip
def _get_file_hash(ctx: CommandContext) -> Iterator[Any]:
    """A file's hash as 5.1's Get-FileHash function gives it: Algorithm (upper case), Hash
    (upper-case hex), Path, typed Microsoft.Powershell.Utility.FileHash for its table view.
    MACTripleDES (a random key per call on Windows) and RIPEMD160 are refused."""
    chosen = next(
        (a for a in _HASHES if a.lower() == str(ctx.get("Algorithm") or "SHA256").lower()), "SHA256"
    )
    try:
        hasher = hashlib.new(_HASHES[chosen]) if _HASHES[chosen] else None
    except ValueError:
        hasher = None
    if hasher is None:
        ctx.write_error(
            ctx.error(
                f"The endpoint emulator does not compute {chosen} hashes.",
                "System.NotImplementedException",
                ErrorCategory.NotImplemented,
                "NotImplemented",
                chosen,
            )
        )
        return
    for win, host in _each_path(ctx):
        if host.is_dir():
            continue  # 5.1 hashes the files a path resolves to, and skips folders silently
        digest = hasher.copy()
        with open(host, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        values = {"Algorithm": chosen.upper(), "Hash": digest.hexdigest().upper(), "Path": win}
        yield make_object([FILE_HASH_TYPE, "System.Management.Automation.PSCustomObject", "System.Object"],
                          values, to_string(PSCustom(values)))  # fmt: skip


def _write_content(ctx: CommandContext, append: bool) -> None:
    values = ctx.get("Value")
    if values is None:
        values = list(ctx.input)
    items = [to_string(v) for v in enumerate_value(values)]
    newline = "" if ctx.switch("NoNewline") else "\r\n"
    text = newline.join(items) + (newline if items else "")
    if ctx.switch("NoNewline"):
        text = "".join(items)
    paths, literal = _paths_param(ctx)
    for path in paths:
        try:
            targets = resolve_paths(ctx, path, literal, must_exist=False)
        except PSError as exc:
            ctx.write_error(exc.record)
            continue
        for win, host in targets:
            if host.is_dir():
                ctx.write_error(
                    ctx.error(
                        f"Access to the path '{win}' is denied.",
                        "System.UnauthorizedAccessException",
                        ErrorCategory.PermissionDenied,
                        "GetContentWriterUnauthorizedAccessError",
                        win,
                    )
                )
                continue
            if not host.parent.is_dir():
                ctx.write_error(
                    ctx.error(
                        f"Could not find a part of the path '{win}'.",
                        "System.IO.DirectoryNotFoundException",
                        ErrorCategory.ObjectNotFound,
                        "GetContentWriterDirectoryNotFoundError",
                        win,
                    )
                )
                continue
            with open(host, "ab" if append else "wb") as fh:
                fh.write(text.encode("utf-8"))


_CONTENT_SIG = (
    _PATH,
    _LITERAL,
    Parameter("Value", "object[]", position=1, mandatory=True, value_from_pipeline=True),
    Parameter("NoNewline", "switch"),
    Parameter("Encoding", "string"),
    Parameter("Force", "switch"),
    Parameter("PassThru", "switch"),
)


@builtin(CommandSignature("Set-Content", _CONTENT_SIG, default_set="Items"), aliases=("sc",))
def _set_content(ctx: CommandContext) -> None:
    _write_content(ctx, append=False)


@builtin(CommandSignature("Add-Content", _CONTENT_SIG, default_set="Items"), aliases=("ac",))
def _add_content(ctx: CommandContext) -> None:
    _write_content(ctx, append=True)


@builtin(
    CommandSignature(
        "Join-Path",
        (
            Parameter("Path", "string[]", position=0, mandatory=True, value_from_pipeline=True),
            Parameter("ChildPath", "string", position=1, mandatory=True),
        ),
    )
)
def _join_path(ctx: CommandContext) -> Iterator[str]:
    child = to_string(ctx.get("ChildPath")).lstrip("\\/")
    for path in enumerate_value(ctx.get("Path")):
        yield to_string(path).rstrip("\\/") + "\\" + child


@builtin(
    CommandSignature(
        "Split-Path",
        (
            Parameter("Path", "string[]", position=0, mandatory=True, value_from_pipeline=True),
            Parameter("Parent", "switch"),
            Parameter("Leaf", "switch"),
        ),
    )
)
def _split_path(ctx: CommandContext) -> Iterator[str]:
    for path in enumerate_value(ctx.get("Path")):
        text = to_string(path).rstrip("\\")
        head, _, leaf = text.rpartition("\\")
        yield leaf if ctx.switch("Leaf") else (head + "\\" if head.endswith(":") else head)


def write_text_file(run: Any, path: str, text: str, append: bool) -> None:
    """Write ``text`` to a sandbox file for ``> file`` / ``>> file`` (Out-File's UTF-8 text)."""
    from .errors import make_error_record

    engine = run.engine
    try:
        windows = engine.sandbox.normalize(path, engine.location)
    except SandboxEscape as exc:
        raise PSError(
            make_error_record(
                str(exc),
                "System.Management.Automation.DriveNotFoundException",
                ErrorCategory.ObjectNotFound,
                "DriveNotFound",
                path,
            )
        ) from exc
    try:
        host = engine.sandbox.host_path(windows)
    except SandboxEscape as exc:
        raise PSError(
            make_error_record(
                f"Cannot find path '{windows}' because it does not exist.",
                "System.Management.Automation.ItemNotFoundException",
                ErrorCategory.ObjectNotFound,
                "PathNotFound",
                windows,
            )
        ) from exc
    if host.is_dir():
        raise PSError(
            make_error_record(
                f"Access to the path '{windows}' is denied.",
                "System.UnauthorizedAccessException",
                ErrorCategory.OpenError,
                "FileOpenFailure",
                windows,
                command="Out-File",
            )
        )
    if not host.parent.is_dir():
        raise PSError(
            make_error_record(
                f"Could not find a part of the path '{windows}'.",
                "System.IO.DirectoryNotFoundException",
                ErrorCategory.OpenError,
                "FileOpenFailure",
                windows,
                command="Out-File",
            )
        )
    with open(host, "ab" if append else "wb") as fh:
        fh.write(text.encode("utf-8"))
