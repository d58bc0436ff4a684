"""Get-CimInstance and Get-WmiObject over synthetic Win32_OperatingSystem and Win32_LogicalDisk.

Get-CimInstance writes CimInstances (``Microsoft.Management.Infrastructure.CimInstance#root/
cimv2/Win32_OperatingSystem``), Get-WmiObject ManagementObjects (``System.Management.
ManagementObject#root\\cimv2\\Win32_OperatingSystem``, with the ``__CLASS``/``__PATH`` system
properties), each with the properties Windows gives and its DefaultDisplayPropertySet
(Win32_OperatingSystem: SystemDirectory, Organization, BuildNumber, RegisteredUser,
SerialNumber, Version; Win32_LogicalDisk: DeviceID, DriveType, ProviderName, FreeSpace, Size,
VolumeName) as the ``PSStandardMembers`` Windows' type data declares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory, PSUInt64

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import to_string

from .commands import CommandContext, builtin
from .errors import PSError
from .objects import local_datetime, make_object

__all__ = ["DISPLAY_PROPERTIES", "cim_classes"]

#: DefaultDisplayPropertySet of each class (types.ps1xml / the CIM format data).
DISPLAY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "win32_operatingsystem": ("SystemDirectory", "Organization", "BuildNumber", "RegisteredUser",
                              "SerialNumber", "Version"),
    "win32_logicaldisk": ("DeviceID", "DriveType", "ProviderName", "FreeSpace", "Size", "VolumeName"),
}  # fmt: skip


def _boot_time() -> dt.datetime:
    now = dt.datetime.now().replace(microsecond=0)
    return now - dt.timedelta(days=3, hours=4, minutes=12)


def cim_classes(computer_name: str) -> dict[str, list[dict[str, Any]]]:
    """The instances of each class (lower-case name) on ``computer_name``."""
    boot = _boot_time()
    os_instance: dict[str, Any] = {
        "Caption": "Microsoft Windows Server 2019 Datacenter",
        "Version": "10.0.17763",
        "BuildNumber": "17763",
        "BuildType": "Multiprocessor Free",
        "CSName": computer_name.upper(),
        "OSArchitecture": "64-bit",
        "OSType": 18,
        "ProductType": 3,
        "ServicePackMajorVersion": 0,
        "ServicePackMinorVersion": 0,
        "SystemDirectory": "C:\\Windows\\system32",
        "SystemDrive": "C:",
        "WindowsDirectory": "C:\\Windows",
        "Organization": "",
        "RegisteredUser": "Windows User",
        "SerialNumber": "00430-00000-00000-AA823",
        "Manufacturer": "Microsoft Corporation",
        "Locale": "0409",
        "OSLanguage": 1033,
        "CountryCode": "1",
        "CurrentTimeZone": 0,
        "NumberOfProcesses": 24,
        "NumberOfUsers": 1,
        "TotalVisibleMemorySize": PSUInt64(8388148),
        "FreePhysicalMemory": PSUInt64(5231624),
        "TotalVirtualMemorySize": PSUInt64(9567796),
        "FreeVirtualMemory": PSUInt64(6198212),
        "InstallDate": local_datetime(dt.datetime(2024, 3, 14, 9, 26, 53)),
        "LastBootUpTime": local_datetime(boot),
        "LocalDateTime": local_datetime(dt.datetime.now().replace(microsecond=0)),
        "Status": "OK",
        "Primary": True,
        "Name": "Microsoft Windows Server 2019 Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2",
    }
    disks = [
        {"DeviceID": "C:", "DriveType": 3, "ProviderName": None, "FreeSpace": PSUInt64(92716556288),
         "Size": PSUInt64(136912564224), "VolumeName": "", "FileSystem": "NTFS",
         "VolumeSerialNumber": "B2D4E1F0", "Compressed": False, "Description": "Local Fixed Disk",
         "MediaType": 12, "Name": "C:", "Caption": "C:", "SystemName": computer_name.upper()},
        {"DeviceID": "D:", "DriveType": 5, "ProviderName": None, "FreeSpace": None, "Size": None,
         "VolumeName": None, "FileSystem": None, "VolumeSerialNumber": None, "Compressed": None,
         "Description": "CD-ROM Disc", "MediaType": 11, "Name": "D:", "Caption": "D:",
         "SystemName": computer_name.upper()},
    ]  # fmt: skip
    return {"win32_operatingsystem": [os_instance], "win32_logicaldisk": disks}


_CLASS_NAMES = {"win32_operatingsystem": "Win32_OperatingSystem", "win32_logicaldisk": "Win32_LogicalDisk"}


def _instance(class_name: str, values: dict[str, Any], wmi: bool, computer: str) -> Any:
    key = class_name.lower()
    if wmi:
        types = [f"System.Management.ManagementObject#root\\cimv2\\{class_name}",
                 "System.Management.ManagementObject#root\\cimv2\\CIM_" + class_name.split("_", 1)[1],
                 "System.Management.ManagementObject", "System.Management.ManagementBaseObject",
                 "System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object"]  # fmt: skip
        relative = (
            f"{class_name}=@"
            if key == "win32_operatingsystem"
            else f'{class_name}.DeviceID="{values["DeviceID"]}"'
        )
        props = {"__GENUS": 2, "__CLASS": class_name, "__SERVER": computer.upper(), "__NAMESPACE": "root\\cimv2",
                 "__RELPATH": relative, "__PATH": f"\\\\{computer.upper()}\\root\\cimv2:{relative}", **values}  # fmt: skip
        text = f"\\\\{computer.upper()}\\root\\cimv2:{relative}"
    else:
        types = [f"Microsoft.Management.Infrastructure.CimInstance#root/cimv2/{class_name}",
                 f"Microsoft.Management.Infrastructure.CimInstance#root/cimv2/CIM_{class_name.split('_', 1)[1]}",
                 "Microsoft.Management.Infrastructure.CimInstance#ROOT/cimv2/CIM_ManagedSystemElement",
                 "Microsoft.Management.Infrastructure.CimInstance", "System.Object"]  # fmt: skip
        props = {**values, "PSComputerName": None}
        text = f'{class_name} (DeviceID = "{values["DeviceID"]}")' if "DeviceID" in values else class_name
    obj = make_object(types, props, text)
    obj.PSObject.adapted_properties.clear()
    setattr(obj.PSObject, "default_display_properties", DISPLAY_PROPERTIES[key])  # noqa: B010 - not a psrpcore field
    return obj


def _get_instances(ctx: CommandContext, wmi: bool) -> Iterable[Any]:
    class_name = to_string(ctx.get("ClassName") if not wmi else ctx.get("Class"))
    query = ctx.get("Query")
    if query is not None and not class_name:
        words = to_string(query).split()
        lowered = [w.lower() for w in words]
        class_name = words[lowered.index("from") + 1] if "from" in lowered else ""
    classes = cim_classes(ctx.engine.computer_name)
    instances = classes.get(class_name.lower())
    if instances is None:
        if wmi:
            message, exc, error_id = (
                "Invalid class ",
                "System.Management.ManagementException",
                "GetWMIManagementException",
            )
            category = ErrorCategory.InvalidType
        else:
            message = "Invalid class "
            exc, error_id = "Microsoft.Management.Infrastructure.CimException", "HRESULT 0x80041010"
            category = ErrorCategory.MetadataError
        raise PSError(ctx.error(message + f'"{class_name}"' * (not wmi), exc, category, error_id, class_name),
                      terminating=True)  # fmt: skip
    name = _CLASS_NAMES[class_name.lower()]
    flt = ctx.get("Filter")
    chosen = instances
    if flt is not None and "=" in to_string(flt):
        prop, _, wanted = to_string(flt).partition("=")
        wanted_text = wanted.strip().strip("'\"")
        chosen = [i for i in instances if to_string(i.get(prop.strip(), "")).lower() == wanted_text.lower()]
    return [_instance(name, dict(values), wmi, ctx.engine.computer_name) for values in chosen]


@builtin(
    CommandSignature(
        "Get-CimInstance",
        (
            Parameter("ClassName", "string", position=0),
            Parameter("Namespace", "string"),
            Parameter("Filter", "string"),
            Parameter("Query", "string"),
            Parameter("ComputerName", "string[]"),
            Parameter("CimSession", "object"),
            Parameter("Property", "string[]"),
        ),
    ),
    aliases=("gcim",),
)
def _get_cim_instance(ctx: CommandContext) -> Iterable[Any]:
    return _get_instances(ctx, wmi=False)


@builtin(
    CommandSignature(
        "Get-WmiObject",
        (
            Parameter("Class", "string", position=0),
            Parameter("Namespace", "string"),
            Parameter("Filter", "string"),
            Parameter("Query", "string"),
            Parameter("ComputerName", "string[]"),
            Parameter("Property", "string[]", position=1),
        ),
    ),
    aliases=("gwmi",),
)
def _get_wmi_object(ctx: CommandContext) -> Iterable[Any]:
    if ctx.engine.version != "5.1":
        raise PSError(
            ctx.error(
                "The term 'Get-WmiObject' is not recognized as a name of a cmdlet, function, script file, "
                "or executable program.",
                "System.Management.Automation.CommandNotFoundException",
                ErrorCategory.ObjectNotFound,
                "CommandNotFoundException",
                "Get-WmiObject",
            ),
            terminating=True,
        )
    return _get_instances(ctx, wmi=True)


def _register_format_data() -> None:
    """Get-FormatData's table views of the CIM classes, as Windows' CIM format data has them."""
    from .builtins_formatdata import register_table_view

    for class_name, key in (("Win32_OperatingSystem", "win32_operatingsystem"),
                            ("Win32_LogicalDisk", "win32_logicaldisk")):  # fmt: skip
        names = _TABLE_COLUMNS[key]
        register_table_view(
            f"Microsoft.Management.Infrastructure.CimInstance#root/cimv2/{class_name}",
            [(n, 0, "Left", n) for n in names],
        )


#: The CIM table views' columns (Get-CimInstance's Out-Default and Get-FormatData).
_TABLE_COLUMNS = {
    "win32_operatingsystem": DISPLAY_PROPERTIES["win32_operatingsystem"],
    "win32_logicaldisk": ("DeviceID", "DriveType", "ProviderName", "VolumeName", "Size", "FreeSpace"),
}
_register_format_data()
