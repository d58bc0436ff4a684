"""View definitions from the server that produced the objects: what Import-PSSession does.

For a type with no built-in view, `ServerViews` asks the server once (``Get-FormatData
-TypeName`` with the object's type names, ``Deserialized.`` removed), keeps the answer (views or
none) per type name, and gives the views of the most derived type that has one. The answer is
Windows' ExtendedTypeDefinition objects: TypeName and FormatViewDefinition (Name, Control); a
TableControl (Headers: Label, Width, Alignment; Rows: Columns with a DisplayEntry), a
ListControl (Entries: Items with Label and DisplayEntry) or a WideControl (Entries). A
DisplayEntry of ValueType Property names the property; a ScriptBlock entry cannot run here, so
its column shows the property named as its label (empty when there is none).

`session_views(session)` is the cache of one session (created once, kept while the session is).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from psremoting.cmdlets.formatting.values import prop, type_names_of
from psremoting.cmdlets.formatting.views import BUILTIN_VIEWS, Column, View

__all__ = ["ServerViews", "ask_format_data", "session_views", "views_from_format_data"]

log = logging.getLogger(__name__)

_ALIGN = {"left": "left", "right": "right", "center": "left", "1": "left", "2": "left", "3": "right"}


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _align(value: Any) -> Any:
    if value is None:
        return ""
    name = getattr(value, "name", None)
    text = str(name if isinstance(name, str) else value).rsplit(".", 1)[-1].lower()
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(int(value))
    return _ALIGN.get(text, "")


def _entry_value(entry: Any, label: str) -> str:
    """The property a DisplayEntry shows (a script block's column: the property named `label`)."""
    kind = prop(entry, "ValueType")
    kind_name = str(getattr(kind, "name", kind) or "").rsplit(".", 1)[-1].lower()
    value = str(prop(entry, "Value") or "")
    if kind_name in ("scriptblock", "1"):
        return label
    return value or label


def _table(control: Any, name: str) -> View | None:
    headers = _items(prop(control, "Headers"))
    rows = _items(prop(control, "Rows"))
    if not rows:
        return None
    cells = _items(prop(rows[0], "Columns"))
    columns = []
    for index, cell in enumerate(cells):
        header = headers[index] if index < len(headers) else None
        entry = prop(cell, "DisplayEntry")
        target = _entry_value(entry, str(prop(header, "Label") or ""))
        label = str(prop(header, "Label") or "") or target
        width = int(prop(header, "Width") or 0)
        align = _align(prop(cell, "Alignment")) or _align(prop(header, "Alignment"))
        columns.append(Column(label, target, width, align))
    if columns:
        last = columns[-1]
        columns[-1] = Column(last.label, last.value, 0, last.align)  # the last column takes the rest
    return View("table", tuple(columns), name=name)


def _list(control: Any, name: str) -> View | None:
    entries = _items(prop(control, "Entries"))
    if not entries:
        return None
    columns = []
    for item in _items(prop(entries[0], "Items")):
        label = str(prop(item, "Label") or "")
        target = _entry_value(prop(item, "DisplayEntry"), label)
        columns.append(Column(label or target, target))
    return View("list", tuple(columns), name=name)


def _wide(control: Any, name: str) -> View | None:
    entries = _items(prop(control, "Entries"))
    if not entries:
        return None
    target = _entry_value(prop(entries[0], "DisplayEntry"), "Name")

    def text(obj: Any) -> str:
        from psremoting.cmdlets.formatting.values import cell_text

        return cell_text(prop(obj, target))

    return View("wide", name=name, wide=text)


_CONTROLS: dict[str, Callable[[Any, str], View | None]] = {
    "TableControl": _table,
    "ListControl": _list,
    "WideControl": _wide,
}


def _view(definition: Any) -> View | None:
    control = prop(definition, "Control")
    name = str(prop(definition, "Name") or "")
    for type_name in type_names_of(control):
        build = _CONTROLS.get(type_name.removeprefix("Deserialized.").rsplit(".", 1)[-1])
        if build is not None:
            return build(control, name)
    return None


def views_from_format_data(objects: Sequence[Any]) -> dict[str, list[View]]:
    """The views of each type named in Get-FormatData's answer (ExtendedTypeDefinition objects)."""
    found: dict[str, list[View]] = {}
    for definition in objects:
        views = [v for v in (_view(d) for d in _items(prop(definition, "FormatViewDefinition"))) if v]
        names = [str(prop(definition, "TypeName") or "")] + [
            str(n) for n in _items(prop(definition, "TypeNames"))
        ]
        for type_name in dict.fromkeys(n for n in names if n):
            found.setdefault(type_name, views)
    return found


class ServerViews:
    """The server's views of the types it sends, asked for once per type and kept.

    `ask(type_names)` runs Get-FormatData for those names and returns its objects; a failure
    (the server cannot be asked) is remembered as "no view", and the built-in or generated
    layout is used."""

    def __init__(self, ask: Callable[[list[str]], Sequence[Any]]) -> None:
        self._ask = ask
        self._known: dict[str, list[View]] = {}
        self._lock = threading.Lock()
        self.asked: list[list[str]] = []  # the questions sent, in order

    def views(self, obj: Any) -> list[View]:
        names = [n.removeprefix("Deserialized.") for n in type_names_of(obj)]
        names = [n for n in names if n and n not in BUILTIN_VIEWS and not _never_has_views(n)]
        if not names:
            return []
        with self._lock:
            missing = [n for n in names if n not in self._known]
            if missing:
                self.asked.append(missing)
                try:
                    answer = views_from_format_data(list(self._ask(missing)))
                except Exception as exc:  # the server cannot be asked: built-in views only
                    log.debug("Get-FormatData failed: %s", exc)
                    answer = {}
                lowered = {k.lower(): v for k, v in answer.items()}
                for name in missing:
                    self._known[name] = lowered.get(name.lower(), [])
            for name in names:
                if self._known.get(name):
                    return self._known[name]
        return []

    __call__ = views


def _never_has_views(type_name: str) -> bool:
    """Types Windows ships no format data for: asking about them costs a round trip for nothing
    (System.Object, a PSCustomObject, Select-Object's ``Selected.`` copies)."""
    return type_name in ("System.Object", "System.Management.Automation.PSCustomObject") or (
        type_name.startswith("Selected.")
    )


def ask_format_data(session: Any, type_names: list[str]) -> list[Any]:
    """Get-FormatData on `session` (a PSSession) for `type_names`: ExtendedTypeDefinition objects."""
    result = session.invoke("param($n) Get-FormatData -TypeName $n", arguments=[type_names])
    return list(getattr(result, "output", result) or [])


_BY_SESSION: weakref.WeakKeyDictionary[Any, ServerViews] = weakref.WeakKeyDictionary()
_BY_SESSION_LOCK = threading.Lock()


def session_views(session: Any) -> ServerViews:
    """The view cache of `session` (a PSSession: anything with ``invoke(script, arguments=...)``)."""
    with _BY_SESSION_LOCK:
        cached = _BY_SESSION.get(session)
        if cached is None:
            cached = _BY_SESSION[session] = ServerViews(lambda names: ask_format_data(session, names))
        return cached
