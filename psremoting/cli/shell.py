"""`psremoting` / `psremoting shell [--emulator]`: the local shell with the session cmdlets.

At `PS /current/dir> ` the PowerShell session cmdlets (New-, Get-, Enter-, Exit-,
Remove-PSSession, Invoke-Command, ...) run with PowerShell's syntax and parameter binding;
Enter-PSSession switches to the `[Server01]: PS C:\\...> ` remote prompt; `exit` leaves.
`--emulator` serves every computer name from an embedded emulator (no Windows needed).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="serve every computer name from an embedded WinRM emulator (no Windows host, no credentials)",
    )


def run(args: argparse.Namespace) -> int:
    from psremoting.console.repl import run_shell

    return run_shell(emulator=bool(getattr(args, "emulator", False)))
