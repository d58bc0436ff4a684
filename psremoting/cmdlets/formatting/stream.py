"""Out-Default for output that arrives one object at a time (a remote command's output).

`OutDefault.add(obj)` returns the lines to show now: scalars at once; a table's objects are
held until `window` of them have come, or (with `hold`) an object arrives `hold` seconds or
more after the first (or the run of that shape ends), then the table is laid out from them, as
PowerShell 5.1 lays a table out from what arrived in its first 300 ms, and
the later rows of that table are written as they come, in those widths. A list shows each
object as it comes once the first ones are out. `close()` ends the last table or list.
What a run of fewer than `window` objects shows is exactly what `format_lines` gives.
"""

from __future__ import annotations

import time
from typing import Any

from psremoting.cmdlets.formatting.engine import (
    FormatRequest,
    format_lines,
    group_of,
    list_entries,
    shape_of,
    table_layout,
    table_rows,
)

__all__ = ["OutDefault"]


class OutDefault:
    """Streaming Out-String at a `width`: feed objects with `add`, end with `close`."""

    def __init__(
        self,
        width: int = 120,
        window: int = 50,
        request: FormatRequest | None = None,
        hold: float | None = None,
    ) -> None:
        self.width = width
        self.window = window
        self.hold = hold
        self._held_since = 0.0
        self.request = request or FormatRequest()
        self._run: list[Any] = []
        self._run_key: Any = None
        self._frozen: Any = None  # (shape, layout) once a table's widths are fixed
        self._after_blank = False  # the last line given out was blank

    def _key(self, obj: Any) -> tuple[Any, Any, Any]:
        shape = shape_of(obj, self.request)
        group = group_of(self.request, shape)
        return shape.key, (group(obj) if group is not None else None), shape

    def add(self, obj: Any) -> list[str]:
        return self._given(self._add(obj))

    def _given(self, lines: list[str]) -> list[str]:
        if lines:
            self._after_blank = lines[-1] == ""
        return lines

    def _lines(self, objects: list[Any]) -> list[str]:
        return self._given(
            format_lines(objects, width=self.width, request=self.request, after_blank=self._after_blank)
        )

    def _add(self, obj: Any) -> list[str]:
        key, group, shape = self._key(obj)
        if shape.kind in ("scalar", "custom"):
            closing = self.close()
            return closing + self._lines([obj])
        lines: list[str] = []
        if self._run_key is not None and (key, group) != self._run_key:
            lines += self.close()
        self._run_key = (key, group)
        if self._frozen is not None:
            frozen_shape, layout = self._frozen
            if frozen_shape.kind == "table":
                return lines + table_rows([obj], frozen_shape, self.request, layout)
            return lines + [""] + list_entries([obj], frozen_shape, self.width)
        if not self._run:
            self._held_since = time.monotonic()
        self._run.append(obj)
        waited = self.hold is not None and time.monotonic() - self._held_since >= self.hold
        if (len(self._run) >= self.window or waited) and shape.kind in ("table", "list"):
            lines += self._freeze(shape)
        return lines

    def _freeze(self, shape: Any) -> list[str]:
        run, self._run = self._run, []
        shown = self._lines(run)
        while shown and shown[-1] == "":
            shown.pop()  # the table goes on: its closing blank lines come at `close`
        layout = table_layout(run, shape, self.request, self.width) if shape.kind == "table" else None
        self._frozen = (shape, layout)
        return shown

    def close(self) -> list[str]:
        """End the current table or list: its remaining objects and closing blank lines."""
        run, self._run = self._run, []
        frozen, self._frozen = self._frozen, None
        self._run_key = None
        if frozen is not None:
            return self._given(["", ""])
        return self._lines(run) if run else []
