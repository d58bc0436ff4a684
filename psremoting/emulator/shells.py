"""Compatibility name: the shells now live in ``psrp_shell.py`` and ``shell_registry.py``.

Kept only because ``emulator/pipelines.py`` still imports ``PSRPShell`` from here for type
checking; remove once that import reads ``psremoting.emulator.psrp_shell``.
"""

from psremoting.emulator.psrp_shell import PSRPShell

__all__ = ["PSRPShell"]
