"""Variable scopes: case-insensitive names, a parent chain, and the ``env:`` drive."""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from typing import Any

from .values import CaseInsensitiveDict

__all__ = ["Scope"]

_MISSING = object()


class Scope:
    """One PowerShell scope. Lookups walk to the parent; assignments stay local.

    ``env`` is the ``$env:`` drive (shared by all child scopes); by default a case-insensitive
    copy of nothing, so that the emulator does not leak the real process environment.
    ``using`` holds ``$using:`` values (those of the caller, for script blocks sent to a
    remote host); when None, ``$using:x`` reads ``$x``.
    """

    def __init__(
        self,
        parent: Scope | None = None,
        variables: dict[str, Any] | None = None,
        env: MutableMapping[str, str] | None = None,
        using: dict[str, Any] | None = None,
    ) -> None:
        self.parent = parent
        self._vars: CaseInsensitiveDict = CaseInsensitiveDict(variables or {})
        if env is not None:
            self.env: MutableMapping[str, str] = env
        elif parent is not None:
            self.env = parent.env
        else:
            self.env = CaseInsensitiveDict()
        self.using: dict[str, Any] | None = (
            using if using is not None else (parent.using if parent is not None else None)
        )

    @classmethod
    def with_process_environment(cls) -> Scope:
        """A root scope whose ``$env:`` is this process's environment (for a local shell)."""
        return cls(env=CaseInsensitiveDict(os.environ))

    def child(self, variables: dict[str, Any] | None = None) -> Scope:
        """A new scope below this one (a script block or function call)."""
        return Scope(self, variables)

    def lookup(self, name: str, default: Any = None) -> Any:
        """The value of ``$name`` here or in a parent; ``default`` when undefined."""
        scope: Scope | None = self
        while scope is not None:
            value = scope._vars.get(name, _MISSING)
            if value is not _MISSING:
                return value
            scope = scope.parent
        return default

    def get(self, name: str, default: Any = None) -> Any:
        """Alias of :meth:`lookup`."""
        return self.lookup(name, default)

    def __contains__(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope._vars:
                return True
            scope = scope.parent
        return False

    def set(self, name: str, value: Any) -> None:
        """Assign ``$name`` in this scope."""
        self._vars[name] = value

    def assign(self, name: str, value: Any) -> None:
        """Assign ``$name`` where it is defined (this scope if nowhere), as ``$x = ...`` in a child."""
        self.set(name, value)

    def remove(self, name: str) -> None:
        """Remove ``$name`` from this scope (Remove-Variable)."""
        self._vars.pop(name, None)

    def names(self) -> Iterator[str]:
        """Variable names visible from here, nearest first, without duplicates."""
        seen: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            for key in scope._vars:
                if key.lower() not in seen:
                    seen.add(key.lower())
                    yield key
            scope = scope.parent

    def __repr__(self) -> str:
        return f"<Scope {len(self._vars)} variables, parent={self.parent is not None}>"
