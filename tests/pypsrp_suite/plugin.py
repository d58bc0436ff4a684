"""A pytest plugin loaded into pypsrp's own test suite (``-p tests.pypsrp_suite.plugin``).

- Only the live-capable tests are collected: those whose ``wsman_conn`` parameter allows a
  real server (``[True, name]``) and those of ``test_integration.py`` (``functional_transports``).
  The others replay pypsrp's recorded answers and never meet the emulator.
- pypsrp's ``wsman_conn`` fixture picks HTTP only for port 5985 (``ssl = port != 5985``); the
  emulator listens on a free port, so a WSMan built for port 5985 is pointed at the port in
  ``PSREMOTING_SUITE_HTTP_PORT``. Nothing else of pypsrp is touched.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def _is_live(item: pytest.Item) -> bool:
    if "functional_transports" in getattr(item, "fixturenames", ()):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    conn = params.get("wsman_conn")
    return isinstance(conn, list) and len(conn) == 2 and conn[0] is True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = [item for item in items if _is_live(item)]
    dropped = [item for item in items if not _is_live(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = live


def pytest_configure(config: pytest.Config) -> None:
    http_port = os.environ.get("PSREMOTING_SUITE_HTTP_PORT")
    if not http_port:
        return
    from pypsrp import wsman

    original = wsman.WSMan.__init__

    def init(self: Any, server: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("port") == 5985:
            kwargs["port"] = int(http_port)
        original(self, server, *args, **kwargs)

    wsman.WSMan.__init__ = init  # type: ignore[method-assign]
