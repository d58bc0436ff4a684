"""Which module a built-in cmdlet comes from, and module auto-loading's first-use progress.

Windows PowerShell 5.1 loads a cmdlet's module the first time a runspace uses one of its
commands (Microsoft.PowerShell.Core is always loaded). When that first use happens while a
script runs, the loading writes one progress record to the pipeline, "Preparing modules for
first use." (type Completed, ActivityId 0, status " "), before the command's own output: the
recordings of real hosts (``../shared/windows-recordings/``) show one per module so loaded
(``Test-Path`` then ``New-Object``: two), and none for a pipeline that only evaluates
expressions (``1+1``, ``$host...``). A module loaded while the pipeline is being built, for a
command the client added as a command rather than a script (``Start-Sleep`` in
test_psrp_long_running_cmdlet, ``New-Item`` in test_client_execute_ps_environment), loads
without one. ``$ProgressPreference = 'SilentlyContinue'`` suppresses it, as on Windows.

PowerShell's console shows nothing for it (a Completed record of an activity that never
started draws no progress bar); psremoting's client does the same.
"""

from __future__ import annotations

import functools
from typing import Any

from psrpcore.types import ProgressRecordType

__all__ = ["FIRST_USE_ACTIVITY", "CORE_MODULE", "LoadedModules", "module_of"]

#: The activity of the progress record module auto-loading writes (Windows PowerShell 5.1).
FIRST_USE_ACTIVITY = "Preparing modules for first use."
CORE_MODULE = "Microsoft.PowerShell.Core"

# Nouns (or whole names) of the cmdlets of each module; everything else is Utility.
_MODULES: dict[str, tuple[str, ...]] = {
    "Microsoft.PowerShell.Management": (
        "ChildItem",
        "Content",
        "Item",
        "Location",
        "Path",
        "ItemProperty",
        "Process",
        "Service",
        "Computer",
        "EventLog",
        "WmiObject",
        "Connection",
        "HotFix",
    ),
    CORE_MODULE: (
        "ForEach-Object",
        "Where-Object",
        "Get-Command",
        "Invoke-Command",
        "Exit-PSSession",
        "Out-Default",
        "Out-Host",
        "Out-Null",
        "TabExpansion2",
        "Set-StrictMode",
        "PSSession",
        "PSSessionOption",
        "PSSessionConfigurationFile",
        "Job",
        "Module",
        "Help",
        "History",
    ),
    "Microsoft.PowerShell.Security": ("Credential",),
    "Microsoft.PowerShell.Diagnostics": ("WinEvent", "Counter"),
    "Microsoft.WSMan.Management": ("WSManCredSSP", "WSManInstance", "WSManQuickConfig", "WSManAction"),
}


@functools.lru_cache(maxsize=1024)
def _module_of_lower(lower: str) -> str:
    for module, nouns in _MODULES.items():
        if any(lower == n.lower() or lower.endswith("-" + n.lower()) for n in nouns):
            return module
    return "Microsoft.PowerShell.Utility"


def module_of(name: str) -> str:
    """The module of the built-in cmdlet ``name`` (``Microsoft.PowerShell.Utility`` by default).

    Asked for every command a pipeline runs, so each name is looked up once."""
    return _module_of_lower(name.lower())


class LoadedModules:
    """The modules a runspace has loaded (one per emulated runspace pool, as a wsmprovhost)."""

    def __init__(self, announce: bool = True) -> None:
        #: Whether loading writes the first-use progress record (Windows PowerShell 5.1).
        self.announce = announce
        self._loaded: set[str] = {CORE_MODULE.lower()}

    def names(self) -> list[str]:
        """The loaded modules' names (lower-case)."""
        return sorted(self._loaded)

    def load(self, module: str) -> None:
        """Mark ``module`` loaded (Import-Module), without the first-use progress record."""
        self._loaded.add(module.lower())

    def use(
        self,
        command_name: str,
        io: Any,
        *,
        in_script: bool,
        preference: Any = "Continue",
        module: str | None = None,
    ) -> None:
        """Load the module of ``command_name`` (or ``module``) if needed; from a running
        script, write the first-use progress record to ``io`` (unless ``$ProgressPreference``
        silences it)."""
        module = (module or module_of(command_name)).lower()
        if module in self._loaded:
            return
        self._loaded.add(module)
        if not (self.announce and in_script):
            return
        if str(preference).lower() in ("silentlycontinue", "ignore"):
            return
        io.write_progress(FIRST_USE_ACTIVITY, " ", -1, 0, ProgressRecordType.Completed)

    def __contains__(self, module: str) -> bool:
        return module.lower() in self._loaded
