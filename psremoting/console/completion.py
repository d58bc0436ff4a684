"""Tab completion: from the remote TabExpansion2 at a remote prompt, locally at the local one.

Remote: `InteractiveSession.complete(line, cursor)` runs TabExpansion2 on the server
(commands, parameters, remote paths) and gives back the replacement range and the
matches; they become prompt_toolkit completions. Local: the session cmdlets and their
aliases, their parameters after `-`, variables after `$`, and local paths.

Tab itself (`tab_bindings`): one match is applied at once (also when only its case
differs, as PowerShell's completion is case-insensitive); several insert their common
part, then cycle.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings

from psremoting.console import cmdlets

_WORD = re.compile(r"[^\s|;(){},=]*$")


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    return default


def remote_matches(result: Any, cursor: int) -> Iterator[Completion]:
    """prompt_toolkit completions from a remote Completion (CommandCompletion-shaped)."""
    if result is None:
        return
    index = _get(result, "replacement_index", "ReplacementIndex", default=cursor)
    length = _get(result, "replacement_length", "ReplacementLength", default=0)
    matches = _get(result, "matches", "CompletionMatches", "completion_matches", default=()) or ()
    start = int(index) - cursor
    # The replacement must end at the cursor for prompt_toolkit; text after it is kept.
    if int(index) + int(length) != cursor:
        start = int(index) - cursor
    for match in matches:
        if isinstance(match, str):
            text, shown, tooltip = match, match, ""
        else:
            text = str(_get(match, "completion_text", "CompletionText", default=""))
            shown = str(_get(match, "list_item_text", "ListItemText", default=text) or text)
            tooltip = str(_get(match, "tool_tip", "ToolTip", default="") or "")
        if text:
            yield Completion(text, start_position=start, display=shown, display_meta=tooltip.strip()[:60])


class RemoteCompleter(Completer):
    """Completes with the remote TabExpansion2 of the interactive session `session`."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        if not complete_event.completion_requested:
            return
        try:
            result = self._session.complete(document.text, document.cursor_position)
        except Exception:
            return
        yield from remote_matches(result, document.cursor_position)


class LocalCompleter(Completer):
    """The local shell's cmdlets, their parameters, `$variables` and local paths."""

    def __init__(
        self,
        variables: Callable[[], Iterable[str]] | None = None,
        commands: Callable[[], Iterable[Any]] | None = None,
    ) -> None:
        self._variables = variables or (lambda: ())
        #: More commands than the table's: the proxies Import-PSSession made (CmdletSpecs).
        self._commands = commands or (lambda: ())

    def _lookup(self, name: str) -> Any:
        for spec in self._commands():
            if spec.name.lower() == name.lower():
                return spec
        return cmdlets.lookup(name)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        word = _WORD.search(before)
        current = word.group(0) if word else ""
        start = -len(current)
        head = before[: len(before) - len(current)]
        statement = re.split(r"[|;]", head)[-1]
        lower = current.lower()
        if current.startswith("$"):
            for name in sorted(self._variables(), key=str.lower):
                if ("$" + name).lower().startswith(lower):
                    yield Completion("$" + name, start_position=start)
            return
        if not statement.strip() or statement.rstrip().endswith("="):
            extra = [spec.name for spec in self._commands()]
            for name in sorted(set(cmdlets.all_names()) | set(extra), key=str.lower):
                if name.lower().startswith(lower):
                    yield Completion(name, start_position=start)
            return
        if current.startswith("-"):
            spec = self._lookup(statement.split()[0]) if statement.split() else None
            if spec is not None:
                for param in cmdlets.parameters_of(spec):
                    if ("-" + param.name).lower().startswith(lower):
                        yield Completion("-" + param.name, start_position=start)
            return
        yield from _path_completions(current, start)


def _path_completions(current: str, start: int) -> Iterator[Completion]:
    """Local files and folders starting with `current` (quotes stripped)."""
    text = current.strip("'\"")
    expanded = os.path.expanduser(text)
    folder, prefix = os.path.split(expanded)
    try:
        entries = sorted(os.listdir(folder or "."))
    except OSError:
        return
    for entry in entries:
        if entry.lower().startswith(prefix.lower()) and (prefix.startswith(".") or not entry.startswith(".")):
            full = os.path.join(os.path.dirname(text), entry) if os.path.dirname(text) else entry
            if os.path.isdir(os.path.join(folder or ".", entry)):
                full += os.sep
            if " " in full:
                full = f"'{full}'"
            yield Completion(full, start_position=start)


def tab_bindings() -> KeyBindings:
    """Tab: apply a single match at once; with several, insert the common part, then cycle."""
    bindings = KeyBindings()

    @bindings.add("tab")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
            return
        completer = buffer.completer
        if completer is None:
            return
        found = list(completer.get_completions(buffer.document, CompleteEvent(completion_requested=True)))
        if len(found) == 1:
            buffer.apply_completion(found[0])
        elif found:
            buffer.start_completion(insert_common_part=True)

    @bindings.add("s-tab")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_previous()

    return bindings
