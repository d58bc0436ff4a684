"""PowerShell syntax highlighting for the prompt, through Pygments' PowerShellLexer."""

from __future__ import annotations

from typing import Any


def lexer() -> Any:
    """A prompt_toolkit lexer colouring PowerShell (keywords, strings, variables, parameters)."""
    from prompt_toolkit.lexers import PygmentsLexer
    from pygments.lexers.shell import PowerShellLexer

    return PygmentsLexer(PowerShellLexer)


def style() -> Any:
    """Colours close to PSReadLine's defaults: commands yellow, parameters grey, strings cyan."""
    from prompt_toolkit.styles import Style

    return Style.from_dict(
        {
            "pygments.keyword": "#5fd7ff",
            "pygments.name.builtin": "#ffff5f",
            "pygments.name": "",
            "pygments.name.variable": "#87ff87",
            "pygments.string": "#5fafd7",
            "pygments.literal.string": "#5fafd7",
            "pygments.number": "#ffffff",
            "pygments.literal.number": "#ffffff",
            "pygments.operator": "#a8a8a8",
            "pygments.punctuation": "",
            "pygments.comment": "#5f8700",
        }
    )
