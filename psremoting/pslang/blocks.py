"""Named blocks of a script: ``begin { } process { } end { }`` (and ``dynamicparam``, ``clean``).

A script block made of named blocks runs them as a cmdlet runs BeginProcessing,
ProcessRecord and EndProcessing: ``begin`` once before any input, ``process`` once per
input object with ``$_`` set to it, ``end`` once after the input ended. A script without
named blocks is all ``end`` block. The grammar reads named blocks at a script's top level as
commands (``begin`` with one script block argument) and inside a script block as a
``named_block_list``; the parser gives both the first shape, which :func:`named_blocks`
recognises.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ast as A

__all__ = ["BLOCK_NAMES", "NamedBlocks", "named_blocks"]

BLOCK_NAMES = ("dynamicparam", "begin", "process", "end", "clean")


@dataclass(frozen=True)
class NamedBlocks:
    """The named blocks of a script; an absent block is None."""

    begin: A.Script | None = None
    process: A.Script | None = None
    end: A.Script | None = None
    clean: A.Script | None = None


def named_blocks(script: A.Script) -> NamedBlocks | None:
    """The script's named blocks, or None when it is a plain script (all ``end`` block)."""
    if not script.statements:
        return None
    found: dict[str, A.Script] = {}
    for statement in script.statements:
        pairs = _block_pairs(statement)
        if pairs is None:
            return None
        for name, body in pairs:
            if name in found:
                return None
            found[name] = body
    return NamedBlocks(found.get("begin"), found.get("process"), found.get("end"), found.get("clean"))


def _block_pairs(statement: A.Statement) -> list[tuple[str, A.Script]] | None:
    """``begin {..} process {..}`` on one line is one command to the grammar: ``begin`` with the
    arguments ``{..}``, ``process``, ``{..}``; split it into (name, body) pairs."""
    if not isinstance(statement, A.Pipeline) or len(statement.elements) != 1:
        return None
    command = statement.elements[0]
    if not isinstance(command, A.Command) or command.invocation is not None or command.redirections:
        return None
    words: list[A.Expr | A.CommandParameter] = [A.Constant(command.name_text, bareword=True)]
    words.extend(command.elements)
    if len(words) % 2:
        return None
    pairs: list[tuple[str, A.Script]] = []
    for name_word, body in zip(words[::2], words[1::2], strict=True):
        if not (
            isinstance(name_word, A.Constant) and name_word.bareword and isinstance(name_word.value, str)
        ):
            return None
        name = name_word.value.lower()
        if name not in BLOCK_NAMES or not isinstance(body, A.ScriptBlockExpr):
            return None
        pairs.append((name, body.body))
    return pairs
