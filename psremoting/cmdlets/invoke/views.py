"""The server's own views for `psremoting invoke --output text`.

The shell shows a remote type that has no built-in view with the view of the session it came
from (Get-FormatData, asked once per type: what Import-PSSession does). A fan-out's sessions
are temporary and may live in other processes or on a cluster, so here the first host that
sends an object of such a type is asked on a session of its own, opened with the run's
connection settings, and the answer (views, or none) serves every host of the run: format data
belongs to the type, and is the same on every host of one PowerShell version. A host that
cannot be asked (a JEA role without Get-FormatData) leaves the built-in or generated layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psremoting.cmdlets.formatting.server_views import ServerViews, ask_format_data
from psremoting.cmdlets.formatting.views import View
from psremoting.transport.options import ConnectionInfo

__all__ = ["FanOutViews"]


class FanOutViews:
    """The view source of a fan-out's text output (`FormatRequest.view_source`).

    Set `host` to the computer the next object came from before it is formatted."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        self._request = request
        self._info: dict[str, ConnectionInfo] | None = None  # planned when first asked
        self.host = ""
        self._views = ServerViews(self._ask)
        self.asked = self._views.asked  # the questions sent, in order

    def __call__(self, obj: Any) -> list[View]:
        return self._views.views(obj)

    def _ask(self, type_names: list[str]) -> list[Any]:
        from psremoting.cmdlets.sessions import PSSession

        if self._info is None:  # now, not before: --emulator routes the names while the run lasts
            from psremoting.cmdlets.invoke.targets import plan_targets

            targets, _ = plan_targets(self._request)
            self._info = {t.computer_name.lower(): t.info for t in targets if t.info is not None}
        info = self._info.get(self.host.lower())
        if info is None:
            return []
        session = PSSession(info)
        try:
            session.open()
            return ask_format_data(session, type_names)
        finally:
            session.close()
