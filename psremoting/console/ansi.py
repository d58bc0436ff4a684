"""Terminal colours as PowerShell 7 uses them.

PowerShell's host calls name colours with the .NET `ConsoleColor` enum (0..15); the
stream colours (error, warning, verbose, debug) follow `$PSStyle.Formatting` in
PowerShell 7: errors bold red, warnings/verbose/debug bold yellow.
"""

from __future__ import annotations

from psremoting.runspace.host import CONSOLE_COLORS

RESET = "\x1b[0m"
ERROR = "\x1b[31;1m"
WARNING = "\x1b[33;1m"
VERBOSE = "\x1b[33;1m"
DEBUG = "\x1b[33;1m"
PROGRESS = "\x1b[33;1m"

# System.ConsoleColor names, in enum order, are CONSOLE_COLORS (psremoting.runspace.host); the ANSI
# foreground code of each:
_FOREGROUND: dict[str, int] = {
    "black": 30,
    "darkred": 31,
    "darkgreen": 32,
    "darkyellow": 33,
    "darkblue": 34,
    "darkmagenta": 35,
    "darkcyan": 36,
    "gray": 37,
    "darkgray": 90,
    "red": 91,
    "green": 92,
    "yellow": 93,
    "blue": 94,
    "magenta": 95,
    "cyan": 96,
    "white": 97,
}


def _color_name(color: object) -> str | None:
    """The lower-case ConsoleColor name of `color` (an int, a name, or an enum-like value)."""
    if color is None:
        return None
    value = getattr(color, "value", color)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if 0 <= value < len(CONSOLE_COLORS):
            return CONSOLE_COLORS[value].lower()
        return None
    name = getattr(color, "name", None) or str(value)
    name = name.replace("_", "").lower()
    return name if name in _FOREGROUND else None


def sgr(fg: object = None, bg: object = None) -> str:
    """The escape sequence that selects `fg`/`bg` (ConsoleColor values), or "" for defaults."""
    codes: list[str] = []
    fg_name = _color_name(fg)
    if fg_name is not None:
        codes.append(str(_FOREGROUND[fg_name]))
    bg_name = _color_name(bg)
    if bg_name is not None:
        codes.append(str(_FOREGROUND[bg_name] + 10))
    return f"\x1b[{';'.join(codes)}m" if codes else ""


def paint(text: str, style: str, enabled: bool = True) -> str:
    """`text` wrapped in `style` ... reset, or unchanged when colour is off or `style` is empty."""
    if not enabled or not style or not text:
        return text
    return f"{style}{text}{RESET}"
