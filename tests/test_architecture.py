"""The package's architecture, checked: the layers of docs/internals.md hold.

`lint-imports` (import-linter, run by .ci/run) checks the import arrows between the layers.
What it cannot see is checked here: pypsrp's modules and private members are used only by the
transport, and no module grows past the size one reader can hold.

``DEBT`` lists the known exceptions. It may only shrink: an entry that no longer applies fails
the test too, so that a fix also removes its excuse.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "psremoting"
MAX_LINES = 600

#: pypsrp modules whose use means "knows how WSMan and HTTP are done": transport only.
PYPSRP_TRANSPORT_MODULES = {
    "pypsrp.wsman",
    "pypsrp.shell",
    "pypsrp.encryption",
    "pypsrp.negotiate",
    "pypsrp._utils",
}
#: The private members of pypsrp's objects that the client relies on (pinned by the
#: transport's contract test); nobody outside the transport may touch them.
PYPSRP_PRIVATE_MEMBERS = {
    "_fragmenter",
    "_command_id",
    "_receive",
    "_process_host_call",
    "_serializer",
    "_build_session",
    "_send_signal",
    "_get_shell",
    "_pool_maxsize",
    "_pool_connections",
    "_pool_block",
    "_content_consumed",
    "_invoke",
    "_parse_responses",
    "_create_header",
    "_parse_wsman_fault",
    "_selector_set",
    "_deserialize_secure_string",
    "_use_runspace_host",
    "_string_map",
    "_types",
}

#: (path relative to psremoting/, what) -> why it is tolerated for now.
DEBT: dict[tuple[str, str], str] = {}


def _modules() -> list[tuple[str, ast.Module, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.append((path.relative_to(PACKAGE).as_posix(), ast.parse(text), len(text.splitlines())))
    return found


def _violations() -> dict[tuple[str, str], str]:
    seen: dict[tuple[str, str], str] = {}
    for name, tree, lines in _modules():
        if lines > MAX_LINES:
            seen[(name, "lines")] = f"{lines} lines"
        if name.startswith(("transport/", "emulator/")):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in PYPSRP_TRANSPORT_MODULES:
                seen[(name, node.module)] = f"line {node.lineno}: from {node.module} import ..."
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in PYPSRP_TRANSPORT_MODULES:
                        seen[(name, alias.name)] = f"line {node.lineno}: import {alias.name}"
            elif isinstance(node, ast.Attribute) and node.attr in PYPSRP_PRIVATE_MEMBERS:
                seen.setdefault((name, node.attr), f"line {node.lineno}: .{node.attr}")
    return seen


def test_pypsrp_internals_and_module_sizes_stay_where_they_belong() -> None:
    seen = _violations()
    new = {key: where for key, where in seen.items() if key not in DEBT}
    assert not new, "outside the transport, or past 600 lines:\n" + "\n".join(
        f"  psremoting/{path}: {what} ({where})" for (path, what), where in sorted(new.items())
    )


def test_the_debt_list_only_shrinks() -> None:
    paid = sorted(key for key in DEBT if key not in _violations())
    assert not paid, f"fixed, so remove from DEBT in {__file__}: {paid}"
