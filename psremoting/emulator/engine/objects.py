"""Objects that look like the ones Windows PowerShell returns, built as psrpcore PSObjects.

Get-ChildItem yields FileInfo/DirectoryInfo objects with the provider's note properties
(PSPath, PSParentPath, PSChildName, PSDrive, PSProvider, PSIsContainer, Mode...), Get-Date a
DateTime, Get-Location a PathInfo; :func:`to_wire` turns the subset's own values
([pscustomobject], hashtables, script blocks) into what psrpcore serializes.
"""

from __future__ import annotations

import datetime as dt
import stat
import uuid
from pathlib import Path
from typing import Any

from psrpcore.types import (
    PSCredential as WireCredential,
)
from psrpcore.types import (
    PSCustomObject,
    PSDateTime,
    PSInt64,
    PSNoteProperty,
    PSObject,
    PSScriptBlock,
    PSSecureString,
)

from psremoting.protocol.secrets import (
    NETWORK_CREDENTIAL_TYPE,
    PSCREDENTIAL_TYPE,
    NetworkCredential,
    PSCredential,
    SecureString,
)
from psremoting.pslang.values import CaseInsensitiveDict, PSCustom, ScriptBlock

from .filesystem import is_hidden

__all__ = [
    "PROVIDER_PREFIX",
    "file_item",
    "from_wire",
    "local_datetime",
    "make_object",
    "path_info",
    "to_wire",
    "type_names",
]

PROVIDER_PREFIX = "Microsoft.PowerShell.Core\\FileSystem::"

_FILE_TYPES = ["System.IO.FileInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject", "System.Object"]
_DIR_TYPES = [
    "System.IO.DirectoryInfo",
    "System.IO.FileSystemInfo",
    "System.MarshalByRefObject",
    "System.Object",
]


def type_names(obj: Any) -> list[str]:
    """The PowerShell type names of ``obj`` (without the ``Deserialized.`` prefix)."""
    names = getattr(getattr(obj, "PSObject", None), "type_names", None)
    if names:
        return [n.removeprefix("Deserialized.") for n in names]
    if isinstance(obj, PSCustom):
        return list(PSCustom.type_names)
    if isinstance(obj, PSCredential):
        return [PSCREDENTIAL_TYPE, "System.Object"]
    if isinstance(obj, NetworkCredential):
        return [NETWORK_CREDENTIAL_TYPE, "System.Object"]
    if isinstance(obj, uuid.UUID):
        return ["System.Guid", "System.ValueType", "System.Object"]
    return []


def make_object(type_list: list[str], properties: dict[str, Any], to_string: str | None = None) -> PSObject:
    """A PSObject with the given type names, note properties in order, and ToString text."""
    obj = PSObject()
    meta = obj.PSObject
    meta.type_names = list(type_list)
    # Appending the note properties directly: add_note_property re-scans them on every call.
    meta.extended_properties.extend(PSNoteProperty(name, value) for name, value in properties.items())
    if to_string is not None:
        meta.to_string = to_string
    return obj


def local_datetime(value: dt.datetime | float) -> PSDateTime:
    """A PSDateTime (what psrpcore serializes as <DT>) in local time."""
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value)
    return PSDateTime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond
    )


def _mode(is_dir: bool, st: Any, hidden: bool = False) -> str:
    readonly = not (st.st_mode & stat.S_IWUSR)
    flags = ("-" if is_dir else "a") + ("r" if readonly else "-") + ("h" if hidden else "-")
    return ("d" if is_dir else "-") + flags + "--"


