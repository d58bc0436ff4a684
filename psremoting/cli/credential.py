"""`psremoting credential add|list|remove HOST`: passwords kept in the OS keyring.

    psremoting credential add server01 -u CONTOSO\\alice     # asks for the password (hidden)
    psremoting credential list                              # HOST and USER, never a password
    psremoting credential remove server01 [-u USER]

`enter`, `invoke` and `copy` then use the stored credential for a host when no other is given
(no --password-stdin, no PSREMOTING_PASSWORD). The password is asked for at a terminal, or
read from the first line of stdin with --password-stdin; never from an argument.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from psremoting.cli.parsing import SafeArgumentParser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=SafeArgumentParser
    )
    add = actions.add_parser("add", help="store the password of USER for HOST (asked for, hidden)")
    add.add_argument("host", metavar="HOST")
    add.add_argument("-u", "--username", metavar="USER", help="user name (default: PSREMOTING_USERNAME)")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    listing = actions.add_parser("list", help="list the stored HOST and USER names (no passwords)")
    listing.add_argument("host", metavar="HOST", nargs="?", help="only this host")
    remove = actions.add_parser("remove", help="forget the stored credentials of HOST")
    remove.add_argument("host", metavar="HOST")
    remove.add_argument("-u", "--username", metavar="USER", help="only this user's")


def run(args: argparse.Namespace) -> int:
    from psremoting.protocol.secrets import PSCredential
    from psremoting.transport import credential_store as store

    prog = "psremoting credential"
    try:
        if args.action == "add":
            user = args.username or os.environ.get("PSREMOTING_USERNAME")
            if not user:
                sys.stderr.write(f"{prog}: error: say whose password it is: -u USER\n")
                return 2
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            elif sys.stdin.isatty():
                password = getpass.getpass(f"Password for {user} on {args.host}: ")
            else:
                sys.stderr.write(
                    f"{prog}: error: no password: run at a terminal to be asked, or give it on the first "
                    "line of stdin with --password-stdin\n"
                )
                return 2
            if not password:
                sys.stderr.write(f"{prog}: error: the password is empty; nothing was stored\n")
                return 2
            store.save(args.host, PSCredential(user, password))
            print(f"Stored the password of {user} for {args.host.lower()}.")
        elif args.action == "list":
            rows = [(h, u) for h, u in store.entries() if args.host is None or h == args.host.lower()]
            if rows:
                width = max(len("Host"), *(len(h) for h, _ in rows))
                print(f"{'Host'.ljust(width)} UserName\n{'----'.ljust(width)} --------")
                for host, user in rows:
                    print(f"{host.ljust(width)} {user}")
        else:
            removed = store.remove(args.host, args.username)
            if not removed:
                who = f" for {args.username}" if args.username else ""
                sys.stderr.write(f"{prog}: error: no credential is stored for {args.host.lower()}{who}\n")
                return 1
            print(f"Removed the stored credential of {', '.join(removed)} for {args.host.lower()}.")
    except store.CredentialStoreError as error:
        sys.stderr.write(f"{prog}: error: {error}\n")
        return 1
    return 0
