"""A real keyring backend for the tests, local to one folder (never the user's keyring).

It implements keyring's KeyringBackend API and keeps the entries in a JSON file named by
PSREMOTING_TEST_KEYRING (0600), so a child process (``PYTHON_KEYRING_BACKEND=
tests.credentials.keyring_backend.FolderKeyring``) sees what the test stored."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FolderKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        """Never chosen on its own: only where a test names its folder (and selects it)."""
        if "PSREMOTING_TEST_KEYRING" not in os.environ:
            raise RuntimeError("the tests' keyring is used only by the tests")
        return 0.5

    def _path(self) -> Path:
        return Path(os.environ["PSREMOTING_TEST_KEYRING"])

    def _load(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self._path().read_text()))
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, Any]) -> None:
        path = self._path()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as stream:
            json.dump(data, stream)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(username)
        del data[service][username]
        self._save(data)
