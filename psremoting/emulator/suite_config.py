"""The emulated host pypsrp's own test suite expects (``tests/pypsrp_suite``).

pypsrp's integration setup registers a ``JEARole`` endpoint that allows Get-Item (over the
WSMan provider) and nothing of Set-Item, and its tests look for the ``winrm`` service.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pypsrp_suite_config"]


def pypsrp_suite_config() -> dict[str, Any]:
    """`Emulator` keyword arguments for pypsrp 0.9.1's live tests."""
    return {
        "configurations": [
            {"name": "JEARole", "visible_cmdlets": ["Get-Item"], "run_as_virtual_account": True}
        ],
        "services": [
            {
                "Name": "winrm",
                "DisplayName": "Windows Remote Management (WS-Management)",
                "Status": "Running",
            },
            {"Name": "W32Time", "DisplayName": "Windows Time", "Status": "Running", "StartType": "Manual"},
        ],
    }
