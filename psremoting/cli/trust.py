"""`psremoting trust HOST[:PORT] --fingerprint SHA256:...`: trust a server's certificate.

    psremoting trust server01 --fingerprint SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
    psremoting trust --list
    psremoting trust server01:5986 --remove

The fingerprint is the one a refused connection printed (compare it on the server:
``Get-ChildItem Cert:\\LocalMachine\\My`` and the certificate's SHA-256). Entries live in
``$XDG_CONFIG_HOME/psremoting/known_hosts`` (see ``psremoting.transport.trust``); the port
defaults to 5986 (WinRM over HTTPS).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="HOST[:PORT]", nargs="?", help="the server (port 5986 by default)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--fingerprint", metavar="SHA256:...", help="the certificate fingerprint to trust")
    what.add_argument("--remove", action="store_true", help="forget the fingerprints trusted for HOST[:PORT]")
    what.add_argument("--list", action="store_true", help="list the trusted fingerprints")


def run(args: argparse.Namespace) -> int:
    from psremoting.protocol.errors import InvalidOptionError
    from psremoting.transport.trust import KnownHosts, host_key, parse_fingerprint, split_host_port

    prog = "psremoting trust"
    store = KnownHosts()
    try:
        if args.list:
            for key, found in store.entries():
                print(f"{key} {found}")
            return 0
        if not args.target:
            sys.stderr.write(f"{prog}: error: say which server: HOST[:PORT]\n")
            return 2
        host, port = split_host_port(args.target)
        if args.remove:
            removed = store.remove(host, port)
            if not removed:
                sys.stderr.write(f"{prog}: error: {host_key(host, port)} is not in {store.path}\n")
                return 1
            print(f"Removed {host_key(host, port)} from {store.path}.")
            return 0
        added = store.add(host, port, args.fingerprint)
    except InvalidOptionError as error:
        sys.stderr.write(f"{prog}: error: {error}\n")
        return 2
    state = "Trusted" if added else "Already trusted:"
    print(f"{state} {host_key(host, port)} {parse_fingerprint(args.fingerprint)} ({store.path}).")
    return 0
