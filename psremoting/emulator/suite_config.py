"""The emulated host pypsrp's own test suite expects (placeholder, filled in step 2)."""

from __future__ import annotations

from typing import Any


def pypsrp_suite_config() -> dict[str, Any]:
    return {}