def file_item(host: Path, windows_path: str) -> PSObject:
    """A FileInfo or DirectoryInfo for ``host`` shown as ``windows_path``."""
    st = host.stat()
    is_dir = host.is_dir()
    name = windows_path.rsplit("\\", 1)[-1] or windows_path
    parent = windows_path.rsplit("\\", 1)[0] if "\\" in windows_path.rstrip("\\") else ""
    if parent.endswith(":"):
        parent += "\\"
    written = local_datetime(st.st_mtime)
    created = local_datetime(getattr(st, "st_birthtime", st.st_ctime))
    accessed = local_datetime(st.st_atime)
    base, dot, ext = name.rpartition(".")
    props: dict[str, Any] = {
        "PSPath": PROVIDER_PREFIX + windows_path,
        "PSParentPath": PROVIDER_PREFIX + parent if parent else "",
        "PSChildName": name,
        "PSDrive": "C",
        "PSProvider": "Microsoft.PowerShell.Core\\FileSystem",
        "PSIsContainer": is_dir,
        "Mode": _mode(is_dir, st, is_hidden(windows_path)),
        "BaseName": (base if dot and not is_dir else name),
        "Target": [],
        "LinkType": None,
        "Name": name,
        "FullName": windows_path,
        "Extension": ("." + ext) if dot else "",
        "Exists": True,
        "CreationTime": created,
        "CreationTimeUtc": PSDateTime.fromtimestamp(st.st_ctime, dt.timezone.utc),
        "LastAccessTime": accessed,
        "LastAccessTimeUtc": PSDateTime.fromtimestamp(st.st_atime, dt.timezone.utc),
        "LastWriteTime": written,
        "LastWriteTimeUtc": PSDateTime.fromtimestamp(st.st_mtime, dt.timezone.utc),
        "Attributes": ("Hidden, " if is_hidden(windows_path) else "")
        + ("Directory" if is_dir else "Archive"),
    }
    if is_dir:
        props["Parent"] = parent.rsplit("\\", 1)[-1] if parent else None
        props["Root"] = "C:\\"
        return make_object(_DIR_TYPES, props, windows_path)
    props["Length"] = PSInt64(st.st_size)
    props["DirectoryName"] = parent
    props["Directory"] = parent
    props["IsReadOnly"] = not (st.st_mode & stat.S_IWUSR)
    return make_object(_FILE_TYPES, props, windows_path)


def path_info(windows_path: str) -> PSObject:
    """The PathInfo Get-Location returns (Drive, Provider, ProviderPath, Path)."""
    return make_object(
        ["System.Management.Automation.PathInfo", "System.Object"],
        {
            "Drive": "C",
            "Provider": "Microsoft.PowerShell.Core\\FileSystem",
            "ProviderPath": windows_path,
            "Path": windows_path,
        },
        windows_path,
    )


def from_wire(value: Any) -> Any:
    """What psrpcore deserialized (arguments, pipeline input, host answers) as the engine's
    values: a SecureString is decrypted with the session key into a `SecureString`, a
    PSCredential becomes a `PSCredential` (so ``$c.Password`` prints its type name and
    ``$c.GetNetworkCredential().Password`` the text, as on Windows)."""
    if isinstance(value, PSSecureString):
        try:
            return SecureString(str(value.decrypt()), encrypted=str(value))
        except Exception:
            return SecureString(None, encrypted=str(value))
    if isinstance(value, PSObject) and type_names(value)[:1] == [PSCREDENTIAL_TYPE]:
        user = getattr(value, "UserName", None)
        secret = from_wire(getattr(value, "Password", None))
        if isinstance(user, str) and user and isinstance(secret, SecureString):
            return PSCredential(user, secret)
        return value
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict) and not isinstance(value, CaseInsensitiveDict):
        return {k: from_wire(v) for k, v in value.items()}
    return value


def to_wire(value: Any) -> Any:
    """Convert the subset's values to what psrpcore serializes as PowerShell would send them."""
    if isinstance(value, SecureString):
        # Plain text here: psrpcore encrypts it with the session key as it serializes.
        return PSSecureString(value.get_value() or "")
    if isinstance(value, PSCredential):
        return WireCredential(UserName=value.username, Password=to_wire(value.password))
    if isinstance(value, NetworkCredential):
        return make_object(
            [NETWORK_CREDENTIAL_TYPE, "System.Object"],
            {
                "UserName": value.UserName,
                "Password": value.Password,
                "SecurePassword": to_wire(value.SecurePassword),
                "Domain": value.Domain,
            },  # fmt: skip
        )
    if isinstance(value, PSCustom):
        return PSCustomObject(**{str(k): to_wire(v) for k, v in value.items()})
    if isinstance(value, CaseInsensitiveDict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, ScriptBlock):
        return PSScriptBlock(value.text)
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dt.datetime) and not isinstance(value, PSDateTime):
        return local_datetime(value)
    return value
