"""Command-line parsing that cannot leak a password.

argv is visible to every user of the machine (``ps``, /proc) and lands in shell history and
CI logs, so no option takes a password, and three things stop one from slipping through:

- `refuse_password_options` runs before anything else (no parser, no name lookup, no
  connection): an option such as ``--password X``, ``--pass X``, ``--passwd=X`` is refused
  with the ways that do take a password, without repeating what followed it;
- `SafeArgumentParser` turns off prefix matching (``allow_abbrev=False``) on every parser and
  sub-parser, so ``--pass`` can never be read as ``--password-stdin`` with the secret left
  over as the next positional argument (a host name to resolve, a path to print);
- its usage errors never echo a value: "unrecognized arguments" names the options only and
  counts the rest, "invalid value" messages say which option, not what was given.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["SafeArgumentParser", "PASSWORD_HELP", "password_option_in", "refuse_password_options"]

PASSWORD_HELP = (
    "passwords are not taken from the command line (other users of this machine can read it in "
    "the process list, and it stays in shell history and CI logs): use --password-stdin, the "
    "PSREMOTING_PASSWORD environment variable, `psremoting credential add HOST`, or answer the prompt"
)

_PASSWORD_NAMES = re.compile(r"^--?(pass(w(o(r(d)?)?)?)?|passwd|pwd?)(=|$)", re.IGNORECASE)
_ALLOWED = {"--password-stdin"}


def password_option_in(argv: Sequence[str]) -> str | None:
    """The name of the first option in `argv` that would take a password, or None.

    Only options are looked at (up to a ``--`` that ends them), by their name before any
    ``=``: ``--password``, ``--pass``, ``--passw``, ``--passwd``, ``--pw``, ``--pwd`` and their
    ``=value`` forms; ``--password-stdin`` is the way that is allowed.
    """
    for token in argv:
        if token == "--":
            return None
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0]
        if name.lower() in _ALLOWED:
            continue
        if _PASSWORD_NAMES.match(name):
            return name
    return None


def refuse_password_options(prog: str, argv: Sequence[str]) -> int | None:
    """Exit code 2 with the explanation when `argv` holds a password option, else None."""
    name = password_option_in(argv)
    if name is None:
        return None
    sys.stderr.write(f"{prog}: error: {name}: {PASSWORD_HELP}\n")
    return 2


def _unrecognized(extras: Sequence[str]) -> str:
    """ "unrecognized arguments" naming options only: a value may be a secret typed by mistake."""
    options = [t.split("=", 1)[0] for t in extras if t.startswith("-") and len(t) > 1]
    hidden = len(extras) - len(options)
    text = "unrecognized arguments: " + (" ".join(options) if options else "")
    if hidden:
        more = f"{hidden} value{'s' if hidden != 1 else ''} (not shown)"
        text += f" and {more}" if options else more
    return text


_VALUE_ERROR = re.compile(r"^(argument [^:]+: invalid (?:choice|.+? value)): ", re.DOTALL)


def hide_values(message: str) -> str:
    """An argparse error message without the value the user typed."""
    match = _VALUE_ERROR.match(message)
    if match is None:
        return message
    rest = message[match.end() :]
    choices = rest.rfind(" (choose from ")
    return match.group(1) + (rest[choices:] if choices >= 0 else "") + " (the value is not shown)"


class SafeArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser (and, through ``add_subparsers``, sub-parsers) that matches option
    names exactly and whose usage errors repeat no value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(_unrecognized(extras))
        return parsed

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {hide_values(message)}\n")
