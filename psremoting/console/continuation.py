"""Is a typed block of PowerShell incomplete (so the console asks for more with `>> `)?

PowerShell's console keeps reading lines while the parse fails with an
IncompleteParseException (an open brace, parenthesis or string, a trailing pipe or
backtick) and sends the block at an empty line. The parse is pslang's (tree-sitter), the
same one the local shell runs; at the remote prompt it only decides about continuation,
the text itself is sent as typed.
"""

from __future__ import annotations


def is_incomplete(text: str) -> bool:
    """True when `text` is a valid beginning that more lines could complete."""
    from psremoting.pslang.parser import ParseError, parse

    try:
        parse(text)
    except ParseError as error:
        return bool(error.incomplete)
    return False
