"""Entry point of the `psremoting` console script.

Each sub-command lives in its own module, imported only when chosen, so that
`psremoting --version` starts without loading pypsrp, prompt_toolkit or the emulator.
A sub-command module exposes `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from psremoting._version import __version__
from psremoting.cli.parsing import SafeArgumentParser, refuse_password_options

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "shell": ("psremoting.cli.shell", "a local shell where the PSSession cmdlets work (the default)"),
    "enter": ("psremoting.cli.enter", "Enter-PSSession -ComputerName HOST: an interactive remote session"),
    "invoke": ("psremoting.cli.invoke", "Invoke-Command on one or more hosts, for scripts and CI"),
    "copy": ("psremoting.cli.copy", "copy files to or from a host (HOST:PATH on one side)"),
    "credential": (
        "psremoting.cli.credential",
        "add, list or remove a host's stored credential (the OS keyring)",
    ),
    "trust": (
        "psremoting.cli.trust",
        "trust a host's TLS certificate by its SHA-256 fingerprint (known_hosts)",
    ),
    "receive": (
        "psremoting.cli.receive",
        "Receive-PSSession: the output of a disconnected session's command, from another process",
    ),
    "sessions": ("psremoting.cli.sessions", "Get-PSSession -ComputerName: the sessions a host keeps for you"),
    "emulator": (
        "psremoting.cli.emulator",
        "run the WinRM endpoint emulator (a test double of a Windows host)",
    ),
}


def build_parser(chosen: str | None) -> argparse.ArgumentParser:
    """The parser, with the arguments of the `chosen` sub-command only (the others are not
    imported). Every parser matches option names exactly and never echoes a value
    (`psremoting.cli.parsing`)."""
    parser = SafeArgumentParser(
        prog="psremoting",
        description="PowerShell Remoting from Python: PSSessions over WinRM, as in PowerShell.",
    )
    parser.add_argument("--version", action="version", version=f"psremoting {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if a in SUBCOMMANDS), None)
    refused = refuse_password_options(f"psremoting {chosen}" if chosen else "psremoting", args_list)
    if refused is not None:
        return refused  # before any parsing, name lookup or connection
    if chosen is None and not any(
        not a.startswith("-") or a in ("-h", "--help", "--version") for a in args_list
    ):
        # `psremoting` alone, or `psremoting --emulator`: the shell.
        args_list = ["shell", *args_list]
        chosen = "shell"
    parser = build_parser(chosen)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    from psremoting.transport import credential_store

    # `psremoting credential add` entries apply when nothing else is given (the Python API
    # does not open the keyring on its own).
    credential_store.enable(args.command != "emulator")
    from psremoting.transport import trust

    # At a terminal, an untrusted certificate is shown and asked about (as ssh asks); in a
    # script or CI the connection fails with the fingerprint and the trust command instead.
    interactive = _isatty(sys.stdin) and _isatty(sys.stderr)
    trust.set_confirm(trust.ask_at_terminal if interactive else None)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    finally:
        credential_store.enable(False)
        trust.set_confirm(None)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
