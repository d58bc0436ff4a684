"""pypsrp's XML parsing pointed at the hardened parser (`psremoting.protocol.safexml`).

pypsrp reads the server's answers, its WSMan faults and the CLIXML inside PSRP messages with
``xml.etree.ElementTree.fromstring`` through the module name ``ET`` of its modules. `harden`
gives those modules an ``ET`` whose ``fromstring`` (and ``XML``) is `safexml.fromstring`,
everything else being ElementTree's own, so that no document from the network reaches expat
with a DTD, on pypsrp's path as on ours. Called when a session's WSMan is made; idempotent.
"""

from __future__ import annotations

import threading
import types
import xml.etree.ElementTree as ET
from typing import Any

from psremoting.protocol.safexml import fromstring

__all__ = ["harden", "HardenedElementTree"]

_MODULES = (
    "pypsrp.wsman",
    "pypsrp.serializer",
    "pypsrp.shell",
    "pypsrp.powershell",
    "pypsrp.messages",
    "pypsrp.client",
)
_lock = threading.Lock()
_done = False


class HardenedElementTree(types.ModuleType):
    """``xml.etree.ElementTree`` with `safexml.fromstring` in place of ``fromstring``/``XML``."""

    def __init__(self) -> None:
        super().__init__("xml.etree.ElementTree")
        # ElementTree's names copied in (pypsrp looks up ET.SubElement thousands of times a
        # session: a plain attribute, not a __getattr__ call each time).
        for name in dir(ET):
            if not name.startswith("__"):
                setattr(self, name, getattr(ET, name))
        self.fromstring = fromstring
        self.XML = fromstring

    def __getattr__(self, name: str) -> Any:
        return getattr(ET, name)


def harden() -> None:
    """Point pypsrp's modules at the hardened parser (once per process)."""
    global _done
    if _done:
        return
    import importlib

    with _lock:
        if _done:
            return
        hardened = HardenedElementTree()
        for name in _MODULES:
            module = importlib.import_module(name)
            if getattr(module, "ET", None) is ET:
                module.ET = hardened  # type: ignore[attr-defined]
        _done = True
