"""Stored credentials: a password per host and user, kept in the operating system's secret
store (GNOME Keyring/KWallet through Secret Service, macOS Keychain, Windows Credential
Manager) through the `keyring` library (``pip install 'psremoting[keyring]'``).

For people at a terminal: ``psremoting credential add HOST -u USER`` asks for the password
once; later connections to HOST with no other credential (no ``--password-stdin``, no
``PSREMOTING_PASSWORD``) use it. CI keeps using the environment and stdin.

Entries: service ``psremoting:<host>`` (the name as typed, lower-cased), user name, password.
The keyring API cannot list entries, so the host and user names (never a password) are also
kept in one index entry (service ``psremoting``, user ``index``), in the same keyring: nothing
is written to files.

The command line turns the lookup on (`enable`); the Python API does not consult the keyring
unless asked, so that a library never pops up a keyring unlock dialog on its own.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from psremoting.protocol.errors import PSRemotingError
from psremoting.protocol.secrets import PSCredential

__all__ = ["CredentialStoreError", "enable", "enabled", "entries", "lookup", "remove", "save"]

SERVICE = "psremoting"
_INDEX_USER = "index"
_lock = threading.Lock()
_enabled = False


class CredentialStoreError(PSRemotingError):
    """The keyring is not installed or has no usable backend."""


def enable(on: bool = True) -> None:
    """Let connections without another credential use the stored ones (the CLI does this)."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def _keyring() -> Any:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        raise CredentialStoreError(
            "Stored credentials need the keyring package: pip install 'psremoting[keyring]'."
        ) from None
    if isinstance(keyring.get_keyring(), fail.Keyring):
        raise CredentialStoreError(
            "No operating-system keyring is available (the keyring library found no backend): start or "
            "unlock one (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager), or keep using "
            "PSREMOTING_PASSWORD or --password-stdin."
        )
    return keyring


def _host_key(host: str) -> str:
    key = host.strip().lower()
    if not key:
        raise CredentialStoreError("Say which host the credential is for.")
    return key


def _read_index(kr: Any) -> dict[str, list[str]]:
    raw = kr.get_password(SERVICE, _INDEX_USER)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    return {str(h): [str(u) for u in users] for h, users in data.items() if isinstance(users, list)}


def _write_index(kr: Any, index: dict[str, list[str]]) -> None:
    kept = {h: users for h, users in sorted(index.items()) if users}
    if kept:
        kr.set_password(SERVICE, _INDEX_USER, json.dumps(kept))
    elif kr.get_password(SERVICE, _INDEX_USER) is not None:
        kr.delete_password(SERVICE, _INDEX_USER)


def save(host: str, credential: PSCredential) -> None:
    """Store `credential` for `host` (replacing the same user's earlier password)."""
    key = _host_key(host)
    with _lock:
        kr = _keyring()
        kr.set_password(f"{SERVICE}:{key}", credential.username, credential.get_password())
        index = _read_index(kr)
        users = index.setdefault(key, [])
        if credential.username not in users:
            users.append(credential.username)
        _write_index(kr, index)


def lookup(host: str, username: str | None = None) -> PSCredential | None:
    """The stored credential for `host` (for `username`, else the first one stored), or None."""
    key = _host_key(host)
    with _lock:
        kr = _keyring()
        users = _read_index(kr).get(key, [])
        candidates = [u for u in users if username is None or u.lower() == username.lower()]
        for user in candidates:
            password = kr.get_password(f"{SERVICE}:{key}", user)
            if password is not None:
                return PSCredential(user, password)
    return None


def remove(host: str, username: str | None = None) -> list[str]:
    """Remove the stored credentials of `host` (only `username`'s when given); the user names removed."""
    key = _host_key(host)
    removed: list[str] = []
    with _lock:
        kr = _keyring()
        index = _read_index(kr)
        for user in list(index.get(key, [])):
            if username is not None and user.lower() != username.lower():
                continue
            if kr.get_password(f"{SERVICE}:{key}", user) is not None:
                kr.delete_password(f"{SERVICE}:{key}", user)
            index[key].remove(user)
            removed.append(user)
        _write_index(kr, index)
    return removed


def entries() -> list[tuple[str, str]]:
    """(host, user name) of every stored credential, sorted; no password is read."""
    with _lock:
        index = _read_index(_keyring())
    return sorted((host, user) for host, users in index.items() for user in users)
